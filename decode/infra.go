package decode

import (
	"strings"
	"sync"
)

// infraClass is one class of infrastructure: functions that are never the
// guilty frame because the bug is in a caller, with the kernel reason.
// Functions are matched by exact name, prefix, suffix or substring, after
// the compiler suffixes are dropped (baseName).
type infraClass struct {
	group    string // the class, for tests and docs
	reason   string // why a function of the class is never guilty
	names    []string
	prefixes []string
	suffixes []string
	contains []string
}

// infraClasses is the guilty-frame skip list, by class. docs/decode.md
// lists the same classes and reasons. Classes are matched in order (a name
// of an earlier class wins), so kfree_skb is an skb helper, not a kfree.
var infraClasses = []infraClass{
	{group: "reporting",
		reason: "prints the report, dies or panics after the bug was detected elsewhere",
		names: []string{"panic", "vpanic", "nmi_panic", "__warn", "warn_slowpath_fmt", "__warn_printk", "report_bug",
			"handle_bug", "bug_handler", "fixup_bug", "die", "__die", "__die_body", "die_kernel_fault",
			"show_regs", "sched_show_task", "_sched_show_task", "dump_cpu_task", "print_report", "print_trailer",
			"check_panic_on_warn", "__schedule_bug", "nmi_cpu_backtrace", "rust_helper_BUG", "spin_dump", "spin_bug",
			"print_address_description", "sysfs_warn_dup", "__panic", "panic_saved_regs"},
		// a file system's assertion reporter (btrfs assertfail, btrfs_assertfail) prints and BUG()s for its caller
		suffixes: []string{"assertfail"},
		prefixes: []string{"dump_stack", "dump_backtrace", "show_stack", "show_trace", "oops_", "warn_slowpath",
			"panic_", "handle_bad_stack", "__bad_stack", "printk", "_printk", "__printk", "vprintk",
			"print_address_description", "rcu_dump_", "nmi_trigger_cpumask_backtrace",
			"arch_trigger_cpumask_backtrace", "print_cpu_stall", "print_other_cpu_stall", "check_cpu_stall",
			"console_unlock", "console_flush", "__bug_table",
			// a driver's printk (dev_err, dev_warn) and ref_tracker's report of leaked references
			"dev_printk", "dev_vprintk", "__dev_printk", "_dev_printk", "_dev_err", "_dev_warn", "_dev_info",
			"_dev_notice", "ref_tracker_"},
		contains: []string{"rust_begin_unwind", "9panicking"}, // Rust panics, mangled core::panicking::*
	},
	{group: "unwinder",
		reason: "walks the stack to print or record it",
		names: []string{"walk_stackframe", "arch_stack_walk", "stack_trace_save", "save_stack", "save_trace",
			"depot_save_stack", "stack_depot_save", "stack_depot_save_flags", "print_context_stack", "dump_trace",
			"__kernel_text_address", "kernel_text_address", "is_bpf_text_address", "is_ftrace_trampoline"},
		prefixes: []string{"unwind_", "save_stack_trace", "__save_stack_trace", "stack_trace_"},
	},
	{group: "sanitizer",
		reason: "a sanitizer runtime (KASAN, KMSAN, KCSAN, KFENCE, HWASan, UBSAN), KCOV, a SLUB, " +
			"debug-objects or preemption check, fault injection, kmemleak or page owner: it runs inside the " +
			"access or call it checks",
		names: []string{"check_memory_region", "memory_is_poisoned", "bad_page", "object_err", "slab_err",
			"check_bytes_and_report", "check_object", "check_slab", "on_freelist", "slab_pad_check",
			"free_debug_processing", "alloc_debug_processing", "free_to_partial_list", "slab_bug", "slab_fix",
			"check_preemption_disabled", "debug_smp_processor_id", "__this_cpu_preempt_check", "handle_overflow",
			"create_object"},
		prefixes: []string{"kasan_", "__kasan_", "____kasan_", "__asan_", "kcsan_", "__kcsan_", "__tsan_",
			"kmsan_", "__msan_", "msan_", "kfence_", "__kfence_", "hwasan_", "__hwasan_", "ubsan_", "__ubsan_",
			"__sanitizer_cov_", "check_memory_region", "debug_object", "__debug_object", "debug_print_object",
			"debug_check_no_", "should_fail", "__should_fail", "fail_dump", "kmemleak_", "__set_page_owner",
			"__reset_page_owner", "set_page_owner"},
		// the debug-objects callbacks of an object type (timer_is_static_object, work_fixup_activate)
		suffixes: []string{"_is_static_object"},
		contains: []string{"_fixup_init", "_fixup_activate", "_fixup_free", "_fixup_assert_init"},
	},
	{group: "lockdep",
		reason: "the lock validator: it checks the lock operation of its caller",
		names: []string{"__lock_acquire", "lock_acquire", "lock_release", "lock_acquired", "lock_contended",
			"mark_lock", "mark_held_locks", "validate_chain", "check_noncircular", "check_prev_add",
			"find_held_lock", "lock_is_held_type", "__lock_is_held", "lockdep_rcu_suspicious",
			"register_lock_class", "look_up_lock_class", "assign_lock_key", "reacquire_held_locks", "lock_downgrade",
			"print_lock",
			"__lock_release", "hlock_class", "check_irq_usage", "valid_state", "mark_lock_irq", "lookup_chain_cache",
			"add_chain_cache", "check_deadlock", "check_prevs_add",
			"warn_bogus_irq_restore"}, // CONFIG_DEBUG_IRQFLAGS: raw_local_irq_restore called with IRQs enabled
		prefixes: []string{"lockdep_", "__lockdep_", "print_usage_bug", "print_circular_bug",
			"print_unlock_imbalance_bug", "print_deadlock_bug", "print_bad_irq_dependency", "print_irq_inversion_bug",
			"print_lock_", "print_held_locks_bug", "print_freed_lock_bug", "rcu_read_lock_", "trace_hardirqs_",
			"lockdep_hardirqs_", "debug_lockdep_", "debug_locks_", "debug_mutex_", "debug_rt_mutex_", "debug_spin_",
			"__seqprop_assert", "seqprop_assert"}, // seqcount_LOCKNAME_t's lockdep assertion of its lock
	},
	{group: "locking",
		reason: "takes or releases a lock for its caller: a bad lock, a lock in freed memory or a deadlock " +
			"is the caller's",
		names: []string{"down", "up", "osq_lock", "osq_unlock", "lock_page", "unlock_page", "__lock_page",
			"folio_lock", "folio_unlock", "__folio_lock", "lock_buffer", "__lock_buffer", "unlock_buffer",
			"lock_sock_nested", "lock_sock", "__lock_sock", "release_sock", "__release_sock",
			// drop a count and take the caller's lock when it reaches zero
			"_atomic_dec_and_lock", "_atomic_dec_and_lock_irqsave", "_atomic_dec_and_raw_lock",
			"_atomic_dec_and_raw_lock_irqsave", "atomic_dec_and_mutex_lock", "refcount_dec_and_lock",
			"refcount_dec_and_lock_irqsave", "refcount_dec_and_mutex_lock", "refcount_dec_and_rtnl_lock",
			// the CPU hotplug lock, a percpu rwsem taken for the caller
			"cpus_read_lock", "cpus_read_trylock", "cpus_read_unlock", "cpus_write_lock", "cpus_write_unlock",
			"get_online_cpus", "put_online_cpus"},
		prefixes: []string{"_raw_", "__raw_spin", "__raw_read_lock", "__raw_write_lock", "do_raw_", "raw_spin_",
			"spin_", "__spin_", "queued_", "native_queued_", "__pv_queued_", "mutex_", "__mutex_", "ww_mutex_", "___down",
			"__ww_mutex_", "__down", "down_", "up_", "rwsem_", "__rwsem_", "call_rwsem_", "osq_", "percpu_down_", "ldsem_",
			"percpu_up_", "percpu_rwsem_", "rt_spin_", "rt_mutex", "__rt_mutex", "bit_spin_", "local_bh_",
			"local_lock", "__local_lock", // local_lock_t, a per-CPU lock
			// the paravirt queued spinlock's slow path (qspinlock_paravirt.h)
			"pv_init_node", "pv_wait_node", "pv_kick_node", "pv_wait_head", "pv_hash", "pv_unhash", "pv_wait",
			"pv_kick",
			"__local_bh_", "preempt_count_"},
	},
	{group: "scheduler",
		reason: "schedules, sleeps or checks that its caller may sleep",
		names: []string{"schedule", "__schedule", "io_schedule", "schedule_preempt_disabled", "context_switch",
			"finish_task_switch", "__switch_to", "__switch_to_asm", "_cond_resched", "__cond_resched"},
		prefixes: []string{"schedule_timeout", "io_schedule_timeout", "preempt_schedule", "___preempt_schedule",
			"__might_", "___might_", "wait_for_completion", "__wait_for_common", "wait_for_common", "bit_wait",
			"__wait_on_bit", "out_of_line_wait_on_bit", "wait_on_page_bit", "folio_wait_bit", "prepare_to_wait",
			"finish_wait",
			// wake-ups walk the caller's wait queue or wake the caller's task
			"__wake_up", "wake_up_", "try_to_wake_up", "autoremove_wake_function", "default_wake_function"},
	},
	{group: "skb",
		reason: "a socket buffer helper: it works on a buffer the protocol built and passed " +
			"(skb_over_panic, a freed skb)",
		names: []string{"kfree_skbmem", "consume_skb", "build_skb", "__build_skb"},
		prefixes: []string{"skb_", "__skb_", "kfree_skb", "__kfree_skb", "consume_skb", "__consume_stateless_skb",
			"alloc_skb", "__alloc_skb", "pskb_", "__pskb_", "netdev_alloc_skb", "__netdev_alloc_skb",
			"napi_alloc_skb", "__napi_alloc_skb"},
	},
	{group: "allocator",
		reason: "allocates or frees memory for its caller; a failure, warning or corruption there comes " +
			"from the caller's size, flags or pointer",
		names: []string{"kfree", "__kfree", "kvfree", "vfree", "krealloc", "__krealloc", "post_alloc_hook",
			"free_large_kmalloc", "get_page_from_freelist", "prep_new_page", "allocate_slab", "new_slab",
			"kmalloc_trace", "__slab_free", "___slab_alloc", "__slab_alloc", "__free_slab", "free_unref_page",
			"__free_pages", "free_pages", "__free_pages_ok", "free_pages_ok", "__free_one_page", "free_pcppages_bulk",
			"free_unref_page_commit", "prepare_alloc_pages", "warn_alloc", "cache_grow_begin", "fallback_alloc", "____cache_alloc",
			"____cache_alloc_node", "cache_alloc_refill", "__do_cache_alloc", "__cache_free", "free_block",
			"cache_flusharray",
			// the OOM killer and memory cgroup charging run for an allocation that found no memory
			"dump_header", "out_of_memory", "mem_cgroup_out_of_memory", "try_charge", "try_charge_memcg",
			"charge_memcg", "mem_cgroup_charge", "__mem_cgroup_charge", "obj_cgroup_charge", "__memcg_kmem_charge",
			"__memcg_kmem_charge_page", "pagefault_out_of_memory"},
		prefixes: []string{"kmalloc", "__kmalloc", "kmem_cache_", "__kmem_cache_", "kzalloc", "kcalloc",
			"kvmalloc", "__kvmalloc", "kvzalloc", "krealloc", "__vmalloc", "vmalloc", "vzalloc", "slab_free",
			"slab_alloc", "slab_post_alloc_hook", "slab_pre_alloc_hook", "memcg_slab_", "__alloc_pages",
			"alloc_page", "__alloc_frozen_pages", "alloc_frozen_pages", "__get_free_pages", "kmemdup", "kstrdup", "kfree_", "warn_alloc", "oom_", "__oom_",
			"mem_cgroup_oom", "___kmalloc", "vunmap", "__vunmap", "remove_vm_area", "free_vm_area",
			// an allocation that may reclaim takes the fs_reclaim lockdep map for its caller
			"fs_reclaim_acquire", "fs_reclaim_release", "__fs_reclaim_acquire", "__fs_reclaim_release",
			"might_alloc",
			// the page cache finds or allocates a folio of the file system's mapping
			"__filemap_get_folio", "filemap_alloc_folio", "pagecache_get_page", "find_or_create_page",
			"grab_cache_page_write_begin",
			// allocate and copy a user buffer of the caller's size
			"memdup_user", "vmemdup_user", "strndup_user", "memdup_array_user", "vmemdup_array_user"},
	},
	{group: "atomic",
		reason: "atomics, bit operations, refcount_t and kref: they update a counter or bit of the caller's " +
			"object; an underflow, a saturation or a use after free is the caller's",
		names: []string{"find_next_bit", "find_first_bit", "find_last_bit", "_find_next_bit", "_find_first_bit",
			"_find_last_bit", "set_bit", "clear_bit", "change_bit"},
		prefixes: []string{"atomic_", "_atomic_", "atomic64_", "arch_atomic", "__atomic_add_unless", "__atomic64_", "refcount_", "__refcount_", "kref_",
			"test_and_", "__set_bit", "__clear_bit", "bitmap_", "__bitmap_"},
	},
	{group: "string",
		reason: "copies, compares, fills, checksums or formats memory the caller passed (string, memory, " +
			"iov_iter and user-copy helpers, their fortify and usercopy checks, CRC, checksum and hash helpers, " +
			"address translation checks, MMIO and port accessors): the bad pointer or length is the caller's",
		names: []string{"memset", "__memset", "memcpy", "__memcpy", "memmove", "__memmove", "memcmp", "__memcmp",
			"memchr", "memchr_inv", "memscan", "bcmp", "copyout", "copyin", "_copy_to_user", "_copy_from_user",
			"copy_user_generic", "rep_movs_alternative", "strcmp", "strncmp", "strcasecmp", "strncasecmp",
			"strlen", "strnlen", "strcpy", "strncpy", "strlcpy", "strscpy", "strcat", "strncat", "strlcat",
			"strchr", "strnchr", "strrchr", "strstr", "strnstr", "strsep", "strspn", "strcspn", "strpbrk",
			"vsnprintf", "vscnprintf", "snprintf", "scnprintf", "sprintf", "vsprintf", "kvasprintf", "kasprintf", "kvasprintf_const", "read_word_at_a_time", "load_unaligned_zeropad",
			"format_decode", "string", "pointer", "number", "widen_string", "hex_string", "symbol_string",
			"resource_string", "bitmap_string", "bitmap_list_string", "escaped_string", "uuid_string",
			"mac_address_string", "ip_addr_string", "ip4_addr_string", "ip6_addr_string", "dentry_name",
			"va_format", "restricted_pointer", "ptr_to_id", "error_string", "check_pointer", "flags_string",
			"special_hex_number", "time_and_date", "fwnode_string", "netdev_bits", "device_node_string", "strncpy_from_user", "strnlen_user",
			"clear_user", "__clear_user", "check_zeroed_user", "readb", "readw", "readl", "readq", "writeb",
			"writew", "writel", "writeq", "inb", "inw", "inl", "outb", "outw", "outl", "usercopy_abort",
			"__check_object_size", "check_heap_object", "__check_heap_object", "check_stack_object",
			"fortify_panic", "__fortify_report", "__fortify_panic", "memdup_user", "vmemdup_user", "strndup_user",
			"__phys_addr", "__virt_to_phys", "__phys_addr_symbol", "hex_dump_to_buffer", "__read_once_word_nocheck",
			"__read_once_size_nocheck"},
		prefixes: []string{"memset_", "memcpy_", "memmove_", "__memcpy_", "__memset_", "copy_user_", "_copy_to_iter",
			"_copy_from_iter", "copy_to_iter", "copy_from_iter", "copy_page_to_iter", "copy_page_from_iter",
			"iov_iter_", "crc", "__crc", "csum_", "jhash", "__jhash", "siphash", "hsiphash",
			// seq_file's printf formats the caller's arguments into its buffer, as vsnprintf does
			"seq_printf", "seq_vprintf", "seq_puts", "seq_putc", "seq_write", "seq_escape",
			// the crypto library's primitives compute over the caller's buffers and keys
			"aes_encrypt", "aes_decrypt", "aes_expandkey", "aesti_", "sha1_", "sha256", "sha512", "chacha", "poly1305_",
			"blake2s", "crypto_xor", "__crypto_xor", "gf128mul_",
			"copy_from_user", "copy_to_user", "__copy_", "raw_copy_", "__arch_copy_", "__strncpy_from_user",
			"do_strncpy_from_user", "__get_user_", "__put_user_", "__raw_read", "__raw_write", "logic_in",
			"logic_out", "ioread", "iowrite", "__fortify_", "print_hex_dump", "usercopy_"},
	},
	{group: "list",
		reason: "list, rbtree, klist, IDR, radix tree, xarray and rhashtable helpers: they work on the caller's " +
			"structure; corruption found there was made by a user of it",
		names: []string{"rb_insert_color", "rb_erase", "rb_next", "rb_prev", "rb_first", "rb_last",
			"rb_replace_node", "rb_first_postorder", "rb_next_postorder", "rb_insert_color_cached",
			"rb_erase_cached"},
		prefixes: []string{"__list_", "list_", "hlist_", "__hlist_", "llist_", "plist_", "klist_", "__rb_",
			"idr_", "ida_", "radix_tree_", "__radix_tree_", "xa_", "__xa_", "xas_", "sbitmap_", "__sbitmap_",
			"rhashtable_", "__rhashtable_", "rhltable_", "rht_", "__rht_"},
	},
	{group: "work",
		reason: "work, timer and RCU machinery: it runs a deferred callback (the callback is the code), " +
			"or queues, cancels or waits for the caller's work, timer or RCU head (a check there is about the " +
			"caller's object)",
		names: []string{"process_one_work", "process_scheduled_works", "worker_thread", "insert_work",
			"__queue_work", "queue_work_on", "queue_delayed_work_on", "__queue_delayed_work", "mod_delayed_work_on",
			"delayed_work_timer_fn", "try_to_grab_pending", "__cancel_work_timer", "__cancel_work",
			"cancel_work_sync", "cancel_delayed_work", "cancel_delayed_work_sync", "__flush_work", "flush_work",
			"flush_workqueue", "__flush_workqueue", "drain_workqueue", "destroy_workqueue", "call_timer_fn", "__run_timers",
			"run_timer_softirq", "run_timer_base", "expire_timers", "del_timer", "del_timer_sync",
			"try_to_del_timer_sync", "__try_to_del_timer_sync", "timer_delete", "timer_delete_sync", "__timer_delete",
			"__timer_delete_sync", "timer_shutdown", "timer_shutdown_sync", "sk_stop_timer", "sk_stop_timer_sync",
			"sk_reset_timer",
			"lock_timer_base", "__mod_timer", "mod_timer", "add_timer", "add_timer_on", "detach_if_pending",
			"call_rcu", "__call_rcu", "call_rcu_sched", "call_rcu_bh", "kfree_call_rcu", "rcu_do_batch",
			"rcu_core", "rcu_process_callbacks", "kthread", "smpboot_thread_fn", "task_work_run",
			"tasklet_action_common", "tasklet_action", "tasklet_hi_action", "init_timer_key", "__init_timer",
			"hrtimer_init"},
		prefixes: []string{"hrtimer_", "__hrtimer_", "rcu_", "__rcu_", "srcu_", "__srcu_", "synchronize_rcu",
			"call_rcu", "__call_rcu", "call_srcu", "kvfree_call_rcu", // __call_rcu_common, call_rcu_hurry
			"synchronize_srcu", "__kthread_", "kthread_"},
	},
	{group: "device",
		reason: "the device, kobject, sysfs and procfs registration (and the net device and I2C cores on it): it registers, looks up or releases a device, " +
			"kobject or attribute for a driver; a bad parent, a duplicate or a freed object is the driver's",
		names: []string{"get_device", "put_device", "get_device_parent", "really_probe", "driver_probe_device",
			"__driver_attach", "bus_probe_device", "bus_add_device", "bus_remove_device", "bus_for_each_dev",
			"bus_for_each_drv",
			// adds a variable to a uevent's environment for the driver's uevent callback
			"add_uevent_var",
			// the network device and I2C cores register and remove a driver's devices the same way
			"register_netdevice", "unregister_netdevice", "unregister_netdevice_queue",
			"unregister_netdevice_many", "unregister_netdev", "rollback_registered",
			"rollback_registered_many", "i2c_del_adapter", "i2c_add_adapter", "i2c_register_adapter",
			"i2c_unregister_device", "__unregister_client", "i2c_new_client_device", "i2c_new_device"},
		// sysfs_* is the API through which a driver registers and removes its kobject's attributes
		prefixes: []string{"device_", "__device_", "kobject_", "__kobject_", "kset_", "driver_register",
			"driver_unregister", "sysfs_", "devres_", "dpm_sysfs_",
			// procfs registers a caller's entries the same way (a duplicate name warns in proc_register)
			"proc_register", "proc_create", "proc_mkdir", "proc_symlink",
			// and the char device core a driver's cdev
			"cdev_add", "cdev_del", "cdev_device_add", "cdev_device_del"},
	},
	{group: "transport",
		reason: "USB transfer helpers: they run a transfer the driver described (pipe, buffer, length); " +
			"\"BOGUS urb xfer\" and faults there are the driver's",
		prefixes: []string{"usb_submit_urb", "usb_start_wait_urb", "usb_control_msg", "usb_bulk_msg",
			"usb_interrupt_msg", "usb_kill_urb", "usb_kill_anchored_urbs", "usb_poison_", "usb_unlink_",
			"usb_hcd_submit_urb", "usb_hcd_unlink_urb", "usb_anchor_urb", "usb_unanchor_urb"},
	},
	{group: "label",
		reason: "a linker section label (_stext, _etext), not a function: the frame's function is unknown",
		names: []string{"_stext", "_text", "_etext", "_sinittext", "_einittext", "_end", "_sdata", "_edata",
			"__entry_text_start", "__irqentry_text_start", "__softirqentry_text_start"},
	},
	{group: "checked helper",
		reason: "a helper whose check fires on the caller's misuse, or that drops the caller's reference " +
			"to a dentry, inode, file or mount (a freed or over-released object is the caller's)",
		names: []string{"dput", "fast_dput", "mark_buffer_dirty", "iput", "fput", "mntput", "path_put",
			// the VFS link count helpers warn when a file system's count goes wrong
			"drop_nlink", "clear_nlink", "inc_nlink", "set_nlink",
			// warns when its caller frees an SRCU domain still in use
			"cleanup_srcu_struct",
			// the page cache's truncation drops a file system's folios, and iomap frees the state the file
			// system's folio kept: a folio in a wrong state there is the file system's
			"truncate_cleanup_folio", "truncate_inode_folio", "truncate_inode_pages_range", "truncate_inode_pages",
			"truncate_inode_pages_final", "truncate_pagecache", "truncate_setsize", "ifs_free",
			// and walks the file system's mapping for it
			"find_lock_entries", "find_get_entries"},
	},
	{group: "tracing",
		reason: "a tracepoint probe: it records the event of the traced function with that function's " +
			"arguments; a fault there is in what the traced code passed",
		prefixes: []string{"perf_trace_", "trace_event_raw_event_", "__traceiter_", "__bpf_trace_",
			"trace_event_buffer_"},
	},
	{group: "idle",
		reason: "the CPU's idle loop: it runs nothing of its own; a report there is about the interrupt " +
			"that woke it or the CPU it waited for",
		names: []string{"native_safe_halt", "pv_native_safe_halt", "safe_halt", "arch_safe_halt", "default_idle",
			"default_idle_call", "arch_cpu_idle", "cpu_idle_poll", "do_idle", "cpu_startup_entry", "mwait_idle",
			"intel_idle", "acpi_safe_halt", "cpu_do_idle"},
		prefixes: []string{"cpuidle_enter", "acpi_idle_", "intel_idle_"},
	},
	{group: "entry",
		reason: "arch fault, trap, interrupt and system call entry and exit code: it only delivers " +
			"control to the code that failed",
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
			"watchdog_timer_fn", "__hrtimer_run_queues", "hrtimer_interrupt", "local_apic_timer_interrupt",
			"page_fault", "async_page_fault", "do_async_page_fault", "sysenter_dispatch", "tracesys",
			"tracesys_phase2", "system_call_fastpath", "int_ret_from_sys_call", "syscall_return_slowpath",
			"prepare_exit_to_usermode", "__prepare_exit_to_usermode", "do_signal", "arch_do_signal",
			"arch_do_signal_or_restart", "__do_softirq", "____do_softirq", "call_on_irq_stack", "handle_softirqs", "do_softirq", "run_ksoftirqd",
			// s390: program check, interrupt and system call entry, DAT fault handling
			"pgm_check_handler", "__do_pgm_check", "io_int_handler", "ext_int_handler", "mcck_int_handler",
			"__do_syscall", "do_dat_exception", "do_no_context", "do_low_address"},
		prefixes: []string{"entry_SYSCALL", "entry_SYSENTER", "entry_INT80", "ret_from_fork", "exc_", "asm_exc_",
			"asm_sysvec_", "sysvec_", "__sysvec_", "smp_apic_timer_interrupt", "smp_trace_apic_timer_interrupt",
			"irq_exit", "__irq_exit", "irqentry_", "el0_", "el1_", "el1h_", "el0t_", "do_trap_",
			"__x86_indirect_thunk_", "__x86_return_thunk", "do_el0_", "el0_svc", "retint_", "exit_to_user",
			"syscall_exit_", "syscall_trace_enter", "idtentry_",
			// x86's interrupt and exception return paths
			"ret_from_intr", "common_interrupt_return", "restore_regs_and_return", "swapgs_restore_regs",
			"native_irq_return", "error_exit", "paranoid_exit", "irq_entries_start", "spurious_entries_start"},
	},
}

