package decode

import "strings"

// infraRule is one group of the infrastructure list: functions matched by
// exact name, by prefix or by a substring of the name.
type infraRule struct {
	group    string // what the functions do, for tests and docs
	names    []string
	prefixes []string
	contains []string
}

// infraRules is the guilty-frame skip list, by group. A function in it is
// never the guilty frame: the bug is in a caller. docs/decode.md lists the
// same groups.
var infraRules = []infraRule{
	{group: "reporting",
		names: []string{"panic", "nmi_panic", "__warn", "warn_slowpath_fmt", "__warn_printk", "report_bug",
			"handle_bug", "bug_handler", "fixup_bug", "die", "__die", "__die_body", "die_kernel_fault",
			"show_regs", "sched_show_task", "_sched_show_task", "print_report", "print_trailer",
			"check_panic_on_warn", "__schedule_bug", "nmi_cpu_backtrace", "rust_helper_BUG"},
		prefixes: []string{"dump_stack", "dump_backtrace", "show_stack", "show_trace", "oops_", "warn_slowpath",
			"panic_", "handle_bad_stack", "__bad_stack", "printk", "_printk", "__printk", "vprintk",
			"print_address_description", "rcu_dump_", "nmi_trigger_cpumask_backtrace",
			"arch_trigger_cpumask_backtrace", "print_cpu_stall", "print_other_cpu_stall"},
		contains: []string{"rust_begin_unwind", "9panicking"}, // Rust panics, mangled core::panicking::*
	},
	{group: "unwinder",
		names: []string{"walk_stackframe", "arch_stack_walk", "stack_trace_save", "save_stack",
			"depot_save_stack", "stack_depot_save", "stack_depot_save_flags"},
		prefixes: []string{"unwind_"},
	},
	{group: "sanitizer",
		names: []string{"check_memory_region", "memory_is_poisoned", "bad_page", "object_err", "slab_err",
			"check_bytes_and_report", "check_object", "check_slab", "on_freelist", "slab_pad_check",
			"free_debug_processing", "alloc_debug_processing", "free_to_partial_list", "slab_bug", "slab_fix",
			"check_preemption_disabled", "debug_smp_processor_id", "handle_overflow"},
		prefixes: []string{"kasan_", "__kasan_", "____kasan_", "__asan_", "kcsan_", "__kcsan_", "__tsan_",
			"kmsan_", "__msan_", "kfence_", "__kfence_", "ubsan_", "__ubsan_", "__sanitizer_cov_",
			"check_memory_region", "debug_object", "__debug_object", "debug_print_object", "debug_check_no_",
			"should_fail", "__should_fail", "fail_dump", "kmemleak_", "__set_page_owner", "__reset_page_owner",
			"set_page_owner"},
	},
	{group: "lockdep",
		names: []string{"__lock_acquire", "lock_acquire", "lock_release", "lock_acquired", "lock_contended",
			"mark_lock", "validate_chain", "check_noncircular", "check_prev_add", "find_held_lock",
			"lock_is_held_type", "__lock_is_held", "lockdep_rcu_suspicious"},
		prefixes: []string{"lockdep_", "print_usage_bug", "print_circular_bug", "print_unlock_imbalance_bug",
			"print_deadlock_bug", "print_bad_irq_dependency", "print_irq_inversion_bug", "print_lock_",
			"print_held_locks_bug", "print_freed_lock_bug", "rcu_read_lock_", "trace_hardirqs_",
			"lockdep_hardirqs_"},
	},
	{group: "locking",
		names: []string{"up_read", "up_write", "lock_page", "unlock_page", "__lock_page", "folio_lock",
			"folio_unlock", "__folio_lock", "lock_buffer", "__lock_buffer", "unlock_buffer"},
		prefixes: []string{"_raw_", "__raw_spin", "__raw_read_lock", "__raw_write_lock", "do_raw_", "raw_spin_",
			"spin_lock", "spin_unlock", "queued_spin", "native_queued_spin", "queued_read", "queued_write",
			"__mutex_", "mutex_lock", "mutex_unlock", "__down", "down_", "rwsem_", "__rwsem_", "percpu_down_",
			"percpu_up_", "rt_spin_", "rt_mutex", "__rt_mutex", "local_bh_", "__local_bh_", "preempt_count_"},
	},
	{group: "scheduler",
		names: []string{"schedule", "__schedule", "io_schedule", "schedule_preempt_disabled", "context_switch",
			"finish_task_switch", "__switch_to", "__switch_to_asm", "_cond_resched", "__cond_resched"},
		prefixes: []string{"schedule_timeout", "io_schedule_timeout", "preempt_schedule", "__might_",
			"___might_", "wait_for_completion", "__wait_for_common", "wait_for_common", "bit_wait", "__wait_on_bit",
			"out_of_line_wait_on_bit", "wait_on_page_bit", "folio_wait_bit", "prepare_to_wait", "finish_wait"},
	},
	{group: "allocator",
		names: []string{"kfree", "__kfree", "kvfree", "vfree", "krealloc", "__krealloc", "post_alloc_hook",
			"free_large_kmalloc", "get_page_from_freelist", "prep_new_page", "allocate_slab", "new_slab",
			"kmalloc_trace", "__slab_free", "___slab_alloc", "__slab_alloc", "__free_slab", "free_unref_page",
			"__free_pages", "free_pages"},
		prefixes: []string{"kmalloc", "__kmalloc", "kmem_cache_", "__kmem_cache_", "kzalloc", "kcalloc",
			"kvmalloc", "__kvmalloc", "kvzalloc", "krealloc", "__vmalloc", "vmalloc", "vzalloc", "slab_free",
			"slab_alloc", "slab_post_alloc_hook", "slab_pre_alloc_hook", "memcg_slab_", "__alloc_pages",
			"alloc_pages", "__get_free_pages", "kmemdup", "kstrdup"},
	},
	{group: "string",
		names: []string{"memset", "__memset", "memcpy", "__memcpy", "memmove", "__memmove", "memcmp", "__memcmp",
			"memchr", "copyout", "copyin", "_copy_to_user", "_copy_from_user", "copy_user_generic",
			"rep_movs_alternative", "readb", "readw", "readl", "readq", "writeb", "writew", "writel", "writeq",
			"inb", "inw", "inl", "outb", "outw", "outl"},
		prefixes: []string{"copy_user_generic_", "copy_user_enhanced", "__copy_user", "__arch_copy_",
			"raw_copy_", "__memcpy_", "__memset_", "__raw_read", "__raw_write", "logic_in", "logic_out", "ioread",
			"iowrite"},
	},
	{group: "checked helper", // the check fires on the caller's misuse
		names: []string{"refcount_warn_saturate", "usercopy_abort", "__check_object_size", "check_heap_object",
			"__check_heap_object", "check_stack_object", "fortify_panic", "__fortify_report", "__fortify_panic",
			"lock_timer_base", "__mod_timer", "mod_timer", "add_timer", "dput", "fast_dput",
			"mark_buffer_dirty"},
		prefixes: []string{"__refcount_", "refcount_", "kref_", "kobject_", "__kobject_", "__list_add_valid",
			"__list_del_entry_valid"},
	},
	{group: "entry",
		names: []string{"do_syscall_64", "do_syscall_x64", "do_syscall_32_irqs_on", "__do_fast_syscall_32",
			"do_fast_syscall_32", "do_int80_syscall_32", "x64_sys_call", "ia32_sys_call", "do_error_trap",
			"do_trap", "do_int3", "do_invalid_op", "invalid_op", "error_entry", "common_interrupt",
			"asm_common_interrupt", "asm_call_on_stack", "asm_call_irq_on_stack", "do_softirq_own_stack",
			"apic_timer_interrupt", "invoke_syscall", "do_el0_svc", "el0_svc_handler", "do_mem_abort",
			"do_translation_fault", "do_bad_area", "do_tag_check_fault", "do_debug_exception", "brk_handler",
			"call_break_hook", "work_pending", "do_notify_resume", "ret_to_user", "ret_fast_syscall",
			"__irq_svc", "__dabt_svc", "__und_svc", "__pabt_svc", "do_DataAbort", "do_PrefetchAbort",
			"program_check_exception", "program_check_common", "system_call_exception", "system_call_common",
			"handle_exception", "ret_from_exception", "do_user_addr_fault", "handle_page_fault",
			"do_page_fault", "__do_page_fault", "__do_kernel_fault", "page_fault_oops",
			"kernelmode_fixup_or_oops", "no_context", "__bad_area_nosemaphore", "bad_area_nosemaphore",
			"bad_area", "spurious_kernel_fault", "vmalloc_fault", "gic_handle_irq", "__handle_domain_irq",
			"handle_domain_irq", "generic_handle_irq", "handle_percpu_devid_irq", "arch_timer_handler_virt",
			"tick_handle_periodic", "tick_periodic", "tick_sched_handle", "tick_sched_timer",
			"update_process_times", "rcu_sched_clock_irq", "rcu_check_callbacks", "rcu_pending",
			"watchdog_timer_fn", "__hrtimer_run_queues", "hrtimer_interrupt", "local_apic_timer_interrupt"},
		prefixes: []string{"entry_SYSCALL", "entry_SYSENTER", "entry_INT80", "ret_from_fork", "exc_", "asm_exc_",
			"asm_sysvec_", "sysvec_", "__sysvec_", "smp_apic_timer_interrupt", "irq_exit", "__irq_exit",
			"irqentry_", "el0_", "el1_", "el1h_", "el0t_", "do_trap_", "__x86_indirect_thunk_",
			"__x86_return_thunk", "do_el0_", "el0_svc"},
	},
}

