package decode

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

const debian = "debian-6.1.0-56-amd64"

// boots are the three Debian boots and their KASLR offsets, from the
// fixtures README and run1-A's "Kernel Offset:" line.
var boots = []struct {
	name   string
	offset uint64
}{
	{"run1-A", 0x18600000},
	{"run2-B", 0x5800000},
	{"run3-C", 0x3e00000},
}

var (
	tablesMu sync.Mutex
	tables   = map[string]*kallsyms.Table{}
)

// loadTable parses a fixture table once per test binary.
func loadTable(tb testing.TB, rel string) *kallsyms.Table {
	tb.Helper()
	tablesMu.Lock()
	defer tablesMu.Unlock()
	if t, ok := tables[rel]; ok {
		return t
	}
	t, err := kallsyms.ParseBytes(fixture.Read(tb, fixture.Path(rel)), kallsyms.Options{Source: rel})
	if err != nil {
		tb.Fatal(err)
	}
	tables[rel] = t
	return t
}

func bootTable(tb testing.TB, boot string) *kallsyms.Table {
	return loadTable(tb, filepath.Join(debian, "boots", boot, "kallsyms.txt.gz"))
}

func systemMap(tb testing.TB) *kallsyms.Table {
	return loadTable(tb, filepath.Join(debian, "System.map.gz"))
}

// crashFiles returns the oops-*.txt and dmesg-sysrq-*.txt files of a boot.
func crashFiles(tb testing.TB, boot string) []string {
	tb.Helper()
	var out []string
	for _, pat := range []string{"oops-*.txt", "dmesg-sysrq-*.txt"} {
		m, err := filepath.Glob(fixture.Path(filepath.Join(debian, "boots", boot, pat)))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) == 0 {
		tb.Fatalf("no crash files for %s", boot)
	}
	return out
}

// printedFrame matches what the kernel prints for %pS/%pB with a size,
// independently of package klog.
var printedFrame = regexp.MustCompile(`[A-Za-z0-9_.$]+\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[[A-Za-z0-9_]+\])?`)

// printedOn returns the frames printed on a line, from its raw text.
func printedOn(line string) map[string]bool {
	out := map[string]bool{}
	for _, m := range printedFrame.FindAllString(line, -1) {
		out[m] = true
	}
	return out
}

func TestNamedFramesDecodeExactly(t *testing.T) {
	total := 0
	for _, b := range boots {
		tab := bootTable(t, b.name)
		for _, path := range crashFiles(t, b.name) {
			d := New(tab, Options{})
			n := 0
			for _, r := range klog.Parse(string(fixture.Read(t, path))) {
				res := d.Decode(r)
				if len(res.Warnings) > 0 {
					t.Errorf("%s: warnings %q", path, res.Warnings)
				}
				n += checkNamed(t, path, r, res)
			}
			t.Logf("%s/%s: %d named frames decoded exactly", b.name, filepath.Base(path), n)
			total += n
		}
	}
	t.Logf("total: %d named frames", total)
	if total < 1000 {
		t.Errorf("only %d named frames checked", total)
	}
}

// checkNamed checks that every named frame with a size decodes to the text
// the kernel printed on its line, with an address, and returns their count.
func checkNamed(t *testing.T, path string, r *klog.Report, res *Result) int {
	t.Helper()
	n := 0
	for i, f := range res.Frames {
		kf := &r.Frames[i]
		if kf.Name == "" || !kf.HasOffset {
			continue
		}
		want := printedOn(r.Lines[f.Line].Raw)
		if f.Status != StatusOK || !want[f.Text] || !f.HasAddr {
			t.Errorf("%s line %d: %q decoded to %q (%s: %s), want one of %v", path, r.Lines[f.Line].Num, f.Printed, f.Text, f.Status, f.Note, want)
			continue
		}
		n++
	}
	return n
}

