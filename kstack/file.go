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
	// Truncated counts the reports cut at klog.DefaultMaxLines lines (a
	// sysrq-t dump of about 8,000 tasks or more): the stacks printed after
	// the cut are not in Stacks, nor is the last one before it, which may
	// be cut short.
	Truncated int
}

// maxLine is the longest line ReadFile reads; longer lines are cut.
const maxLine = 64 << 10

// maxReportLines is where klog cuts a report (a variable for the tests).
var maxReportLines = klog.DefaultMaxLines

// ReadFile reads the stacks of a file: /proc/PID/stack captures and kernel
// log text with sysrq-t and sysrq-w dumps, hung task reports and kmemleak
// reports, in any mix. name is used in Stack.Source. It fails only when r
// fails.
//
// A capture is a run of frame lines (ParseFrameLine) at the start of their
// lines, as "cat /proc/PID/stack" prints them; "PATH:" before each (grep -H
// over several files) or a "==> PATH <==" line before each file (head, tail)
// separates the captures, and a path /proc/PID/stack or
// /proc/PID/task/TID/stack gives the ids. Any other line ends a capture.
//
// Frames are taken as the kernel printed them. Left out: "? " frames (stale
// return addresses the unwinder cannot vouch for, which differ between
// tasks waiting in the same place), frames a symbolizer added ("[inline]"
// lines: the kernel did not print them), user space PCs, and the end
// marker of older kernels.
func ReadFile(r io.Reader, name string) (*File, error) {
	f := &File{Used: map[string]int{}, Ignored: map[string]int{}}
	caps := &captures{source: name}
	sp := klog.Splitter{MaxLines: maxReportLines}
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
	if rep.Truncated {
		f.Truncated++
	}
	var got []Stack
	switch rep.Kind {
	case klog.KindSysrq, klog.KindHungTask:
		got = taskStacks(rep, name)
	case klog.KindKmemleak:
		got = leakStacks(rep, name)
	}
	if rep.Truncated && len(got) > 0 {
		got = got[:len(got)-1] // its frames may go on past the cut
	}
	if len(got) == 0 {
		f.Ignored[string(rep.Kind)]++
		return
	}
	f.Used[string(rep.Kind)]++
	f.Stacks = append(f.Stacks, got...)
}

// taskStacks returns the stacks of the tasks a sysrq or hung task report
// printed: each trace under a "task:NAME state:S ... pid:N" line, or, from
// kernels before 5.10, under the line sched_show_task printed instead
// ("jbd2/sda-8      D22600  3563      2 0x80000000", see parseOldTask). A
// trace under neither is a CPU's backtrace (sysrq-l, NMI backtraces after
// a hung task), not a task's, and is left out: a garbled log gives no
// stack rather than another task's.
func taskStacks(rep *klog.Report, name string) []Stack {
	var out []Stack
	byTrace := framesByTrace(rep)
	for ti, tr := range rep.Traces {
		s := Stack{Kind: KindTask, PID: -1, TID: -1, Source: sourceOf(rep, name, tr.Line)}
		if tr.Task != nil {
			s.Comm, s.State, s.PID, s.TID = tr.Task.Comm, tr.Task.State, tr.Task.PID, tr.Task.PID
		} else if task, ok := oldTaskBefore(rep, tr.Line); ok {
			s.Comm, s.State, s.PID, s.TID = task.Comm, task.State, task.PID, task.PID
		} else {
			continue
		}
		s.Frames = traceFrames(rep, byTrace[ti], 0, -1)
		out = append(out, s)
	}
	return out
}

// oldTaskBefore finds the task line of an older kernel just above the label
// line of a trace, across a "Workqueue:" line.
func oldTaskBefore(rep *klog.Report, label int) (*klog.Task, bool) {
	for i := label - 1; i >= 0 && i >= label-2; i-- {
		text := rep.Lines[i].Text
		if task, ok := parseOldTask(text); ok {
			return task, true
		}
		if !strings.HasPrefix(strings.TrimSpace(text), "Workqueue:") {
			break
		}
	}
	return nil, false
}

// parseOldTask parses the task line of sched_show_task before Linux 5.10:
// "%-15.15s %c" (the name cut or padded to 15 characters, a space, the
// state letter), "  running task    " for a running task, then "%5lu %5d
// %6d 0x%08lx": free stack, pid, parent pid, thread flags. Fields may run
// together ("D22600").
func parseOldTask(text string) (*klog.Task, bool) {
	if len(text) < 17 || text[15] != ' ' || strings.IndexByte("RSDTtXZPIWK", text[16]) < 0 {
		return nil, false
	}
	comm := strings.TrimRight(text[:15], " ")
	f := strings.Fields(text[17:])
	if comm == "" || len(f) < 4 || !strings.HasPrefix(f[len(f)-1], "0x") {
		return nil, false
	}
	for _, num := range f[len(f)-4 : len(f)-1] {
		if _, ok := atoi(num); !ok {
			return nil, false
		}
	}
	pid, _ := atoi(f[len(f)-3])
	return &klog.Task{Comm: comm, State: text[16:17], PID: pid}, true
}

// framesByTrace returns the indices in rep.Frames of each trace's frames.
func framesByTrace(rep *klog.Report) [][]int {
	out := make([][]int, len(rep.Traces))
	for i := range rep.Frames {
		if t := rep.Frames[i].Trace; t >= 0 && t < len(out) {
			out[t] = append(out[t], i)
		}
	}
	return out
}

// traceFrames returns the frames rep.Frames[idx] (those of one trace)
// printed on lines [from, to) of the report (to < 0: to the end), without
// the frames ReadFile leaves out. An arm32 line "[<pc>] (f) from [<lr>]
// (g+0x1/0x2)" gives f; its caller g is the function of the next line,
// except after the last line.
func traceFrames(rep *klog.Report, idx []int, from, to int) []Frame {
	out := []Frame{}
	var last *klog.Frame // the caller printed with the last frame (arm32)
	for _, i := range idx {
		kf := &rep.Frames[i]
		if kf.Line < from || to >= 0 && kf.Line >= to {
			continue
		}
		if kf.Kind != klog.FrameTrace || kf.User || !kf.Reliable || kf.Inline {
			continue
		}
		if kf.Name == "" && endMarker(rep, kf) {
			continue
		}
		out = append(out, frameOf(kf))
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
	byTrace := framesByTrace(rep)
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
		for _, idx := range byTrace {
			s.Frames = append(s.Frames, traceFrames(rep, idx, i, next)...)
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
