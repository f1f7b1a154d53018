package decode

import (
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// TestFrameKinds decodes one frame of each kind against run2-B's table.
// Expected texts are from run2-B's kallsyms.txt.gz: lkdtm_debugfs_entry at
// ffffffffc09e63b0, lkdtm_EXCEPTION at ffffffffc09e64a0 (0x20 long),
// vfs_write at ffffffff86b67160 (0x3f0 long). A frame that disagrees with
// the table (address, size, a core name it lacks) shows the table is not
// this log's: the report is decoded from the log alone, the frame as
// printed (no text, only a printed address).
func TestFrameKinds(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		status Status
		text   string
		addr   uint64
	}{
		{"pc raw", "RIP: 0010:0xffffffffc09e64a5", StatusResolved, "lkdtm_EXCEPTION+0x5/0x20 [lkdtm]", 0xffffffffc09e64a5},
		{"pc at start", "RIP: 0010:[<ffffffffc09e64a0>]", StatusResolved, "lkdtm_EXCEPTION+0x0/0x20 [lkdtm]", 0xffffffffc09e64a0},
		{"return at start (%pB)", " [<ffffffffc09e64a0>]", StatusResolved, "lkdtm_debugfs_entry+0xf0/0xf0 [lkdtm]", 0xffffffffc09e64a0},
		{"return core", " ? [<ffffffff86b67227>]", StatusResolved, "vfs_write+0xc7/0x3f0", 0xffffffff86b67227},
		{"named", " vfs_write+0xc7/0x3f0", StatusOK, "vfs_write+0xc7/0x3f0", 0xffffffff86b67227},
		{"named and address", " [<ffffffff86b67227>] vfs_write+0xc7/0x3f0", StatusOK, "vfs_write+0xc7/0x3f0", 0xffffffff86b67227},
		{"address disagrees", " [<ffffffff86b67228>] vfs_write+0xc7/0x3f0", StatusUnchecked, "", 0xffffffff86b67228},
		{"size disagrees", " vfs_write+0xc7/0x400", StatusUnchecked, "", 0},
		{"offset past the size", " vfs_write+0x3f1/0x3f0", StatusUnchecked, "", 0},
		{"unknown name", " no_such_function+0x1/0x10", StatusUnchecked, "", 0},
		{"module not loaded", " f+0x1/0x10 [nosuchmod]", StatusNotFound, "", 0},
		// lkdtm's init function (lkdtm_module_init, drivers/misc/lkdtm/core.c)
		// is freed once the module is loaded: not in the table, and no
		// evidence of another kernel.
		{"module init code", " lkdtm_module_init+0x1b4/0x1000 [lkdtm]", StatusNotFound, "", 0},
		{"hashed", " [<000000005ec5fd9f>]", StatusHashed, "", 0},
		{"user", "RIP: 0033:0x47b7a0", StatusUser, "", 0},
		{"no symbol", " [<ffffffff00001000>]", StatusNotFound, "", 0xffffffff00001000},
	}
	tab := bootTable(t, "run2-B")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kf, ok := klog.ParseFrame(tc.line)
			if !ok {
				t.Fatalf("klog does not parse %q", tc.line)
			}
			r := &klog.Report{Lines: []klog.Line{{Text: tc.line}}, Frames: []klog.Frame{kf}}
			res := New(tab, Options{}).Decode(r)
			f := res.Frames[0]
			if f.Status != tc.status || f.Text != tc.text || f.Addr != tc.addr {
				t.Errorf("got %s %q 0x%x (%s), want %s %q 0x%x", f.Status, f.Text, f.Addr, f.Note, tc.status, tc.text, tc.addr)
			}
			if f.Reliable != kf.Reliable {
				t.Errorf("reliable %v, printed %v", f.Reliable, kf.Reliable)
			}
			if mismatch := tc.status == StatusUnchecked; res.Mismatch != mismatch || res.LogOnly != mismatch {
				t.Errorf("mismatch %v log only %v, want %v", res.Mismatch, res.LogOnly, mismatch)
			}
		})
	}
}

