package decode

import (
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// TestKernelCheck: the vmlinux build ID of a real 6.12 report's CPU: line
// against another build of the same release, and a module build ID
// printed in a frame (synthetic: the fixtures' kernels print none) against
// the table's. A report of another kernel is decoded from the log alone
// and says why.
func TestKernelCheck(t *testing.T) {
	report := string(fixture.Read(t, fixture.Path("crashlogs/syzkaller/linux/report/748")))
	oops := string(fixture.Read(t, fixture.Path(debian+"/boots/run2-B/oops-03-lkdtm-EXCEPTION.txt")))
	const modID = "0123456789abcdef0123456789abcdef01234567"
	withID := strings.ReplaceAll(oops, " [lkdtm]\n", " [lkdtm "+modID+"]\n")
	tests := []struct {
		name   string
		log    string
		kernel Kernel
		want   string
	}{
		{"same build", report, Kernel{Name: "the running kernel", Release: "6.12.23-syzkaller-g30b14cdad458",
			BuildID: "c708c6bafa1314b3e84c64b9f03b67766970ebbd"}, ""},
		{"another build", report, Kernel{Name: "the running kernel", Release: "6.12.23-syzkaller-g30b14cdad458",
			BuildID: "ffffffffffffffffffffffffffffffffffffffff"},
			"the log's vmlinux build ID is c708c6bafa1314b3e84c64b9f03b67766970ebbd, the running kernel's is ffffffffffffffffffffffffffffffffffffffff: same release, another build"},
		{"another release", oops, Kernel{Release: "6.12.0-1-amd64"},
			"the log is from kernel 6.1.0-56-amd64, the table's kernel is 6.12.0-1-amd64"},
		{"rebuilt module", withID, Kernel{Name: "the snapshot", ModuleBuildID: func(m string) string {
			return map[string]string{"lkdtm": "89abcdef0123456789abcdef0123456789abcdef"}[m]
		}}, "the log's module lkdtm has build ID " + modID + ", the snapshot's has 89abcdef0123456789abcdef0123456789abcdef: the module was rebuilt"},
		{"same module", withID, Kernel{Name: "the snapshot", ModuleBuildID: func(string) string { return modID }}, ""},
		// oops's last line is stamped 102.725341 s.
		{"earlier boot", oops, Kernel{Name: "the running kernel", Release: "6.1.0-56-amd64", Uptime: uptime(50)},
			"the log's timestamps reach 103 s, the running kernel has been up 50 s: the log is from an earlier boot, where the kernel and its modules were placed elsewhere"},
		{"within the clocks' margin", oops, Kernel{Uptime: uptime(92)}, ""},
		{"this boot", oops, Kernel{Uptime: uptime(5000)}, ""},
		{"uptime unknown", oops, Kernel{Uptime: func() (float64, bool) { return 0, false }}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reps := klog.Parse(tt.log)
			if len(reps) == 0 {
				t.Fatal("no report")
			}
			if got := tt.kernel.check(reps[0]); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// uptime returns a Kernel.Uptime that says up.
func uptime(up float64) func() (float64, bool) {
	return func() (float64, bool) { return up, true }
}

// TestKernelMismatchLogOnly: run2-B's own table, said to be of another
// release, is not used: the report of run2-B is decoded from the log alone,
// the reason said in it, and so is every later report of the log; Reset
// starts another log, decoded against the table again.
func TestKernelMismatchLogOnly(t *testing.T) {
	oops := klog.Parse(string(fixture.Read(t, fixture.Path(debian+"/boots/run2-B/oops-03-lkdtm-EXCEPTION.txt"))))[0]
	noRelease := *oops
	noRelease.Header.Release = ""
	d := New(bootTable(t, "run2-B"), Options{Kernel: Kernel{Release: "6.12.0-1-amd64"}})
	const why = "the log is from kernel 6.1.0-56-amd64, the table's kernel is 6.12.0-1-amd64"
	for n, tc := range []struct {
		r   *klog.Report
		why string
	}{{oops, why}, {&noRelease, "in an earlier report of this log: " + why}} {
		res := d.Decode(tc.r)
		if !res.LogOnly || !res.Mismatch || res.MismatchReason != tc.why || len(res.Warnings) != 1 || res.Warnings[0] != tc.why {
			t.Errorf("report %d: log only %v mismatch %v %q %q, want %q", n, res.LogOnly, res.Mismatch, res.MismatchReason, res.Warnings, tc.why)
		}
		for _, f := range res.Frames {
			if f.Text != "" || f.Status == StatusOK || f.Status == StatusResolved {
				t.Errorf("report %d: frame %q decoded: %s %q", n, f.Printed, f.Status, f.Text)
			}
		}
		if len(res.Registers) != 0 {
			t.Errorf("report %d: registers %+v", n, res.Registers)
		}
	}
	d.Reset()
	if res := d.Decode(&noRelease); res.LogOnly || res.Mismatch || res.Frames[0].Status != StatusOK {
		t.Errorf("after Reset: log only %v mismatch %v, first frame %s", res.LogOnly, res.Mismatch, res.Frames[0].Status)
	}
}

// TestGeneratedCode: the kernel prints frames of JIT-compiled BPF programs
// without a module, and /proc/kallsyms lists them under the pseudo-module
// [bpf], only while they are loaded. (Synthetic: no fixture log has a BPF
// frame.) Found there, its size is unknown (kallsyms lists none for BPF
// symbols): unchecked; a program that the table lacks (unloaded before the
// table was saved) is no evidence of another kernel either, unlike a core
// function the table lacks.
func TestGeneratedCode(t *testing.T) {
	tab, err := kallsyms.ParseBytes([]byte(`ffffffff81000000 T _text
ffffffff81001000 T bpf_prog_run
ffffffff81001100 T __sys_bpf
ffffffff81001200 T _etext
ffffffffc0201000 t bpf_prog_0123456789abcdef_F	[bpf]
ffffffffc0201080 t bpf_trampoline_6442491032	[bpf]
`), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const head = "BUG: unable to handle page fault for address: 0000000000001000\nCall Trace:\n <TASK>\n"
	tests := []struct {
		frame    string
		status   Status
		mismatch bool
	}{
		{" bpf_prog_0123456789abcdef_F+0x24/0x80\n", StatusUnchecked, false},
		{" bpf_prog_fedcba9876543210_G+0x24/0x80\n", StatusNotFound, false},
		{" bpf_trampoline_6442491033+0x10/0x80\n", StatusNotFound, false},
		{" bpf_prog_run_xdp+0x24/0x80\n", StatusUnchecked, true}, // a core function the table lacks
	}
	for _, tc := range tests {
		reps := klog.Parse(head + tc.frame + " bpf_prog_run+0x10/0x100\n __sys_bpf+0x8/0x100\n </TASK>\n")
		if len(reps) != 1 || len(reps[0].Frames) != 3 {
			t.Fatalf("%q: not parsed", tc.frame)
		}
		res := New(tab, Options{}).Decode(reps[0])
		if f := res.Frames[0]; f.Status != tc.status || res.Mismatch != tc.mismatch {
			t.Errorf("%q: %s (%s), mismatch %v; want %s, %v", tc.frame, f.Status, f.Note, res.Mismatch, tc.status, tc.mismatch)
		}
	}
}
