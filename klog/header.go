package klog

import (
	"strings"
)

// Header holds the facts a report states about the machine and the task.
// Fields the report does not show are zero; numeric fields the report does
// not show are -1 where 0 is a valid value.
type Header struct {
	// CPU, UID and PID come from "CPU: N UID: U PID: P Comm: ..."; -1 when
	// absent (UID is printed since 6.12).
	CPU, UID, PID int
	// Comm is the task name from the CPU: line.
	Comm string
	// Taint is the taint string as printed after "Tainted: " (positional,
	// with spaces for unset flags), empty for "Not tainted".
	Taint string
	// TaintFlags are the verbose "Tainted: [W]=WARN, [O]=OOT_MODULE" pairs.
	TaintFlags []TaintFlag
	// Release is the kernel release ("6.1.0-56-amd64").
	Release string
	// Version is what follows the release on the CPU: line ("#1  Debian
	// 6.1.192-2", "#0 PREEMPT(full)"), without the build ID.
	Version string
	// BuildID is the vmlinux GNU build ID in hex that kernels built with
	// CONFIG_STACKTRACE_BUILD_ID print at the end of the CPU: line.
	BuildID string
	// Hardware is the "Hardware name:" text.
	Hardware string
	// Workqueue is the "Workqueue:" text ("events foo_fn").
	Workqueue string
	// Modules are the modules of "Modules linked in:" in order.
	Modules []Module
	// HasModules reports whether the report printed "Modules linked in:".
	HasModules bool
	// LastUnloaded is the module of "[last unloaded: mod]".
	LastUnloaded string
	// KernelOffset and KernelBase are from "Kernel Offset: 0x... from
	// 0x...", valid when HasKernelOffset.
	KernelOffset, KernelBase uint64
	// HasKernelOffset reports a "Kernel Offset:" line with values.
	HasKernelOffset bool
	// Oops is the text of the "Oops: 0002 [#2] PREEMPT SMP NOPTI" line (or
	// "Internal error: ...", "invalid opcode: ...") after its label.
	Oops string
	// Panic is the message of "Kernel panic - not syncing: MSG".
	Panic string
}

// TaintFlag is one "[L]=NAME" pair of the verbose taint line.
type TaintFlag struct {
	Letter, Name string
}

// Module is one entry of "Modules linked in:".
type Module struct {
	// Name is the module name.
	Name string
	// Taint holds the module's taint letters, "OE" for "lkdtm(OE)".
	Taint string
}

// Register is one "NAME: value" pair of a register dump.
type Register struct {
	// Name is the register name as printed ("RAX", "x0", "CR2", "pc").
	Name string
	// Value is the hexadecimal value; for "RSP: 0018:ffff..." the part
	// after the segment.
	Value uint64
	// Text is the value as printed.
	Text string
	// Line is the index in Report.Lines of the line it was read from.
	Line int
}

// newHeader returns a Header with its "absent" markers set.
func newHeader() Header {
	return Header{CPU: -1, UID: -1, PID: -1}
}

// parseHeaderLine records the header fact stated by text, reporting whether
// text was a header line.
func (h *Header) parseHeaderLine(text string) bool {
	switch {
	case strings.HasPrefix(text, "CPU: "):
		return h.parseCPU(text[5:])
	case strings.HasPrefix(text, "Hardware name: "):
		h.Hardware = text[15:]
	case strings.HasPrefix(text, "Workqueue: "):
		h.Workqueue = text[11:]
	case strings.HasPrefix(text, "Modules linked in:"):
		h.parseModules(text[18:])
	case strings.HasPrefix(text, "Tainted: ["):
		h.parseTaintFlags(text[9:])
	case strings.HasPrefix(text, "      Tainted: ") || strings.HasPrefix(text, "      Not tainted "):
		h.parseTaskTaint(strings.TrimLeft(text, " "))
	case strings.HasPrefix(text, "Kernel Offset: "):
		h.parseKernelOffset(text[15:])
	case strings.HasPrefix(text, "Kernel panic - not syncing: "):
		if h.Panic == "" {
			h.Panic = text[28:]
		}
	default:
		return h.parseOops(text)
	}
	return true
}

