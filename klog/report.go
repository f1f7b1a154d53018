package klog

import "strings"

// Report is one kernel report (an oops, a warning, a sanitizer report, a
// sysrq dump...) with everything it printed, as written.
type Report struct {
	// Kind is the kind of report.
	Kind Kind
	// Title is the message of the line that decided Kind
	// ("BUG: kernel NULL pointer dereference, address: 0000000000000000").
	Title string
	// Func is the function the report names: the one in its title line
	// ("BUG: KASAN: use-after-free in foo+0x1/0x2", "WARNING: ... at foo"),
	// or else, for faults, bugs and warnings, the function of the first
	// kernel PC frame. It is a hint; the guilty frame is for the caller to
	// choose from Frames.
	Func string
	// Lines are the lines of the report in order.
	Lines []Line
	// Header holds the task, taint, release, hardware and module facts.
	Header Header
	// Registers are the register dump pairs in order; a report may dump
	// registers more than once (kernel, then user space).
	Registers []Register
	// Frames are every frame in order, PC and LR frames included.
	Frames []Frame
	// Traces are the stack dumps of the report: "Call Trace:", each task of
	// a sysrq dump, each "-> #N" lockdep chain, KASAN allocation and free
	// stacks. Frame.Trace indexes it.
	Traces []Trace
	// Truncated reports that the report was cut at Splitter.MaxLines or
	// Splitter.MaxBytes.
	Truncated bool
	// Partial marks a copy of a report still open (Splitter.Partial): its
	// end has not been read yet.
	Partial bool
}

// Trace is one stack dump within a report.
type Trace struct {
	// Label is the message of the line before the first frame ("Call
	// Trace:", "Allocated by task 1:", "-> #1 (&mm->mmap_lock){++++}-{3:3}:",
	// "task:init state:S stack:0 pid:1 ppid:0 flags:0x00000000").
	Label string
	// Line is the index in Report.Lines of the label line, -1 when the
	// frames had no label.
	Line int
	// Task is the task of a "task:NAME state:S ... pid:N" label.
	Task *Task
}

// Task is a task described by a sysrq or hung task "task:" line.
type Task struct {
	// Comm is the task name.
	Comm string
	// State is the state letter ("R", "S", "D", "I").
	State string
	// PID is the process id, -1 when not printed.
	PID int
}

// ParseTask parses a "task:NAME state:S ... pid:N ..." line.
func ParseTask(text string) (*Task, bool) {
	t := strings.TrimLeft(text, " ")
	if !strings.HasPrefix(t, "task:") {
		return nil, false
	}
	st := strings.Index(t, " state:")
	if st < 0 {
		return nil, false
	}
	task := &Task{Comm: strings.TrimRight(t[5:st], " "), PID: -1}
	rest := t[st+7:]
	if sp := strings.IndexByte(rest, ' '); sp >= 0 {
		task.State = rest[:sp]
	} else {
		task.State = rest
	}
	if i := strings.Index(rest, " pid:"); i >= 0 {
		r := strings.TrimLeft(rest[i+5:], " ")
		if n, end := digits(r, 0); end > 0 {
			task.PID = n
		}
	}
	return task, true
}

// titleFunc returns the function a title line names, or "".
func titleFunc(k Kind, title string) string {
	switch k {
	case KindKASAN, KindKCSAN, KindKMSAN, KindKFENCE:
		if _, after, ok := strings.Cut(title, " in "); ok {
			return symbolName(after)
		}
	case KindWarning:
		return warningFunc(title)
	case KindStackProtector:
		if _, after, ok := strings.Cut(title, "corrupted in: "); ok {
			return symbolName(after)
		}
	}
	return ""
}

// warningFunc returns the function of "WARNING: CPU: 1 PID: 2 at f.c:1
// func+0x1/0x2" or "WARNING: f.c:1 at func+0x1/0x2, CPU#1: comm/2".
func warningFunc(title string) string {
	_, after, ok := strings.Cut(title, " at ")
	if !ok {
		return ""
	}
	if strings.HasPrefix(title, "WARNING: CPU:") {
		_, after, ok = strings.Cut(after, " ")
		if !ok {
			return ""
		}
	}
	if i := strings.IndexByte(after, ','); i >= 0 {
		after = after[:i]
	}
	return symbolName(after)
}

// symbolName returns the symbol name at the start of s ("foo" for
// "foo+0x1/0x2 [mod]"), or "" when s does not start with one: an address
// ("0xffff...", or "ffff88813fd05fe8" as %p prints it) is not a name.
func symbolName(s string) string {
	name, _ := cutName(s)
	if name == "" || strings.HasPrefix(name, "0x") || len(name) >= 8 && isHex(name) ||
		strings.ContainsAny(name, "/:") && !strings.HasPrefix(name, "<") {
		return ""
	}
	return name
}

// pcFuncKinds are the kinds whose Func falls back to the PC frame.
var pcFuncKinds = map[Kind]bool{
	KindOops: true, KindNullDeref: true, KindPageFault: true, KindGPF: true, KindBUG: true,
	KindWarning: true, KindRefcount: true, KindListCorruption: true, KindUsercopy: true,
	KindFortify: true, KindStackOverflow: true, KindUnknown: true, KindSoftLockup: true, KindHardLockup: true,
}

// finishFunc fills Func from the first kernel PC frame (past a
// symbolizer's "[inline]" PC lines) when the title did not name a
// function.
func (r *Report) finishFunc() {
	r.followInline()
	if r.Func != "" || !pcFuncKinds[r.Kind] {
		return
	}
	for _, f := range r.Frames {
		if f.Kind == FramePC && !f.User && !f.Inline && symbolName(f.Name) != "" {
			r.Func = f.Name
			return
		}
	}
}

// followInline moves Func past a symbolizer's inline chain in the title:
// syzkaller repeats a warning's first line once per function inlined at
// its address ("WARNING: ... at __ns_ref_put include/linux/ns_common.h:229
// [inline], CPU#0: ...", then "... at destroy_super_work+0x15c/0x1a0
// fs/super.c:280, CPU#0: ..."; older kernels print "at FILE:LINE FUNC"),
// "[inline]" on all but the last; the last is the function the kernel
// printed.
func (r *Report) followInline() {
	at := strings.Index(r.Title, " "+r.Func+" ")
	if r.Func == "" || at < 0 || !strings.Contains(r.Title[at:], " [inline]") {
		return
	}
	head := r.Title[:at+1] // the text before the function, the same on every line of the chain
	seen := false
	for _, l := range r.Lines {
		if l.Text == r.Title {
			seen = true
			continue
		}
		if !seen {
			continue
		}
		rest, ok := strings.CutPrefix(l.Text, head)
		if !ok {
			return
		}
		if name := symbolName(rest); name != "" && !strings.Contains(rest, " [inline]") {
			r.Func = name
			return
		}
	}
}