// infraNames, infraPrefixes and infraContains index infraRules by how they
// match, each entry giving its group.
var infraNames, infraPrefixes, infraContains = indexInfra()

// indexInfra builds the lookup tables from infraRules.
func indexInfra() (map[string]string, []infraMatch, []infraMatch) {
	names := map[string]string{}
	var prefixes, contains []infraMatch
	for _, r := range infraRules {
		for _, n := range r.names {
			names[n] = r.group
		}
		for _, p := range r.prefixes {
			prefixes = append(prefixes, infraMatch{p, r.group})
		}
		for _, c := range r.contains {
			contains = append(contains, infraMatch{c, r.group})
		}
	}
	return names, prefixes, contains
}

// infraMatch is a prefix or substring and its group.
type infraMatch struct{ text, group string }

// baseName strips the compiler suffixes (".cold", ".isra.0",
// ".constprop.0", ".part.3") from a function name.
func baseName(name string) string {
	if base, _, ok := strings.Cut(name, "."); ok && base != "" {
		return base
	}
	return name
}

// infraGroup returns the infrastructure group of a function, "" when it
// is not infrastructure.
func infraGroup(name string) string {
	name = baseName(name)
	if g, ok := infraNames[name]; ok {
		return g
	}
	for _, p := range infraPrefixes {
		if strings.HasPrefix(name, p.text) {
			return p.group
		}
	}
	for _, c := range infraContains {
		if strings.Contains(name, c.text) {
			return c.group
		}
	}
	return ""
}

