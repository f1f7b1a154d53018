package klog

import "strings"

// Kind is the kind of a report, named after the line that starts it.
type Kind string

// The kinds of reports.
const (
	KindUnknown        Kind = ""
	KindOops           Kind = "oops"            // Oops:, invalid opcode:, Internal error:, ...
	KindNullDeref      Kind = "null-deref"      // BUG: kernel NULL pointer dereference
	KindPageFault      Kind = "page-fault"      // BUG: unable to handle page fault / paging request
	KindGPF            Kind = "gpf"             // general protection fault
	KindBUG            Kind = "bug"             // kernel BUG at file:line!
	KindWarning        Kind = "warning"         // WARNING: CPU: ... at / WARNING: file:line at
	KindKASAN          Kind = "kasan"           // BUG: KASAN:
	KindKCSAN          Kind = "kcsan"           // BUG: KCSAN:
	KindKMSAN          Kind = "kmsan"           // BUG: KMSAN:
	KindKFENCE         Kind = "kfence"          // BUG: KFENCE:
	KindUBSAN          Kind = "ubsan"           // UBSAN:
	KindRefcount       Kind = "refcount"        // refcount_t:
	KindListCorruption Kind = "list-corruption" // list_add corruption, list_del corruption
	KindSLUB           Kind = "slub"            // BUG kmalloc-64 (...): ...
	KindBadPage        Kind = "bad-page"        // BUG: Bad page state
	KindUsercopy       Kind = "usercopy"        // usercopy: Kernel memory ... attempt detected
	KindFortify        Kind = "fortify"         // detected buffer overflow in / fortify
	KindStackProtector Kind = "stack-protector" // stack-protector: Kernel stack is corrupted
	KindStackOverflow  Kind = "stack-overflow"  // kernel stack overflow, stack guard page
	KindAtomicSleep    Kind = "atomic-sleep"    // sleeping function called from invalid context
	KindSoftLockup     Kind = "soft-lockup"     // BUG: soft lockup
	KindHardLockup     Kind = "hard-lockup"     // Watchdog detected hard LOCKUP
	KindRCUStall       Kind = "rcu-stall"       // rcu: INFO: rcu_preempt detected stalls
	KindHungTask       Kind = "hung-task"       // INFO: task ... blocked for more than
	KindWQLockup       Kind = "wq-lockup"       // BUG: workqueue lockup - pool cpus=0 ... stuck for 56s!
	KindLockdep        Kind = "lockdep"         // WARNING: possible circular locking dependency ...
	KindPanic          Kind = "panic"           // Kernel panic - not syncing:
	KindSysrq          Kind = "sysrq"           // sysrq: Show State / Show Blocked State / ...
	KindKmemleak       Kind = "kmemleak"        // unreferenced object 0x... (size N):
	KindTaskStack      Kind = "task-stack"      // [<0>] do_wait+0x114/0x320: a /proc/PID/stack capture
	KindAllocFailure   Kind = "alloc-failure"   // comm: page allocation failure: order:N, ...
	KindOOM            Kind = "oom"             // comm invoked oom-killer: gfp_mask=...
)

// kindNone marks a starter for a line that looks like a report's first
// line but starts none; matchStart never returns it.
const kindNone Kind = "none"

// starter is a rule recognising the first line of a report.
type starter struct {
	prefix string // the message starts with it
	needle string // and contains it, when not empty
	kind   Kind
}