// parseCPU parses what follows "CPU: " on the task line of a report.
func (h *Header) parseCPU(s string) bool {
	f := strings.Fields(s)
	if len(f) < 4 || !isDigits(f[0]) {
		return false
	}
	cpu, _ := digits(f[0], 0)
	f = f[1:]
	uid := -1
	if f[0] == "UID:" && len(f) > 2 && isDigits(f[1]) {
		uid, _ = digits(f[1], 0)
		f = f[2:]
	}
	if len(f) < 3 || f[0] != "PID:" || !isDigits(f[1]) || f[2] != "Comm:" {
		return false
	}
	pid, _ := digits(f[1], 0)
	h.CPU, h.UID, h.PID = cpu, uid, pid
	rest := s[strings.Index(s, "Comm: ")+6:]
	h.parseComm(rest)
	return true
}

// parseComm parses "comm Tainted: G   OE  release version" or
// "comm Not tainted release version".
func (h *Header) parseComm(s string) {
	var after string
	if i := strings.Index(s, " Not tainted "); i >= 0 {
		h.Comm, after = s[:i], s[i+13:]
	} else if i := strings.Index(s, " Tainted: "); i >= 0 {
		h.Comm = s[:i]
		h.Taint, after = cutTaint(s[i+10:])
	} else {
		h.Comm = strings.TrimSpace(s)
		return
	}
	h.setRelease(after)
}

// setRelease splits "release version" after the taint.
func (h *Header) setRelease(after string) {
	after = strings.TrimLeft(after, " ")
	rel, ver, _ := strings.Cut(after, " ")
	h.Release, h.Version = rel, strings.TrimSpace(ver)
	if i := strings.LastIndexByte(h.Version, ' '); i >= 0 && isBuildID(h.Version[i+1:]) {
		h.BuildID, h.Version = h.Version[i+1:], strings.TrimRight(h.Version[:i], " ")
	}
}

// isBuildID reports whether s is a 20-byte build ID as the kernel prints it
// (%20phN: 40 lower-case hex digits).
func isBuildID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// cutTaint splits the positional taint string from the release after it.
// Taint flags are upper-case letters and spaces; the release starts with
// something else (usually a digit).
func cutTaint(s string) (taint, rest string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	for i > 0 && i < len(s) && s[i-1] != ' ' { // back up over a release such as "Ubuntu"
		i--
	}
	return strings.TrimRight(s[:i], " "), s[i:]
}

// parseTaskTaint parses the indented "Tainted: G  OE  release version" or
// "Not tainted release version" line of hung task reports, unless the CPU:
// line already told.
func (h *Header) parseTaskTaint(s string) {
	if h.Release != "" {
		return
	}
	var after string
	if rest, ok := strings.CutPrefix(s, "Not tainted "); ok {
		after = rest
	} else {
		h.Taint, after = cutTaint(s[len("Tainted: "):])
	}
	h.setRelease(after)
}

// Taints returns the taint letters of the CPU: line without the padding.
func (h Header) Taints() string {
	return strings.ReplaceAll(h.Taint, " ", "")
}

// parseModules parses the list after "Modules linked in:".
func (h *Header) parseModules(s string) {
	h.HasModules = true
	if i := strings.Index(s, "[last unloaded: "); i >= 0 {
		if end := strings.IndexByte(s[i:], ']'); end > 0 {
			h.LastUnloaded = s[i+16 : i+end]
		}
		s = s[:i]
	}
	for _, tok := range strings.Fields(s) {
		m := Module{Name: tok}
		if open := strings.IndexByte(tok, '('); open > 0 && strings.HasSuffix(tok, ")") {
			m.Name, m.Taint = tok[:open], tok[open+1:len(tok)-1]
		}
		h.Modules = append(h.Modules, m)
	}
}

