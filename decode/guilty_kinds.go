package decode

import (
	"strings"

	"github.com/ksym-dev/ksym/klog"
)

// lockdep picks the guilty function of a lockdep report: the function the
// report says took the lock ("is trying to acquire lock: ... at: FUNC",
// "... takes: ... at: FUNC", a held lock's "#0: ... at: FUNC"), unless it
// is infrastructure or the report is about RCU usage; else the first frame
// of the stack after "stack backtrace:" that is not infrastructure.
func (p *picker) lockdep() choice {
	if strings.Contains(p.r.Title, "lock order detected") {
		if c, ok := p.irqSafeUser(); ok {
			return c
		}
	}
	bt := p.lineIndex("stack backtrace:")
	if !strings.Contains(p.r.Title, "suspicious RCU usage") {
		if c, ok := p.lockLine(bt, lockPrimitive); ok {
			return c
		}
	}
	t := p.mainTrace()
	if bt >= 0 {
		for k := range p.r.Traces {
			if idx := p.trace(k); len(idx) > 0 && p.frames[idx[0]].Line > bt && !p.annotation(k) {
				t = k
				break
			}
		}
	}
	if c := p.first(t, 0, NeverGuilty); c.index >= 0 {
		return c
	}
	c, _ := p.lockLine(bt, detector) // nothing else: the function a primitive took the lock in
	return c
}

// irqSafeUser picks, in a "HARDIRQ-safe -> HARDIRQ-unsafe lock order
// detected" report, the function that takes the irq-safe lock in interrupt
// context (the stack after "... which became HARDIRQ-irq-safe at:"): the
// interrupt-context user makes the new lock order a deadlock.
func (p *picker) irqSafeUser() (choice, bool) {
	for t, tr := range p.r.Traces {
		if strings.Contains(tr.Label, "-irq-safe at:") {
			c := p.first(t, 0, NeverGuilty)
			return c, c.index >= 0
		}
	}
	return noChoice, false
}

// lineIndex returns the index of the first report line whose text is s
// (spaces aside), -1 when none.
func (p *picker) lineIndex(s string) int {
	for i, l := range p.r.Lines {
		if strings.TrimSpace(l.Text) == s {
			return i
		}
	}
	return -1
}

// lockLine finds the first ", at: FUNC+0x../0x.." line before line end (all
// lines when end < 0) whose function is not infrastructure (a lock taken
// by a primitive, "at: down_trylock", names the holder's "at:" instead)
// and returns it; the frame parsed from that line when there is one.
func (p *picker) lockLine(end int, primitive func(string) bool) (choice, bool) {
	lines := p.r.Lines
	if end >= 0 {
		lines = lines[:end]
	}
	skipped := false
	for li, l := range lines {
		before, after, ok := strings.Cut(l.Text, ", at: ")
		if !ok && strings.HasSuffix(strings.TrimSpace(l.Text), " at:") && li+1 < len(lines) {
			// "is trying to release lock (mrt_lock) at:" names its
			// function on the next line, after a symbolizer's inlined callees
			j := li + 1
			for j+1 < len(lines) && strings.HasSuffix(strings.TrimSpace(lines[j].Text), "[inline]") {
				j++
			}
			before, after, ok, li = l.Text, strings.TrimSpace(lines[j].Text), true, j
		}
		if !ok || skipped && strings.HasPrefix(strings.TrimSpace(before), "#") {
			continue // after a primitive's "at:", the other lock of the pair, not the held-locks list
		}
		if strings.HasPrefix(after, "[<") { // old kernels: "at: [<ffffffff81234567>] func+0x1/0x2"
			if _, a, ok := strings.Cut(after, "] "); ok {
				after = a
			}
		}
		if strings.HasSuffix(strings.TrimSpace(after), "[inline]") {
			continue // a symbolizer's inlined callee: the chain ends in the function at that address
		}
		text, _, _ := strings.Cut(strings.TrimSpace(after), " ")
		fn, _, _ := strings.Cut(text, "+")
		if fn == "" || strings.HasPrefix(fn, "0x") || primitive(fn) {
			skipped = true // a lock primitive took it (down_trylock): the next "at:", the holder's
			continue
		}
		for i := range p.frames {
			if p.frames[i].Line == li && p.name(i) == fn {
				return choice{index: i}, true
			}
		}
		return choice{index: -1, name: fn, text: text}, true
	}
	return noChoice, false
}

