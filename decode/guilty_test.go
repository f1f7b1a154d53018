package decode

import (
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/klog"
)

// TestGuiltyRules checks each rule of the guilty frame choice on a small
// report written for it.
func TestGuiltyRules(t *testing.T) {
	tests := []struct {
		rule, log, want string
		frame           bool // the guilty function is a frame (else named by a line)
	}{
		{"KASAN title function", `BUG: KASAN: use-after-free in foo_read+0x10/0x80
Read of size 8 at addr ffff888012345678 by task a/1
Call Trace:
 dump_stack_lvl+0x10/0x20
 print_report+0x10/0x20
 kasan_report+0x10/0x20
 foo_read+0x10/0x80
 vfs_read+0x10/0x20
==================================================================`, "foo_read", true},
		{"KASAN title function is infrastructure: the frame after it", `BUG: KASAN: slab-out-of-bounds in memcpy+0x1/0x2
Call Trace:
 dump_stack+0x10/0x20
 kasan_report+0x10/0x20
 memcpy+0x1/0x2
 bar_copy+0x10/0x80
 vfs_write+0x10/0x20
==================================================================`, "bar_copy", true},
		{"KASAN title function without a frame", `BUG: KASAN: wild-memory-access in sg_read+0xe5c/0x1440
Call Trace:
 dump_stack+0x10/0x20
 kasan_report+0x10/0x20
 check_memory_region+0x10/0x20
==================================================================`, "sg_read", false},
		// Synthetic (the shared corpus has none): a 5.3 KMSAN report whose
		// title line names the caller of the function that used the value.
		{"KMSAN: the first stack, not the title line", `=====================================================
BUG: KMSAN: uninit-value in foo_bind+0x6ad/0x11f0
Call Trace:
 dump_stack+0x191/0x1f0
 kmsan_report+0x13a/0x2b0
 __msan_warning+0x73/0xe0
 foo_hw_reset+0x507/0xb40
 foo_bind+0x6ad/0x11f0
 usbnet_probe+0x10ae/0x3960
=====================================================`, "foo_hw_reset", true},
		// Synthetic (the shared corpus has none): syzbot's symbolized
		// "caller is" lines, one per inlined callee, naming a lock's slow path.
		{"caller is: the inline chain's last line; a lock primitive's user", `BUG: using smp_processor_id() in preemptible [00000000] code: a/3
caller is pv_init_node kernel/locking/qspinlock_paravirt.h:284 [inline]
caller is __pv_queued_spin_lock_slowpath+0x192/0xc60 kernel/locking/qspinlock.c:439
CPU: 1 PID: 3 Comm: a Not tainted 6.8.0 #0
Call Trace:
 <TASK>
 dump_stack_lvl+0x1e7/0x2e0
 check_preemption_disabled+0x10e/0x120
 pv_init_node kernel/locking/qspinlock_paravirt.h:284 [inline]
 __pv_queued_spin_lock_slowpath+0x192/0xc60
 queued_spin_lock_slowpath+0x42/0x50
 foo_release_workfn+0x6e0/0x840
 kthread+0x2f0/0x390
 </TASK>`, "foo_release_workfn", true},
		{"WARNING at an infrastructure function", `WARNING: CPU: 0 PID: 1 at lib/debugobjects.c:505 debug_print_object+0x188/0x268
Call trace:
 debug_print_object+0x188/0x268
 debug_check_no_obj_freed+0x200/0x438
 kfree+0x12c/0x4b8
 kvfree+0x60/0x78
 netdev_freemem+0x4c/0x68
 netdev_release+0x84/0xb0
---[ end trace 0000000000000000 ]---`, "netdev_freemem", true},
		{"inline annotations are not symbols", `Unable to handle kernel paging request at virtual address dead000000000110
Internal error: Oops: 96000006 [#1] PREEMPT SMP
pc : __do_kernel_fault+0x158/0x1c0
Call trace:
 __do_kernel_fault+0x158/0x1c0
 do_mem_abort+0x44/0x94
 el1h_64_sync+0x64/0x68
 nfc_llcp_find_local net/nfc/llcp_core.c:286 [inline]
 nfc_llcp_unregister_device+0x34/0x10c net/nfc/llcp_core.c:1611
 nfc_unregister_device+0x74/0xb0
---[ end trace 0000000000000000 ]---`, "nfc_llcp_unregister_device", true},
		{"lockdep: the function that takes the lock", `======================================================
WARNING: possible circular locking dependency detected
------------------------------------------------------
a/1 is trying to acquire lock:
ffff888106a71958 (&q->elevator_lock){+.+.}-{4:4}, at: foo_update+0x49a/0x1a10
but task is already holding lock:
ffff888106a71428 (&q->lock){++++}-{0:0}, at: bar_start+0x16c/0xac0
stack backtrace:
Call Trace:
 dump_stack_lvl+0x189/0x250
 print_circular_bug+0x2ee/0x310
 __lock_acquire+0xaac/0xd20
 lock_acquire+0x120/0x360
 __mutex_lock+0x182/0xe80
 foo_update+0x49a/0x1a10
 bar_start+0x16c/0xac0`, "foo_update", false},
		{"lockdep: the stack after stack backtrace", `=====================================
WARNING: bad unlock balance detected!
-------------------------------------
a/1 is trying to release lock (&mm->mmap_lock) at:
[<ffffa00010726344>] __might_fault+0x154/0x1b0
but there are no more locks to release!
stack backtrace:
Call trace:
 dump_backtrace+0x0/0x4d0
 dump_stack+0x1b0/0x254
 print_unlock_imbalance_bug+0x170/0x188
 lock_release+0x69c/0xa68
 __might_fault+0x170/0x1b0
 restore_fpsimd_context+0x418/0x798
 __arm64_sys_rt_sigreturn+0x15d0/0x1990`, "restore_fpsimd_context", true},
		// Synthetic (the shared corpus has none): the shape of 6.0's
		// inconsistent-lock-state report where a timer's wake-up takes the
		// woken task's pi_lock, and of a nested-lock report where the lock
		// was taken by atomic_dec_and_lock for iput.
		{"lockdep: a task wake-up takes the scheduler's own lock", `================================
WARNING: inconsistent lock state
--------------------------------
inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage.
swapper/1/0 [HC0[0]:SC1[1]:HE0:SE0] takes:
ffff00011a938948 (&p->pi_lock){+.?.}-{2:2}, at: try_to_wake_up+0x5c/0x514
stack backtrace:
Call trace:
 dump_stack+0x1c/0x58
 print_usage_bug+0x39c/0x3cc
 mark_lock+0x154/0x1b4
 __lock_acquire+0x5a0/0x30a4
 lock_acquire+0x100/0x1f8
 _raw_spin_lock_irqsave+0x6c/0xb4
 try_to_wake_up+0x5c/0x514
 wake_up_process+0x18/0x24
 foo_timeout+0x20/0x30
 call_timer_fn+0x90/0x144`, "try_to_wake_up", false},
		{"lockdep: atomic_dec_and_lock takes its caller's lock", `==================================
WARNING: Nested lock was not taken
----------------------------------
a/1 is trying to lock:
ffff88803c86db70 (&sb->s_type->i_lock_key#36){+.+.}-{2:2}, at: _atomic_dec_and_lock+0x9d/0x110
but this task is not holding:
stack backtrace:
Call Trace:
 dump_stack_lvl+0x10/0x20
 __lock_acquire+0x1112/0x1f60
 lock_acquire+0x182/0x3c0
 _raw_spin_lock+0x2a/0x40
 _atomic_dec_and_lock+0x9d/0x110
 iput+0x85/0x760
 foo_fill_super+0x3af3/0x42a0
 get_tree_bdev+0x400/0x620`, "foo_fill_super", true},
		// Synthetic (the shared corpus has none): the shape of a 6.x circular
		// dependency where the caller flushes a work item under its own lock,
		// and of a 3.x report cut after its only "at:" line.
		{"lockdep: a flush waits for the work for its caller: the holder's at:", `======================================================
WARNING: possible circular locking dependency detected
------------------------------------------------------
a/1 is trying to acquire lock:
ffff88807b0d9f00 ((work_completion)(&hdev->power_on)){+.+.}-{0:0}, at: __flush_work+0xfa/0xa10
but task is already holding lock:
ffff88807b0d8ff0 (&hdev->req_lock){+.+.}-{3:3}, at: foo_dev_close+0x44/0x230
stack backtrace:
Call Trace:
 dump_stack_lvl+0x10/0x20
 check_noncircular+0x10/0x20
 __lock_acquire+0x10/0x20
 lock_acquire+0x10/0x20
 __flush_work+0xfa/0xa10
 foo_dev_close+0x44/0x230`, "foo_dev_close", false},
		{"lockdep: an allocation takes fs_reclaim for its caller: the holder's at:", `======================================================
WARNING: possible circular locking dependency detected
------------------------------------------------------
a/1 is trying to acquire lock:
ffffffff8e429e80 (fs_reclaim){+.+.}-{0:0}, at: kmalloc_trace_noprof+0x3d/0x2b0
but task is already holding lock:
ffff888011c298a8 (&foo_dquot_class){+.+.}-{3:3}, at: foo_flush_one+0xd9/0x430
stack backtrace:
Call Trace:
 dump_stack_lvl+0x10/0x20
 __lock_acquire+0x10/0x20
 lock_acquire+0x10/0x20
 fs_reclaim_acquire+0x10/0x20
 kmalloc_trace_noprof+0x3d/0x2b0
 foo_flush_one+0xd9/0x430`, "foo_flush_one", false},
		{"lockdep: only a flush's at: left", `[ INFO: possible circular locking dependency detected ]
a/1 is trying to acquire lock:
 (kacpid){+.+.+.}, at: [<ffffffff8105bbd0>] flush_workqueue+0x0/0xb0`, "flush_workqueue", false},
		// Synthetic (the shared corpus has none): 6.x hangs in a lock wrapper
		// and in rtnl_lock.
		{"hung task: a lock wrapper waits for its caller", `INFO: task a:1 blocked for more than 143 seconds.
Call Trace:
 <TASK>
 __schedule+0x10/0x20
 schedule+0x10/0x20
 schedule_timeout+0x10/0x20
 ___down_common+0x10/0x20
 __down_common+0x10/0x20
 down+0x57/0x80
 console_lock+0x25/0x80
 foo_open+0x10/0x20
 chrdev_open+0x10/0x20
 </TASK>`, "foo_open", true},
		{"hung task: rtnl_lock is its own bucket", `INFO: task a:1 blocked for more than 143 seconds.
Call Trace:
 <TASK>
 __schedule+0x10/0x20
 schedule+0x10/0x20
 schedule_preempt_disabled+0x10/0x20
 __mutex_lock+0x10/0x20
 rtnl_lock+0x17/0x20
 foo_unregister+0x10/0x20
 </TASK>`, "rtnl_lock", true},
		{"hung task: waits and same-named helpers", `INFO: task a:1 blocked for more than 143 seconds.
task:a               state:D stack:0     pid:1     ppid:0     flags:0x00000000
Call trace:
 __switch_to+0x2b0/0x6e0
 __schedule+0x1b74/0x2d24
 schedule+0xa4/0x140
 io_schedule+0x1c/0xe0
 folio_wait_bit_common+0x674/0x9ec
 do_read_cache_folio+0x240/0x5b8
 read_cache_folio+0x68/0x84
 read_part_sector+0xcc/0x6e8`, "read_cache_folio", true},
		// Synthetic (the shared corpus has no hang in a grace-period wait):
		// the shape of a 5.x netns cleanup blocked in synchronize_net.
		{"hung task: an RCU grace-period wait names the hang", `INFO: task kworker/u4:5:9381 blocked for more than 143 seconds.
Call Trace:
 __schedule+0x94f/0x1e70
 schedule+0xd9/0x260
 synchronize_rcu_expedited+0x57f/0x5f0
 synchronize_net+0x3b/0x60
 rollback_registered_many+0xb2c/0xfc0
 unregister_netdevice_many+0x3b/0x50`, "synchronize_rcu_expedited", true},
		{"hung task: rcu_barrier is not a grace-period wait", `INFO: task kworker/u4:5:9381 blocked for more than 143 seconds.
Call Trace:
 __schedule+0x94f/0x1e70
 schedule+0xd9/0x260
 schedule_timeout+0x1d8/0x250
 wait_for_completion+0x15e/0x250
 rcu_barrier+0x2f2/0x5c0
 netdev_run_todo+0x3a1/0xb40`, "netdev_run_todo", true},
		// Synthetic (the shared corpus has no workqueue lockup), in the format
		// of kernel/workqueue.c's show_one_workqueue: the stuck pool's work in
		// flight, not another pool's, nor the stacks printed after.
		{"workqueue lockup: the stuck pool's work in flight", `BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 56s!
Showing busy workqueues and worker pools:
workqueue events: flags=0x0
  pwq 2: cpus=0 node=0 flags=0x0 nice=0 active=2 refcnt=3
    in-flight: 9:other_work_fn for 3s
  pwq 3: cpus=1 node=0 flags=0x0 nice=-20 active=1 refcnt=2
    in-flight: 12:highpri_work_fn for 50s
  pwq 4: cpus=1 node=0 flags=0x0 nice=0 active=20 refcnt=21
    in-flight: 1074:stuck_work_fn for 58s stuck_work_fn ,1075:stuck_work_fn for 57s
    pending: vmstat_update
Call Trace:
 __schedule+0x94f/0x1e70
 schedule+0xd9/0x260
 irq_work_queue+0xa0/0xa4`, "stuck_work_fn", false},
		// Synthetic, as 6.5+ kernels print it: the busy worker of the stalled
		// pool names the work, before any list of work in flight.
		{"workqueue lockup: the stalled pool's busy worker", `BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 168s!
Showing busy workqueues and worker pools:
workqueue events_power_efficient: flags=0x180
  pwq 2: cpus=0 node=0 flags=0x0 nice=0 active=6 refcnt=7
    in-flight: 5630:sleeping_work_fn for 168s
pool 2: cpus=0 node=0 flags=0x0 nice=0 hung=169s workers=8 idle: 9 187 5727
Showing backtraces of busy workers in stalled worker pools:
pool 2:
task:kworker/0:1     state:R  running task     stack:23976 pid:10    tgid:10    ppid:2
Workqueue: wg-kex-wg0 hogging_work_fn
Call Trace:
 <TASK>
 __schedule+0x17d9/0x56c0
 preempt_schedule_common+0x82/0xd0`, "hogging_work_fn", false},
		// Synthetic, as syzbot's symbolized reports print it: an "at:" the
		// symbolizer expanded into its inlined callees names the function at
		// the address, the chain's last line.
		{"lockdep: the end of an at: line's inline chain", `============================================
WARNING: possible recursive locking detected
--------------------------------------------
kworker/u8:11/20346 is trying to acquire lock:
ffffe8ffffd55fd8 (&pd_list->lock){+...}-{3:3}, at: spin_lock include/linux/spinlock.h:351 [inline]
ffffe8ffffd55fd8 (&pd_list->lock){+...}-{3:3}, at: padata_find_next kernel/padata.c:256 [inline]
ffffe8ffffd55fd8 (&pd_list->lock){+...}-{3:3}, at: padata_do_serial+0x73e/0xb80 kernel/padata.c:379

but task is already holding lock:
ffffe8ffffd5f4d8 (&pd_list->lock){+...}-{3:3}, at: spin_lock include/linux/spinlock.h:351 [inline]
ffffe8ffffd5f4d8 (&pd_list->lock){+...}-{3:3}, at: padata_do_serial+0x5b5/0xb80 kernel/padata.c:379`, "padata_do_serial", false},
		// Synthetic, the shape of riscv's fault path sleeping with IRQs off:
		// nothing but infrastructure, so the fault handler that took the lock.
		{"sleep in atomic: the fault handler, not the lock it took", `BUG: sleeping function called from invalid context at kernel/locking/rwsem.c:1352
in_atomic(): 0, irqs_disabled(): 1, non_block: 0, pid: 6832, name: syz-executor.1
Call Trace:
[<ffffffe00008456c>] ___might_sleep+0x21c/0x2c0 kernel/sched/core.c:8317
[<ffffffe00008466a>] __might_sleep+0x5a/0x8a kernel/sched/core.c:8282
[<ffffffe002a996ec>] down_read+0x2e/0x1a4 kernel/locking/rwsem.c:1352
[<ffffffe00000fef8>] mmap_read_lock include/linux/mmap_lock.h:117 [inline]
[<ffffffe00000fef8>] do_page_fault+0x1e6/0x95e arch/riscv/mm/fault.c:263
[<ffffffe000005570>] ret_from_exception+0x0/0x14`, "do_page_fault", true},
		{"RCU stall: the function a dispatcher called", `rcu: INFO: rcu_preempt self-detected stall on CPU
Call Trace:
 <IRQ>
 dump_stack+0x111/0x171
 rcu_dump_cpu_stacks+0x1e8/0x226
 rcu_sched_clock_irq+0x48f/0x95b
 update_process_times+0x141/0x1c0
 __hrtimer_run_queues+0x204/0xec0
 hrtimer_interrupt+0x30d/0x900
 asm_sysvec_apic_timer_interrupt+0x12/0x20
 </IRQ>
 <TASK>
 copy_page_to_iter+0x41b/0xee0
 filemap_read+0x61e/0xe40
 ext4_file_read_iter+0x1d4/0x5d0
 vfs_read+0x35c/0x570
 ksys_read+0x12d/0x250
 do_syscall_64+0x2d/0x70
 </TASK>`, "ext4_file_read_iter", true},
		{"kmemleak: the first function that does not allocate", `unreferenced object 0xffff8881 (size 64):
  comm "a", pid 1, jiffies 4294
  backtrace:
    [<000000005cb5aa0e>] kmem_cache_alloc+0x1d3/0x3f0
    [<0000000063949181>] radix_tree_node_alloc.constprop.16+0x1b4/0x330
    [<0000000039ade84e>] idr_get_free+0x88d/0xe40
    [<0000000085e044c9>] __kernfs_new_node+0x1cd/0x8f0
    [<000000009a4a314c>] kernfs_new_node+0x95/0x120`, "__kernfs_new_node", true},
		{"sleep in atomic: the stack, not the preemption annotation", `BUG: sleeping function called from invalid context at kernel/printk/printk.c:2525
Preemption disabled at:
[<ffffffff812b2934>] kernel_fpu_begin_mask+0x64/0x260
CPU: 0 PID: 1 Comm: a Not tainted 5.15.0 #0
Call Trace:
 dump_stack_lvl+0xcd/0x134
 __might_resched.cold+0x222/0x26b
 console_lock+0x17/0x80
 do_con_write+0x10f/0x1e40`, "console_lock", true},
		{"no PC, no stack: the link register", `Internal error: Oops - SP/PC alignment exception: 8a000000 [#1] PREEMPT SMP
CPU: 6 PID: 1942 Comm: a Not tainted 4.9.232 #1
pc : [<ffffffffdeadbeef>] lr : [<ffffff90080ed944>] pstate: 60400145
PC is at 0xffffffffdeadbeef
LR is at SyS_darby+0x34/0x48`, "SyS_darby", true},
	}
	tab := emptyTable(t)
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			reps := klog.Parse(tc.log + "\n")
			if len(reps) == 0 {
				t.Fatal("no report")
			}
			s := New(tab, Options{}).Decode(reps[0]).Summary
			if s.GuiltyFunc != tc.want || (s.GuiltyIndex >= 0) != tc.frame {
				t.Errorf("%s report: guilty %q (index %d), want %q (frame %v)", reps[0].Kind, s.GuiltyFunc, s.GuiltyIndex, tc.want, tc.frame)
			}
			if !strings.Contains(s.Title, " in "+tc.want) {
				t.Errorf("title %q does not name %s", s.Title, tc.want)
			}
		})
	}
}