// NeverGuilty reports whether a function is never the guilty frame of a
// report because the bug is in one of its callers. The groups:
//
//   - reporting: dump_stack*, panic*, __warn, report_bug, handle_bug, die,
//     oops_*, show_stack, printk*, the sanitizers' and RCU's reporters, the
//     Rust panic path (rust_begin_unwind, core::panicking::*, rust_helper_BUG);
//   - unwinder: unwind_*, walk_stackframe, stack_trace_save, stack depot;
//   - sanitizer: kasan_*, __asan_*, kcsan_*, kmsan_*, kfence_*, ubsan_*,
//     __sanitizer_cov_*, SLUB debug checks, debug objects, fault injection
//     (should_fail*), kmemleak, page owner;
//   - lockdep: __lock_acquire, lock_acquire, lock_release, mark_lock,
//     print_*_bug reporters, lockdep_*;
//   - locking: _raw_*, spin_lock*, queued_spin*, mutex and rwsem locking,
//     down_*, page, folio and buffer locks;
//   - scheduler: schedule*, __schedule, io_schedule*, preempt_schedule*,
//     __might_*, context switch;
//   - allocator: kmalloc*, kmem_cache_*, kfree, kvfree, vmalloc, slab and
//     page allocator internals;
//   - string: mem*, the user copy primitives and the MMIO and port
//     accessors (the caller passed the bad pointer);
//   - checked helper: functions whose check fires on the caller's misuse:
//     refcount_*, kref_*, kobject_*, __list_*_valid, usercopy and fortify
//     checks, timer arming, dput, mark_buffer_dirty;
//   - entry: system call, exception and interrupt entry of x86_64, arm64,
//     arm, powerpc and riscv, page fault handling, the timer interrupt path
//     of watchdog and RCU stall reports.
//
// Compiler suffixes (".cold", ".isra.0", ".constprop.0") are ignored.
func NeverGuilty(name string) bool {
	return infraGroup(name) != ""
}

// allocHelper reports whether a frame of an allocation stack (kmemleak, the
// page owner of a bad page) allocates on behalf of its caller: a function
// whose name says it allocates, the radix tree, IDR and xarray node
// allocation, the percpu allocator, or the page allocator.
func allocHelper(name string) bool {
	name = baseName(name)
	if strings.Contains(strings.ToLower(name), "alloc") || NeverGuilty(name) {
		return true
	}
	for _, p := range []string{"idr_", "ida_", "radix_tree_", "xa_", "xas_", "pcpu_", "rmqueue", "__rmqueue",
		"memdup_user", "vmemdup_user", "strndup_user"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// waitPrimitive reports whether a frame of a blocked task's stack is where
// the task waits rather than what it waits for: infrastructure, any
// function named for waiting, and the RCU and workqueue flushes.
func waitPrimitive(name string) bool {
	name = baseName(name)
	if NeverGuilty(name) || strings.Contains(name, "wait") {
		return true
	}
	for _, p := range []string{"synchronize_rcu", "synchronize_srcu", "__synchronize_srcu", "synchronize_net",
		"synchronize_sched", "rcu_barrier", "flush_work", "__flush_work", "flush_workqueue", "__flush_workqueue",
		"drain_workqueue", "msleep", "usleep_range", "ssleep"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
