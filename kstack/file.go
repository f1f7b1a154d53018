package kstack

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/klog"
)

// File is what ReadFile found in a file.
type File struct {
	// Stacks are the task stacks and leaks, in the order of the file.
	Stacks []Stack
	// Used counts the reports stacks were taken from, by kind ("sysrq",
	// "hung-task", "kmemleak"), and "capture" for /proc/PID/stack captures.
	Used map[string]int
	// Ignored counts the reports of other kinds (oops, warnings...), whose
	// stacks say where something failed, not where tasks wait.
	Ignored map[string]int
}

// maxLine is the longest line ReadFile reads; longer lines are cut.
const maxLine = 64 << 10

// ReadFile reads the stacks of a file: /proc/PID/stack captures (see
// ParseFrameLine for their layouts) and kernel log text with sysrq-t and
// sysrq-w dumps, hung task reports and kmemleak reports, in any mix.
// name is used in Stack.Source. It fails only when r fails.
//
// Frames are taken as the kernel printed them. Left out: "? " frames (stale
// return addresses the unwinder cannot vouch for, which differ between
// tasks waiting in the same place), frames a symbolizer added ("[inline]"
// lines: the kernel did not print them), user space PCs, and the end
// marker of older kernels.
func ReadFile(r io.Reader, name string) (*File, error) {
	f := &File{Used: map[string]int{}, Ignored: map[string]int{}}
	caps := &captures{source: name}
	var sp klog.Splitter
	emit := func(rep *klog.Report) {
		if rep != nil {
			f.report(rep, name)
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for num := 1; ; num++ {
		raw, err := readLine(br)
		if err != nil && (raw == "" || !errors.Is(err, io.EOF)) {
			if !errors.Is(err, io.EOF) {
				return nil, err
			}
			break
		}
		if caps.line(raw, num) {
			continue
		}
		l := klog.ParseLine(raw)
		l.Num = num
		emit(sp.Push(l))
	}
	caps.end()
	for rep := sp.Flush(); rep != nil; rep = sp.Flush() {
		emit(rep)
	}
	if len(caps.stacks) > 0 {
		f.Used["capture"] += len(caps.stacks)
		f.Stacks = append(f.Stacks, caps.stacks...)
	}
	return f, nil
}

// readLine reads one line without its terminator, cut at maxLine.
func readLine(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		chunk, err := br.ReadSlice('\n')
		if sb.Len() < maxLine {
			sb.Write(chunk[:min(len(chunk), maxLine-sb.Len())])
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		s := strings.TrimSuffix(sb.String(), "\n")
		return strings.TrimSuffix(s, "\r"), err
	}
}

// report takes the stacks of one kernel report.
func (f *File) report(rep *klog.Report, name string) {
	var got []Stack
	switch rep.Kind {
	case klog.KindSysrq, klog.KindHungTask:
		got = taskStacks(rep, name)
	case klog.KindKmemleak:
		got = leakStacks(rep, name)
	}
	if len(got) == 0 {
		f.Ignored[string(rep.Kind)]++
		return
	}
	f.Used[string(rep.Kind)]++
	f.Stacks = append(f.Stacks, got...)
}

// taskStacks returns the stacks of the tasks a sysrq or hung task report
// printed: each trace under a "task:" line. A trace without one is a CPU's
// backtrace (sysrq-l, NMI backtraces after a hung task), not a task's,
// except in a hung task report of an older kernel, which prints the task as
// "comm            D22600  3563      2 0x80000000" (sched_show_task: the
// name padded to 15 characters, the state letter): the first trace after
// that line is the task's, named by the title. The hung task detector
// reports only tasks in uninterruptible sleep, state D.
func taskStacks(rep *klog.Report, name string) []Stack {
	var out []Stack
	oldTask := oldHungTrace(rep)
	for ti, tr := range rep.Traces {
		s := Stack{Kind: KindTask, PID: -1, TID: -1, Source: sourceOf(rep, name, tr.Line)}
		switch {
		case tr.Task != nil:
			s.Comm, s.State, s.PID, s.TID = tr.Task.Comm, tr.Task.State, tr.Task.PID, tr.Task.PID
		case ti == oldTask:
			comm, pid, _ := hungTask(rep.Title)
			s.Comm, s.State, s.PID, s.TID = comm, "D", pid, pid
		default:
			continue
		}
		s.Frames = traceFrames(rep, ti, 0, -1)
		out = append(out, s)
	}
	return out
}

// oldHungTrace returns the index of the trace of a hung task report that
// follows the older kernels' task line, -1 when there is none.
func oldHungTrace(rep *klog.Report) int {
	if rep.Kind != klog.KindHungTask {
		return -1
	}
	comm, _, ok := hungTask(rep.Title)
	if !ok {
		return -1
	}
	if len(comm) > 15 {
		comm = comm[:15]
	}
	prefix := comm + strings.Repeat(" ", 15-len(comm)) + " D"
	for i, l := range rep.Lines {
		if !strings.HasPrefix(l.Text, prefix) {
			continue
		}
		for ti, tr := range rep.Traces {
			if tr.Task == nil && tr.Line > i {
				return ti
			}
		}
		return -1
	}
	return -1
}

// hungTask reads "INFO: task NAME:PID blocked for more than N seconds."; the
// name may itself contain colons.
func hungTask(title string) (comm string, pid int, ok bool) {
	rest, found := strings.CutPrefix(title, "INFO: task ")
	if !found {
		return "", 0, false
	}
	end := strings.Index(rest, " blocked for more than")
	if end < 0 {
		return "", 0, false
	}
	task := rest[:end]
	colon := strings.LastIndexByte(task, ':')
	if colon < 0 {
		return "", 0, false
	}
	n, ok := atoi(task[colon+1:])
	return task[:colon], n, ok
}

// traceFrames returns the frames of trace ti printed on lines [from, to)
// of the report (to < 0: to the end), without the frames ReadFile leaves
// out. An arm32 line "[<pc>] (f) from [<lr>] (g+0x1/0x2)" gives f; its
// caller g is the function of the next line, except after the last line.
func traceFrames(rep *klog.Report, ti, from, to int) []Frame {
	out := []Frame{}
	var last *klog.Frame // the caller printed with the last frame (arm32)
	for _, kf := range rep.Frames {
		if kf.Trace != ti || kf.Line < from || to >= 0 && kf.Line >= to {
			continue
		}
		if kf.Kind != klog.FrameTrace || kf.User || !kf.Reliable || kf.Inline {
			continue
		}
		if kf.Name == "" && endMarker(rep, &kf) {
			continue
		}
		out = append(out, frameOf(&kf))
		last = kf.From
	}
	if last != nil { // arm32: the last line's caller is printed on no line of its own
		out = append(out, frameOf(last))
	}
	return out
}

// frameOf converts a klog frame.
func frameOf(kf *klog.Frame) Frame {
	return Frame{
		Name: kf.Name, Offset: kf.Offset, Size: kf.Size, HasOffset: kf.HasOffset,
		Module: kf.Module, Addr: kf.Addr, HasAddr: kf.HasAddr && !kf.Hashed && kf.Addr != 0,
	}
}

// endMarker reports the "[<ffffffffffffffff>] 0xffffffffffffffff" entry
// that older kernels print after the last frame (ULONG_MAX, which ends
// their saved traces); with a hashed %p, only the text after it shows it.
func endMarker(rep *klog.Report, kf *klog.Frame) bool {
	if kf.HasAddr && !kf.Hashed && (kf.Addr == 0xffffffff || kf.Addr == ^uint64(0)) {
		return true
	}
	if kf.Line < 0 || kf.Line >= len(rep.Lines) {
		return false
	}
	t := strings.TrimRight(rep.Lines[kf.Line].Text, " ")
	return strings.HasSuffix(t, "] 0xffffffffffffffff") || strings.HasSuffix(t, "] 0xffffffff")
}

// sourceOf names the line of a report: "FILE:LINE".
func sourceOf(rep *klog.Report, name string, line int) string {
	if line < 0 || line >= len(rep.Lines) {
		line = 0
	}
	if len(rep.Lines) == 0 {
		return name
	}
	return name + ":" + strconv.Itoa(rep.Lines[line].Num)
}

// leakStacks returns the objects of a kmemleak report: each "unreferenced
// object 0x... (size N):" line, its "comm "NAME", pid N," line and the
// frames of its "backtrace:" up to the next object.
func leakStacks(rep *klog.Report, name string) []Stack {
	var out []Stack
	for i := 0; i < len(rep.Lines); i++ {
		size, ok := leakSize(rep.Lines[i].Text)
		if !ok {
			continue
		}
		next := i + 1
		for next < len(rep.Lines) {
			if _, ok := leakSize(rep.Lines[next].Text); ok {
				break
			}
			next++
		}
		s := Stack{Kind: KindLeak, PID: -1, TID: -1, Bytes: size, Source: sourceOf(rep, name, i), Frames: []Frame{}}
		for j := i + 1; j < next; j++ {
			if comm, pid, ok := leakComm(rep.Lines[j].Text); ok {
				s.Comm, s.PID, s.TID = comm, pid, pid
				break
			}
		}
		for ti := range rep.Traces {
			s.Frames = append(s.Frames, traceFrames(rep, ti, i, next)...)
		}
		out = append(out, s)
		i = next - 1
	}
	return out
}

// leakSize reads "unreferenced object 0xffff8882d78c9ea0 (size 96):".
func leakSize(text string) (int64, bool) {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "unreferenced object 0x") {
		return 0, false
	}
	_, after, ok := strings.Cut(t, " (size ")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(after, ")")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// leakComm reads `comm "syz.0.23", pid 5988, jiffies 4294941388`.
func leakComm(text string) (comm string, pid int, ok bool) {
	t := strings.TrimSpace(text)
	rest, found := strings.CutPrefix(t, `comm "`)
	if !found {
		return "", 0, false
	}
	end := strings.LastIndex(rest, `", pid `)
	if end < 0 {
		return "", 0, false
	}
	num := rest[end+7:]
	if c := strings.IndexByte(num, ','); c >= 0 {
		num = num[:c]
	}
	n, ok := atoi(num)
	return rest[:end], n, ok
}
