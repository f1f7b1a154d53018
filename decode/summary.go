package decode

import (
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/klog"
)

// Summary explains one report in a few fields.
type Summary struct {
	// Kind is the report kind ("null-deref", "warning", ...).
	Kind string `json:"kind"`
	// Title is one line: what happened and in which function
	// ("BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]").
	Title string `json:"title"`
	// Guilty is the guilty frame, decoded when possible, as the kernel
	// prints it; empty when the report has no candidate.
	Guilty string `json:"guilty,omitempty"`
	// GuiltyFunc is the guilty frame's function name.
	GuiltyFunc string `json:"guilty_func,omitempty"`
	// GuiltyIndex indexes Result.Frames, -1 when there is no guilty frame.
	GuiltyIndex int `json:"guilty_index"`
	// Module is the guilty frame's module, empty for the core kernel.
	Module string `json:"module,omitempty"`
	// ModuleTaint is the module's taint letters from "Modules linked in:".
	ModuleTaint string `json:"module_taint,omitempty"`
	// CPU, PID and Comm identify the task; CPU and PID are -1 when absent.
	CPU  int    `json:"cpu"`
	PID  int    `json:"pid"`
	Comm string `json:"comm,omitempty"`
	// Release is the kernel release.
	Release string `json:"release,omitempty"`
	// Taint is the taint string as printed ("G      D    OE").
	Taint string `json:"taint,omitempty"`
	// TaintWords explains each set taint letter.
	TaintWords []string `json:"taint_words,omitempty"`
	// Uncertain lists what makes the decoding less than certain.
	Uncertain []string `json:"uncertain,omitempty"`
}

// summarize builds the summary of a decoded report.
func summarize(r *klog.Report, res *Result) Summary {
	h := &r.Header
	s := Summary{Kind: string(r.Kind), CPU: h.CPU, PID: h.PID, Comm: h.Comm, Release: h.Release,
		Taint: h.Taint, TaintWords: ExplainTaint(h.Taint), GuiltyIndex: -1}
	if s.PID < 0 {
		if comm, pid, ok := titleTask(r.Title); ok {
			s.Comm, s.PID = comm, pid
		}
	}
	if r.Kind != klog.KindSysrq { // a dump on request: nothing is guilty
		s.GuiltyIndex = guilty(res.Frames)
	}
	if s.GuiltyIndex >= 0 {
		g := &res.Frames[s.GuiltyIndex]
		s.Guilty, s.GuiltyFunc, s.Module = frameText(g), funcName(g), g.Module
		s.ModuleTaint = moduleTaint(h, g.Module)
	}
	s.Title = title(r, s)
	s.Uncertain = uncertain(r, res)
	return s
}

// frameText is the decoded text of f, or what the kernel printed.
func frameText(f *Frame) string {
	if f.Text != "" {
		return f.Text
	}
	return f.Printed
}

// funcName is the function of f.
func funcName(f *Frame) string {
	if f.Symbol != "" {
		return f.Symbol
	}
	name, _, _ := strings.Cut(f.Printed, "+")
	return name
}

// moduleTaint finds mod's taint letters in "Modules linked in:".
func moduleTaint(h *klog.Header, mod string) string {
	if mod == "" {
		return ""
	}
	for _, m := range h.Modules {
		if m.Name == mod {
			return m.Taint
		}
	}
	return ""
}

// guilty returns the index of the first frame of the first stack (the PC
// frames before it included) that is reliable, in the kernel, named, and not
// infrastructure (see Infrastructure), or -1.
func guilty(frames []Frame) int {
	first := -1
	for i := range frames {
		f := &frames[i]
		if f.Trace >= 0 {
			if first < 0 {
				first = f.Trace
			} else if f.Trace != first {
				break
			}
		}
		if !f.Reliable || f.Status == StatusUser || f.Status == StatusHashed || f.Status == StatusNull {
			continue
		}
		name := funcName(f)
		if name == "" || strings.HasPrefix(name, "0x") || Infrastructure(name) {
			continue
		}
		return i
	}
	return -1
}

