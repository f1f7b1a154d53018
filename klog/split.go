package klog

import (
	"strings"
)

// DefaultMaxLines is the number of lines after which a report is cut when
// Splitter.MaxLines is zero.
const DefaultMaxLines = 100000

// DefaultMaxBytes is the size of its lines (Line.Raw) after which a report
// is cut when Splitter.MaxBytes is zero: with lines up to MaxLineLength,
// MaxLines alone would let one report that never ends hold gigabytes.
const DefaultMaxBytes = 16 << 20

// Splitter cuts a stream of lines into reports. Feed it lines with Push and
// call Flush at the end of input until it returns nil; memory is bounded by
// the open reports. The zero value is ready to use.
//
// When lines carry printk caller ids ("[ T1234]"), reports printed at the
// same time by different tasks are told apart: each task's lines go to its
// own report. A report is then emitted when it ends, which may be after a
// report that started later. Lines of CPU callers ("[  C1]") and lines
// without an id go to the report that took the previous line.
type Splitter struct {
	// MaxLines cuts a report (marking it Truncated) after that many lines;
	// DefaultMaxLines when zero.
	MaxLines int
	// MaxBytes cuts a report (marking it Truncated) once its lines hold
	// that many bytes; DefaultMaxBytes when zero.
	MaxBytes int

	streams []*stream // open reports, at most one per task caller id
	pushed  int       // lines pushed so far
	recent  *stream   // the stream that took the last line
	// spare holds removed streams for reuse, with their buffers: a stream
	// is removed after every report and after every line outside one.
	spare []*stream
}

// MaxInterleaved is the number of reports of different tasks a Splitter
// keeps open at once; a further one closes the oldest.
const MaxInterleaved = 8

// IdleLines closes a report of a task that printed nothing for that many
// lines while another task's report went on: interleaved reports alternate
// closely, and a finished report must not wait for the end of input.
const IdleLines = 1000

// stream cuts the lines of one caller into reports.
type stream struct {
	max      int // line limit of a report
	maxBytes int // byte limit of a report
	bytes    int // bytes of the lines of the current report
	last     int // Splitter.pushed when the stream last took a line
	// stale: the report printed its end marker and another task began a
	// report: close it.
	stale bool

	// splitTask is an "INFO: task NAME" line that opened no report: a
	// task's name (comm) may hold a newline, which splits "INFO: task
	// NAME:PID blocked for more than N seconds." in two lines.
	splitTask *Line

	cur        *Report
	ctx        []string   // open <IRQ>/<NMI>/<TASK> markers
	traceOpen  bool       // the previous line continued a stack dump
	strays     int        // lines of other output left out of the report's stack dumps
	label      int        // index of the last line that may label a trace, -1
	ended      bool       // "---[ end trace" seen: close at the next unrelated line
	backtraced bool       // lockdep "stack backtrace:" seen
	sawCPU     bool       // a "CPU: " line seen
	traced     int        // call trace frames seen
	task       int        // index of a "task:" line not yet given to a trace, -1
	caller     string     // printk caller id of the report's first line
	timed      bool       // the report's first line has a timestamp
	buf        []Frame    // frames of the line being pushed
	regs       []Register // registers of the line being pushed
	lines      []Line     // lines of the current report, reused
	frames     []Frame    // frames of the current report, reused
}

// Push adds the next line and returns a report that ended, or nil. A
// returned report no longer changes. Usually the report is the one this line
// ended; with interleaved reports of several tasks, it may be another task's
// report that was found finished (see IdleLines).
func (sp *Splitter) Push(l Line) *Report {
	sp.pushed++
	var done *Report
	if st := sp.route(l); st != nil {
		st.last, sp.recent = sp.pushed, st
		done = st.push(l)
		if st.cur == nil && st.splitTask == nil {
			sp.remove(st)
		}
	}
	if done == nil {
		done = sp.evict()
	}
	return done
}

// route returns the stream for l, opening one when l may begin a report,
// or nil when l belongs to no report. A line goes to the open report of its
// caller; another task's line that begins a report opens a new stream, and
// its other lines are left out. Lines of CPU callers and lines without a
// caller id go to the stream of the previous line.
func (sp *Splitter) route(l Line) *stream {
	if l.Caller != "" {
		for _, st := range sp.streams {
			if st.caller == l.Caller {
				return st
			}
		}
	}
	if isTask(l.Caller) && sp.recent != nil && sp.recent.caller != "" {
		if !beginsReport(l.Text) {
			return nil
		}
		return sp.open()
	}
	if sp.recent != nil {
		return sp.recent
	}
	return sp.open()
}

