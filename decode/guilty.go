package decode

import (
	"slices"
	"strings"

	"github.com/ksym-dev/ksym/klog"
)

// choice is the guilty function of a report: a frame, or a function that a
// line of the report names without a frame of its own (the KASAN title of a
// report whose stack was cut, a lockdep "at:" line).
type choice struct {
	index int    // into the frames, -1 when none or named by a line
	name  string // the function, when index < 0
	text  string // the function as the line prints it, when index < 0
}

// noChoice is a report without a guilty function.
var noChoice = choice{index: -1}

// picker holds a report and its decoded frames (one for one with
// Report.Frames) while the guilty function is chosen.
type picker struct {
	r      *klog.Report
	frames []Frame
}

// chooseGuilty picks the guilty function of r by the rules of its kind
// (docs/decode.md, "Guilty frame"). Infrastructure is skipped towards the
// callers; when a report offers no caller that is not infrastructure, the
// arch's fault handling, then a helper (a list, string, work or entry
// function) is named rather than nothing, but never the detector that
// printed the report.
func chooseGuilty(r *klog.Report, frames []Frame) choice {
	p := &picker{r: r, frames: frames}
	switch r.Kind {
	case klog.KindSysrq:
		return noChoice
	case klog.KindLockdep:
		return p.lockdep()
	case klog.KindHungTask, klog.KindTaskStack:
		if c := p.first(p.mainTrace(), 0, notGracePeriodWait); c.index >= 0 {
			return c
		}
		wrappers := p.lockWrappers(p.mainTrace())
		waits := func(name string) bool { return waitPrimitive(name) || wrappers[baseName(name)] }
		for _, skip := range []func(string) bool{waits, NeverGuilty, p.deliversOnly} {
			if c := p.first(p.mainTrace(), 0, skip); c.index >= 0 {
				return p.fold(c) // a task that only waits (in wait4) waits in the first function that is not infrastructure
			}
		}
		return noChoice
	case klog.KindWQLockup:
		return p.inFlightWork()
	case klog.KindRCUStall, klog.KindStackOverflow:
		return p.stall()
	case klog.KindSoftLockup:
		if c, ok := p.softLockup(); ok {
			return c
		}
	case klog.KindKCSAN:
		if c, ok := p.racing(); ok {
			return c
		}
	case klog.KindStackProtector:
		if c, ok := p.titleFrame(); ok {
			return c
		}
	case klog.KindKmemleak, klog.KindBadPage:
		if t := p.allocationTrace(); t >= 0 {
			return p.first(t, 0, allocHelper)
		}
	case klog.KindAllocFailure, klog.KindOOM:
		// the stack is the failed allocation's: its requester asked
		if c := p.first(p.mainTrace(), 0, allocHelper); c.index >= 0 {
			return c
		}
	}
	if c, ok := p.callerLine(); ok {
		return c
	}
	if r.Kind == klog.KindKMSAN {
		// the first stack is the use of the uninit value; before 5.x the
		// title line could name that function's caller
		if c := p.first(p.mainTrace(), 0, NeverGuilty); c.index >= 0 {
			return c
		}
	}
	if c, ok := p.named(); ok {
		return c
	}
	if c := p.first(p.mainTrace(), 0, NeverGuilty); c.index >= 0 {
		return c
	}
	if c := p.linkRegister(); c.index >= 0 {
		return c
	}
	if c := p.first(p.mainTrace(), 0, p.helper); c.index >= 0 {
		return c
	}
	if c := p.first(p.mainTrace(), 0, p.deliversOnly); c.index >= 0 {
		return c
	}
	return p.first(p.mainTrace(), 0, p.detects)
}

// detects reports whether a function detected or reported the bug of
// this report: reporting, unwinding and sanitizer code and section labels
// always; lockdep only in lockdep's reports, and the scheduler's waits
// and sleep checks only in reports of sleeping or waiting (an atomic
// sleep, a hung task, a stall or lockup). A fault or a warning in lockdep
// or in the scheduler is their code failing, not their report.
func (p *picker) detects(name string) bool {
	switch infraGroup(name) {
	case "lockdep":
		return p.r.Kind == klog.KindLockdep
	case "scheduler":
		switch p.r.Kind {
		case klog.KindAtomicSleep, klog.KindHungTask, klog.KindTaskStack, klog.KindRCUStall,
			klog.KindSoftLockup, klog.KindHardLockup, klog.KindSysrq, klog.KindWQLockup:
			return true
		}
		return false
	}
	return detector(name)
}

