package decode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// TestDetectArchCrashlogs: the architecture told from each syzkaller log
// (its first report that shows one) is never the wrong one, against the
// arch column of MANIFEST.tsv; arm, riscv, powerpc and i386 logs are
// unknown. Measured: 29 of the 34 arm64 logs and 71 of the 81 x86_64 logs
// with reports show theirs (the others print neither registers nor entry
// functions, such as lockdep reports of worker threads).
func TestDetectArchCrashlogs(t *testing.T) {
	manifest := string(fixture.Read(t, fixture.Path("crashlogs/MANIFEST.tsv")))
	found, seen := map[string]int{}, map[string]bool{}
	for _, l := range strings.Split(manifest, "\n")[1:] {
		f := strings.Split(l, "\t")
		if len(f) < 6 || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		data, err := os.ReadFile(fixture.Path(filepath.Join("crashlogs", f[0])))
		if err != nil {
			t.Fatal(err)
		}
		got := ArchUnknown
		for _, r := range klog.Parse(string(data)) {
			if got = DetectArch(r); got != ArchUnknown {
				break
			}
		}
		switch {
		case got == ArchUnknown:
		case string(got) != f[5]:
			t.Errorf("%s: %s, MANIFEST says %s", f[0], got, f[5])
		default:
			found[f[5]]++
		}
	}
	if found["arm64"] < 29 || found["x86_64"] < 71 {
		t.Errorf("told %v, want at least arm64:29 x86_64:71", found)
	}
}

// TestDetectArch: which evidence counts, on lines of real logs (report/536
// for arm64, run2-B oops-03 for x86_64).
func TestDetectArch(t *testing.T) {
	tests := []struct {
		log  string
		want Arch
	}{
		{"[ 1418.103355][ T6604] pc : selinux_socket_sendmsg+0x28/0x58\n", ArchArm64},
		{"[ 1418.105700][ T6604] x29: ffff000049b6fa10 x28: ffff0000467c42a0\n", ArchArm64},
		{"[  102.725341] RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n", ArchX86_64},
		{"[  102.725341] RAX: ffffffffc09e64a0 RBX: 000000000000000a RCX: c0000000fffbffff\n", ArchX86_64},
		{"[  102.725341]  entry_SYSCALL_64_after_hwframe+0x64/0xce\n", ArchX86_64},
		{"[  532.012841][ T3061]  el0_svc+0x9c/0x150\n", ArchArm64},
		{"[  102.725341]  vfs_write+0xc7/0x3f0\n", ArchUnknown},
		// arm32: "pc : [<...>]" is not arm64.
		{"pc : [<c01751ac>]    lr : [<c025a42c>]    psr: 60000013\n", ArchUnknown},
		// Evidence of both: unknown.
		{"[  102.725341] RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n[  102.725341]  el0_svc+0x9c/0x150\n", ArchUnknown},
	}
	for _, tc := range tests {
		reps := klog.Parse("[    1.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000\n" + tc.log)
		if len(reps) != 1 {
			t.Fatalf("%q: %d reports", tc.log, len(reps))
		}
		if got := DetectArch(reps[0]); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.log, got, tc.want)
		}
	}
	r := &klog.Report{Header: klog.Header{Release: "6.1.0-18-arm64"}}
	if got := DetectArch(r); got != ArchArm64 {
		t.Errorf("release 6.1.0-18-arm64: %q", got)
	}
}

// TestTableArch: the Debian System.map and the Firecracker kallsyms are
// x86_64 tables; the synthetic arm64 table below is arm64.
func TestTableArch(t *testing.T) {
	if got := TableArch(systemMap(t)); got != ArchX86_64 {
		t.Errorf("System.map: %q", got)
	}
	if got := TableArch(loadTable(t, "firecracker-6.18.44/kallsyms.txt.gz")); got != ArchX86_64 {
		t.Errorf("firecracker: %q", got)
	}
	if got := TableArch(arm64Table(t)); got != ArchArm64 {
		t.Errorf("synthetic arm64: %q", got)
	}
}