func TestInfraGroup(t *testing.T) {
	tests := []struct{ name, group string }{
		{"dump_stack_lvl", "reporting"}, {"panic", "reporting"}, {"rust_helper_BUG", "reporting"},
		{"pv_native_safe_halt", "idle"}, {"cpuidle_enter_state", "idle"}, {"assign_lock_key", "lockdep"},
		{"perf_trace_lock", "tracing"}, {"___kmalloc_large_node", "allocator"}, {"drop_nlink", "checked helper"},
		{"unregister_netdevice_many", "device"}, {"__try_to_del_timer_sync", "work"},
		{"_RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt", "reporting"}, {"unwind_next_frame", "unwinder"},
		{"__asan_load8", "sanitizer"}, {"kasan_check_read", "sanitizer"}, {"should_failslab", "sanitizer"},
		{"print_usage_bug.part.0", "lockdep"}, {"lock_release", "lockdep"}, {"_raw_spin_lock_irqsave", "locking"},
		{"folio_unlock", "locking"}, {"schedule_timeout", "scheduler"}, {"wait_for_completion_timeout", "scheduler"},
		{"kvfree", "allocator"}, {"slab_free_freelist_hook", "allocator"}, {"__memset", "string"},
		{"__raw_readb", "string"}, {"refcount_warn_saturate", "atomic"}, {"__kobject_del", "device"},
		{"strnstr", "string"}, {"memset_erms", "string"}, {"__list_del_entry", "list"}, {"klist_next", "list"},
		{"rb_first_postorder", "list"}, {"process_one_work", "work"}, {"__flush_work", "work"},
		{"call_timer_fn", "work"}, {"rcu_is_watching", "work"}, {"device_add", "device"},
		{"get_device_parent.isra.27", "device"}, {"kfree_skbmem", "skb"}, {"skb_panic", "skb"},
		{"kfree_skb", "skb"}, {"warn_alloc", "allocator"}, {"register_lock_class", "lockdep"},
		{"osq_lock", "locking"}, {"down", "locking"}, {"call_rwsem_down_read_failed", "locking"},
		{"mutex_remove_waiter", "locking"}, {"release_sock", "locking"}, {"__hwasan_check_x0_67043363", "sanitizer"},
		{"__this_cpu_preempt_check", "sanitizer"}, {"timer_is_static_object", "sanitizer"},
		{"work_fixup_activate", "sanitizer"}, {"spin_dump", "reporting"}, {"usb_submit_urb", "transport"},
		{"usb_kill_anchored_urbs", "transport"}, {"retint_kernel", "entry"}, {"_stext", "label"},
		{"atomic_dec_and_test", "atomic"}, {"find_next_bit", "atomic"},
		{"usb_probe_interface", ""}, {"rtnl_lock", ""}, {"strp_work", ""}, {"rb_alloc_aux", ""},
		{"fast_dput", "checked helper"}, {"el1h_64_sync_handler", "entry"}, {"asm_exc_page_fault", "entry"},
		{"__irq_svc", "entry"}, {"__do_pgm_check", "entry"}, {"assertfail.constprop.0", "reporting"}, {"warn_bogus_irq_restore", "lockdep"},
		{"__wake_up_common", "scheduler"}, {"_atomic_dec_and_lock", "locking"}, {"cpus_read_lock", "locking"}, {"find_lock_entries", "checked helper"}, {"__filemap_get_folio", "allocator"}, {"proc_register", "device"}, {"proc_create_data", "device"}, {"vpanic", "reporting"}, {"destroy_workqueue", "work"}, {"seq_printf", "string"}, {"__call_rcu_common.constprop.0", "work"}, {"ret_from_intr", "entry"}, {"cdev_device_del", "device"}, {"__atomic_notifier_call_chain", ""}, {"__atomic_add_unless", "atomic"}, {"local_lock_acquire", "locking"}, {"pv_init_node", "locking"}, {"prepare_alloc_pages", "allocator"}, {"____do_softirq", "entry"}, {"call_on_irq_stack", "entry"}, {"fs_reclaim_acquire", "allocator"}, {"hex_dump_to_buffer", "string"}, {"__read_once_word_nocheck", "string"}, {"rhashtable_lookup_fast", "list"}, {"try_charge", "allocator"}, {"oom_kill_process", "allocator"},
		{"lkdtm_EXCEPTION", ""}, {"vfs_write", ""}, {"__x64_sys_rmdir", ""},
		{"console_lock", ""}, {"panicking", ""}, {"do_one_initcall", ""},
	}
	for _, tc := range tests {
		if got := infraGroup(tc.name); got != tc.group {
			t.Errorf("infraGroup(%q) = %q, want %q", tc.name, got, tc.group)
		}
	}
}

func TestAllocAndWaitHelpers(t *testing.T) {
	tests := []struct {
		name        string
		alloc, wait bool
	}{
		{"sock_kmalloc", true, false}, {"pcpu_create_chunk", true, false}, {"idr_get_free", true, true},
		{"kthread_stop", true, true}, {"del_timer_sync", true, true}, {"set_current_rng", false, false},
		{"do_ipv6_setsockopt", false, false}, {"out_of_line_wait_on_bit", true, true},
		{"rcu_barrier", true, true}, {"jbd2_journal_commit_transaction", false, false},
	}
	for _, tc := range tests {
		if got := allocHelper(tc.name); got != tc.alloc {
			t.Errorf("allocHelper(%q) = %v", tc.name, got)
		}
		if got := waitPrimitive(tc.name); got != tc.wait {
			t.Errorf("waitPrimitive(%q) = %v", tc.name, got)
		}
	}
}