// infraNames are functions that report, lock, allocate or enter the kernel:
// never the guilty frame.
var infraNames = map[string]bool{
	"panic": true, "__warn": true, "warn_slowpath_fmt": true, "report_bug": true,
	"handle_bug": true, "do_error_trap": true, "die": true, "__die": true, "__die_body": true,
	"page_fault_oops": true, "kernelmode_fixup_or_oops": true, "__bad_area_nosemaphore": true,
	"bad_area_nosemaphore": true, "do_user_addr_fault": true, "handle_page_fault": true,
	"do_trap": true, "do_int3": true, "refcount_warn_saturate": true, "usercopy_abort": true,
	"fortify_panic": true, "__fortify_report": true, "do_syscall_64": true, "show_stack": true,
	"show_regs": true, "show_trace_log_lvl": true, "sched_show_task": true, "nmi_cpu_backtrace": true,
	"check_panic_on_warn": true, "kmalloc_trace": true, "__check_object_size": true,
	"check_heap_object": true, "__slab_free": true, "kfree": true, "print_report": true,
	"kasan_report": true, "bug_handler": true, "dump_stack": true, "__check_heap_object": true,
	"slab_err": true, "object_err": true, "print_trailer": true, "check_bytes_and_report": true,
	"check_object": true, "check_slab": true, "on_freelist": true, "slab_pad_check": true,
	"free_debug_processing": true, "alloc_debug_processing": true, "free_to_partial_list": true,
	"__free_slab": true, "slab_bug": true, "slab_fix": true, "schedule": true, "__schedule": true,
	"io_schedule": true, "schedule_preempt_disabled": true, "__mutex_lock": true,
}

// infraPrefixes are name prefixes of infrastructure functions.
var infraPrefixes = []string{
	"dump_stack", "exc_", "asm_exc_", "asm_sysvec_", "sysvec_", "oops_", "spin_lock", "_raw_",
	"kmalloc", "__kmalloc", "kmem_cache_", "__might_", "__list_add_valid", "__list_del_entry_valid",
	"entry_SYSCALL_64", "ret_from_fork", "__x64_sys_", "__ia32_sys_", "x64_sys_call", "kasan_",
	"__kasan_", "__asan_", "ubsan_", "__ubsan_", "lockdep_", "__lock_acquire", "lock_acquire",
	"mutex_lock", "queued_spin_", "native_queued_spin_", "__refcount_", "rcu_dump_", "watchdog_timer_fn",
	"__hrtimer_run_queues", "hrtimer_interrupt", "__sysvec_", "irq_exit", "__irq_exit",
	"nmi_trigger_cpumask_backtrace", "arch_trigger_cpumask_backtrace", "schedule_timeout",
	"io_schedule_timeout", "wait_for_completion", "rwsem_down_", "__down", "down_",
	"print_address_description", "check_memory_region", "kmemleak_", "dump_backtrace", "unwind_backtrace",
	"walk_stackframe", "warn_slowpath", "should_fail", "__should_fail", "fail_dump", "__sanitizer_cov_",
	"__x86_indirect_thunk_", "___might_", "check_preemption_disabled", "debug_print_object",
	"__switch_to", "context_switch", "bit_wait", "wait_on_page_bit", "preempt_schedule", "_printk",
	"printk", "vprintk", "print_usage_bug", "print_circular_bug", "lockdep_rcu_suspicious",
	"mark_lock", "validate_chain", "check_noncircular", "memset", "__memset", "memcpy", "__memcpy",
	"memmove", "__memmove", "___slab_alloc", "__slab_alloc", "__kmem_cache_", "kvmalloc", "__kvmalloc",
	"post_alloc_hook", "free_large_kmalloc", "__do_kernel_fault", "do_page_fault", "__do_page_fault",
	"program_check_exception", "__warn_printk", "debug_object", "__debug_object", "krealloc",
	"do_invalid_op", "do_trap_", "do_tag_check_fault", "program_check_common", "debug_check_no_",
	"__schedule_bug", "irqentry_exit", "rcu_sched_clock_irq", "rcu_check_callbacks", "trace_hardirqs_",
	"_cond_resched", "__wait_on_bit", "__lock_page", "__mutex_lock", "nmi_panic", "handle_overflow",
}