// infraIndex holds infraClasses by how they match, each entry with its
// class.
type infraIndex struct {
	names                        map[string]string
	prefixes, suffixes, contains []infraMatch
}

// infraMatch is a prefix, suffix or substring and its class.
type infraMatch struct{ text, group string }

// infra indexes infraClasses, on first use.
var infra = sync.OnceValue(indexInfra)

// indexInfra builds the lookup tables from infraClasses; a name listed by
// two classes belongs to the first.
func indexInfra() infraIndex {
	ix := infraIndex{names: map[string]string{}}
	for _, c := range infraClasses {
		for _, n := range c.names {
			if _, dup := ix.names[n]; !dup {
				ix.names[n] = c.group
			}
		}
		for _, p := range c.prefixes {
			ix.prefixes = append(ix.prefixes, infraMatch{p, c.group})
		}
		for _, s := range c.suffixes {
			ix.suffixes = append(ix.suffixes, infraMatch{s, c.group})
		}
		for _, s := range c.contains {
			ix.contains = append(ix.contains, infraMatch{s, c.group})
		}
	}
	return ix
}

// baseName strips the compiler suffixes (".cold", ".isra.0",
// ".constprop.0", ".part.3") from a function name.
func baseName(name string) string {
	if base, _, ok := strings.Cut(name, "."); ok && base != "" {
		return base
	}
	return name
}