// lockPrimitive reports whether a function that took a lock ("at:") took
// it for a caller: a lock primitive, the validator, the work machinery (it
// takes a work item's or workqueue's lockdep map for the caller that
// flushes, cancels or runs it: __flush_work, flush_workqueue), the
// allocator (it takes fs_reclaim's lockdep map for a caller whose
// allocation may recurse into reclaim), or the scheduler's helpers that
// take the caller's lock (a wait queue's or completion's lock,
// __might_fault's mmap lock). A task wake-up takes the scheduler's own
// locks, the woken task's pi_lock and runqueue lock: there the lock is
// taken (try_to_wake_up).
func lockPrimitive(fn string) bool {
	switch infraGroup(fn) {
	case "locking", "lockdep", "work", "allocator":
		return true
	case "scheduler":
		return !taskWakeUp(fn)
	}
	return detector(fn)
}

// taskWakeUp reports whether a function wakes a task: it takes that task's
// pi_lock and its runqueue's lock, the scheduler's own locks.
func taskWakeUp(fn string) bool {
	switch baseName(fn) {
	case "try_to_wake_up", "wake_up_process", "wake_up_state", "wake_up_new_task", "wake_up_q":
		return true
	}
	return false
}

// stall picks the guilty function of an RCU stall or a stack overflow. The
// PC of such a report is wherever a long loop or a deep recursion happened
// to be; what identifies the bug is the work that ran there: the function
// that a dispatcher called (the system call handler, a timer, work or
// softirq callback, the protocol's or file system's operation), found by
// walking the interrupted stack outwards to the first dispatcher. A CPU
// spinning in smp_call_function* waits for the others: that function is
// the answer. Without a dispatcher, the first frame that is not
// infrastructure.
func (p *picker) stall() choice {
	t, start := p.interrupted(p.stallTrace())
	return p.dispatched(t, start)
}

// softLockup picks the guilty function of a soft lockup: the PC's
// function when it is code of its own (the loop the watchdog stopped, as
// lkdtm_SOFTLOCKUP); when the PC is in infrastructure (a KCOV hook, a lock,
// a helper), the loop spans its callers and, as for a stall, the function
// a dispatcher called identifies it.
func (p *picker) softLockup() (choice, bool) {
	if fn := p.r.Func; fn == "" || !NeverGuilty(fn) {
		return noChoice, false
	}
	c := p.dispatched(p.mainTrace(), 0)
	return c, c.index >= 0
}

// dispatched walks trace t outwards from its start-th frame to the first
// dispatcher and returns the function the dispatcher called (see stall).
func (p *picker) dispatched(t, start int) choice {
	idx := p.trace(t)
	if start > len(idx) {
		return noChoice
	}
	prev := -1
	for _, i := range idx[start:] {
		name := p.name(i)
		if !p.candidate(i) {
			continue
		}
		if strings.HasPrefix(baseName(name), "smp_call_function") {
			return choice{index: i}
		}
		if dispatcher(name) && prev >= 0 {
			return p.fold(choice{index: prev})
		}
		if !NeverGuilty(name) {
			prev = i
		}
		if from := p.r.Frames[i].From; from != nil && dispatcher(from.Name) && prev >= 0 {
			return p.fold(choice{index: prev})
		}
	}
	return p.first(t, start, NeverGuilty)
}

// interrupted returns where the interrupted code starts in stack t: after
// its first interrupt entry frame; or in the next trace when t ends in the
// interrupt entry (an arm "Exception stack" dump between the two), after
// the entry frame; else at the start of t.
func (p *picker) interrupted(t int) (trace, start int) {
	idx := p.trace(t)
	for k, i := range idx {
		if irqEntry(p.name(i)) {
			for k+1 < len(idx) && irqEntry(p.name(idx[k+1])) { // smp_apic_timer_interrupt, apic_timer_interrupt
				k++
			}
			return t, k + 1
		}
	}
	if t < 0 || t+1 >= len(p.r.Traces) || len(idx) == 0 {
		return t, 0
	}
	if from := p.r.Frames[idx[len(idx)-1]].From; from != nil && irqEntry(from.Name) {
		return t + 1, 0 // arm: "(gic_handle_irq) from [<...>] (__irq_svc+0x70/0x98)"
	}
	if next := p.trace(t + 1); len(next) > 0 && irqEntry(p.name(next[0])) {
		return t + 1, 1
	}
	return t, 0
}