// Infrastructure reports whether a function reports, locks, allocates or
// is entry code, so that it is not the guilty frame: dump_stack*, panic,
// __warn, report_bug, handle_bug, exc_*, asm_exc_*, do_error_trap, die,
// oops_*, page_fault_oops, kernelmode_fixup_or_oops,
// __bad_area_nosemaphore, do_user_addr_fault, spin_lock*, _raw_*,
// kmalloc*, kmem_cache_*, __might_*, refcount_warn_saturate,
// __list_*_valid*, usercopy_abort, fortify_panic, entry_SYSCALL_64*,
// do_syscall_64, ret_from_fork*, the sanitizers' reporting functions and
// the timer interrupt path of watchdog reports, the SLUB debug reporting
// functions and the scheduler functions a blocked task sleeps in
// (schedule*, wait_for_completion*, rwsem_down_*, mutex locking, context
// switch), printk, lockdep's reporters, fault injection (should_fail*),
// coverage callbacks (__sanitizer_cov_*), the mem* string functions
// (the caller is to blame), and the arm64/powerpc/riscv unwinders and fault
// handlers (dump_backtrace, unwind_backtrace, walk_stackframe,
// __do_kernel_fault, program_check_exception). Compiler
// suffixes
// (".cold", ".isra.0", ".constprop.0") are ignored.
func Infrastructure(name string) bool {
	if base, _, ok := strings.Cut(name, "."); ok && base != "" {
		name = base
	}
	if infraNames[name] {
		return true
	}
	for _, p := range infraPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// title builds the one-line title of a report.
func title(r *klog.Report, s Summary) string {
	t := titleHead(r)
	if s.Guilty == "" {
		return t
	}
	in := s.GuiltyFunc
	if s.Module != "" {
		in += " [" + s.Module + "]"
	}
	return t + " in " + in
}

// titleHeads are the titles of kinds whose title line carries details.
var titleHeads = map[klog.Kind]string{
	klog.KindNullDeref:  "BUG: kernel NULL pointer dereference",
	klog.KindPageFault:  "BUG: unable to handle page fault",
	klog.KindGPF:        "general protection fault",
	klog.KindBUG:        "kernel BUG",
	klog.KindWarning:    "WARNING",
	klog.KindSoftLockup: "BUG: soft lockup",
	klog.KindHardLockup: "hard LOCKUP",
	klog.KindRCUStall:   "INFO: rcu stall",
	klog.KindHungTask:   "INFO: task hung",
	klog.KindRefcount:   "refcount_t",
}

// titleHead is the part of the title before " in func".
func titleHead(r *klog.Report) string {
	if h, ok := titleHeads[r.Kind]; ok {
		return h
	}
	t := r.Title
	if i := strings.Index(t, " (Tainted:"); i > 0 { // SLUB: "BUG kmalloc-1k (Tainted: G B): Poison overwritten"
		if j := strings.Index(t[i:], "):"); j > 0 {
			t = t[:i] + t[i+j+1:]
		}
	}
	for _, sep := range []string{", address:", " at 0x", ": 0x", ". ", " ("} {
		if i := strings.Index(t, sep); i > 0 {
			t = t[:i]
		}
	}
	if len(t) > 100 {
		t = t[:100]
	}
	return strings.TrimSpace(t)
}

// uncertain lists what makes the decoding less than certain.
func uncertain(r *klog.Report, res *Result) []string {
	var out []string
	unreliable, unresolved, ambiguous := 0, 0, 0
	for i := range res.Frames {
		f := &res.Frames[i]
		if !f.Reliable {
			unreliable++
		}
		switch f.Status {
		case StatusNotFound, StatusNoSlide, StatusUnchecked:
			unresolved++
		case StatusOK:
			if f.Note != "" {
				ambiguous++
			}
		}
	}
	if unreliable > 0 {
		out = append(out, plural(unreliable, "unreliable (?) frame"))
	}
	if unresolved > 0 {
		out = append(out, plural(unresolved, "frame")+" not checked against the table")
	}
	if ambiguous > 0 {
		out = append(out, plural(ambiguous, "frame")+" whose name and size match several symbols")
	}
	if res.Mismatch {
		out = append(out, "the table does not match the kernel that wrote the log")
	}
	if r.Truncated {
		out = append(out, "the report is truncated")
	}
	return out
}

// Line returns the summary as one tab-separated line: kind, title, guilty
// frame, "CPU n PID p comm", release, taint (without padding), and the
// number of uncertainties; "-" for what the report does not show.
func (s Summary) Line() string {
	task := "-"
	if s.PID >= 0 || s.Comm != "" {
		task = "PID " + strconv.Itoa(s.PID) + " " + orDash(s.Comm)
		if s.CPU >= 0 {
			task = "CPU " + strconv.Itoa(s.CPU) + " " + task
		}
	}
	fields := []string{s.Kind, s.Title, orDash(s.Guilty), task, orDash(s.Release), orDash(CompactTaint(s.Taint))}
	if len(s.Uncertain) > 0 {
		fields = append(fields, "uncertain: "+strings.Join(s.Uncertain, "; "))
	}
	return strings.Join(fields, "\t")
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// titleTask finds the task named by a hung task ("INFO: task sh:780
// blocked ...") or soft lockup ("... stuck for 6s! [sh:825]") title.
func titleTask(title string) (comm string, pid int, ok bool) {
	var s string
	if i := strings.Index(title, "INFO: task "); i >= 0 {
		s, _, _ = strings.Cut(title[i+len("INFO: task "):], " ")
	} else if i := strings.LastIndex(title, "! ["); i >= 0 {
		s = strings.TrimSuffix(title[i+3:], "]")
	}
	i := strings.LastIndex(s, ":")
	if i <= 0 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, false
	}
	return s[:i], pid, true
}
