package klog

import (
	"reflect"
	"testing"
)

func TestParseFrames(t *testing.T) {
	tests := []struct {
		text string
		want []Frame
	}{
		{" dump_stack+0x194/0x257", []Frame{{Name: "dump_stack", Offset: 0x194, Size: 0x257, HasOffset: true, Reliable: true, Trace: -1}}},
		{" ? arch_local_irq_restore+0x53/0x53", []Frame{{Name: "arch_local_irq_restore", Offset: 0x53, Size: 0x53, HasOffset: true, Trace: -1}}},
		{" direct_entry.cold+0x18/0x24 [lkdtm]", []Frame{{Name: "direct_entry.cold", Offset: 0x18, Size: 0x24, HasOffset: true, Module: "lkdtm", Reliable: true, Trace: -1}}},
		{" foo+0x1/0x2 [mod 0123456789abcdef0123456789abcdef01234567]", []Frame{{Name: "foo", Offset: 1, Size: 2, HasOffset: true, Module: "mod", BuildID: "0123456789abcdef0123456789abcdef01234567", Reliable: true, Trace: -1}}},
		{" __lock_acquire+0x10e5/0x3690 kernel/locking/lockdep.c:3344", []Frame{{Name: "__lock_acquire", Offset: 0x10e5, Size: 0x3690, HasOffset: true, File: "kernel/locking/lockdep.c:3344", Reliable: true, Trace: -1}}},
		{" context_switch kernel/sched/core.c:123 [inline]", []Frame{{Name: "context_switch", File: "kernel/sched/core.c:123", Inline: true, Reliable: true, Trace: -1}}},
		{" __switch_to+0x2b0/0x6e0 (T)", []Frame{{Name: "__switch_to", Offset: 0x2b0, Size: 0x6e0, HasOffset: true, Source: "T", Reliable: true, Trace: -1}}},
		{"RIP: 0010:lkdtm_WARNING+0x13/0x20 [lkdtm]", []Frame{{Kind: FramePC, Name: "lkdtm_WARNING", Offset: 0x13, Size: 0x20, HasOffset: true, Module: "lkdtm", Reliable: true, Trace: -1}}},
		{"RIP: 0033:0x47b7a0", []Frame{{Kind: FramePC, Addr: 0x47b7a0, HasAddr: true, User: true, Reliable: true, Trace: -1}}},
		{"RIP: 0010:0x0", []Frame{{Kind: FramePC, HasAddr: true, Reliable: true, Trace: -1}}},
		{"RIP: 0010:[<ffffffff82d4e304>]  [<ffffffff82d4e304>] __memset+0x24/0x30", []Frame{{Kind: FramePC, Name: "__memset", Offset: 0x24, Size: 0x30, HasOffset: true, Addr: 0xffffffff82d4e304, HasAddr: true, Reliable: true, Trace: -1}}},
		{"pc : clear_page+0x14/0x28", []Frame{{Kind: FramePC, Name: "clear_page", Offset: 0x14, Size: 0x28, HasOffset: true, Reliable: true, Trace: -1}}},
		{"lr : kernel_init_free_pages+0x7c/0x190", []Frame{{Kind: FrameLR, Name: "kernel_init_free_pages", Offset: 0x7c, Size: 0x190, HasOffset: true, Reliable: true, Trace: -1}}},
		{"pc : [<c01751ac>]    lr : [<c025a42c>]    psr: 80000013", []Frame{
			{Kind: FramePC, Addr: 0xc01751ac, HasAddr: true, Reliable: true, Trace: -1},
			{Kind: FrameLR, Addr: 0xc025a42c, HasAddr: true, Reliable: true, Trace: -1}}},
		{" [<ffffffff81234567>] foo+0x1/0x2", []Frame{{Name: "foo", Offset: 1, Size: 2, HasOffset: true, Addr: 0xffffffff81234567, HasAddr: true, Reliable: true, Trace: -1}}},
		{" [<ffffffff81234567>] ? foo+0x1/0x2", []Frame{{Name: "foo", Offset: 1, Size: 2, HasOffset: true, Addr: 0xffffffff81234567, HasAddr: true, Trace: -1}}},
		// a kmemleak backtrace symbolized by syzkaller: the inlined callee repeats the address
		{"    [<ffffffff81531239>] __vmalloc_node mm/vmalloc.c:3261 [inline]", []Frame{{Name: "__vmalloc_node", File: "mm/vmalloc.c:3261", Inline: true, Addr: 0xffffffff81531239, HasAddr: true, Reliable: true, Trace: -1}}},
		{" [<ffffffff81234567>] foo", nil},
		{"    [<000000005ec5fd9f>] kmemleak_alloc+0x193/0x2b8", []Frame{{Name: "kmemleak_alloc", Offset: 0x193, Size: 0x2b8, HasOffset: true, Addr: 0x5ec5fd9f, HasAddr: true, Hashed: true, Reliable: true, Trace: -1}}},
		{"    [<c04fd8b3>] kmemleak_alloc+0x193/0x2b8", []Frame{{Name: "kmemleak_alloc", Offset: 0x193, Size: 0x2b8, HasOffset: true, Addr: 0xc04fd8b3, HasAddr: true, Reliable: true, Trace: -1}}},
		{"    [<ffffffff>] 0xffffffff", []Frame{{Addr: 0xffffffff, HasAddr: true, Reliable: true, Trace: -1}}},
		{" [<ffffffff81234567>]", []Frame{{Addr: 0xffffffff81234567, HasAddr: true, Reliable: true, Trace: -1}}},
		{"[<8011218c>] (unwind_backtrace) from [<8010e300>] (show_stack+0x18/0x1c)", []Frame{{Name: "unwind_backtrace", Addr: 0x8011218c, HasAddr: true, Reliable: true, Trace: -1,
			From: &Frame{Name: "show_stack", Offset: 0x18, Size: 0x1c, HasOffset: true, Addr: 0x8010e300, HasAddr: true, Reliable: true, Trace: -1}}}},
		{"[c00000003ae5b800] [c00000000135c19c] dump_stack+0x128/0x1cc (unreliable)", []Frame{{Name: "dump_stack", Offset: 0x128, Size: 0x1cc, HasOffset: true, Addr: 0xc00000000135c19c, HasAddr: true, Trace: -1}}},
		{"PC is at blk_rq_map_sg+0x70/0x2c0", []Frame{{Kind: FramePC, Name: "blk_rq_map_sg", Offset: 0x70, Size: 0x2c0, HasOffset: true, Reliable: true, Trace: -1}}},
		{"LR is at mmc_queue_map_sg+0x2c/0xa4", []Frame{{Kind: FrameLR, Name: "mmc_queue_map_sg", Offset: 0x2c, Size: 0xa4, HasOffset: true, Reliable: true, Trace: -1}}},
		{" <IRQ>  [<ffffffff816ecb37>] _sched_show_task+0x31a/0x325", []Frame{{Name: "_sched_show_task", Offset: 0x31a, Size: 0x325, HasOffset: true, Addr: 0xffffffff816ecb37, HasAddr: true, Reliable: true, Trace: -1}}},
		{" <EOI>  [<ffffffff82a7a1ab>] ? alloc_netdev_mqs+0x97b/0xc50", []Frame{{Name: "alloc_netdev_mqs", Offset: 0x97b, Size: 0xc50, HasOffset: true, Addr: 0xffffffff82a7a1ab, HasAddr: true, Trace: -1}}},
		{" <IRQ>", nil},
		{"[<0>] do_wait+0x114/0x320", []Frame{{Name: "do_wait", Offset: 0x114, Size: 0x320, HasOffset: true, Reliable: true, Trace: -1}}},
		{"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: ffffffff8343632e", []Frame{{Addr: 0xffffffff8343632e, HasAddr: true, Reliable: true, Trace: -1}}},
		{"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: ktime_get+0x3f2/0x400", []Frame{{Name: "ktime_get", Offset: 0x3f2, Size: 0x400, HasOffset: true, Reliable: true, Trace: -1}}},
		{"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: somewhere", nil},
		// syzbot's symbolizer prints -1 for a line it does not know (a 6.17 report)
		{"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: debug_object_active_state+0x204/0x260 lib/debugobjects.c:-1",
			[]Frame{{Name: "debug_object_active_state", Offset: 0x204, Size: 0x260, HasOffset: true, File: "lib/debugobjects.c:-1", Reliable: true, Trace: -1}}},
		{" debug_object_active_state+0x204/0x260 lib/debugobjects.c:-1", []Frame{{Name: "debug_object_active_state", Offset: 0x204, Size: 0x260, HasOffset: true, File: "lib/debugobjects.c:-1", Reliable: true, Trace: -1}}},
		{" foo+0x1/0x2 lib/foo.c:-2", nil},
		{"--- interrupt: 700 at assert_slb_presence+0x2c/0x70", []Frame{{Kind: FramePC, Name: "assert_slb_presence", Offset: 0x2c, Size: 0x70, HasOffset: true, Reliable: true, Trace: -1}}},
		{"    LR = slb_insert_entry+0x19c/0x2d0", []Frame{{Kind: FrameLR, Name: "slb_insert_entry", Offset: 0x19c, Size: 0x2d0, HasOffset: true, Reliable: true, Trace: -1}}},
		{"NIP [c00000000022d79c] partition_sched_domains_locked+0x1ac/0x5f0 kernel/sched/topology.c:2216", []Frame{{Kind: FramePC, Name: "partition_sched_domains_locked", Offset: 0x1ac, Size: 0x5f0, HasOffset: true, File: "kernel/sched/topology.c:2216", Addr: 0xc00000000022d79c, HasAddr: true, Reliable: true, Trace: -1}}},
		{"epc : schedule_tail+0x72/0xb2", []Frame{{Kind: FramePC, Name: "schedule_tail", Offset: 0x72, Size: 0xb2, HasOffset: true, Reliable: true, Trace: -1}}},
		{" ra : schedule_tail+0x70/0xb2", []Frame{{Kind: FrameLR, Name: "schedule_tail", Offset: 0x70, Size: 0xb2, HasOffset: true, Reliable: true, Trace: -1}}},
		{"[<ffffffe00020383c>] walk_stackframe+0x0/0xaa", []Frame{{Name: "walk_stackframe", Size: 0xaa, HasOffset: true, Addr: 0xffffffe00020383c, HasAddr: true, Reliable: true, Trace: -1}}},
		{" <rust_binder::process::Process>::update_ref+0x1a/0x40", []Frame{{Name: "<rust_binder::process::Process>::update_ref", Offset: 0x1a, Size: 0x40, HasOffset: true, Reliable: true, Trace: -1}}},
		// Not frames.
		{"epc : ffffffe000207654 ra : ffffffe000207654 sp : ffffffe00b777cd0", nil},
		{"BUG: KASAN: use-after-free in foo+0x1/0x2", nil},
		{" #0: ffff888000000000 (&lock){+.+.}-{3:3}, at: foo+0x1/0x2", nil},
		{" foo bar", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got := ParseFrames(tt.text, nil)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFrames(%q)\n got %+v\nwant %+v", tt.text, got, tt.want)
		}
	}
}