// isTask reports whether a caller id is a task's ("T1234").
func isTask(caller string) bool { return caller != "" && caller[0] == 'T' }

// beginsReport reports whether a line opens a report.
func beginsReport(t string) bool {
	_, start := matchStart(t)
	return start || isSeparator(t)
}

// open adds a stream. The open reports that printed their end marker are
// then closed (at the next Push), and beyond MaxInterleaved the oldest.
func (sp *Splitter) open() *stream {
	for _, st := range sp.streams {
		st.stale = st.stale || st.ended
	}
	var st *stream
	if n := len(sp.spare); n > 0 {
		st, sp.spare = sp.spare[n-1], sp.spare[:n-1]
	} else {
		st = &stream{}
	}
	*st = stream{max: sp.MaxLines, maxBytes: sp.MaxBytes, ctx: st.ctx[:0], buf: st.buf[:0], regs: st.regs[:0],
		lines: st.lines[:0], frames: st.frames[:0]}
	sp.streams = append(sp.streams, st)
	return st
}

// remove forgets a stream whose report ended, keeping it for reuse: the
// caller may still finish its report, but must do so before the next open.
func (sp *Splitter) remove(st *stream) {
	for i, o := range sp.streams {
		if o == st {
			sp.streams = append(sp.streams[:i], sp.streams[i+1:]...)
			if len(sp.spare) < MaxInterleaved {
				sp.spare = append(sp.spare, st)
			}
			break
		}
	}
	if sp.recent == st {
		sp.recent = nil
	}
}

// evict closes one report, other than the one that took the last line,
// that is stale, idle for IdleLines, or the oldest beyond MaxInterleaved,
// and returns it (nil when it had no title yet).
func (sp *Splitter) evict() *Report {
	for _, st := range sp.streams {
		idle := sp.pushed-st.last >= IdleLines
		if st != sp.recent && (st.stale || idle || len(sp.streams) > MaxInterleaved) {
			sp.remove(st)
			if st.cur == nil {
				return nil
			}
			return st.finish()
		}
	}
	return nil
}

// Oldest returns the number (Line.Num) of the first line of the oldest
// report still open (or of a line that may still begin one), or 0 when
// none is: the lines before it belong to no report that may still be
// emitted.
func (sp *Splitter) Oldest() int {
	oldest := 0
	for _, st := range sp.streams {
		if st.cur != nil && len(st.lines) > 0 && (oldest == 0 || st.lines[0].Num < oldest) {
			oldest = st.lines[0].Num
		}
		if st.splitTask != nil && (oldest == 0 || st.splitTask.Num < oldest) {
			oldest = st.splitTask.Num // it may still begin a report
		}
	}
	return oldest
}

// Flush returns a report still open at the end of input, or nil when none
// is left: call it until it returns nil.
func (sp *Splitter) Flush() *Report {
	for len(sp.streams) > 0 {
		st := sp.streams[0]
		sp.remove(st)
		if st.cur == nil {
			continue
		}
		if r := st.finish(); r != nil {
			return r
		}
	}
	return nil
}

// push adds the next line of this stream and returns the report that this
// line ended, or nil.
func (s *stream) push(l Line) *Report {
	kind, start := matchStart(l.Text)
	if s.cur == nil {
		if first := s.splitTask; first != nil {
			s.splitTask = nil
			if !start && strings.Contains(l.Text, " blocked for more than ") {
				s.begin(*first, KindHungTask, true)
				s.add(l)
				return nil
			}
		}
		if !start && strings.HasPrefix(l.Text, "INFO: task ") {
			s.splitTask, s.caller = &l, l.Caller // a task name holding a newline: the line may go on in the next
			return nil
		}
		if start || isSeparator(l.Text) {
			s.begin(l, kind, start)
		}
		return nil
	}
	if start && kind == KindTaskStack && s.cur.Kind == KindTaskStack {
		start = false // the next entry of a /proc/PID/stack capture
	}
	if !start && s.interleaved(l) {
		return nil
	}
	s.buf = ParseFrames(l.Text, s.buf[:0])
	s.regs = s.regs[:0]
	if len(s.buf) == 0 && mayBeRegisters(l.Text) {
		s.regs = parseRegisters(l.Text, 0, s.regs)
	}
	if !start && s.stray(l) {
		return nil
	}
	if start && s.absorbs(kind) {
		s.refine(l, kind)
		s.add(l)
		return nil
	}
	if done, consumed := s.closes(l, start); consumed {
		return done
	}
	s.add(l)
	if len(s.lines) >= s.maxLines() || s.bytes >= s.maxSize() {
		s.cur.Truncated = true
		return s.finish()
	}
	return nil
}

