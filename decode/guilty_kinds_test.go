package decode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// TestGuiltyKinds checks the rules by report kind that the real corpus
// shows too rarely or not at all, each on a small report written for it
// (synthetic, in the kernel's formats).
func TestGuiltyKinds(t *testing.T) {
	tests := []struct {
		rule, log, kind, title, guilty string
	}{
		{"page allocation failure: the function that asked, above the allocator", `syz-executor.0: page allocation failure: order:10, mode:0x40cc0(GFP_KERNEL|__GFP_COMP), nodemask=(null),cpuset=/,mems_allowed=0
CPU: 1 PID: 8123 Comm: syz-executor.0 Not tainted 5.10.0 #0
Call Trace:
 dump_stack+0x107/0x163
 warn_alloc.cold+0x87/0x17a
 __alloc_pages_slowpath.constprop.0+0x1e6f/0x2080
 __alloc_pages_nodemask+0x5f0/0x730
 kmalloc_order+0x34/0xf0
 kmalloc_order_trace+0x14/0x130
 hashtab_init+0x4b/0x100
 policydb_read+0x7a1/0x5c20
 security_load_policy+0x1a1/0xf70
Mem-Info:`, "alloc-failure", "page allocation failure in hashtab_init", "hashtab_init+0x4b/0x100"},
		{"OOM kill: the function whose memory cgroup charge ran out, above the OOM killer", `syz-executor.3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=1000
CPU: 0 PID: 9001 Comm: syz-executor.3 Not tainted 5.10.0 #0
Call Trace:
 dump_stack+0x107/0x163
 dump_header+0x106/0x5ad
 oom_kill_process.cold+0x10/0x15
 out_of_memory+0x361/0x1080
 mem_cgroup_out_of_memory+0x13e/0x180
 try_charge+0xd3f/0x11a0
 mem_cgroup_charge+0x163/0x5a0
 __add_to_page_cache_locked+0x2d8/0x8a0
 add_to_page_cache_lru+0x1a4/0x4d0
 filemap_fault+0x15e3/0x2640
Memory cgroup out of memory: Killed process 9001 (syz-executor.3) total-vm:48420kB, anon-rss:1200kB`, "oom", "out of memory in __add_to_page_cache_locked",
			"__add_to_page_cache_locked+0x2d8/0x8a0"},
		{"KCSAN: both racing functions, even helpers", `==================================================================
BUG: KCSAN: data-race in find_next_bit / rcu_report_exp_cpu_mult

write to 0xffffffff85a7f010 of 8 bytes by task 3 on cpu 0:
 rcu_report_exp_cpu_mult+0x4f/0xa0
 rcu_report_exp_rdp+0x6c/0x90

read to 0xffffffff85a7f010 of 8 bytes by task 9 on cpu 1:
 find_next_bit+0x57/0xe0
 sync_rcu_exp_select_node_cpus+0x28e/0x510

Reported by Kernel Concurrency Sanitizer on:
CPU: 1 PID: 9 Comm: kworker/1:1 Not tainted 5.4.0 #0
==================================================================`, "kcsan",
			"BUG: KCSAN: data-race in find_next_bit / rcu_report_exp_cpu_mult", "find_next_bit+0x57/0xe0"},
		// radix_tree_node_alloc takes from the per-CPU preload pool, which
		// its caller must fill with preemption off (idr_preload): the caller
		// of the radix tree (and of idr_alloc) is named
		{"preemption check: a helper's first caller that is not one", `BUG: using smp_processor_id() in preemptible [00000000] code: a/1
caller is radix_tree_node_alloc.constprop.0+0x200/0x330
CPU: 0 PID: 1 Comm: a Not tainted 5.7.0 #0
Call Trace:
 dump_stack+0x188/0x20d
 debug_smp_processor_id.cold+0x88/0x9b
 radix_tree_node_alloc.constprop.0+0x200/0x330
 radix_tree_extend+0x234/0x4a0
 idr_alloc+0xc2/0x130
 __qrtr_bind.isra.0+0x12e/0x5c0`, "bug",
			"BUG: using smp_processor_id() in preemptible in __qrtr_bind.isra.0",
			"__qrtr_bind.isra.0+0x12e/0x5c0"},
		{"preemption check: the caller it prints", `BUG: using __this_cpu_read() in preemptible [00000000] code: a/1
caller is foo_stat_inc+0x20/0x40
CPU: 0 PID: 1 Comm: a Not tainted 5.7.0 #0
Call Trace:
 dump_stack+0x188/0x20d
 check_preemption_disabled+0x10/0x20
 foo_stat_inc+0x20/0x40
 foo_write+0x10/0x20`, "bug",
			"BUG: using __this_cpu_read() in preemptible in foo_stat_inc",
			"foo_stat_inc+0x20/0x40"},
		{"a crash in a helper called from a timer: the helper, not the interrupted task", `general protection fault: 0000 [#1] SMP KASAN
RIP: 0010:__x86_indirect_thunk_rax+0x10/0x20
Call Trace:
 <IRQ>
 call_timer_fn+0x1a5/0x5f0
 run_timer_softirq+0x53d/0xe70
 __do_softirq+0x2d7/0xb85
 irq_exit+0x1cc/0x200
 smp_apic_timer_interrupt+0x16b/0x700
 apic_timer_interrupt+0xf/0x20
 </IRQ>
RIP: 0010:copy_page_range+0xb82/0x20f0
 copy_process+0x3d3e/0x7280
 _do_fork+0x1aa/0xad0`, "gpf", "general protection fault in call_timer_fn", "call_timer_fn+0x1a5/0x5f0"},
		{"scheduling while atomic in entry code: named rather than nothing", `BUG: scheduling while atomic: a/1/0x00000002
CPU: 0 PID: 1 Comm: a Not tainted 6.1.0 #0
Call Trace:
 <TASK>
 dump_stack_lvl+0xcd/0x134
 __schedule_bug.cold+0x8c/0x9c
 __schedule+0x1464/0x4230
 schedule+0xde/0x1b0
 exit_to_user_mode_prepare+0xf5/0x230
 syscall_exit_to_user_mode+0x19/0x50
 do_syscall_64+0x42/0xb0
 entry_SYSCALL_64_after_hwframe+0x63/0xcd
 </TASK>`, "atomic-sleep", "BUG: scheduling while atomic in exit_to_user_mode_prepare",
			"exit_to_user_mode_prepare+0xf5/0x230"},
		{"/proc/PID/stack capture: a report; a task in wait4 waits in do_wait", `[<0>] do_wait+0x114/0x320
[<0>] kernel_wait4+0xaf/0x150
[<0>] __do_sys_wait4+0x89/0xa0
[<0>] do_syscall_64+0x5b/0x80
[<0>] entry_SYSCALL_64_after_hwframe+0x6e/0xd8
$ `, "task-stack", "task stack in do_wait", "do_wait+0x114/0x320"},
		{"/proc/PID/stack capture of a blocked task: what it waits for", `[<0>] folio_wait_bit_common+0x13e/0x350
[<0>] filemap_fault+0x6a2/0xa60
[<0>] __do_fault+0x36/0x130
[<0>] do_fault+0x1ed/0x410
[<0>] exc_page_fault+0x77/0x170
`, "task-stack", "task stack in filemap_fault", "filemap_fault+0x6a2/0xa60"},
		{"stack protector without a table: the address as printed", `Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: ffffffff8343632e
CPU: 0 PID: 26967 Comm: a Not tainted 4.20.0 #172
Call Trace:
Rebooting in 86400 seconds..`, "stack-protector",
			"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in 0xffffffff8343632e",
			"0xffffffff8343632e"},
	}
	tab := emptyTable(t)
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			reps := klog.Parse(tc.log + "\n")
			if len(reps) != 1 {
				t.Fatalf("%d reports, want 1", len(reps))
			}
			s := New(tab, Options{}).Decode(reps[0]).Summary
			if string(s.Kind) != tc.kind || s.Title != tc.title || s.Guilty != tc.guilty {
				t.Errorf("got %s %q guilty %q\nwant %s %q guilty %q", s.Kind, s.Title, s.Guilty, tc.kind, tc.title, tc.guilty)
			}
		})
	}
}