func TestParseRegisters(t *testing.T) {
	tests := []struct {
		text string
		want []Register
	}{
		{"RAX: ffffffffc085b630 RBX: 0000000000000008", []Register{{"RAX", 0xffffffffc085b630, "ffffffffc085b630", 3}, {"RBX", 8, "0000000000000008", 3}}},
		{"RSP: 0018:ff6d3dd3011a3c40 EFLAGS: 00000202", []Register{{"RSP", 0xff6d3dd3011a3c40, "0018:ff6d3dd3011a3c40", 3}, {"EFLAGS", 0x202, "00000202", 3}}},
		{"FS:  0000000018f863c0(0000) GS:ff1c156a3c500000(0000) knlGS:0000000000000000", []Register{{"FS", 0x18f863c0, "0000000018f863c0(0000)", 3},
			{"GS", 0xff1c156a3c500000, "ff1c156a3c500000(0000)", 3}, {"knlGS", 0, "0000000000000000", 3}}},
		{"CR2: 0000000000559c5a CR3: 0000000003788000", []Register{{"CR2", 0x559c5a, "0000000000559c5a", 3}, {"CR3", 0x3788000, "0000000003788000", 3}}},
		{"x9 : 0000000000000000 x8 : ffff800001c10000 ", []Register{{"x9", 0, "0000000000000000", 3}, {"x8", 0xffff800001c10000, "ffff800001c10000", 3}}},
		{"pstate: 10000005 (nzcV daif -PAN -UAO -TCO BTYPE=--)", []Register{{"pstate", 0x10000005, "10000005", 3}}},
		{"lkdtm: Performing direct entry WARNING", nil},
	}
	for _, tt := range tests {
		got := parseRegisters(tt.text, 3, nil)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseRegisters(%q)\n got %+v\nwant %+v", tt.text, got, tt.want)
		}
	}
}

// TestMarkerLines parses the old x86 format that prints the first frame of
// a context on its marker's line (real lines of a 4.4 RCU stall report).
func TestMarkerLines(t *testing.T) {
	log := `INFO: rcu_sched self-detected stall on CPU
Call Trace:
 <IRQ>  [<ffffffff816ecb37>] _sched_show_task+0x31a/0x325
 [<ffffffff81011c72>] smp_apic_timer_interrupt_entry_after_kaiser_bti+0x20/0x2e
 <EOI>  [<ffffffff82a7a1ab>] ? alloc_netdev_mqs+0x97b/0xc50
 [<ffffffff8139d8d8>] __kernel_text_address+0x88/0xc0
`
	reps := Parse(log)
	if len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	var got []string
	for _, f := range reps[0].Frames {
		got = append(got, f.Name+"@"+f.Context)
	}
	want := []string{"_sched_show_task@IRQ", "smp_apic_timer_interrupt_entry_after_kaiser_bti@IRQ",
		"alloc_netdev_mqs@", "__kernel_text_address@"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
}