// interleaved reports whether l is console output of another program: a
// line without any printk prefix inside a report whose lines have one, left
// out until the report printed its end marker. (Lines of other tasks never
// reach the stream: Splitter.route gives them their own.)
func (s *stream) interleaved(l Line) bool {
	return s.timed && !s.ended && l.Time == "" && l.Date == "" && l.Seq < 0 && l.Level < 0
}

// maxStrays is how many lines of other output a report's stack dumps may
// hold: a kernel without printk caller ids lets other CPUs' messages
// ("audit: ...", a driver's warning) land between the frames of a dump. A
// report with more is not one dump with a few strays but several reports
// printed into each other; it ends as before, at the first such line.
const maxStrays = 2

// stray reports whether l is another message printed into an open stack
// dump, left out of the report: a line that is no frame, register or
// report text while the previous line continued the dump.
func (s *stream) stray(l Line) bool {
	if !s.traceOpen || s.ended || s.strays >= maxStrays || len(s.buf) > 0 || len(s.regs) > 0 ||
		isBody(l.Text) || isSeparator(l.Text) {
		return false
	}
	s.strays++
	return true
}

// closes ends the current report when l does not belong to it, starting
// the next report when l begins one. It returns the ended report (or nil)
// and whether it dealt with l.
func (s *stream) closes(l Line, start bool) (*Report, bool) {
	t := l.Text
	cur := s.cur
	switch {
	case isSeparator(t) && closedBySeparator(cur.Kind) && cur.Title != "",
		strings.HasPrefix(t, "---[ end Kernel panic"):
		s.add(l)
		return s.finish(), true
	case start, isSeparator(t):
		done := s.finish()
		kind, _ := matchStart(t)
		s.begin(l, kind, start)
		return done, true
	case cur.Title == "" && len(s.lines) >= 4:
		s.cur = nil // an opening line that no report followed
		return nil, true
	case s.ended && !afterEnd(t) && !s.frameOrRegs(t), s.loose() && !s.frameOrRegs(t) && !isBody(t):
		return s.finish(), true
	}
	if strings.HasPrefix(t, "---[ end trace") {
		s.ended = true
	}
	return nil, false
}

// loose reports whether the current report ends at the first line that
// does not look like part of a report.
func (s *stream) loose() bool {
	cur := s.cur
	switch {
	case s.traced == 0 || closedBySeparator(cur.Kind):
		return false
	case cur.Kind == KindLockdep:
		return s.backtraced
	case cur.Kind == KindSLUB:
		return s.sawCPU
	}
	return true
}

// absorbs reports whether a line that starts a report of kind k belongs to
// the current report instead: a panic that follows it, or the next line
// of a report that has not dumped a stack yet.
func (s *stream) absorbs(k Kind) bool {
	cur := s.cur
	if k == KindPanic || k == KindStackProtector {
		return !s.ended || cur.Header.Panic == ""
	}
	if cur.Kind == KindKmemleak && k != KindKmemleak {
		return false
	}
	return s.traced == 0 && !s.ended && cur.Kind != KindSysrq
}

// refine lets an absorbed start line decide the kind of a report whose
// kind is not known yet or only generic.
func (s *stream) refine(l Line, k Kind) {
	cur := s.cur
	if k == KindUnknown {
		return
	}
	if cur.Kind == KindUnknown || cur.Kind == KindOops && k != KindPanic {
		cur.Kind, cur.Title = k, l.Text
		cur.Func = titleFunc(k, l.Text)
	}
	if cur.Func == "" {
		cur.Func = titleFunc(k, l.Text)
	}
}