// stallTrace returns the stack of a stall: the trace that holds the stall
// detector's frames (the CPU that noticed the stall and dumped its own
// interrupted stack), else the first stack that is not the RCU
// grace-period kthread's (a victim of the stall, never its cause); the
// stack of the CPU where that kthread last ran counts only when no other
// CPU's stack was printed (a starved kthread: that CPU kept it from running).
func (p *picker) stallTrace() int {
	first, gpCPU := -1, p.gpCPUTrace()
	for t := range p.r.Traces {
		if p.annotation(t) || t == gpCPU {
			continue
		}
		gp := false
		for _, i := range p.trace(t) {
			switch baseName(p.name(i)) {
			case "rcu_sched_clock_irq", "rcu_check_callbacks", "rcu_pending", "rcu_dump_cpu_stacks",
				"print_cpu_stall", "print_other_cpu_stall":
				return t
			case "rcu_gp_kthread":
				gp = true
			}
		}
		if first < 0 && !gp {
			first = t
		}
	}
	if first < 0 && gpCPU >= 0 {
		// only the starved kthread's own stack besides: the CPU it last
		// ran on was kept busy by the code there
		return gpCPU
	}
	if first < 0 {
		return p.mainTrace()
	}
	return first
}

// gpCPUTrace returns the trace of the CPU the RCU grace-period kthread
// last ran on (the first stack after "rcu: Stack dump where RCU GP kthread
// last ran:"): context for a starved kthread, not the stall; -1 when the
// report has none.
func (p *picker) gpCPUTrace() int {
	line := -1
	for i, l := range p.r.Lines {
		if strings.Contains(l.Text, "Stack dump where RCU GP kthread last ran") {
			line = i
			break
		}
	}
	if line < 0 {
		return -1
	}
	for t := range p.r.Traces {
		if idx := p.trace(t); len(idx) > 0 && p.frames[idx[0]].Line > line {
			return t
		}
	}
	return -1
}

// irqEntry reports whether a function is where an interrupt entered the
// kernel: the frames after it are the interrupted code.
func irqEntry(name string) bool {
	switch baseName(name) {
	case "asm_sysvec_apic_timer_interrupt", "apic_timer_interrupt", "asm_common_interrupt",
		"common_interrupt", "__irq_svc", "__irq_usr", "el1_irq", "el1h_64_irq", "el1_interrupt",
		"ret_from_intr", "handle_arch_irq", "do_IRQ", "timer_interrupt", "handle_exception":
		return true
	}
	return strings.HasPrefix(name, "smp_apic_timer_interrupt") || strings.HasPrefix(name, "smp_trace_apic_timer_interrupt")
}

// dispatchers call a function chosen at run time: the system call entry
// and tables, the deferred work runners (timers, hrtimers, workqueues,
// softirqs, tasklets, RCU callbacks, task work, kthreads, NAPI), and the
// generic layers that call an operation of a file (read, write, ioctl,
// mmap, open, release, seq_file and procfs), of a mapping's VMA (fault,
// page_mkwrite, map_pages), a socket, a netlink family or a debugfs file,
// and the network receive path's hand-off of a packet to its rx handler or
// protocol.
var dispatchers = map[string]bool{
	"do_syscall_64": true, "do_syscall_x64": true, "x64_sys_call": true, "ia32_sys_call": true,
	"do_syscall_32_irqs_on": true, "__do_fast_syscall_32": true, "do_fast_syscall_32": true,
	"do_int80_syscall_32": true, "do_SYSENTER_32": true, "sysenter_dispatch": true, "tracesys_phase2": true,
	"system_call_fastpath": true, "invoke_syscall": true, "el0_svc_common": true, "el0_svc_handler": true,
	"do_el0_svc": true, "ret_fast_syscall": true, "system_call_exception": true, "do_trap_ecall_u": true,
	"syscall_handler":  true,
	"process_one_work": true, "process_scheduled_works": true, "call_timer_fn": true, "__run_hrtimer": true,
	"__hrtimer_run_queues": true, "expire_timers": true, "rcu_do_batch": true, "tasklet_action_common": true,
	"__do_softirq": true, "handle_softirqs": true, "kthread": true, "__napi_poll": true, "napi_poll": true,
	"__handle_irq_event_percpu": true, "smpboot_thread_fn": true, "task_work_run": true,
	"new_sync_read": true, "new_sync_write": true, "__vfs_read": true, "__vfs_write": true, "vfs_read": true,
	"vfs_write": true, "vfs_iter_read": true, "vfs_iter_write": true, "do_iter_read": true, "do_iter_write": true,
	"call_read_iter": true, "call_write_iter": true, "do_iter_readv_writev": true, "do_loop_readv_writev": true,
	"vfs_ioctl": true, "do_vfs_ioctl": true, "ksys_ioctl": true, "call_mmap": true, "mmap_region": true,
	"__do_fault": true, "do_page_mkwrite": true, "do_fault_around": true, // a VMA's fault, page_mkwrite and map_pages
	"__fput": true, "do_dentry_open": true, "seq_read": true, "seq_read_iter": true,
	"sock_common_setsockopt": true, "sock_common_getsockopt": true, "sock_sendmsg": true, "__sock_sendmsg": true,
	"sock_sendmsg_nosec": true, "sock_recvmsg": true, "sock_recvmsg_nosec": true, "__sock_release": true,
	"sock_do_ioctl": true, "sock_ioctl": true, "__sys_connect": true, "__sys_bind": true, "__sys_listen": true,
	"__sys_accept4": true, "__sys_setsockopt": true, "__sys_getsockopt": true, "rtnetlink_rcv_msg": true,
	"genl_family_rcv_msg_doit": true, "genl_rcv_msg": true, "nfnetlink_rcv_msg": true, "nfnetlink_rcv_batch": true,
	"netlink_dump": true,
	// the network receive path hands each packet to the rx handler (a bridge, macvlan, bond) or the
	// protocol handler registered for it
	"__netif_receive_skb_core": true, "__netif_receive_skb_one_core": true, "__netif_receive_skb_list_core": true,
	"deliver_skb": true,
}