// infraGroup returns the infrastructure class of a function, "" when it
// is not infrastructure.
func infraGroup(name string) string {
	name = baseName(name)
	ix := infra()
	if g, ok := ix.names[name]; ok {
		return g
	}
	for _, m := range ix.prefixes {
		if strings.HasPrefix(name, m.text) {
			return m.group
		}
	}
	for _, m := range ix.suffixes {
		if strings.HasSuffix(name, m.text) {
			return m.group
		}
	}
	for _, m := range ix.contains {
		if strings.Contains(name, m.text) {
			return m.group
		}
	}
	return ""
}

// NeverGuilty reports whether a function is never the guilty frame of a
// report because the bug is in one of its callers. The classes and their
// kernel reasons (docs/decode.md, "Infrastructure"):
//
//   - reporting: dump_stack*, panic*, __warn, report_bug, printk*, the
//     sanitizers', RCU's and spinlock debugging's reporters, Rust panics;
//   - unwinder: unwind_*, stack_trace_save*, stack depot;
//   - sanitizer: the KASAN, KMSAN, KCSAN, KFENCE, HWASan and UBSAN
//     runtimes, KCOV, SLUB and debug-objects checks, preemption checks,
//     fault injection, kmemleak, page owner;
//   - lockdep: the lock validator (lock_acquire, register_lock_class, ...);
//   - locking: spinlocks, mutexes, rwsems, osq, down/up, socket, page and
//     buffer locks;
//   - scheduler: schedule*, __might_*, wait_for_completion*;
//   - skb: socket buffer helpers (skb_put, kfree_skb, skb_panic);
//   - allocator: kmalloc, slab, page allocator, vmalloc, warn_alloc;
//   - atomic: atomics, bitops, refcount_t, kref;
//   - string: string, memory, printf, iov_iter and user-copy helpers,
//     usercopy and fortify checks, CRC, checksum and hash helpers, the
//     CONFIG_DEBUG_VIRTUAL address checks, MMIO and port accessors;
//   - list: list, rbtree, klist, IDR, radix tree and xarray helpers;
//   - work: workqueue, timer, hrtimer, RCU and kthread machinery;
//   - device: the device and kobject core;
//   - transport: USB transfer helpers (usb_submit_urb, usb_control_msg);
//   - checked helper: dput, iput, fput, mntput, mark_buffer_dirty;
//   - entry: arch fault, trap, interrupt and system call entry and exit.
//
// Compiler suffixes (".cold", ".isra.0", ".constprop.0") are ignored.
// System call wrappers (__x64_sys_*, __se_sys_*, __do_sys_*, ksys_*, SyS_*)
// are not infrastructure: they are the system call, named without the
// wrapper's prefix when compared with other tools' titles.
func NeverGuilty(name string) bool {
	return infraGroup(name) != ""
}