// starters are tried in order; the first match wins.
var starters = []starter{
	{"BUG: KASAN: ", "", KindKASAN},
	{"BUG: KCSAN: ", "", KindKCSAN},
	{"BUG: KMSAN: ", "", KindKMSAN},
	{"BUG: KFENCE: ", "", KindKFENCE},
	{"UBSAN: ", "", KindUBSAN},
	{"BUG: kernel NULL pointer dereference", "", KindNullDeref},
	{"BUG: unable to handle kernel NULL pointer dereference", "", KindNullDeref},
	{"Unable to handle kernel NULL pointer dereference", "", KindNullDeref},
	{"BUG: Kernel NULL pointer dereference", "", KindNullDeref}, // powerpc
	{"BUG: unable to handle ", "", KindPageFault},
	{"BUG: Unable to handle kernel ", "", KindPageFault}, // powerpc: data access, instruction fetch
	{"Unable to handle kernel ", "", KindPageFault},
	{"BUG: Bad page state", "", KindBadPage},
	{"BUG: Bad page map", "", KindBadPage},
	{"BUG: soft lockup", "", KindSoftLockup},
	{"watchdog: BUG: soft lockup", "", KindSoftLockup},
	{"NMI watchdog: BUG: soft lockup", "", KindSoftLockup}, // kernel/watchdog.c's prefix before 4.14
	{"BUG: sleeping function called from invalid context", "", KindAtomicSleep},
	{"BUG: scheduling while atomic", "", KindAtomicSleep},
	{"BUG: workqueue lockup", "", KindWQLockup},
	{"BUG: memory leak", "", KindKmemleak},
	{"BUG: stack guard page was hit", "", KindStackOverflow},
	{"BUG: ", "", KindBUG},
	{"BUG ", " (", KindSLUB},
	{"kernel BUG at ", "", KindBUG},
	{"kernel BUG ", "", KindBUG},
	{"------------[ cut here ]------------", "", KindUnknown},
	{"8<--- cut here ---", "", KindUnknown},
	{"WARNING: possible circular locking dependency", "", KindLockdep},
	{"WARNING: possible recursive locking", "", KindLockdep},
	{"WARNING: inconsistent lock state", "", KindLockdep},
	{"WARNING: bad unlock balance", "", KindLockdep},
	{"WARNING: possible irq lock inversion", "", KindLockdep},
	{"WARNING: suspicious RCU usage", "", KindLockdep},
	{"WARNING: still has locks held", "", KindLockdep},
	{"WARNING: nested lock was not taken", "", KindLockdep},
	{"WARNING: held lock freed", "", KindLockdep},
	{"WARNING: lock held when returning to user space", "", KindLockdep},
	{"WARNING: Nested lock was not taken", "", KindLockdep},
	{"WARNING: ", " still has locks held!", KindLockdep},
	{"WARNING: ", " lock order detected", KindLockdep}, // HARDIRQ-safe -> HARDIRQ-unsafe lock order detected
	// the x86 unwinders' complaints about a stack they walk (unwind_frame.c,
	// unwind_orc.c) are printk lines, not WARN(): no report starts there
	{"WARNING: kernel stack regs at ", "", kindNone},
	{"WARNING: kernel stack frame pointer at ", "", kindNone},
	{"WARNING: stack going in the wrong direction", "", kindNone},
	{"WARNING: can't access registers at ", "", kindNone},
	{"WARNING: can't dereference registers at ", "", kindNone},
	{"WARNING: ", " at ", KindWarning},
	{"refcount_t: ", "", KindRefcount},
	{"list_add corruption", "", KindListCorruption},
	{"list_del corruption", "", KindListCorruption},
	{"list_add double add", "", KindListCorruption},
	{"usercopy: ", "", KindUsercopy},
	{"detected buffer overflow in ", "", KindFortify},
	{"strcpy: detected buffer overflow", "", KindFortify},
	{"Kernel panic - not syncing: stack-protector:", "", KindStackProtector},
	{"Kernel panic - not syncing: corrupted stack end", "", KindStackOverflow},
	{"Kernel panic - not syncing: kernel stack overflow", "", KindStackOverflow},
	{"Insufficient stack space to handle exception", "", KindStackOverflow},
	{"Kernel panic - not syncing", "", KindPanic},
	{"general protection fault", "", KindGPF},
	{"segment-related general protection fault", "", KindGPF}, // x86 since 5.4: a #GP with a segment error code
	{"Oops: general protection fault", "", KindGPF},
	{"Oops: ", "", KindOops},
	{"invalid opcode: ", "", KindOops},
	{"divide error: ", "", KindOops},
	{"divide_error: ", "", KindOops},
	{"stack segment: ", "", KindOops},
	{"double fault: ", "", KindOops},
	{"PANIC: double fault", "", KindOops},
	{"traps: PANIC: double fault", "", KindOops},
	{"kernel stack overflow", "", KindStackOverflow},
	{"Internal error: ", "", KindOops},
	{"Unhandled fault", "", KindOops},
	{"Bad mode in ", "", KindOops},
	{"kernel tried to execute", "", KindPageFault},
	{"watchdog: Watchdog detected hard LOCKUP", "", KindHardLockup},
	{"NMI watchdog: Watchdog detected hard LOCKUP", "", KindHardLockup},
	{"Watchdog detected hard LOCKUP", "", KindHardLockup},
	{"INFO: rcu_", " stall", KindRCUStall},
	{"rcu: INFO: rcu_", " stall", KindRCUStall},
	{"INFO: task ", " for more than ", KindHungTask},
	{"[ BUG: ", " ]", KindLockdep},
	{"[ INFO: ", " ]", KindLockdep},
	{"INFO: possible circular locking dependency", "", KindLockdep},
	{"INFO: possible recursive locking", "", KindLockdep},
	{"INFO: inconsistent lock state", "", KindLockdep},
	{"INFO: trying to register non-static key", "", KindLockdep},
	{"sysrq: Show", "", KindSysrq},
	{"sysrq: SysRq : Show", "", KindSysrq},
	{"SysRq : Show", "", KindSysrq},
	{"unreferenced object 0x", "", KindKmemleak},
	{"[<0>] ", "+0x", KindTaskStack},
}