// dispatcher reports whether a function calls the function that identifies
// a stall (see dispatchers); also the system call entry stubs, the ioctl
// system calls (vfs_ioctl inlined into them), the compat ioctl handlers
// that forward to the native one, and the procfs and debugfs proxies.
func dispatcher(name string) bool {
	name = baseName(name)
	return dispatchers[name] || strings.HasPrefix(name, "entry_SYSCALL") || strings.HasPrefix(name, "el0_svc") ||
		strings.HasPrefix(name, "full_proxy_") || strings.HasPrefix(name, "proc_reg_") ||
		strings.HasSuffix(name, "sys_ioctl") || strings.HasSuffix(name, "SyS_ioctl") ||
		strings.HasSuffix(name, "compat_ioctl")
}

// racing picks the first of the two functions of a KCSAN "data-race in A /
// B" title (or the one of "racing read in A"): the racing accesses are in
// those functions, whatever they are; the frame of A when its stack shows
// it.
func (p *picker) racing() (choice, bool) {
	fns := racingFuncs(p.r.Title)
	if len(fns) == 0 {
		return noChoice, false
	}
	if i := p.find(fns[0]); i >= 0 {
		return choice{index: i}, true
	}
	return choice{index: -1, name: fns[0], text: fns[0]}, true
}

// racingFuncs returns the functions a KCSAN title names: "A" and "B" of
// "BUG: KCSAN: data-race in A / B", offsets dropped.
func racingFuncs(title string) []string {
	_, after, ok := strings.Cut(title, " in ")
	if !ok {
		return nil
	}
	var out []string
	for _, part := range strings.Split(after, " / ") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), "+")
		if name, _, _ = strings.Cut(name, " "); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// titleFrame picks the function the stack protector names ("Kernel stack
// is corrupted in: ADDR", a return address outside any trace): decoded
// when a table resolved it, else as printed.
func (p *picker) titleFrame() (choice, bool) {
	for i := range p.frames {
		if p.frames[i].Kind != klog.FrameTrace || p.frames[i].Trace >= 0 {
			continue
		}
		if p.name(i) != "" {
			return choice{index: i}, true
		}
		if k := p.namedAt(i); k >= 0 {
			return choice{index: k}, true
		}
		return choice{index: -1, text: p.frames[i].Printed}, true
	}
	return noChoice, false
}

// namedAt returns a frame of the report that printed the raw address of
// frame i together with a name ("[<ffffffff8343632e>] ip6_xmit+0x18ae/..."
// in its stack dump): the kernel's own name for that address, -1 when none.
func (p *picker) namedAt(i int) int {
	f := &p.r.Frames[i]
	if !f.HasAddr || f.Hashed {
		return -1
	}
	for k := range p.r.Frames {
		g := &p.r.Frames[k]
		if k != i && g.HasAddr && g.Addr == f.Addr && g.Name != "" && p.name(k) != "" {
			return k
		}
	}
	return -1
}