// begin opens a report with l as its first line.
func (s *stream) begin(l Line, k Kind, start bool) {
	s.cur = &Report{Kind: k, Header: newHeader()}
	s.caller, s.timed = l.Caller, l.Time != ""
	s.lines, s.frames, s.bytes = s.lines[:0], s.frames[:0], 0
	s.buf, s.regs = ParseFrames(l.Text, s.buf[:0]), s.regs[:0]
	if start && (k != KindUnknown) {
		s.cur.Title = l.Text
		s.cur.Func = titleFunc(k, l.Text)
	}
	s.ctx, s.traceOpen, s.label, s.ended, s.backtraced, s.sawCPU, s.traced, s.task, s.strays = s.ctx[:0], false, -1, false, false, false, 0, -1, 0
	s.add(l)
}

// finish closes the current report and returns it, or nil when it never
// got a kind.
func (s *stream) finish() *Report {
	r := s.cur
	s.cur = nil
	if r.Title == "" {
		return nil
	}
	r.Lines = make([]Line, len(s.lines))
	copy(r.Lines, s.lines)
	if len(s.frames) > 0 {
		r.Frames = make([]Frame, len(s.frames))
		copy(r.Frames, s.frames)
	}
	r.finishFunc()
	return r
}

// maxLines returns the effective line limit.
func (s *stream) maxLines() int {
	if s.max > 0 {
		return s.max
	}
	return DefaultMaxLines
}

// maxSize returns the effective byte limit.
func (s *stream) maxSize() int {
	if s.maxBytes > 0 {
		return s.maxBytes
	}
	return DefaultMaxBytes
}

// add appends l to the current report and records what it states.
func (s *stream) add(l Line) {
	r := s.cur
	idx := len(s.lines)
	s.lines = append(s.lines, l)
	s.bytes += len(l.Raw)
	t := l.Text
	if s.marker(t) {
		return
	}
	if s.addFrames(idx) {
		return
	}
	if len(s.regs) > 0 {
		for _, reg := range s.regs {
			reg.Line = idx
			r.Registers = append(r.Registers, reg)
		}
		return
	}
	if strings.HasPrefix(t, "Code: ") {
		return
	}
	s.traceOpen = false
	if r.Header.parseHeaderLine(t) {
		s.sawCPU = s.sawCPU || strings.HasPrefix(t, "CPU: ")
		return
	}
	s.backtraced = s.backtraced || t == "stack backtrace:"
	if strings.HasPrefix(t, "task:") {
		s.task = idx
	}
	if strings.TrimSpace(t) != "" {
		s.label = idx
	}
}

// marker handles the <TASK>, <IRQ>, <NMI>, <SOFTIRQ>, <EOI> lines, and
// reports whether the line held nothing else: old kernels print the first
// frame of the context on the marker's line ("<IRQ>  [<ffffffff816ecb37>]
// _sched_show_task+0x31a/0x325").
func (s *stream) marker(t string) bool {
	name, rest, ok := leadingMarker(strings.TrimSpace(t))
	if !ok {
		return false
	}
	s.ensureTrace(len(s.lines) - 1)
	s.context(name)
	return rest == ""
}

// leadingMarker splits a line that starts with a context marker into the
// marker's name ("IRQ", "/IRQ", "EOI") and the rest of the line.
func leadingMarker(m string) (name, rest string, ok bool) {
	if len(m) < 3 || m[0] != '<' {
		return "", "", false
	}
	end := strings.IndexByte(m, '>')
	if end < 0 {
		return "", "", false
	}
	name = m[1:end]
	open := name == "TASK" || name == "IRQ" || name == "NMI" || name == "SOFTIRQ" || name == "#DF" || name == "#MC" || name == "#DB"
	if !open && name != "EOI" && !strings.HasPrefix(name, "/") {
		return "", "", false
	}
	return name, strings.TrimSpace(m[end+1:]), true
}

// context applies the marker name to the context stack.
func (s *stream) context(name string) {
	open := name != "EOI" && !strings.HasPrefix(name, "/")
	switch {
	case name == "EOI":
		s.pop("IRQ")
	case open:
		s.ctx = append(s.ctx, name)
	default:
		s.pop(name[1:])
	}
}

// pop closes the innermost context marker named name.
func (s *stream) pop(name string) {
	for i := len(s.ctx) - 1; i >= 0; i-- {
		if s.ctx[i] == name {
			s.ctx = s.ctx[:i]
			return
		}
	}
}

