package klog

import "testing"

// TestStartKinds checks the first lines that open a report, by the
// kernel's formats on several architectures.
func TestStartKinds(t *testing.T) {
	tests := []struct {
		text string
		kind Kind
		ok   bool
	}{
		{"BUG: kernel NULL pointer dereference, address: 0000000000000000", KindNullDeref, true},
		{"BUG: Kernel NULL pointer dereference on read at 0x00000000", KindNullDeref, true},                  // powerpc
		{"BUG: Unable to handle kernel data access on write at 0xc00800000a3c0000", KindPageFault, true},     // powerpc
		{"Unable to handle kernel paging request at virtual address ffff800012345678", KindPageFault, true},  // arm64, arm, riscv
		{"Unable to handle kernel pointer dereference in virtual kernel address space", KindPageFault, true}, // s390
		{"Unable to handle kernel NULL pointer dereference at virtual address 00000008", KindNullDeref, true},
		{"Internal error: Oops: 96000005 [#1] PREEMPT SMP", KindOops, true},
		{"Oops: Kernel access of bad area, sig: 11 [#1]", KindOops, true}, // powerpc
		{"Oops: 0004 ilc:3 [#1] SMP", KindOops, true},                     // s390
		{"kernel BUG at mm/internal.h:400!", KindBUG, true},
		{"list_del corruption, ffff88807d5e4a28->next is LIST_POISON1 (dead000000000100)", KindListCorruption, true},
		{"unreferenced object 0xffff888109c1d200 (size 512):", KindKmemleak, true},
		{"UBSAN: shift-out-of-bounds in net/ipv4/tcp.c:123:4", KindUBSAN, true},
		{"BUG: Bad page state in process syz-executor.0  pfn:6e5a9", KindBadPage, true},
		{"syz-executor.0: page allocation failure: order:10, mode:0x40cc0(GFP_KERNEL|__GFP_COMP), nodemask=(null)", KindAllocFailure, true},
		{"kworker/u4:5 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0", KindOOM, true},
		{"WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected", KindLockdep, true},
		{"[<0>] do_wait+0x114/0x320", KindTaskStack, true},
		{"NMI watchdog: BUG: soft lockup - CPU#1 stuck for 123s! [syz-executor694:3996]", KindSoftLockup, true}, // before 4.14
		{"watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [kworker/0:1:12]", KindSoftLockup, true},
		{"BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 56s!", KindWQLockup, true},
		// the x86 unwinders' complaints are printk lines, not WARN()
		{"WARNING: kernel stack frame pointer at ffff88813fd05fe8 in kworker/1:1:42 has bad value ffff888103513fe8", KindUnknown, false},
		{"WARNING: kernel stack regs at ffffc90003a17d58 in syz-executor.0:5123 has bad 'bp' value 0000000000000001", KindUnknown, false},
		{"WARNING: stack going in the wrong direction? at ret_from_fork+0x1f/0x30", KindUnknown, false},
		{"WARNING: can't access registers at asm_exc_page_fault+0x26/0x30", KindUnknown, false},
		{"WARNING: CPU: 0 PID: 1 at kernel/foo.c:1 foo+0x1/0x2", KindWarning, true},
		// the OOM killer's later lines and a quoted message open nothing
		{"Out of memory: Killed process 9001 (syz-executor.3) total-vm:48420kB", KindUnknown, false},
		{"the page allocation failure: order:1 was expected", KindUnknown, false},
	}
	for _, tt := range tests {
		k, ok := matchStart(tt.text)
		if k != tt.kind || ok != tt.ok {
			t.Errorf("matchStart(%q) = %q, %v; want %q, %v", tt.text, k, ok, tt.kind, tt.ok)
		}
	}
}
