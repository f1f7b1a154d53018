package klog

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// crashlog is one syzkaller test report: its header fields and console text.
type crashlog struct {
	name, title, typ string
	text             string
}

// readCrashlogs reads every syzkaller crash log, splitting off the header
// lines ("TITLE: ...") that end at the first empty line.
func readCrashlogs(tb testing.TB) []crashlog {
	tb.Helper()
	root := fixture.Path("crashlogs/syzkaller")
	var out []crashlog
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data := string(fixture.Read(tb, p))
		c := crashlog{name: strings.TrimPrefix(p, root+"/")}
		hdr, text, ok := strings.Cut(data, "\n\n")
		if !ok {
			hdr, text = "", data
		}
		for _, l := range strings.Split(hdr, "\n") {
			if v, ok := strings.CutPrefix(l, "TITLE: "); ok {
				c.title = v
			}
			if v, ok := strings.CutPrefix(l, "TYPE: "); ok {
				c.typ = v
			}
		}
		c.text = text
		out = append(out, c)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) < 140 {
		tb.Fatalf("found %d crash logs, want the 144 fixtures", len(out))
	}
	return out
}

// titleFunction returns the function syzkaller's TITLE names after " in ".
func titleFunction(title string) string {
	i := strings.LastIndex(title, " in ")
	if i < 0 {
		return ""
	}
	f, _, _ := strings.Cut(title[i+4:], " ")
	if f == "corrupted" {
		return ""
	}
	return f
}

// printedFrame matches a frame as the kernel prints it with %pS or %pB
// ("name+0xoff/0xsize"), read from the raw text without package klog.
var printedFrame = regexp.MustCompile(`[A-Za-z0-9_.$]+\+0x[0-9a-f]+/0x[0-9a-f]+`)

// TestCrashlogsPrinted checks what Parse returns for every crash log against
// the log's own text: each report's lines are lines of the input, in order,
// none in two reports; its title, its trace labels and every frame (name,
// offset, size, module, address) are printed on the line they claim; and at
// least three quarters of the "name+0xoff/0xsize" frames printed in the logs
// are frames of a report.
func TestCrashlogsPrinted(t *testing.T) {
	printed, found := 0, 0
	for _, c := range readCrashlogs(t) {
		in := strings.Split(c.text, "\n")
		owner := map[int]int{} // line number -> report index
		frames := map[string]bool{}
		for ri, r := range Parse(c.text) {
			prev := 0
			for _, l := range r.Lines {
				if l.Num <= prev || l.Num > len(in) || in[l.Num-1] != l.Raw {
					t.Fatalf("%s: report %d: line %d (after %d) %q is not line %d of the input", c.name, ri, l.Num, prev, l.Raw, l.Num)
				}
				if o, ok := owner[l.Num]; ok {
					t.Errorf("%s: line %d is in reports %d and %d", c.name, l.Num, o, ri)
				}
				owner[l.Num], prev = ri, l.Num
			}
			if !slices.ContainsFunc(r.Lines, func(l Line) bool { return strings.Contains(l.Raw, r.Title) }) {
				t.Errorf("%s: report %d: title %q is on none of its lines", c.name, ri, r.Title)
			}
			for _, tr := range r.Traces {
				if tr.Line >= len(r.Lines) || tr.Line >= 0 && !strings.Contains(r.Lines[tr.Line].Text, strings.TrimSpace(tr.Label)) {
					t.Errorf("%s: report %d: trace label %q is not on its line %d", c.name, ri, tr.Label, tr.Line)
				}
			}
			for _, f := range r.Frames {
				if f.Line < 0 || f.Line >= len(r.Lines) || f.Trace < -1 || f.Trace >= len(r.Traces) {
					t.Fatalf("%s: report %d: frame %+v: line or trace out of range", c.name, ri, f)
				}
				l := r.Lines[f.Line]
				for _, p := range []*Frame{&f, f.From} { // arm32 prints the caller too
					if p == nil {
						continue
					}
					want := p.Name
					if p.HasOffset {
						want = fmt.Sprintf("%s+0x%x/0x%x", p.Name, p.Offset, p.Size)
						frames[fmt.Sprintf("%d:%s", l.Num, want)] = true
					}
					if !strings.Contains(l.Raw, want) ||
						p.Module != "" && !strings.Contains(l.Raw, "["+p.Module) ||
						p.HasAddr && !p.User && !strings.Contains(strings.ToLower(l.Raw), fmt.Sprintf("%x", p.Addr)) {
						t.Errorf("%s line %d: frame %s+0x%x/0x%x [%s] at %#x is not what the line prints: %q", c.name, l.Num, p.Name, p.Offset, p.Size, p.Module, p.Addr, l.Raw)
					}
				}
			}
		}
		for i, l := range in {
			for _, m := range printedFrame.FindAllString(l, -1) {
				printed++
				if frames[fmt.Sprintf("%d:%s", i+1, m)] {
					found++
				}
			}
		}
	}
	// The rest are names printed outside a trace: titles ("KASAN: ... in
	// f+0x1/0x2"), held locks ("at: f+0x1/0x2"), "hardirqs last enabled at".
	t.Logf("%d of the %d printed frames are frames of a report", found, printed)
	if found*4 < printed*3 {
		t.Errorf("%d of the %d printed frames are frames of a report, below 75%%", found, printed)
	}
}