// helper reports whether a function works on behalf of its caller or
// detected the report: infrastructure other than the arch code that does
// work of its own, the page fault handlers (do_page_fault finds the VMA
// under the mmap lock) and the return-to-user work loop (signals,
// rescheduling). With nothing else in the stack, that code is named
// before the helpers it called; the stubs that only pass control
// (ret_from_fork, entry_SYSCALL_64, do_syscall_64) are not.
func (p *picker) helper(name string) bool {
	if n := baseName(name); infraGroup(n) == "entry" && (strings.Contains(n, "fault") || strings.Contains(n, "exit_to_user")) {
		return false
	}
	return p.detects(name) || NeverGuilty(name)
}

// deliversOnly reports whether a function detected or reported the bug of
// this report (see detects), or only delivers control to the code that
// failed: arch entry, trap and interrupt code, thunks.
func (p *picker) deliversOnly(name string) bool {
	return p.detects(name) || infraGroup(name) == "entry"
}

// linkRegister returns the LR frame (arm64 "lr :", arm "LR is at") when it
// names a function that is not infrastructure: when neither the PC nor a
// stack names one (a jump to a bad pointer), the caller that jumped is the
// one left.
func (p *picker) linkRegister() choice {
	for i := range p.frames {
		if p.frames[i].Kind == klog.FrameLR && p.candidate(i) && !NeverGuilty(p.name(i)) {
			return choice{index: i}
		}
	}
	return noChoice
}

// name returns the function of frame i, "" for a frame that names none.
func (p *picker) name(i int) string {
	f := &p.frames[i]
	if f.Status == StatusUser || f.Status == StatusHashed || f.Status == StatusNull {
		return ""
	}
	n := funcName(f)
	if strings.HasPrefix(n, "0x") {
		return ""
	}
	return n
}

// candidate reports whether frame i may be guilty: reliable, a kernel
// function with a name, and a real symbol rather than a symbolizer's
// "[inline]" annotation (the frame that follows it is the symbol).
func (p *picker) candidate(i int) bool {
	return p.frames[i].Reliable && !p.r.Frames[i].Inline && p.name(i) != ""
}

// trace returns the indexes of the frames of trace t in order; t == -1
// gives the frames outside any trace (PC and LR lines).
func (p *picker) trace(t int) []int {
	var out []int
	for i := range p.frames {
		if p.frames[i].Trace == t {
			out = append(out, i)
		}
	}
	return out
}

// first returns the first candidate frame of trace t, from its from-th
// frame on, that skip does not reject. The search stops at the end of the
// context the from-th frame runs in (an interrupt entry, a change of
// <IRQ>/<TASK> context): the frames after it are interrupted code, not
// callers.
func (p *picker) first(t, from int, skip func(string) bool) choice {
	idx := p.trace(t)
	if from > len(idx) {
		return noChoice
	}
	ctx := ""
	for k, i := range idx[from:] {
		if k == 0 {
			ctx = p.frames[i].Context
		} else if p.frames[i].Context != ctx {
			return noChoice
		}
		if p.candidate(i) && !skip(p.name(i)) {
			return choice{index: i}
		}
		if irqEntry(p.name(i)) {
			return noChoice
		}
	}
	return noChoice
}

// annotation reports whether trace t is a one-line statement rather than
// a stack: "Preemption disabled at:", "... is trying to release lock at:",
// a held lock's "at:", a lone frame.
func (p *picker) annotation(t int) bool {
	label := strings.TrimSpace(p.r.Traces[t].Label)
	if strings.HasSuffix(label, "at:") {
		return true
	}
	n := 0
	for _, i := range p.trace(t) {
		if p.candidate(i) {
			n++
		}
	}
	return n < 2
}

// mainTrace returns the report's stack: its first trace that is not an
// annotation (or the first trace), -1 when the report has none.
func (p *picker) mainTrace() int {
	for t := range p.r.Traces {
		if !p.annotation(t) {
			return t
		}
	}
	if len(p.r.Traces) > 0 {
		return 0
	}
	return -1
}

