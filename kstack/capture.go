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

// line reads one raw line numbered num; it returns false when the line is
// not part of a capture (and so ends the current one). A capture line is a
// well-formed frame line (ParseFrameLine) at the start of the line, possibly
// after "PATH:", or a "==> PATH <==" header. Kernel log lines never are:
// their frames are indented, follow a prefix with spaces, or (arm32
// "[<c0123>] (f) from [<c0456>] (g+0x1/0x2)") are not frame lines of this
// form.
func (c *captures) line(raw string, num int) bool {
	t := strings.TrimRight(raw, "\r")
	if strings.HasPrefix(t, "==> ") && strings.HasSuffix(t, " <==") {
		c.end()
		c.path = strings.TrimSuffix(strings.TrimPrefix(t, "==> "), " <==")
		return true
	}
	path := c.path
	if i := strings.Index(t, ":[<"); i > 0 && !strings.HasPrefix(t, "[<") {
		if strings.ContainsAny(t[:i], " \t[]") {
			return c.other()
		}
		path, t = t[:i], t[i+1:]
	}
	f, last, ok := ParseFrameLine(t)
	if !ok {
		return c.other()
	}
	if c.cur != nil && path != c.path {
		c.end()
	}
	c.path = path
	if c.cur == nil {
		c.begin(path, num)
	}
	if !last {
		c.cur.Frames = append(c.cur.Frames, f)
	}
	return true
}

// other ends the current capture at a line that is not part of one.
func (c *captures) other() bool {
	c.end()
	c.path = ""
	return false
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
