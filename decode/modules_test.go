package decode

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/klog"
)

// run2BModules are lines of run2-B's modules.txt (/proc/modules of that
// boot), written out by hand: lkdtm 65536 ... 0xffffffffc09e6000, fuse
// 176128 ... 0xffffffffc09ba000.
var run2BModules = []Module{
	{Name: "lkdtm", Base: 0xffffffffc09e6000, Size: 65536},
	{Name: "fuse", Base: 0xffffffffc09ba000, Size: 176128},
}

// oneFrame builds a report of one line holding one frame.
func oneFrame(t *testing.T, line string) *klog.Report {
	t.Helper()
	kf, ok := klog.ParseFrame(line)
	if !ok {
		t.Fatalf("klog does not parse %q", line)
	}
	return &klog.Report{Lines: []klog.Line{{Text: line}}, Frames: []klog.Frame{kf}}
}

// TestModulesSystemMap: with the System.map and run2-B's modules, raw
// module addresses are attributed to their module by base and size (never
// slid), printed addresses of named module frames are checked against the
// module's range. Offsets computed by hand: 0xffffffffc09e7900 -
// 0xffffffffc09e6000 = 0x1900 (direct_entry.cold+0x18/0x24 [lkdtm] in
// run2-B's oops-03), 0xffffffffc09e64a5 - 0xffffffffc09e6000 = 0x4a5
// (lkdtm_EXCEPTION+0x5).
func TestModulesSystemMap(t *testing.T) {
	tests := []struct {
		line, status, module, note string
		base, offset               uint64 // base 0: not known
	}{
		{" [<ffffffffc09e7900>]", "unchecked", "lkdtm",
			"module lkdtm+0x1900 (base 0xffffffffc09e6000): a System.map has no module symbols", 0xffffffffc09e6000, 0x1900},
		{" [<ffffffffc09ba000>]", "unchecked", "fuse",
			"module fuse+0x0 (base 0xffffffffc09ba000): a System.map has no module symbols", 0xffffffffc09ba000, 0},
		// Just past lkdtm's 64 KiB, and in no module at all.
		{" [<ffffffffc09f6000>]", "unchecked", "",
			"a module address in no module of the modules file: a System.map has no module symbols, and the kernel slide does not apply", 0, 0},
		{" [<ffffffffc09e64a5>] lkdtm_EXCEPTION+0x5/0x20 [lkdtm]", "unchecked", "lkdtm",
			"module lkdtm+0x4a5 (base 0xffffffffc09e6000): inside the module; name and size not checked (a System.map has no module symbols)", 0xffffffffc09e6000, 0x4a5},
		// run1-A's lkdtm was at 0xffffffffc085b000: another boot.
		{" [<ffffffffc085b4a5>] lkdtm_EXCEPTION+0x5/0x20 [lkdtm]", "size-mismatch", "lkdtm",
			"the printed address 0xffffffffc085b4a5 is outside module lkdtm (0xffffffffc09e6000-0xffffffffc09f6000 in the modules file)", 0, 0},
		{" [<ffffffffc0700000>] nf_hook+0x5/0x20 [nf_tables]", "unchecked", "nf_tables",
			"a System.map has no module symbols; module nf_tables is not in the modules file", 0, 0},
	}
	for _, tc := range tests {
		d := New(systemMap(t), Options{SystemMap: true, Modules: run2BModules})
		res := d.Decode(oneFrame(t, tc.line))
		f := res.Frames[0]
		if string(f.Status) != tc.status || f.Module != tc.module || f.HasModuleBase != (tc.base != 0) || f.ModuleBase != tc.base ||
			f.ModuleOffset != tc.offset || f.Note != tc.note || f.Text != "" {
			t.Errorf("%q:\n got %s %q base %#x (known %v) +0x%x %q text %q\nwant %s %q base %#x +0x%x %q", tc.line, f.Status, f.Module,
				f.ModuleBase, f.HasModuleBase, f.ModuleOffset, f.Note, f.Text, tc.status, tc.module, tc.base, tc.offset, tc.note)
		}
		// The modules file, not the table, disagrees: a warning, no table
		// mismatch.
		if warned := tc.status == "size-mismatch"; res.Mismatch || (len(res.Warnings) > 0) != warned {
			t.Errorf("%q: mismatch %v, warnings %q", tc.line, res.Mismatch, res.Warnings)
		}
	}
}

