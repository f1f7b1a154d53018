package decode

import (
	"path/filepath"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/srcline"
)

// recordLines is a LineFinder that records its queries and answers each
// with a one-frame chain naming the query's symbol.
type recordLines struct{ queries []LineQuery }

func (r *recordLines) Lines(q LineQuery) []srcline.Frame {
	r.queries = append(r.queries, q)
	return []srcline.Frame{{Function: q.Symbol, TreeFile: "f.c", Line: len(r.queries)}}
}

// TestLineQueries checks what a decoder asks of Options.Lines for the real
// oops of run2-B: module frames by symbol and offset, core frames by
// runtime address, stack frames as return addresses and the faulting PC
// not. The expected values are the log's own text and run2-B's table
// (full_proxy_write at 0xffffffff86c26d50 in its kallsyms.txt.gz).
func TestLineQueries(t *testing.T) {
	rec := &recordLines{}
	d := New(bootTable(t, "run2-B"), Options{Lines: rec})
	log := fixture.Read(t, fixture.Path(filepath.Join(debian, "boots/run2-B/oops-03-lkdtm-EXCEPTION.txt")))
	reps := klog.Parse(string(log))
	res := d.Decode(reps[0])
	want := map[string]LineQuery{
		"lkdtm_EXCEPTION+0x5/0x20 [lkdtm]":    {Module: "lkdtm", Symbol: "lkdtm_EXCEPTION", Offset: 5},
		"direct_entry.cold+0x18/0x24 [lkdtm]": {Module: "lkdtm", Symbol: "direct_entry.cold", Offset: 0x18, Return: true},
		"full_proxy_write+0x53/0x80":          {Addr: 0xffffffff86c26d50 + 0x53, Return: true},
	}
	seen := 0
	for _, f := range res.Frames {
		w, ok := want[f.Printed]
		if !ok {
			continue
		}
		seen++
		w.Release = "6.1.0-56-amd64"
		if len(f.Lines) != 1 {
			t.Errorf("%s: %d lines, want 1", f.Printed, len(f.Lines))
			continue
		}
		if q := rec.queries[f.Lines[0].Line-1]; q != w {
			t.Errorf("%s: query %+v, want %+v", f.Printed, q, w)
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d frames found", seen, len(want))
	}
}

// TestLineQueriesSystemMap checks that with a System.map core frames are
// asked at their link-time address: the runtime address less the slide,
// inside the frame's own symbol of the System.map, slide found or not
// (oops-02 prints none: the link-time address is the symbol's plus the
// offset).
func TestLineQueriesSystemMap(t *testing.T) {
	rec := &recordLines{}
	sm := systemMap(t)
	d := New(sm, Options{SystemMap: true, Lines: rec})
	log := fixture.Read(t, fixture.Path(filepath.Join(debian, "boots/run2-B/oops-02-lkdtm-BUG.txt")))
	n := 0
	for _, r := range klog.Parse(string(log)) {
		res := d.Decode(r)
		for _, f := range res.Frames {
			if len(f.Lines) == 0 || f.Module != "" {
				continue
			}
			n++
			q := rec.queries[f.Lines[0].Line-1]
			if f.HasAddr && q.Addr+0x5800000 != f.Addr {
				t.Errorf("%s: asked at %#x, runtime %#x: want run2-B's slide 0x5800000 between them", f.Printed, q.Addr, f.Addr)
			}
			if l, err := sm.Lookup(q.Addr); err != nil || sm.Name(l.Index) != f.Symbol || l.Offset != f.Offset {
				t.Errorf("%s: link-time %#x is %+v (%v), want %s+%#x", f.Printed, q.Addr, l, err, f.Symbol, f.Offset)
			}
		}
	}
	if n == 0 {
		t.Fatal("no core frame asked for its lines")
	}
}

// TestLinesNeverFromAnotherKernel checks that a report decoded from the log
// alone (run2-B's oops against the 6.18 table) asks for no lines: its
// addresses are not the debug files' kernel's.
func TestLinesNeverFromAnotherKernel(t *testing.T) {
	rec := &recordLines{}
	d := New(loadTable(t, "firecracker-6.18.44/kallsyms.txt.gz"), Options{Lines: rec})
	log := fixture.Read(t, fixture.Path(filepath.Join(debian, "boots/run2-B/oops-03-lkdtm-EXCEPTION.txt")))
	for _, r := range klog.Parse(string(log)) {
		if res := d.Decode(r); !res.LogOnly {
			t.Fatalf("decoded against the 6.18 table: want the log alone")
		}
	}
	if len(rec.queries) != 0 {
		t.Errorf("%d line queries for a report decoded from the log alone", len(rec.queries))
	}
}
