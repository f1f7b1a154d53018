package kallsyms_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
)

// TestOpenFileRewrittenInPlace: a table file that another process rewrites
// in place while it is read, with content of the same size and another line
// structure, gives a table or an error, never a crash. (Regression: when
// files were mapped, the counting and the parsing passes saw different
// bytes and indexed out of range.) The rewriting runs concurrently, for a
// fixed number of opens; run it under -race too.
func TestOpenFileRewrittenInPlace(t *testing.T) {
	a := fixture.Read(t, firecrackerTable)
	b := fixture.Read(t, bootTable("run2-B"))
	// Same size, other lines: the Debian table cut to the 6.18 table's
	// length (or padded with blank lines).
	if len(b) >= len(a) {
		b = b[:len(a)]
	} else {
		b = append(b, bytes.Repeat([]byte{'\n'}, len(a)-len(b))...)
	}
	path := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(path, a, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			content := a
			if i%2 == 1 {
				content = b
			}
			// Rewrite in pieces, so that readers see mixtures too.
			for off := 0; off < len(content); off += 64 << 10 {
				if _, err := f.WriteAt(content[off:min(off+64<<10, len(content))], int64(off)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	tables, errs := 0, 0
	for range 60 {
		tab, err := kallsyms.Open(path)
		if err != nil {
			errs++
			continue
		}
		tables++
		for i := 0; i < tab.Len(); i += 997 {
			tab.Lookup(tab.Addr(i) + 1)
			tab.Find(tab.Name(i))
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d tables, %d errors", tables, errs)
}

// readAfterReturn is a reader that fails the test if it is read after
// Parse has returned.
type readAfterReturn struct {
	t        *testing.T
	r        io.Reader
	returned bool // set by the test after Parse returns; a plain field, so -race sees a reader still at work
	reads    int
}

func (r *readAfterReturn) Read(p []byte) (int, error) {
	if r.returned {
		r.t.Error("Read called after Parse returned")
	}
	r.reads++
	return r.r.Read(p)
}

// TestParseLeavesReaderAlone: Parse reads on the caller's goroutine and
// does not touch its reader once it has returned, on success and on a parse
// error with more input to come, where it stops reading soon. (Regression: a
// reading goroutine went on reading after a parse error.) Under -race, a
// Read running on another goroutine would also race with the test's write
// of returned.
func TestParseLeavesReaderAlone(t *testing.T) {
	data := fixture.Read(t, bootTable("run1-A"))
	lines := bytes.SplitAfter(data, []byte{'\n'})
	bad := append(bytes.Join(lines[:19999], nil), "not a kallsyms line\n"...)
	for name, input := range map[string][]byte{
		"table":     data,
		"bad line":  append(bad, bytes.Repeat(data, 4)...),
		"truncated": data[:len(data)/2+7],
	} {
		t.Run(name, func(t *testing.T) {
			r := &readAfterReturn{t: t, r: bytes.NewReader(input)}
			_, err := kallsyms.Parse(r, kallsyms.Options{Source: "x"})
			r.returned = true
			var pe *kallsyms.ParseError
			if name == "bad line" && (!errors.As(err, &pe) || pe.Line != 20000) {
				t.Errorf("Parse = %v, want a ParseError at line 20000", err)
			}
			// Parse reads 128 KiB at a time, at most two pieces ahead of
			// the parser.
			if name == "bad line" && r.reads > len(bad)/(128<<10)+1+3 {
				t.Errorf("%d reads for an error %d bytes in", r.reads, len(bad))
			}
		})
	}
}

// manyModules returns a table with n modules of one text symbol each, a
// page apart (synthetic: no real kernel loads thousands of modules).
func manyModules(n int) []byte {
	var b strings.Builder
	b.WriteString("ffffffff81000000 T _stext\nffffffff81000100 T _etext\n")
	for i := range n {
		fmt.Fprintf(&b, "%016x t f%d\t[m%d]\n", 0xffffffffa0000000+uint64(i)<<12, i, i)
	}
	return []byte(b.String())
}

// TestManyModules: a table of 60,000 one-symbol modules parses, each module
// in its place (regression: module ids were found by a linear scan and
// module text ends by a scan of every run per module, 11 s for this table),
// and one of 65,536 modules is refused.
func TestManyModules(t *testing.T) {
	tab, err := kallsyms.ParseBytes(manyModules(60000), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if mods := tab.Modules(); len(mods) != 60000 || mods[59999].Name != "m59999" || mods[59999].TextEnd != 0xffffffffa0000000+60000<<12 {
		t.Fatalf("%d modules, last %+v", len(mods), mods[len(mods)-1])
	}
	for _, i := range []uint64{0, 1, 31337, 59999} {
		wantLookup(t, tab, 0xffffffffa0000000+i<<12+5, fmt.Sprintf("f%d+0x5/0x1000 [m%d]", i, i))
	}
	_, err = kallsyms.ParseBytes(manyModules(65536), kallsyms.Options{Source: "many"})
	var pe *kallsyms.ParseError
	if !errors.As(err, &pe) || pe.Line != 65536+2 || !strings.Contains(err.Error(), "more than 65535 modules") {
		t.Fatalf("65,536 modules: %v", err)
	}
}

// TestLookupsDoNotAllocate: the lookups an embedder calls per sample
// allocate nothing.
func TestLookupsDoNotAllocate(t *testing.T) {
	tab := openTable(t, bootTable("run2-B"))
	addr := rawAddr(t, readRaw(t, bootTable("run2-B")), "lkdtm", "lkdtm_EXCEPTION") + 5
	loc, err := tab.Lookup(addr)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]int, 0, 16)
	buf := make([]byte, 0, 256)
	for name, f := range map[string]func(){
		"Lookup":         func() { tab.Lookup(addr) },
		"LookupReturn":   func() { tab.LookupReturn(addr) },
		"AppendFind":     func() { dst = tab.AppendFind(dst[:0], "vfs_read") },
		"AppendLocation": func() { buf = tab.AppendLocation(buf[:0], loc) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
	if string(buf) != "lkdtm_EXCEPTION+0x5/0x20 [lkdtm]" || len(dst) != 1 {
		t.Errorf("AppendLocation %q, AppendFind %v", buf, dst)
	}
}

// BenchmarkManyModules parses the table of TestManyModules.
func BenchmarkManyModules(b *testing.B) {
	data := manyModules(60000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := kallsyms.ParseBytes(data, kallsyms.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFindEveryName checks the name index against a map built from the
// table itself, on the real tables: every name gives exactly its symbols in
// address order (the Debian table has __func__.0 in hundreds of places), and
// every name with one byte changed gives what the map says (usually none).
func TestFindEveryName(t *testing.T) {
	for _, path := range []string{bootTable("run2-B"), firecrackerTable, systemMapPath} {
		tab := openTable(t, path)
		want := make(map[string][]int)
		for i := range tab.Len() {
			want[tab.Name(i)] = append(want[tab.Name(i)], i)
		}
		for name, idx := range want {
			if got := tab.AppendFind(nil, name); !slices.Equal(got, idx) {
				t.Fatalf("%s: AppendFind(%q) = %v, want %v", path, name, got, idx)
			}
			near := []byte(name)
			near[len(near)/2] ^= 1
			if got := tab.AppendFind(nil, string(near)); !slices.Equal(got, want[string(near)]) {
				t.Fatalf("%s: AppendFind(%q) = %v, want %v", path, near, got, want[string(near)])
			}
		}
	}
}

// TestParseChunkBoundaries: Parse reads in pieces of 128 KiB and carries a
// line cut between two over; shifting the real table by 0 to 60 bytes of
// blank lines puts each piece's end at every place in a line (address, type,
// name, module), and the table must come out as ParseBytes makes it. A name
// of the longest length, cut by a piece's end, too (synthetic).
func TestParseChunkBoundaries(t *testing.T) {
	data := fixture.Read(t, bootTable("run2-B"))
	want, err := kallsyms.ParseBytes(data, kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for shift := 0; shift <= 60; shift++ {
		in := append(bytes.Repeat([]byte{'\n'}, shift), data...)
		got, err := kallsyms.Parse(bytes.NewReader(in), kallsyms.Options{})
		if err != nil {
			t.Fatalf("shift %d: %v", shift, err)
		}
		if got.Len() != want.Len() {
			t.Fatalf("shift %d: %d symbols, want %d", shift, got.Len(), want.Len())
		}
		for i := range want.Len() {
			if got.Symbol(i) != want.Symbol(i) {
				t.Fatalf("shift %d: symbol %d = %+v, want %+v", shift, i, got.Symbol(i), want.Symbol(i))
			}
		}
	}
	long := strings.Repeat("x", kallsyms.MaxNameLen)
	for _, pad := range []int{128<<10 - 19 - 100, 128<<10 - 19 - kallsyms.MaxNameLen, 128<<10 - 10} {
		in := strings.Repeat("\n", pad) + "ffffffff81000000 T " + long + "\nffffffff81000010 T y\n"
		tab, err := kallsyms.Parse(strings.NewReader(in), kallsyms.Options{})
		if err != nil || tab.Len() != 2 || tab.Name(0) != long || tab.Name(1) != "y" {
			t.Fatalf("pad %d: %v", pad, err)
		}
	}
	// A line longer than any piece, and one that starts near a piece's end.
	for _, pad := range []int{0, 128<<10 - 100} {
		in := strings.Repeat("\n", pad) + "ffffffff81000000 T " + strings.Repeat("x", 300<<10) + "\n"
		_, err := kallsyms.Parse(strings.NewReader(in), kallsyms.Options{})
		var pe *kallsyms.ParseError
		if !errors.As(err, &pe) || pe.Line != pad+1 || !strings.Contains(err.Error(), "line longer than") {
			t.Fatalf("pad %d: %v, want a ParseError at line %d", pad, err, pad+1)
		}
	}
}