// syzTypes maps syzkaller's TYPE header to the kinds that agree with it.
var syzTypes = map[string][]Kind{
	"KASAN":                    {KindKASAN},
	"KCSAN":                    {KindKCSAN},
	"KMSAN":                    {KindKMSAN},
	"KFENCE":                   {KindKFENCE},
	"UBSAN":                    {KindUBSAN},
	"MEMORY_SAFETY_UBSAN":      {KindUBSAN},
	"LEAK":                     {KindKmemleak},
	"LOCKDEP":                  {KindLockdep},
	"ATOMIC_SLEEP":             {KindAtomicSleep},
	"HANG":                     {KindHungTask, KindRCUStall, KindSoftLockup, KindHardLockup},
	"WARNING":                  {KindWarning, KindLockdep},
	"REFCOUNT_WARNING":         {KindRefcount},
	"NULL-POINTER-DEREFERENCE": {KindNullDeref},
	"BUG":                      {KindBUG, KindUsercopy},
	"MEMORY_SAFETY_BUG":        {KindPageFault, KindNullDeref, KindGPF, KindBadPage, KindListCorruption, KindUsercopy, KindSLUB, KindBUG},
	"DoS":                      {KindOops, KindGPF, KindPanic, KindBUG, KindStackOverflow, KindPageFault, KindStackProtector},
}

// kindDisagreements are the logs whose first report's kind is not one of
// the kinds of syzkaller's TYPE, and why (docs/decode.md).
var kindDisagreements = map[string]string{
	"linux/report/163": "WARNING raised by lockdep's own check (kernel/locking/lockdep.c): syzkaller's LOCKDEP",
	"linux/report/335": "WARNING raised by lockdep's own check (kernel/locking/lockdep.c): syzkaller's LOCKDEP",
	"linux/report/355": "WARNING in the trusty driver; syzkaller files the trusty panic before it as DoS",
	"linux/report/496": "BUG: using smp_processor_id() in preemptible code: syzkaller's LOCKDEP",
}

// kindAgrees reports whether k agrees with syzkaller's TYPE typ; the
// sanitizer types carry a suffix ("KASAN-READ").
func kindAgrees(typ string, k Kind) bool {
	for prefix, kinds := range syzTypes {
		if typ != prefix && !strings.HasPrefix(typ, prefix+"-") {
			continue
		}
		for _, want := range kinds {
			if k == want {
				return true
			}
		}
	}
	return false
}

// TestCrashlogs parses every crash log and measures how often the first
// report's kind agrees with syzkaller's TYPE and its Func with the
// function of syzkaller's TITLE.
func TestCrashlogs(t *testing.T) {
	logs := readCrashlogs(t)
	var typed, kindOK, named, funcOK, parsed, titled, inFrames int
	for _, c := range logs {
		reps := Parse(c.text)
		if len(reps) > 0 {
			parsed++
		}
		var first *Report
		if len(reps) > 0 {
			first = reps[0]
		}
		if c.typ != "" && c.typ != "REBOOT" {
			typed++
			agrees := first != nil && kindAgrees(c.typ, first.Kind)
			_, listed := kindDisagreements[c.name]
			if agrees {
				kindOK++
			}
			if agrees == listed {
				t.Errorf("kind: %s: TYPE %s, got %v (listed as a disagreement: %v)", c.name, c.typ, kindOf(first), listed)
			}
		}
		if want := titleFunction(c.title); want != "" && first != nil {
			titled++
			if hasFrame(first, want) {
				inFrames++
			} else {
				t.Logf("frames: %s: %q is not a frame of the first report (%s, %d frames)", c.name, want, first.Kind, len(first.Frames))
			}
		}
		if want := titleFunction(c.title); want != "" && first != nil && first.Func != "" {
			named++
			if first.Func == want || strings.HasPrefix(first.Func, want+".") {
				funcOK++
			} else {
				t.Logf("func: %s: TITLE %q, got %s", c.name, c.title, first.Func)
			}
		}
	}
	t.Logf("%d logs, %d with reports; kind agrees with TYPE for %d/%d; Func agrees with TITLE for %d/%d where both name one; "+
		"TITLE's function is one of the first report's frames for %d/%d",
		len(logs), parsed, kindOK, typed, funcOK, named, inFrames, titled)
	if inFrames*100 < titled*84 {
		t.Errorf("TITLE function found in frames %d/%d fell below 84%%", inFrames, titled)
	}
	if kindOK != 121 || typed != 125 {
		t.Errorf("kind agrees with TYPE for %d/%d, want 121/125", kindOK, typed)
	}
	if funcOK*100 < named*45 {
		t.Errorf("func agreement %d/%d fell below 45%%", funcOK, named)
	}
}

// kindOf returns the kind of r, "none" when nil.
func kindOf(r *Report) Kind {
	if r == nil {
		return "none"
	}
	return r.Kind
}

// hasFrame reports whether a frame of r, or the arm32 caller printed with
// it, names fn (or a compiler clone of it such as fn.cold).
func hasFrame(r *Report, fn string) bool {
	for _, f := range r.Frames {
		if f.Name == fn || strings.HasPrefix(f.Name, fn+".") {
			return true
		}
		if f.From != nil && (f.From.Name == fn || strings.HasPrefix(f.From.Name, fn+".")) {
			return true
		}
	}
	return false
}