// addFrames records the frames of line idx (in s.buf), reporting whether it had any.
func (s *stream) addFrames(idx int) bool {
	if len(s.buf) == 0 {
		return false
	}
	r := s.cur
	for _, f := range s.buf {
		f.Line = idx
		if f.Kind == FrameTrace && strings.Contains(s.lines[idx].Text, "stack is corrupted in: ") {
			s.frames = append(s.frames, f) // the stack protector's function, not a trace entry
			continue
		}
		if f.Kind == FrameTrace {
			s.ensureTrace(idx)
			s.traced++
		}
		if s.traceOpen {
			f.Trace = len(r.Traces) - 1
			if len(s.ctx) > 0 {
				f.Context = s.ctx[len(s.ctx)-1]
			}
		}
		s.frames = append(s.frames, f)
	}
	return true
}

// ensureTrace opens a trace, labelled by the last label line, unless one is
// open.
func (s *stream) ensureTrace(idx int) {
	if s.traceOpen {
		return
	}
	r := s.cur
	tr := Trace{Line: s.label}
	if s.label >= 0 && s.label < idx {
		tr.Label = s.lines[s.label].Text
	} else {
		tr.Line = -1
	}
	if s.task >= 0 {
		tr.Task, _ = ParseTask(s.lines[s.task].Text)
		s.task = -1
	}
	if tr.Line < 0 || len(r.Traces) == 0 || r.Traces[len(r.Traces)-1].Line != tr.Line {
		r.Traces = append(r.Traces, tr)
		s.ctx = s.ctx[:0]
	}
	s.traceOpen = true
}

// afterEnd reports whether t may follow "---[ end trace" in the same
// report: the panic that the oops caused.
func afterEnd(t string) bool {
	for _, p := range []string{"Kernel panic", "Kernel Offset", "Rebooting in", "---[ end", "Shutting down cpus",
		"SMP: stopping", "note: ", "Fixing recursive fault", "Dumping ftrace"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// bodyPrefixes start lines that belong to a report after its stack dump.
var bodyPrefixes = []string{"Code: ", "---", "Kernel ", "Rebooting in", "Call Trace", "Call trace", "Backtrace:",
	"task:", "NMI backtrace", "Sending NMI", "Exception stack", "Stack:", "Instruction dump:", "stack backtrace:",
	"Shutting down cpus", "SMP: stopping", "note: ", "Fixing recursive fault", "irq event stamp", "hardirqs last",
	"softirqs last", "Dumping ftrace", "Modules linked in", "CPU: ", "Hardware name", "Workqueue:", "Tainted:",
	"Allocated by", "Freed by", "Showing", "INFO: lockdep", "Disabling lock debugging", "Mem abort info", "Data abort info",
	"Last potentially", "Second to last", "The buggy address", "Memory state", "page", "raw: ", "flags:", "Uninit was",
	"Local variable", "Bytes ", "Memory access", "Corrupted memory", "Object ", "Redzone ", "Padding ", "Slab ",
	"Disabling lock", "Unwind", "Stopper:", "Process ", "Function entered", "LR", "NIP", "REGS:", "MSR:", "GPR", "CFAR:",
	"IRQMASK:", "status:", "badaddr:", "cause:", "pstate:", "ESR", "EC ", "IL ", "SET ", "FSC", "CM ", "WnR", "ISV",
	"user pgtable", "swapper pgtable", "#PF:", "PGD ", "BUG: ", "FIX ", "INFO: ", "rcu: ", "Task dump for CPU"}

// isBody reports whether t looks like part of a report: indented text,
// markers and the lines reports print.
func isBody(t string) bool {
	if t == "" || t[0] == ' ' || t[0] == '\t' || t[0] == '<' || t[0] == '[' || t[0] == '(' {
		return true
	}
	for _, p := range bodyPrefixes {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return isStackWords(t)
}

// frameOrRegs reports whether the line being pushed, whose text is t,
// holds frames, registers or code bytes.
func (s *stream) frameOrRegs(t string) bool {
	return len(s.buf) > 0 || len(s.regs) > 0 || strings.HasPrefix(t, "Code: ")
}

// mayBeRegisters is a fast check that t can be a register dump line: a
// short name followed by a colon near its start.
func mayBeRegisters(t string) bool {
	t = strings.TrimLeft(t, " ")
	if len(t) > 10 {
		t = t[:10]
	}
	return strings.IndexByte(t, ':') > 0
}