// TestModulesRegisters: with a System.map and the modules, a register
// value inside a module is shown by module and offset (0xffffffffc09e64a0
// is lkdtm_EXCEPTION+0x0 in run2-B's kallsyms: 0x4a0 from lkdtm's base);
// without the modules it is not annotated.
func TestModulesRegisters(t *testing.T) {
	r := &klog.Report{Lines: []klog.Line{{Text: "regs"}}, Registers: []klog.Register{{Name: "RAX", Value: 0xffffffffc09e64a0}}}
	got := New(systemMap(t), Options{SystemMap: true, Modules: run2BModules}).Decode(r).Registers
	if len(got) != 1 || got[0].Text != "module lkdtm+0x4a0 (base 0xffffffffc09e6000)" {
		t.Errorf("registers %+v", got)
	}
	if got := New(systemMap(t), Options{SystemMap: true}).Decode(r).Registers; len(got) != 0 {
		t.Errorf("without modules: registers %+v, want none", got)
	}
}

// TestModulesAgainstKallsyms: a runtime table and a modules file of the
// same boot agree; of different boots, the first result warns once. The
// expected warning was read from the files: run1-A's lowest module is
// crc32c_intel at 0xffffffffc03f9000, 24576 bytes; run2-B's kallsyms has
// its text from 0xffffffffc056d000 (crc32c_intel_setkey) to
// 0xffffffffc056e4d5 (crc32c_intel_mod_fini); all 24 modules moved.
func TestModulesAgainstKallsyms(t *testing.T) {
	tab := bootTable(t, "run2-B")
	same := parseModulesFixture(t, "run2-B")
	res := New(tab, Options{Modules: same}).Decode(oneFrame(t, " vfs_write+0xc7/0x3f0"))
	if len(res.Warnings) != 0 || res.Mismatch {
		t.Errorf("same boot: warnings %q", res.Warnings)
	}
	d := New(tab, Options{Modules: parseModulesFixture(t, "run1-A")})
	res = d.Decode(oneFrame(t, " vfs_write+0xc7/0x3f0"))
	want := "module crc32c_intel: the table has its text at 0xffffffffc056d000-0xffffffffc056e4d5, the modules file puts it at 0xffffffffc03f9000-0xffffffffc03ff000, and 23 more modules disagree: the modules file is not from the boot of the table"
	if len(res.Warnings) != 1 || res.Warnings[0] != want || res.Mismatch {
		t.Errorf("other boot: warnings %q\nwant %q", res.Warnings, want)
	}
	if res = d.Decode(oneFrame(t, " vfs_write+0xc7/0x3f0")); len(res.Warnings) != 0 {
		t.Errorf("warned twice: %q", res.Warnings)
	}
}

// TestModuleSetOverlap: when a module's size (which counts init memory)
// reaches past the next module's base, an address belongs to the module
// with the highest base at or below it.
func TestModuleSetOverlap(t *testing.T) {
	ms := newModuleSet([]Module{{"b", 0x2000, 0x1000}, {"a", 0x1000, 0x1800}, {"hidden", 0, 0x1000}})
	for _, tc := range []struct {
		addr uint64
		want string
	}{{0xfff, ""}, {0x1000, "a"}, {0x17ff, "a"}, {0x1fff, "a"}, {0x2000, "b"}, {0x27ff, "b"}, {0x2fff, "b"}, {0x3000, ""}} {
		got := ""
		if m, ok := ms.find(tc.addr); ok {
			got = m.Name
		}
		if got != tc.want {
			t.Errorf("0x%x: %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// parseModulesFixture reads a boot's modules.txt: name, size (decimal) and
// base (the sixth field, hexadecimal).
func parseModulesFixture(t *testing.T, boot string) []Module {
	t.Helper()
	var out []Module
	text := string(fixture.Read(t, fixture.Path(filepath.Join(debian, "boots", boot, "modules.txt"))))
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(l)
		size, err1 := strconv.ParseUint(f[1], 10, 64)
		base, err2 := strconv.ParseUint(strings.TrimPrefix(f[5], "0x"), 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %q", boot, l)
		}
		out = append(out, Module{Name: f[0], Base: base, Size: size})
	}
	return out
}