// startersByByte holds the starters by the first byte of their prefix.
var startersByByte = func() (idx [256][]starter) {
	for _, st := range starters {
		idx[st.prefix[0]] = append(idx[st.prefix[0]], st)
	}
	return idx
}()

// matchStart returns the kind of report text starts, and whether it starts
// one. "------------[ cut here ]------------" starts a report of unknown kind.
func matchStart(text string) (Kind, bool) {
	if text == "" {
		return KindUnknown, false
	}
	for _, st := range startersByByte[text[0]] {
		if strings.HasPrefix(text, st.prefix) && (st.needle == "" || strings.Contains(text, st.needle)) {
			if st.kind == kindNone {
				return KindUnknown, false
			}
			return st.kind, true
		}
	}
	return taskStart(text)
}

// taskStart recognizes the reports whose first line starts with the task's
// name: the allocator's warn_alloc ("syz-executor.0: page allocation
// failure: order:10, mode:...") and the OOM killer's dump_header
// ("syz-executor.3 invoked oom-killer: gfp_mask=..."). Both print the
// stack of the task whose allocation failed.
func taskStart(text string) (Kind, bool) {
	i := strings.IndexByte(text, ' ')
	if i <= 0 {
		return KindUnknown, false
	}
	rest := text[i:]
	switch {
	case text[i-1] == ':' && strings.HasPrefix(rest, " page allocation failure: order:"):
		return KindAllocFailure, true
	case strings.HasPrefix(rest, " invoked oom-killer: "):
		return KindOOM, true
	}
	return KindUnknown, false
}

// isSeparator reports whether text is a line of '=' signs that opens and
// closes sanitizer, lockdep and SLUB reports.
func isSeparator(text string) bool {
	if len(text) < 20 {
		return false
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '=' {
			return false
		}
	}
	return true
}

// closedBySeparator reports whether a report of kind k ends with a line of
// '=' signs, as sanitizer reports do.
func closedBySeparator(k Kind) bool {
	switch k {
	case KindKASAN, KindKCSAN, KindKMSAN, KindKFENCE, KindUBSAN:
		return true
	}
	return false
}

// isStackWords reports whether text is a line of an arm "Exception
// stack(0x... to 0x...)" dump: the low 16 bits of an address, a colon and
// stack words in hex ("7cc0: 80f1911c 60030013"). The interrupted stack
// follows such a dump.
func isStackWords(text string) bool {
	if len(text) < 7 || text[4] != ':' || text[5] != ' ' {
		return false
	}
	words := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case i == 4:
		case c == ' ':
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			if i > 5 && text[i-1] == ' ' {
				words++
			}
		default:
			return false
		}
	}
	return words > 0
}