// callerLine picks the function of a "caller is FUNC+0x../0x.." line (the
// last of a symbolizer's "[inline]" repeats): the preemption checks
// (check_preemption_disabled, behind "BUG: using smp_processor_id() in
// preemptible" and __this_cpu_*) print the function that made the per-CPU
// access. When that is infrastructure (the check itself, as some
// architectures print debug_smp_processor_id; a lock's slow path; the
// radix tree's preload pool), it made the access for a caller that should
// have disabled preemption: the first caller that is not infrastructure.
// Also "last function: FUNC", the work function a workqueue leaked a lock
// or atomic context from.
func (p *picker) callerLine() (choice, bool) {
	for li, l := range p.r.Lines {
		after, ok := strings.CutPrefix(strings.TrimSpace(l.Text), "caller is ")
		if !ok {
			// process_one_work's "workqueue leaked lock or atomic" names
			// the work function that returned with the lock held
			after, ok = strings.CutPrefix(strings.TrimSpace(l.Text), "last function: ")
		}
		if !ok || strings.HasSuffix(after, " [inline]") {
			continue // a symbolizer repeats the line per inlined callee: the last names the function
		}
		text, _, _ := strings.Cut(after, " ")
		fn, _, _ := strings.Cut(text, "+")
		if fn == "" || strings.HasPrefix(fn, "0x") {
			return noChoice, false
		}
		i := -1
		for k := range p.frames {
			if p.frames[k].Line == li && baseName(p.name(k)) == baseName(fn) {
				i = k
			}
		}
		if i < 0 {
			i = p.find(fn)
		}
		if NeverGuilty(fn) && i >= 0 && p.frames[i].Trace >= 0 { // riscv: "caller is debug_smp_processor_id"
			t := p.frames[i].Trace
			if c := p.first(t, position(p.trace(t), i)+1, NeverGuilty); c.index >= 0 {
				return c, true
			}
			// the dump went on after lines printed into it (another
			// message): its next frames are the check's callers
			for k := i + 1; k < len(p.frames); k++ {
				if p.frames[k].Trace > t && p.candidate(k) && !NeverGuilty(p.name(k)) {
					return choice{index: k}, true
				}
			}
		}
		if i >= 0 {
			return choice{index: i}, true
		}
		return choice{index: -1, name: fn, text: text}, true
	}
	return noChoice, false
}

// inFlightWork picks the guilty function of a workqueue lockup ("BUG:
// workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 56s!").
// Since 6.5 the kernel then shows the busy workers of the stalled pools
// ("Showing backtraces of busy workers in stalled worker pools:"): the
// work the first one runs ("Workqueue: events fn") hogs the pool. Before,
// the work first listed in flight ("in-flight: 9:fn for 58s") on the
// stuck pool ("pwq 2: cpus=0 node=0 flags=0x0 nice=0 active=20") in the
// busy workqueues it lists; the stacks printed after are other tasks'.
func (p *picker) inFlightWork() choice {
	if fn := p.stalledWorkerFunc(); fn != "" {
		return choice{index: -1, name: fn}
	}
	_, pool, ok := strings.Cut(p.r.Title, " pool ")
	if !ok {
		return noChoice
	}
	pool, _, _ = strings.Cut(pool, " stuck for") // "cpus=0 node=0 flags=0x0 nice=0"
	onPool := false
	for _, l := range p.r.Lines {
		t := strings.TrimSpace(l.Text)
		if strings.HasPrefix(t, "pwq ") {
			_, rest, _ := strings.Cut(t, ": ")
			onPool = strings.HasPrefix(rest, pool+" ")
			continue
		}
		items, ok := strings.CutPrefix(t, "in-flight: ")
		if !onPool || !ok {
			continue
		}
		item, _, _ := strings.Cut(items, " ") // "9:fn", "2820(RESCUER):fn", "9:fn,"
		if _, fn, ok := strings.Cut(strings.TrimSuffix(item, ","), ":"); ok && validWorkFunc(fn) {
			return choice{index: -1, name: fn}
		}
	}
	return noChoice
}

// stalledWorkerFunc returns the work function of the first busy worker
// shown after "Showing backtraces of busy workers in stalled worker
// pools:" ("Workqueue: wg-kex-wg0 wg_packet_handshake_receive_worker"), ""
// when the report shows none.
func (p *picker) stalledWorkerFunc() string {
	shown := false
	for _, l := range p.r.Lines {
		t := strings.TrimSpace(l.Text)
		if strings.HasPrefix(t, "Showing backtraces of busy workers in stalled") {
			shown = true
			continue
		}
		if rest, ok := strings.CutPrefix(t, "Workqueue: "); ok && shown {
			if f := strings.Fields(rest); len(f) >= 2 && validWorkFunc(f[1]) {
				return f[1]
			}
		}
	}
	return ""
}

// validWorkFunc reports whether s can be a function name printed by %ps.
func validWorkFunc(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