// TestStackProtectorResolved resolves the stack protector's printed return
// address with a table that has the function (synthetic table): the
// kernel's %pB, address-1, so that a return address at the end of the
// function (__stack_chk_fail never returns) names it.
func TestStackProtectorResolved(t *testing.T) {
	tab, err := kallsyms.ParseBytes([]byte("ffffffff81000000 T _text\nffffffff83436000 t ktime_get\nffffffff83436400 t other_fn\n"),
		kallsyms.Options{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ addr, guilty string }{
		{"ffffffff8343632e", "ktime_get+0x32e/0x400"},
		{"ffffffff83436400", "ktime_get+0x400/0x400"}, // the call was the last instruction of ktime_get
	} {
		reps := klog.Parse("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: " + tc.addr + "\n")
		if len(reps) != 1 {
			t.Fatalf("%d reports", len(reps))
		}
		s := New(tab, Options{}).Decode(reps[0]).Summary
		want := "Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in ktime_get"
		if s.Title != want || s.Guilty != tc.guilty {
			t.Errorf("%s: %q guilty %q, want %q guilty %q", tc.addr, s.Title, s.Guilty, want, tc.guilty)
		}
	}
}

// TestTitlesNameFunctionOnce checks every report of the real syzkaller
// corpus: a title never prints an offset and names its guilty function at
// most once (issue 14: "... in rb_first_postorder+0x7c/0xa0 in
// rb_first_postorder").
func TestTitlesNameFunctionOnce(t *testing.T) {
	root := fixture.Path("crashlogs/syzkaller/linux/report")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	tab := emptyTable(t)
	n := 0
	for _, e := range ents {
		data := string(fixture.Read(t, filepath.Join(root, e.Name())))
		_, text, _ := strings.Cut(data, "\n\n")
		for _, r := range klog.Parse(text) {
			s := New(tab, Options{}).Decode(r).Summary
			n++
			if strings.Contains(s.Title, "+0x") {
				t.Errorf("%s: title %q prints an offset", e.Name(), s.Title)
			}
			if f := s.GuiltyFunc; f != "" && strings.Count(s.Title, f) > 1 {
				t.Errorf("%s: title %q names %s twice", e.Name(), s.Title, f)
			}
		}
	}
	if n < 124 {
		t.Errorf("%d reports, want at least 124", n)
	}
}

// TestCorrupted marks the corrupted reports: a real 4.4 SLUB report with
// thousands of printk messages dropped (syzkaller test 132, CORRUPTED: Y),
// and a report line without any stack (synthetic, after syzkaller test 78).
func TestCorrupted(t *testing.T) {
	data := string(fixture.Read(t, fixture.Path("crashlogs/syzkaller/linux/report/132")))
	_, text, _ := strings.Cut(data, "\n\n")
	logs := []struct{ text, want string }{
		{text, "printk messages were dropped inside it"},
		{"[  982.271203] BUG: spinlock bad magic on CPU#0, syz-executor12/24932\n", "it printed no stack"},
		{"[  616.344091] Kernel panic - not syncing: Fatal exception in interrupt\n", ""},
		{"BUG: unable to handle kernel paging request at ffffea0000f0e440\nCall Trace:\n ? kfree+0x10/0x20\n ? tomoyo_path_number_perm+0x1/0x2\n",
			"it printed no reliable kernel frame"},
		{"unreferenced object 0xffff8881 (size 32):\n  backtrace:\n    [<00000000a1b2c3d4>] map_create+0x1/0x2\n", ""},
	}
	tab := emptyTable(t)
	for _, l := range logs {
		reps := klog.Parse(l.text)
		if len(reps) == 0 {
			t.Fatalf("no report in %.60q", l.text)
		}
		s := New(tab, Options{}).Decode(reps[0]).Summary
		if s.Corrupted != l.want {
			t.Errorf("%s report %q: corrupted %q, want %q", s.Kind, s.Title, s.Corrupted, l.want)
		}
	}
}