// arm64Table is a synthetic System.map-like table of an arm64 kernel
// (no arm64 System.map is among the fixtures): link-time image at
// 0xffff800008000000 as 5.x-6.x kernels with 48-bit VA are linked.
func arm64Table(t *testing.T) *kallsyms.Table {
	t.Helper()
	tab, err := kallsyms.ParseBytes([]byte(`ffff800008000000 T _text
ffff800008010000 T _stext
ffff800008010000 T __do_softirq
ffff800008020000 T el0_svc
ffff800008020100 T do_el0_svc
ffff800008030000 T vfs_read
ffff800008030400 T vfs_write
ffff800008030800 T ksys_write
ffff800008030900 T ksys_read
ffff800009000000 D init_task
ffff800009010000 D init_stack
ffff800009018000 D __end_init_task
ffff800009400000 B _end
`), kallsyms.Options{Source: "arm64.map"})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// arm64Slide is a KASLR offset as arm64 makes them: 2 MiB-aligned random
// bits plus a physical placement residue that is a multiple of 64 KiB
// (0x210000 = 2 MiB + 64 KiB), in the middle of the vmalloc area.
const arm64Slide = 0x1f3a5e210000

// arm64Report is a synthetic arm64 oops whose registers hold addresses of
// the synthetic table under arm64Slide: x0 = vfs_read, x1 = init_task, x2 =
// do_el0_svc, sp inside init_stack; x3 a linear map address and x4 a
// vmalloc stack address, which pin nothing. pins says how many of the first
// three to include.
func arm64Report(t *testing.T, pins int, extra string) *klog.Report {
	t.Helper()
	regs := []struct {
		name string
		link uint64
	}{{"x0", 0xffff800008030000}, {"x1", 0xffff800009000000}, {"x2", 0xffff800008020100}}
	var b strings.Builder
	b.WriteString("[    1.000000] Unable to handle kernel paging request at virtual address dead000000000108\n")
	b.WriteString("[    1.000000] Internal error: Oops: 0000000096000044 [#1] PREEMPT SMP\n")
	b.WriteString(extra)
	b.WriteString("[    1.000000] pc : vfs_write+0x10/0x400\n")
	fmt.Fprintf(&b, "[    1.000000] sp : %016x\n", uint64(0xffff800009013f00)+arm64Slide)
	for _, r := range regs[:pins] {
		fmt.Fprintf(&b, "[    1.000000] %s : %016x\n", r.name, r.link+arm64Slide)
	}
	b.WriteString("[    1.000000] x3 : ffff0000c5718000 x4 : ffff80000fee38a0\n")
	b.WriteString("[    1.000000] Call trace:\n[    1.000000]  vfs_write+0x10/0x400\n[    1.000000]  ksys_write+0x6c/0x100\n")
	b.WriteString("[    1.000000] ---[ end trace 0000000000000000 ]---\n")
	reps := klog.Parse(b.String())
	if len(reps) != 1 || len(reps[0].Registers) != pins+3 {
		t.Fatalf("synthetic report: %d reports", len(reps))
	}
	return reps[0]
}

// TestArm64SlideFromRegisters: on arm64 the slide is a multiple of 64 KiB
// found among the slides the register values pin (synthetic table and
// report, see arm64Table): sp in init_stack plus two symbol starts are
// three pins, enough; with one symbol start (two pins) it is not accepted,
// as arm64 allows far more slides than x86_64.
func TestArm64SlideFromRegisters(t *testing.T) {
	tab := arm64Table(t)
	s := FindSlide(arm64Report(t, 3, ""), tab)
	if !s.Known || s.Value != arm64Slide || s.Method != "registers" ||
		s.Detail != "the only slide under which 4 register values point at a symbol start or into the initial stack" {
		t.Errorf("4 pins: %+v", s)
	}
	s = FindSlide(arm64Report(t, 2, ""), tab)
	if !s.Known || s.Value != arm64Slide {
		t.Errorf("3 pins: %+v", s)
	}
	if s = FindSlide(arm64Report(t, 1, ""), tab); s.Known {
		t.Errorf("2 pins: %+v, want not found", s)
	}
	// The x86_64 rule (2 MiB multiples below 1 GiB) would not find it.
	if s, ok := slideFromRegisters(arm64Report(t, 3, ""), tab, ArchX86_64); ok {
		t.Errorf("x86_64 rules: %+v", s)
	}
}

// TestArm64Addresses: with an arm64 System.map and a known slide (here
// from a "Kernel Offset:" line), an address of the slid image resolves,
// one within 4 GiB of it is a module address (never slid), one far away
// is outside the kernel; without the slide nothing is resolved, and the
// note says why (synthetic table, see arm64Table).
func TestArm64Addresses(t *testing.T) {
	tab := arm64Table(t)
	offset := fmt.Sprintf("[    1.000000] Kernel Offset: 0x%x from 0xffff800008000000\n", arm64Slide)
	tests := []struct {
		addr       uint64
		withOffset bool
		status     Status
		text, note string
	}{
		// A return address: %pB looks up address-1, prints the offset of
		// the address itself.
		{0xffff800008030404 + arm64Slide, true, StatusResolved, "vfs_write+0x4/0x400", ""},
		{0xffff800008000000 + arm64Slide - 0x40000000, true, StatusUnchecked, "",
			"a module address: a System.map has no module symbols, and the kernel slide does not apply"},
		{0xffff800009400000 + arm64Slide + 0x10000, true, StatusUnchecked, "",
			"a module address: a System.map has no module symbols, and the kernel slide does not apply"},
		{0xffff800008030404 + arm64Slide + 0x200000000, true, StatusNotFound, "",
			"outside the kernel image under the slide 0x1f3a5e210000"},
		{0xffff800008030404 + arm64Slide, false, StatusNoSlide, "",
			"the KASLR slide is unknown (on arm64 it also tells the kernel image from the modules)"},
	}
	for _, tc := range tests {
		extra := fmt.Sprintf("[    1.000000]  [<%016x>]\n", tc.addr)
		if tc.withOffset {
			extra += offset
		}
		res := New(tab, Options{SystemMap: true}).Decode(arm64Report(t, 0, extra))
		var f *Frame
		for i := range res.Frames {
			if res.Frames[i].Printed == fmt.Sprintf("0x%x", tc.addr) {
				f = &res.Frames[i]
			}
		}
		if f == nil {
			t.Fatalf("0x%x: no frame", tc.addr)
		}
		if f.Status != tc.status || f.Text != tc.text || f.Note != tc.note || res.Arch != ArchArm64 {
			t.Errorf("0x%x: %s %q %q (%s), want %s %q %q", tc.addr, f.Status, f.Text, f.Note, res.Arch, tc.status, tc.text, tc.note)
		}
	}
}
