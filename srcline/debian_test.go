package srcline_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/srcline"
)

// debianRelease is the kernel of testdata/fixtures/debian-6.1.0-56-amd64.
const debianRelease = "6.1.0-56-amd64"

// debianVmlinux returns the path of the Debian kernel's DWARF that
// scripts/fetch-debug.sh fetches, skipping the test when it is absent.
func debianVmlinux(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("KSYM_DEBUG_CACHE")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			tb.Skipf("no cache directory: %v", err)
		}
		dir = filepath.Join(c, "ksym-testdata")
	}
	p := filepath.Join(dir, "debian-"+debianRelease, "vmlinux-"+debianRelease)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s absent: run scripts/fetch-debug.sh to fetch the Debian kernel's DWARF (633 MB)", p)
	}
	return p
}

// lkdtmKo returns the path of the LKDTM module of the Debian boots,
// decompressed from testdata/lkdtm.ko.xz into a temporary directory (for
// addr2line, which reads no .xz).
func lkdtmKo(tb testing.TB) string {
	tb.Helper()
	data, err := input.ReadAll("testdata/lkdtm.ko.xz")
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "lkdtm.ko")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// printed is one frame a Debian boot printed.
type printed struct {
	text     string // as printed, for messages
	name     string
	module   string
	off      uint64
	isReturn bool
	addr     uint64 // link-time address, for a core frame
}