// slideFiles are the crash files that print core kernel addresses, and how
// the slide is found from them; the other files print none, and the slide
// must then be reported as not found rather than guessed.
var slideFiles = map[string]string{
	"run1-A/oops-05-sysrq-c.txt": "kernel-offset",
	"run2-B/oops-11-sysrq-c.txt": "kernel-offset",
	"run3-C/oops-07-sysrq-c.txt": "kernel-offset",
	"run3-C/dmesg-sysrq-l.txt":   "registers",
}

func TestSlideFromLog(t *testing.T) {
	sm := systemMap(t)
	found := 0
	for _, b := range boots {
		runtime := bootTable(t, b.name)
		for _, path := range crashFiles(t, b.name) {
			name := b.name + "/" + filepath.Base(path)
			last := decodeWithSystemMap(t, path, sm, runtime)
			want, ok := slideFiles[name]
			switch {
			case !ok && last.Known:
				t.Errorf("%s: slide %#x by %s, want not found", name, last.Value, last.Method)
			case !ok:
				continue
			case !last.Known || last.Method != want || last.Value != b.offset:
				t.Errorf("%s: slide %+v, want 0x%x by %s", name, last, b.offset, want)
			}
			found++
			t.Logf("%s: slide %#x by %s (%s)", name, last.Value, last.Method, last.Detail)
		}
	}
	if found != len(slideFiles) {
		t.Errorf("slide found in %d files, want %d", found, len(slideFiles))
	}
}

// decodeWithSystemMap decodes a file with the System.map, checks its named
// frames, and returns the last slide found.
func decodeWithSystemMap(t *testing.T, path string, sm, runtime *kallsyms.Table) Slide {
	t.Helper()
	d := New(sm, Options{SystemMap: true})
	var last Slide
	for _, r := range klog.Parse(string(fixture.Read(t, path))) {
		res := d.Decode(r)
		if res.Slide.Known {
			last = res.Slide
		}
		if len(res.Warnings) > 0 {
			t.Errorf("%s: warnings %q", path, res.Warnings)
		}
		checkNamedSystemMap(t, path, r, res)
		checkAddresses(t, path, runtime, res)
	}
	return last
}

// checkAddresses checks that the addresses computed with a System.map and
// the slide are the addresses of the boot's own table.
func checkAddresses(t *testing.T, path string, runtime *kallsyms.Table, res *Result) {
	t.Helper()
	for _, f := range res.Frames {
		if f.Status != StatusOK || !f.HasAddr {
			continue
		}
		if a, ok := addrOf(runtime, f.Text); !ok || a != f.Addr {
			t.Errorf("%s: %s at 0x%x, the boot's table says 0x%x", path, f.Text, f.Addr, a)
		}
	}
}

// checkNamedSystemMap checks that core named frames decode exactly with a
// System.map (module frames are unchecked: a System.map has no modules).
func checkNamedSystemMap(t *testing.T, path string, r *klog.Report, res *Result) {
	t.Helper()
	for i, f := range res.Frames {
		kf := &r.Frames[i]
		if kf.Name == "" || !kf.HasOffset {
			continue
		}
		if kf.Module != "" {
			if f.Status != StatusUnchecked {
				t.Errorf("%s: module frame %q: status %s", path, f.Printed, f.Status)
			}
			continue
		}
		if want := printedOn(r.Lines[f.Line].Raw); f.Status != StatusOK || !want[f.Text] {
			t.Errorf("%s line %d: %q decoded to %q (%s: %s)", path, r.Lines[f.Line].Num, f.Printed, f.Text, f.Status, f.Note)
		}
	}
}

// rawLog rewrites every printed frame "f+0xoff/0xsize [mod]" of log as the
// raw address "[<addr>]" (the symbol's address in tab plus off), and returns
// the new log with the original text by line number (1-based).
func rawLog(t *testing.T, tab *kallsyms.Table, log string) (string, map[int]string) {
	t.Helper()
	want := map[int]string{}
	lines := regexp.MustCompile("\n").Split(log, -1)
	for n, line := range lines {
		m := printedFrame.FindStringSubmatchIndex(line)
		if m == nil {
			continue
		}
		text := line[m[0]:m[1]]
		addr, ok := addrOf(tab, text)
		if !ok {
			t.Fatalf("line %d: %q not in the table", n+1, text)
		}
		lines[n] = line[:m[0]] + fmt.Sprintf("[<%016x>]", addr) + line[m[1]:]
		want[n+1] = text
	}
	return strings.Join(lines, "\n"), want
}