// detectorClasses are the classes of the code that detects and reports a
// bug, and section labels: never named, even when a report offers nothing
// else.
var detectorClasses = map[string]bool{"reporting": true, "unwinder": true, "sanitizer": true, "lockdep": true,
	"scheduler": true, "label": true}

// detector reports whether a function detects or reports bugs (see
// detectorClasses).
func detector(name string) bool {
	return detectorClasses[infraGroup(name)]
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

// notGracePeriodWait reports whether a frame is not a wait for an RCU
// grace period (synchronize_rcu and its expedited, SRCU, sched and tasks
// forms). A task blocked in one is a victim of whatever holds the grace
// period back (a reader that does not leave, a stalled CPU), which shows
// in other reports, not of its caller: every caller hangs alike, so the
// wait names the hang. rcu_barrier is not one: it also waits for queued
// callbacks to run, the caller's own among them.
func notGracePeriodWait(name string) bool {
	name = baseName(name)
	for _, p := range []string{"synchronize_rcu", "synchronize_srcu", "__synchronize_srcu", "synchronize_sched"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// waitPrimitive reports whether a frame of a blocked task's stack is where
// the task waits rather than what it waits for: infrastructure, any
// function named for waiting, the RCU and workqueue flushes, kthread_stop
// and kthread_park (they wait for the thread), and the "_sync" variants
// that wait for an asynchronous operation to finish (del_timer_sync,
// cancel_work_sync).
func waitPrimitive(name string) bool {
	name = baseName(name)
	if NeverGuilty(name) || strings.Contains(name, "wait") || strings.HasSuffix(name, "_sync") {
		return true
	}
	for _, p := range []string{"synchronize_rcu", "synchronize_srcu", "__synchronize_srcu", "synchronize_net",
		"synchronize_sched", "rcu_barrier", "flush_work", "__flush_work", "flush_workqueue", "__flush_workqueue",
		"drain_workqueue", "msleep", "usleep_range", "ssleep", "kthread_stop", "kthread_park"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