// debianFrames returns every distinct named frame of the Debian boots'
// oops and sysrq logs: core frames with their link-time address (the
// boot's kallsyms address minus its KASLR offset, itself the difference of
// _text in kallsyms and in System.map), module frames by name.
func debianFrames(t testing.TB) []printed {
	t.Helper()
	sysmap := systemMapText(t)
	boots, _ := filepath.Glob(fixture.Path("debian-6.1.0-56-amd64/boots/*"))
	seen := map[string]bool{}
	var out []printed
	for _, boot := range boots {
		tab, err := kallsyms.Open(filepath.Join(boot, "kallsyms.txt.gz"))
		if err != nil {
			t.Fatal(err)
		}
		text := tab.Find("_text")
		if len(text) != 1 {
			t.Fatalf("%s: _text %d times", boot, len(text))
		}
		slide := tab.Addr(text[0]) - sysmap
		logs, _ := filepath.Glob(filepath.Join(boot, "oops-*.txt"))
		more, _ := filepath.Glob(filepath.Join(boot, "dmesg-sysrq-*.txt"))
		for _, log := range append(logs, more...) {
			for _, raw := range strings.Split(string(fixture.Read(t, log)), "\n") {
				for _, f := range klog.ParseFrames(klog.ParseLine(raw).Text, nil) {
					if f.Name == "" || !f.HasOffset || f.User {
						continue
					}
					p := printed{name: f.Name, module: f.Module, off: f.Offset, isReturn: f.Kind != klog.FramePC}
					p.text = fmt.Sprintf("%s+%#x/%#x [%s] return=%v", f.Name, f.Offset, f.Size, f.Module, p.isReturn)
					if f.Module == "" {
						a, ok := coreAddr(tab, f.Name, f.Size)
						if !ok {
							t.Errorf("%s: %s not in kallsyms with size %#x", log, f.Name, f.Size)
							continue
						}
						p.addr = a + f.Offset - slide
						p.text = fmt.Sprintf("%s (%#x)", p.text, p.addr)
					}
					if !seen[p.text] {
						seen[p.text] = true
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// coreAddr returns the address of the core symbol name of the given size.
func coreAddr(tab *kallsyms.Table, name string, size uint64) (uint64, bool) {
	var found []uint64
	for _, i := range tab.Find(name) {
		if s, ok := tab.Size(i); tab.IsCore(i) && ok && s == size {
			found = append(found, tab.Addr(i))
		}
	}
	return firstIfOne(found)
}

func firstIfOne(a []uint64) (uint64, bool) {
	if len(a) != 1 {
		return 0, false
	}
	return a[0], true
}

// systemMapText returns the link-time address of _text from System.map.
func systemMapText(t testing.TB) uint64 {
	for _, l := range strings.Split(string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/System.map.gz"))), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[2] == "_text" {
			v, _ := strconv.ParseUint(f[0], 16, 64)
			return v
		}
	}
	t.Fatal("System.map has no _text")
	return 0
}

// chain renders frames one per line as the tools print them with
// --inlining: "function file:line[:column]".
func chain(fs []srcline.Frame, column bool) string {
	var b strings.Builder
	for _, f := range fs {
		if f.Function == "" {
			f.Function = "??" // as both tools print an unknown function
		}
		if column {
			fmt.Fprintf(&b, "%s %s:%d:%d\n", f.Function, f.File, f.Line, f.Column)
		} else {
			fmt.Fprintf(&b, "%s %s:%d\n", f.Function, f.File, f.Line)
		}
	}
	return b.String()
}

// llvmSymbolizer runs llvm-symbolizer --inlining on addrs in one process
// and returns each address's chain, rendered as chain renders it ("" for
// an address it knows no line of).
func llvmSymbolizer(t *testing.T, obj string, addrs []uint64) []string {
	t.Helper()
	var in bytes.Buffer
	for _, a := range addrs {
		fmt.Fprintf(&in, "0x%x\n", a)
	}
	cmd := exec.Command("llvm-symbolizer", "--inlining", "--functions=short", "--obj="+obj)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("llvm-symbolizer: %v", err)
	}
	var res []string
	for _, block := range strings.Split(strings.TrimSpace(string(out)), "\n\n") {
		lines := strings.Split(block, "\n")
		var b strings.Builder
		for i := 0; i+1 < len(lines); i += 2 {
			if strings.HasPrefix(lines[i+1], "??:0") {
				continue
			}
			fmt.Fprintf(&b, "%s %s\n", lines[i], lines[i+1])
		}
		res = append(res, b.String())
	}
	if len(res) != len(addrs) {
		t.Fatalf("llvm-symbolizer answered %d addresses of %d", len(res), len(addrs))
	}
	return res
}

// addr2line runs addr2line -i -f -a (with -j section when section is not
// empty) on addrs in one process and returns each address's chain,
// rendered as chain renders it without columns.
func addr2line(t *testing.T, obj, section string, addrs []uint64) []string {
	t.Helper()
	var in bytes.Buffer
	for _, a := range addrs {
		fmt.Fprintf(&in, "0x%x\n", a)
	}
	args := []string{"-i", "-f", "-a", "-e", obj}
	if section != "" {
		args = append(args, "-j", section)
	}
	cmd := exec.Command("addr2line", args...)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("addr2line: %v", err)
	}
	var res []string
	var b *strings.Builder
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "0x") {
			if b != nil {
				res = append(res, b.String())
			}
			b = &strings.Builder{}
			continue
		}
		if i+1 >= len(lines) || b == nil {
			t.Fatalf("addr2line: unexpected output %q", lines[i])
		}
		loc := lines[i+1]
		if j := strings.Index(loc, " (discriminator"); j >= 0 {
			loc = loc[:j]
		}
		if !strings.HasPrefix(loc, "??:") {
			fmt.Fprintf(b, "%s %s\n", lines[i], loc)
		}
		i++
	}
	if b != nil {
		res = append(res, b.String())
	}
	if len(res) != len(addrs) {
		t.Fatalf("addr2line answered %d addresses of %d", len(res), len(addrs))
	}
	return res
}

// TestDebianCoreFrames checks every core-kernel frame the Debian boots
// printed (RIP and return addresses, .cold parts, sysrq-t, -l and -w dumps)
// against llvm-symbolizer --inlining on the same link-time address, with
// columns: function, file, line and column of every frame of the chain.
func TestDebianCoreFrames(t *testing.T) {
	vmlinux := debianVmlinux(t)
	if _, err := exec.LookPath("llvm-symbolizer"); err != nil {
		t.Skip("llvm-symbolizer not installed (apt-get install llvm): the expected chains come from it")
	}
	var frames []printed
	var addrs []uint64
	for _, p := range debianFrames(t) {
		if p.module == "" {
			a := p.addr
			if p.isReturn {
				a--
			}
			frames, addrs = append(frames, p), append(addrs, a)
		}
	}
	if len(frames) < 130 {
		t.Fatalf("only %d core frames found in the Debian boots", len(frames))
	}
	want := llvmSymbolizer(t, vmlinux, addrs)
	s, err := srcline.Open(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	withLine := 0
	for i, p := range frames {
		fs, err := s.Lookup(p.addr, p.isReturn)
		if err != nil && (want[i] != "" || !errors.Is(err, srcline.ErrNoLine)) {
			t.Errorf("%s: %v, want\n%s", p.text, err, want[i])
			continue
		}
		if len(fs) == 1 && strings.HasPrefix(want[i], "?? ") {
			// No subprogram covers the address: llvm-symbolizer names
			// no function, addr2line (checked below) and this package
			// the symbol-table one.
			fs[0].Function = ""
		}
		if got := chain(fs, true); got != want[i] {
			t.Errorf("%s:\ngot:\n%swant:\n%s", p.text, got, want[i])
		}
		if want[i] != "" {
			withLine++
		}
	}
	t.Logf("%d core frames, %d with a line", len(frames), withLine)
	if _, err := exec.LookPath("addr2line"); err != nil {
		return
	}
	// addr2line agrees, without columns.
	want = addr2line(t, vmlinux, "", addrs)
	for i, p := range frames {
		fs, _ := s.Lookup(p.addr, p.isReturn)
		if got := chain(fs, false); got != want[i] {
			t.Errorf("%s: addr2line:\ngot:\n%swant:\n%s", p.text, got, want[i])
		}
	}
}

// TestDebianModuleFrames checks every LKDTM frame of the Debian boots,
// placed by its symbol, against addr2line -i -f -j SECTION on the
// section-relative address, the symbol's section and value read from the
// module's symbol table with debug/elf.
func TestDebianModuleFrames(t *testing.T) {
	ko := lkdtmKo(t)
	if _, err := exec.LookPath("addr2line"); err != nil {
		t.Skip("addr2line not installed (apt-get install binutils): the expected chains come from it")
	}
	ef, err := elf.Open(ko)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	type place struct {
		sec  string
		val  uint64
		exec bool
	}
	where := map[string][]place{}
	for _, s := range syms {
		if int(s.Section) < len(ef.Sections) && s.Section != elf.SHN_UNDEF {
			sec := ef.Sections[s.Section]
			where[s.Name] = append(where[s.Name], place{sec.Name, s.Value, sec.Flags&elf.SHF_EXECINSTR != 0})
		}
	}
	ef.Close()
	s, err := srcline.Open("testdata/lkdtm.ko.xz")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bySec := map[string][]printed{}
	for _, p := range debianFrames(t) {
		if p.module != "lkdtm" {
			continue
		}
		w := where[p.name]
		if len(w) != 1 {
			t.Errorf("%s: %d symbols of that name in lkdtm.ko", p.text, len(w))
			continue
		}
		p.addr = w[0].val + p.off // section-relative
		if !w[0].exec {
			// A data address (data_area+0x0 of EXEC_DATA) has no source
			// line; addr2line -j .data answers with a line of .text at
			// the same offset, binutils placing both sections at 0.
			if fs, err := s.LookupSymbol(p.name, p.off, p.isReturn); !errors.Is(err, srcline.ErrNoLine) {
				t.Errorf("%s: got %v, %v, want ErrNoLine", p.text, fs, err)
			}
			continue
		}
		bySec[w[0].sec] = append(bySec[w[0].sec], p)
	}
	n := 0
	secs := make([]string, 0, len(bySec))
	for sec := range bySec {
		secs = append(secs, sec)
	}
	sort.Strings(secs)
	for _, sec := range secs {
		frames := bySec[sec]
		addrs := make([]uint64, len(frames))
		for i, p := range frames {
			addrs[i] = p.addr
			if p.isReturn {
				addrs[i]--
			}
		}
		want := addr2line(t, ko, sec, addrs)
		for i, p := range frames {
			n++
			fs, err := s.LookupSymbol(p.name, p.off, p.isReturn)
			if err != nil && (want[i] != "" || !errors.Is(err, srcline.ErrNoLine)) {
				t.Errorf("%s: %v, want\n%s", p.text, err, want[i])
				continue
			}
			if got := chain(fs, false); got != want[i] {
				t.Errorf("%s (%s+%#x):\ngot:\n%swant:\n%s", p.text, sec, addrs[i], got, want[i])
			}
		}
	}
	if n < 15 {
		t.Fatalf("only %d lkdtm frames found in the Debian boots", n)
	}
	t.Logf("%d lkdtm frames in %d sections", n, len(secs))
}

// TestDirectEntryCold is the frame of issue 15: scripts/decode_stacktrace.sh
// printed lkdtm.mod.c:9 for it; addr2line -i -f -j .text.unlikely 0x17 on
// the module prints direct_entry at /usr/src/lkdtm-6.1/src/core.c:329.
func TestDirectEntryCold(t *testing.T) {
	s, err := srcline.Open("testdata/lkdtm.ko.xz")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fs, err := s.LookupSymbol("direct_entry.cold", 0x18, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []srcline.Frame{{Function: "direct_entry", File: "/usr/src/lkdtm-6.1/src/core.c", TreeFile: "lkdtm-6.1/src/core.c", Line: 329, Column: 2}}
	if fmt.Sprint(fs) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", fs, want)
	}
	// The same place by section and offset: direct_entry.cold is at 0 in
	// .text.unlikely.
	fs2, err := s.LookupSection(".text.unlikely", 0x18, true)
	if err != nil || fmt.Sprint(fs2) != fmt.Sprint(want) {
		t.Errorf("LookupSection: got %+v, %v, want %+v", fs2, err, want)
	}
	if id := s.BuildID(); id != lkdtmBuildID {
		t.Errorf("BuildID = %s, want %s", id, lkdtmBuildID)
	}
}

// lkdtmBuildID is the build ID of testdata/lkdtm.ko.xz (readelf -n).
const lkdtmBuildID = "d2c12d420606aae7228cb06fbf317c458f7a82bb"