// addrOf computes the address of "f+0xoff/0xsize [mod]" in tab.
func addrOf(tab *kallsyms.Table, text string) (uint64, bool) {
	var name, mod string
	var off, size uint64
	sym, rest, _ := strings.Cut(text, " [")
	mod = strings.TrimSuffix(rest, "]")
	name, offSize, _ := strings.Cut(sym, "+0x")
	if _, err := fmt.Sscanf(offSize, "%x/0x%x", &off, &size); err != nil {
		return 0, false
	}
	if mod == "" {
		mod = "vmlinux"
	}
	for _, i := range tab.Find(mod + ":" + name) {
		if s, ok := tab.Size(i); ok && s == size {
			return tab.Addr(i) + off, true
		}
	}
	return 0, false
}

func TestRawAddressesDecodeExactly(t *testing.T) {
	total := 0
	for _, b := range boots {
		tab := bootTable(t, b.name)
		for _, path := range crashFiles(t, b.name) {
			orig := string(fixture.Read(t, path))
			log, want := rawLog(t, tab, orig)
			n := checkRaw(t, path, New(tab, Options{}), log, want)
			if named := countNamed(orig); n != named {
				t.Errorf("%s: %d of %d raw frames decoded", path, n, named)
			}
			total += n
		}
	}
	t.Logf("%d raw addresses decoded exactly", total)
	if total < 1000 {
		t.Errorf("only %d raw addresses checked", total)
	}
}

func TestRawAddressesWithSystemMap(t *testing.T) {
	sm := systemMap(t)
	total := 0
	for _, b := range boots {
		path := fixture.Path(filepath.Join(debian, "boots", b.name))
		files, err := filepath.Glob(filepath.Join(path, "oops-*sysrq-c.txt"))
		if err != nil || len(files) != 1 {
			t.Fatalf("%s: sysrq-c panics %v, %v; want one", b.name, files, err)
		}
		for _, f := range files {
			orig := string(fixture.Read(t, f))
			log, want := rawLog(t, bootTable(t, b.name), orig)
			n := checkRaw(t, f, New(sm, Options{SystemMap: true}), log, want)
			t.Logf("%s/%s: %d raw addresses decoded with System.map", b.name, filepath.Base(f), n)
			if named := countNamed(orig); n != named {
				t.Errorf("%s: %d of %d raw frames decoded", f, n, named)
			}
			total += n
		}
	}
	// Only run1-A's panic prints a call trace; the other two are three lines.
	if total == 0 {
		t.Error("no raw address checked")
	}
}

// checkRaw decodes log and checks that each raw frame decodes to the text
// of want at its line, returning how many did.
func checkRaw(t *testing.T, path string, d *Decoder, log string, want map[int]string) int {
	t.Helper()
	n := 0
	for _, r := range klog.Parse(log) {
		for _, f := range d.Decode(r).Frames {
			num := r.Lines[f.Line].Num
			w, ok := want[num]
			if !ok {
				continue
			}
			if f.Status != StatusResolved || f.Text != w {
				t.Errorf("%s line %d: %s decoded to %q (%s %s), want %q", path, num, f.Printed, f.Text, f.Status, f.Note, w)
				continue
			}
			n++
		}
	}
	return n
}

// countNamed counts the frames of log that print a name with offset and size.
func countNamed(log string) int {
	n := 0
	for _, r := range klog.Parse(log) {
		for _, f := range r.Frames {
			if f.Name != "" && f.HasOffset {
				n++
			}
		}
	}
	return n
}