// named picks the function the report's first line or PC names (klog's
// Report.Func: "BUG: KASAN: ... in FUNC", "WARNING: ... at FUNC", the RIP
// of an oops). When that function is infrastructure (memcpy,
// refcount_warn_saturate, debug_print_object), the guilty frame is the
// first caller after it, in its context, that is not; without such a
// caller, the function itself unless it is a detector.
func (p *picker) named() (choice, bool) {
	fn := p.r.Func
	if fn == "" {
		return noChoice, false
	}
	i := p.find(fn)
	self := choice{index: i}
	if i < 0 {
		self = choice{index: -1, name: fn, text: printedAfter(p.r.Title, fn)}
	}
	if !NeverGuilty(fn) {
		return self, true
	}
	t, from := p.mainTrace(), 0
	if i >= 0 && p.frames[i].Trace >= 0 {
		t = p.frames[i].Trace
		from = position(p.trace(t), i) + 1
	}
	for _, skip := range []func(string) bool{NeverGuilty, p.deliversOnly, p.detects} {
		if !skip(fn) {
			return self, true
		}
		if c := p.first(t, from, skip); c.index >= 0 {
			return c, true
		}
	}
	return noChoice, false
}

// lockWrappers returns the lock wrappers of trace t: the functions that
// the kernel names for a lock they take (console_lock, super_lock,
// tty_buffer_lock_exclusive: "lock" is a word of the name) and that call
// a lock primitive directly. A task hung in one waits for the lock like
// one hung in mutex_lock: its caller is where it waits. rtnl_lock is not
// one: a hang behind the RTNL is the networking configuration lock's, one
// bucket for every caller, as the grace-period waits are (see
// notGracePeriodWait).
func (p *picker) lockWrappers(t int) map[string]bool {
	out := map[string]bool{}
	callee := ""
	for _, i := range p.trace(t) {
		if !p.candidate(i) {
			continue
		}
		name := baseName(p.name(i))
		if infraGroup(callee) == "locking" && name != "rtnl_lock" && slices.Contains(strings.Split(name, "_"), "lock") {
			out[name] = true
		}
		callee = name
	}
	return out
}

// find returns the frame named fn (compiler suffixes aside): a PC frame
// first, then the first reliable frame, then any; -1 when none.
func (p *picker) find(fn string) int {
	best, rank := -1, 3
	for i := range p.frames {
		if baseName(p.name(i)) != baseName(fn) || p.r.Frames[i].Inline {
			continue
		}
		r := 2
		switch {
		case p.frames[i].Kind == klog.FramePC:
			r = 0
		case p.frames[i].Reliable:
			r = 1
		}
		if r < rank {
			best, rank = i, r
		}
	}
	return best
}

// position returns the position of i in idx, -1 when absent.
func position(idx []int, i int) int {
	for k, j := range idx {
		if j == i {
			return k
		}
	}
	return -1
}

// printedAfter returns the word of line that starts with fn
// ("sg_read+0xe5c/0x1440"), or fn.
func printedAfter(line, fn string) string {
	i := strings.Index(line, fn)
	if i < 0 {
		return fn
	}
	w := line[i:]
	if j := strings.IndexAny(w, " ,"); j >= 0 {
		w = w[:j]
	}
	return w
}

// fold replaces a helper by the function of the same name that called it
// (do_read_cache_folio called by read_cache_folio): the helper is how the
// caller is implemented.
func (p *picker) fold(c choice) choice {
	for c.index >= 0 {
		idx := p.trace(p.frames[c.index].Trace)
		k := position(idx, c.index)
		next := -1
		for _, j := range idx[k+1:] {
			if p.candidate(j) {
				next = j
				break
			}
		}
		if next < 0 {
			return c
		}
		helper, caller := baseName(p.name(c.index)), baseName(p.name(next))
		if helper != "do_"+caller && helper != "__"+caller {
			return c
		}
		c = choice{index: next}
	}
	return c
}

// allocationTrace returns the allocation stack of a kmemleak report
// ("backtrace:") or of a bad page's owner ("page last allocated via ..."),
// -1 when the report has none.
func (p *picker) allocationTrace() int {
	for t, tr := range p.r.Traces {
		l := strings.TrimSpace(tr.Label)
		if strings.HasPrefix(l, "backtrace") || strings.HasPrefix(l, "page last allocated") {
			return t
		}
	}
	return -1
}