// TestZeroNeverResolved: 0 is neither a trace entry nor a PC to resolve.
func TestZeroNeverResolved(t *testing.T) {
	tab := bootTable(t, "run2-B")
	for _, line := range []string{" [<0000000000000000>]", "RIP: 0010:0x0"} {
		kf, ok := klog.ParseFrame(line)
		if !ok {
			continue
		}
		r := &klog.Report{Lines: []klog.Line{{Text: line}}, Frames: []klog.Frame{kf}}
		f := New(tab, Options{}).Decode(r).Frames[0]
		if f.Text != "" || f.Status == StatusResolved {
			t.Errorf("%q resolved to %q (%s)", line, f.Text, f.Status)
		}
	}
}

// TestSystemMapModuleAddress: with a System.map, a raw module address is
// not slid into the core kernel, and the report says the slide is unknown.
func TestSystemMapModuleAddress(t *testing.T) {
	line := " [<ffffffffc09e64a5>]"
	kf, _ := klog.ParseFrame(line)
	r := &klog.Report{Lines: []klog.Line{{Text: line}}, Frames: []klog.Frame{kf}}
	res := New(systemMap(t), Options{SystemMap: true}).Decode(r)
	if f := res.Frames[0]; f.Status != StatusUnchecked || f.Text != "" {
		t.Errorf("module address: %s %q", f.Status, f.Text)
	}
	if res.Slide.Known || res.Slide.Detail == "" {
		t.Errorf("slide %+v, want not found with a reason", res.Slide)
	}
}

// TestRegisterValues: only values that resolve are annotated, and
// extreme values (top of the address space, just below the errno range)
// are looked up without trouble, with both kinds of table.
func TestRegisterValues(t *testing.T) {
	regs := []klog.Register{
		{Name: "RAX", Value: 0xffffffffc09e64a0},
		{Name: "RBX", Value: 0xffffffffffdb9fa5},
		{Name: "RCX", Value: 0xffff800000000000},
		{Name: "RDX", Value: 0xffffffffffffefff},
		{Name: "RSI", Value: 0xffffffffffffffda},
		{Name: "RDI", Value: 0x47b7a0},
	}
	r := &klog.Report{Lines: []klog.Line{{Text: "regs"}}, Registers: regs}
	got := New(bootTable(t, "run2-B"), Options{}).Decode(r).Registers
	if len(got) != 1 || got[0].Name != "RAX" || got[0].Text != "lkdtm_EXCEPTION+0x0/0x20 [lkdtm]" || got[0].Value != 0xffffffffc09e64a0 {
		t.Errorf("registers %+v, want RAX=lkdtm_EXCEPTION+0x0/0x20 [lkdtm] only", got)
	}
	if got := New(systemMap(t), Options{SystemMap: true}).Decode(r).Registers; len(got) != 0 {
		t.Errorf("System.map without slide: registers %+v, want none", got)
	}
}

// TestDuplicateNames: among static functions of the same name, the printed
// size chooses; with the same size too, a printed address chooses, else
// the frame says it is ambiguous.
func TestDuplicateNames(t *testing.T) {
	tab, err := kallsyms.ParseBytes([]byte(`ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81001000 t dup
ffffffff81001010 t dup
ffffffff81001020 t other
ffffffff81001040 t dup
ffffffff81001060 T _etext
`), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string
		addr uint64
		note bool
	}{
		{" dup+0x1/0x20", 0xffffffff81001041, false},
		{" dup+0x1/0x10", 0xffffffff81001001, true},
		{" [<ffffffff81001011>] dup+0x1/0x10", 0xffffffff81001011, false},
	}
	for _, tc := range tests {
		kf, ok := klog.ParseFrame(tc.line)
		if !ok {
			t.Fatalf("klog does not parse %q", tc.line)
		}
		r := &klog.Report{Lines: []klog.Line{{Text: tc.line}}, Frames: []klog.Frame{kf}}
		res := New(tab, Options{}).Decode(r)
		f := res.Frames[0]
		if f.Status != StatusOK || f.Addr != tc.addr || (f.Note != "") != tc.note {
			t.Errorf("%q: %s 0x%x note %q, want ok 0x%x note %v", tc.line, f.Status, f.Addr, f.Note, tc.addr, tc.note)
		}
		if got := len(res.Summary.Uncertain) > 0; got != tc.note {
			t.Errorf("%q: uncertain %q", tc.line, res.Summary.Uncertain)
		}
	}
}
