package klog

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// TestFuncFollowsInline checks Report.Func on warnings whose first line a
// symbolizer (syzkaller's) repeated once per inlined function. Synthetic:
// the shared corpus has no symbolized report; the lines follow syzbot's
// emails, in both warning formats.
func TestFuncFollowsInline(t *testing.T) {
	tests := []struct{ name, log, want string }{
		{"6.x", `------------[ cut here ]------------
WARNING: ./include/linux/ns_common.h:229 at __ns_ref_put include/linux/ns_common.h:229 [inline], CPU#0: kworker/0:6/6108
WARNING: ./include/linux/ns_common.h:229 at put_user_ns include/linux/user_namespace.h:189 [inline], CPU#0: kworker/0:6/6108
WARNING: ./include/linux/ns_common.h:229 at destroy_super_work+0x15c/0x1a0 fs/super.c:280, CPU#0: kworker/0:6/6108
Modules linked in:
RIP: 0010:destroy_super_work+0x15c/0x1a0 fs/super.c:280
Call Trace:
 process_one_work+0x94a/0x15d0 kernel/workqueue.c:3267
`, "destroy_super_work"},
		{"before 6.x", `------------[ cut here ]------------
WARNING: CPU: 0 PID: 5078 at arch/x86/kvm/lapic.c:330 kvm_recalculate_logical_map arch/x86/kvm/lapic.c:330 [inline]
WARNING: CPU: 0 PID: 5078 at arch/x86/kvm/lapic.c:330 kvm_recalculate_apic_map+0x1267/0x14e0 arch/x86/kvm/lapic.c:413
Modules linked in:
Call Trace:
 kvm_apic_set_state+0x1d2/0x2e0 arch/x86/kvm/lapic.c:2940
`, "kvm_recalculate_apic_map"},
		{"not a chain", `------------[ cut here ]------------
WARNING: CPU: 0 PID: 5078 at arch/x86/kvm/lapic.c:330 kvm_recalculate_logical_map arch/x86/kvm/lapic.c:330 [inline]
Modules linked in:
`, "kvm_recalculate_logical_map"},
	}
	for _, tt := range tests {
		reps := Parse(tt.log)
		if len(reps) != 1 {
			t.Errorf("%s: %d reports", tt.name, len(reps))
			continue
		}
		if reps[0].Func != tt.want {
			t.Errorf("%s: Func = %q, want %q", tt.name, reps[0].Func, tt.want)
		}
	}
}

// TestTaskNameWithNewline checks a hung task report whose task name
// (comm, set by prctl(PR_SET_NAME) to any bytes) holds a newline, which
// splits its first line in two. Synthetic, in the shape of a syzbot report
// (the shared corpus has none); a lone "INFO: task" line opens nothing.
func TestTaskNameWithNewline(t *testing.T) {
	log := `[ 1052.080846][   T41] INFO: task ab
[ 1052.080846][   T41] cd:18088 blocked for more than 143 seconds.
[ 1052.189780][   T41] Call Trace:
[ 1052.211420][   T41]  __schedule+0x10e9/0x6820
[ 1052.291037][   T41]  p9_fd_close+0x2e7/0x4c0
`
	reps := Parse(log)
	if len(reps) != 1 || reps[0].Kind != KindHungTask || len(reps[0].Lines) != 5 || len(reps[0].Frames) != 2 {
		t.Fatalf("got %d reports: %+v", len(reps), reps)
	}
	if reps := Parse("[ 1.0][ T41] INFO: task ab\n[ 1.1][ T41] something else\n"); len(reps) != 0 {
		t.Errorf("a lone INFO: task line opened %d reports", len(reps))
	}
}

// TestWarningFunc: the function of a warning's first line, in both
// layouts; an address where the function would be (synthetic: a printk
// that mimics a warning) is no function.
func TestWarningFunc(t *testing.T) {
	tests := []struct{ title, want string }{
		{"WARNING: CPU: 1 PID: 788 at drivers/misc/lkdtm/bugs.c:83 lkdtm_WARNING+0x13/0x20 [lkdtm]", "lkdtm_WARNING"},
		{"WARNING: fs/super.c:280 at destroy_super_work+0x15c/0x1a0, CPU#0: kworker/0:1/9", "destroy_super_work"},
		{"WARNING: something at ffff88813fd05fe8 in kworker/1:1:42", ""},
		{"WARNING: something at 0xffff88813fd05fe8", ""},
		{"WARNING: no location", ""},
	}
	for _, tt := range tests {
		if got := warningFunc(tt.title); got != tt.want {
			t.Errorf("warningFunc(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

// TestInlinePC: syzkaller prints a PC line per function inlined at the PC
// ("RIP: 0010:div_u64_rem include/linux/math64.h:29 [inline]") before the
// PC's own; they are inline PC frames and the report goes on past them
// (real 6.0 report, syzkaller test 692: the NMI backtrace of CPU 1).
func TestInlinePC(t *testing.T) {
	text := string(fixture.Read(t, fixture.Path("crashlogs/syzkaller/linux/report/692")))
	reps := Parse(text)
	if len(reps) == 0 {
		t.Fatal("no report")
	}
	var pcs []string
	sawCaller := false
	for _, f := range reps[0].Frames {
		if f.Kind == FramePC {
			pcs = append(pcs, fmt.Sprintf("%s inline=%v", f.Name, f.Inline))
		}
		sawCaller = sawCaller || f.Name == "fq_pie_timer"
	}
	want := []string{"div_u64_rem inline=true", "div_u64 inline=true", "pie_calculate_probability inline=false"}
	if !slices.Equal(pcs, want) {
		t.Errorf("PC frames %q, want %q", pcs, want)
	}
	if !sawCaller {
		t.Error("the report ends before the PC's callers (fq_pie_timer)")
	}
}