// parseTaintFlags parses "[W]=WARN, [O]=OOT_MODULE".
func (h *Header) parseTaintFlags(s string) {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if len(part) < 5 || part[0] != '[' || part[2] != ']' || part[3] != '=' {
			continue
		}
		h.TaintFlags = append(h.TaintFlags, TaintFlag{Letter: part[1:2], Name: part[4:]})
	}
}

// parseKernelOffset parses "0x2a000000 from 0xffffffff81000000 (...)".
func (h *Header) parseKernelOffset(s string) {
	f := strings.Fields(s)
	if len(f) < 3 || f[1] != "from" || !strings.HasPrefix(f[0], "0x") || !strings.HasPrefix(f[2], "0x") {
		return
	}
	off, base := f[0][2:], f[2][2:]
	if !isHex(off) || !isHex(base) || len(off) > 16 || len(base) > 16 {
		return
	}
	h.KernelOffset, h.KernelBase, h.HasKernelOffset = hexVal(off), hexVal(base), true
}

// oopsLabels are the labels of the x86 and arm die() line.
var oopsLabels = []string{"Oops: ", "invalid opcode: ", "general protection fault", "segment-related general protection fault", "Internal error: ",
	"divide error: ", "divide_error: ", "stack segment: ", "double fault: "}

// parseOops records the die() line ("Oops: 0002 [#2] SMP").
func (h *Header) parseOops(text string) bool {
	if h.Oops != "" {
		return false
	}
	for _, l := range oopsLabels {
		if strings.HasPrefix(text, l) && strings.Contains(text, "[#") {
			h.Oops = strings.TrimPrefix(text, l)
			return true
		}
	}
	return false
}

// parseRegisters appends the "NAME: value" pairs of a register dump line to
// dst. A line is a register line only when every token pairs up.
func parseRegisters(text string, line int, dst []Register) []Register {
	t := strings.TrimSpace(text)
	n := len(dst)
	for t != "" {
		name, val, rest, ok := nextRegister(t)
		if !ok {
			return dst[:n]
		}
		dst = append(dst, Register{Name: name, Value: regValue(val), Text: val, Line: line})
		t = rest
	}
	return dst
}

// nextRegister cuts one "NAME: value" or "NAME : value" pair from t.
func nextRegister(t string) (name, val, rest string, ok bool) {
	colon := strings.IndexByte(t, ':')
	if colon <= 0 || colon > 9 || colon+1 >= len(t) {
		return "", "", "", false
	}
	name = strings.TrimRight(t[:colon], " ")
	if !isRegName(name) {
		return "", "", "", false
	}
	t = strings.TrimLeft(t[colon+1:], " ")
	end := strings.IndexByte(t, ' ')
	if end < 0 {
		end = len(t)
	}
	val, rest = t[:end], strings.TrimLeft(t[end:], " ")
	if !isRegValue(val) {
		return "", "", "", false
	}
	if strings.HasPrefix(rest, "(") { // arm64 "pstate: 10000005 (nzcV daif ...)"
		if close := strings.IndexByte(rest, ')'); close > 0 {
			rest = strings.TrimLeft(rest[close+1:], " ")
		}
	}
	return name, val, rest, true
}

// isRegName reports whether s can be a register name.
func isRegName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isAlnum(c) || c == '_') {
			return false
		}
	}
	return s != ""
}

// isRegValue reports whether s is "hex", "seg:hex" or "hex(hex)".
func isRegValue(s string) bool {
	v := s
	if i := strings.IndexByte(v, ':'); i >= 0 {
		if !isHex(v[:i]) {
			return false
		}
		v = v[i+1:]
	}
	if i := strings.IndexByte(v, '('); i > 0 && strings.HasSuffix(v, ")") {
		if !isHex(v[i+1 : len(v)-1]) {
			return false
		}
		v = v[:i]
	}
	return isHex(v) && len(v) <= 16
}

// regValue returns the value of a register text accepted by isRegValue.
func regValue(s string) uint64 {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '('); i > 0 {
		s = s[:i]
	}
	return hexVal(s)
}
