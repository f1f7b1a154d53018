package kstack

import (
	"strconv"
	"strings"
)

// captures collects the stacks of /proc/PID/stack captures, line by line.
// A capture is a run of frame lines; a line that is not a frame ends it.
// Three layouts are understood:
//
//	[<0>] do_wait+0x114/0x320                 (cat /proc/1/stack)
//	/proc/1/task/1/stack:[<0>] do_wait+0x...  (grep -H . /proc/*/task/*/stack)
//	==> /proc/1/stack <==                     (head or tail of several files)
//
// A path of the form /proc/PID/stack or /proc/PID/task/TID/stack gives the
// stack its ids.
type captures struct {
	source string
	stacks []Stack
	cur    *Stack // the capture being read
	path   string // the path of the capture being read, or announced by ==>
}

// isCaptureLine reports whether a raw line belongs to a capture: a frame
// line at the start of the line, possibly after "PATH:", or a "==> PATH
// <==" header. Kernel log lines never start so: their frames are indented
// or follow a prefix with spaces.
func isCaptureLine(raw string) bool {
	if strings.HasPrefix(raw, "[<") || strings.HasPrefix(raw, "==> ") && strings.HasSuffix(strings.TrimRight(raw, "\r"), " <==") {
		return true
	}
	i := strings.Index(raw, ":[<")
	return i > 0 && !strings.ContainsAny(raw[:i], " \t[]")
}

// line reads one raw line numbered num; it returns false when the line is
// not part of a capture (and so ends the current one).
func (c *captures) line(raw string, num int) bool {
	if !isCaptureLine(raw) {
		c.end()
		c.path = ""
		return false
	}
	t := strings.TrimRight(raw, "\r")
	if strings.HasPrefix(t, "==> ") {
		c.end()
		c.path = strings.TrimSuffix(strings.TrimPrefix(t, "==> "), " <==")
		return true
	}
	path := c.path
	if !strings.HasPrefix(t, "[<") {
		i := strings.Index(t, ":[<")
		path, t = t[:i], t[i+1:]
		if c.cur != nil && path != c.path {
			c.end()
		}
		c.path = path
	}
	f, last, ok := ParseFrameLine(t)
	if !ok {
		c.end()
		return true // a damaged frame line: counted as read, not as a frame
	}
	if c.cur == nil {
		c.begin(path, num)
	}
	if !last {
		c.cur.Frames = append(c.cur.Frames, f)
	}
	return true
}

// begin opens a capture read from path (empty when unnamed) at line num.
func (c *captures) begin(path string, num int) {
	s := Stack{Kind: KindTask, PID: -1, TID: -1, Source: c.source + ":" + strconv.Itoa(num)}
	if path != "" {
		s.Source = path
		s.PID, s.TID = procIDs(path)
	}
	c.cur = &s
}

// end closes the current capture.
func (c *captures) end() {
	if c.cur != nil {
		c.stacks = append(c.stacks, *c.cur)
		c.cur = nil
	}
}

// procIDs reads the ids of "/proc/PID/stack" or "/proc/PID/task/TID/stack"
// (with any prefix before /proc), -1 for what the path does not say.
func procIDs(path string) (pid, tid int) {
	pid, tid = -1, -1
	i := strings.LastIndex(path, "proc/")
	if i < 0 || !strings.HasSuffix(path, "/stack") {
		return pid, tid
	}
	parts := strings.Split(strings.TrimSuffix(path[i+5:], "/stack"), "/")
	switch {
	case len(parts) == 1:
		if n, ok := atoi(parts[0]); ok {
			pid, tid = n, n
		}
	case len(parts) == 3 && parts[1] == "task":
		if n, ok := atoi(parts[0]); ok {
			pid = n
		}
		if n, ok := atoi(parts[2]); ok {
			tid = n
		}
	}
	return pid, tid
}

// atoi parses a non-negative decimal id.
func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || s == "" || s[0] == '+' {
		return 0, false
	}
	return n, true
}
