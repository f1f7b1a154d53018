package klog

import (
	"strings"
)

// FrameKind says which part of a report a frame comes from.
type FrameKind uint8

// The kinds of frames.
const (
	// FrameTrace is an entry of a call trace (a return address).
	FrameTrace FrameKind = iota
	// FramePC is the faulting instruction: RIP:, IP:, EIP:, pc :, epc :,
	// NIP, "PC is at", or a powerpc "--- interrupt: N at".
	FramePC
	// FrameLR is the link register or return address register: lr :, ra :,
	// "LR is at", LR [..], LR = .
	FrameLR
)

// String returns "trace", "pc" or "lr".
func (k FrameKind) String() string {
	switch k {
	case FramePC:
		return "pc"
	case FrameLR:
		return "lr"
	}
	return "trace"
}

// Frame is one stack frame as the kernel printed it. Fields the line does
// not show are zero.
type Frame struct {
	// Kind says whether this is a call trace entry, a PC or a LR.
	Kind FrameKind
	// Name is the symbol name, empty for a raw address.
	Name string
	// Offset and Size are the "+0xoff/0xsize" after Name, valid when
	// HasOffset.
	Offset, Size uint64
	// HasOffset reports whether the frame printed "+0xoff/0xsize".
	HasOffset bool
	// Module is the module name from "[mod]", empty for the kernel image.
	Module string
	// BuildID is the module build ID from "[mod <build-id>]".
	BuildID string
	// File is a source location appended by a symbolizer ("mm/slub.c:123").
	File string
	// Inline reports a "[inline]" frame added by a symbolizer.
	Inline bool
	// Addr is the raw address printed with the frame, valid when HasAddr.
	Addr uint64
	// HasAddr reports whether the line printed a raw address.
	HasAddr bool
	// Hashed reports that Addr is a hashed %p value (a 64-bit value whose
	// upper half is zero), which is not an address and must not be resolved.
	Hashed bool
	// User reports a user space PC ("RIP: 0033:0x47b7a0").
	User bool
	// Reliable is false for "? " frames and powerpc "(unreliable)" ones.
	Reliable bool
	// Source is the arm64 unwinder source letter: "P", "T", "C", "F", "K".
	Source string
	// Context is the stack the frame was on: "TASK", "IRQ", "NMI",
	// "SOFTIRQ", from the <TASK>...</TASK> style markers; empty when the
	// trace has no markers.
	Context string
	// From is the caller printed on the same line by arm32
	// ("[<c0123>] (f) from [<c0456>] (g+0x10/0x20)"), nil otherwise.
	From *Frame
	// Line is the index in Report.Lines of the line the frame was read from.
	Line int
	// Trace is the index in Report.Traces of the trace the frame belongs to,
	// -1 for frames outside any trace (such as RIP: before Call Trace:).
	Trace int
}

// ParseFrame parses the message text of one line (Line.Text, with its
// leading white space) as a stack frame. It returns false when the text is
// not a frame. Lines that hold two frames (arm32 "pc : [<..>] lr : [<..>]")
// return the first; ParseFrames returns both.
func ParseFrame(text string) (Frame, bool) {
	var buf [2]Frame
	fs := ParseFrames(text, buf[:0])
	if len(fs) == 0 {
		return Frame{}, false
	}
	return fs[0], true
}

// ParseFrames appends the frames found in the message text of one line to
// dst and returns it.
func ParseFrames(text string, dst []Frame) []Frame {
	t := strings.TrimRight(trimIndent(text), " \t")
	if t == "" {
		return dst
	}
	if !mayBeFrame(t) {
		return dst
	}
	if _, rest, ok := leadingMarker(t); ok { // "<IRQ>  [<ffffffff816ecb37>] _sched_show_task+0x31a/0x325"
		if rest == "" {
			return dst
		}
		t, text = rest, " "+rest
	}
	if f, ok := stackProtectorFrame(t); ok {
		return append(dst, f)
	}
	if f, rest, ok := parseRegFrame(t); ok {
		dst = append(dst, f)
		rest = strings.TrimLeft(rest, " ")
		if f2, _, ok := parseRegFrame(rest); ok {
			dst = append(dst, f2)
		}
		return dst
	}
	if f, ok := parseTraceFrame(t, len(t) < len(text)); ok {
		dst = append(dst, f)
	}
	return dst
}

// stackProtectorFrame parses the function of "stack-protector: Kernel
// stack is corrupted in: ffffffff8343632e" (or "... in: foo+0x3f2/0x400"),
// printed with %pB from the return address into it: a trace entry outside
// any trace, resolved as one.
func stackProtectorFrame(t string) (Frame, bool) {
	_, after, ok := strings.Cut(t, "stack is corrupted in: ")
	if !ok {
		return Frame{}, false
	}
	after = strings.TrimSpace(after)
	f := Frame{Kind: FrameTrace, Reliable: true, Trace: -1}
	if n := hexLen(after); n >= 8 && n <= 16 && n == len(after) {
		f.setAddr(rawAddr{hexVal(after), n})
		return f, true
	}
	sym, tail, ok := parseSymbol(after)
	if !ok || !sym.HasOffset || strings.TrimSpace(tail) != "" {
		return Frame{}, false
	}
	f.copySymbol(sym)
	return f, true
}

// regPrefixes maps the labels of PC and LR lines to their kind.
var regPrefixes = []struct {
	label string
	kind  FrameKind
}{
	{"RIP: ", FramePC}, {"IP: ", FramePC}, {"EIP: ", FramePC},
	{"pc : ", FramePC}, {"lr : ", FrameLR}, {"epc : ", FramePC}, {"ra : ", FrameLR},
	{"PC is at ", FramePC}, {"LR is at ", FrameLR},
	{"NIP [", FramePC}, {"LR [", FrameLR}, {"LR = ", FrameLR},
	{"--- interrupt: ", FramePC},
}

// parseRegFrame parses a PC or LR line, returning the text after the frame.
func parseRegFrame(t string) (Frame, string, bool) {
	if t == "" || strings.IndexByte("RIEPplreNL-", t[0]) < 0 {
		return Frame{}, "", false
	}
	for _, p := range regPrefixes {
		if !strings.HasPrefix(t, p.label) {
			continue
		}
		rest := t[len(p.label):]
		if p.label[len(p.label)-1] == '[' {
			rest = t[len(p.label)-1:]
		}
		if p.label == "--- interrupt: " {
			at := strings.Index(rest, " at ")
			if at < 0 {
				return Frame{}, "", false
			}
			rest = rest[at+4:]
		}
		f, tail, ok := parsePCValue(rest)
		f.Kind, f.Reliable, f.Trace = p.kind, true, -1
		return f, tail, ok
	}
	return Frame{}, "", false
}

// parsePCValue parses what follows a PC label: an optional "0010:" segment,
// then "[<addr>]" (optionally followed by a symbol), "[addr] sym" (powerpc),
// "0xaddr" or a symbol.
func parsePCValue(s string) (Frame, string, bool) {
	var f Frame
	if len(s) > 5 && s[4] == ':' && isHex(s[:4]) {
		f.User = hexVal(s[:4])&3 == 3
		s = s[5:]
	}
	if strings.HasPrefix(s, "[") {
		addr, rest, ok := parseBracketAddr(s)
		if !ok {
			return f, "", false
		}
		f.setAddr(addr)
		rest = strings.TrimLeft(rest, " ")
		if strings.HasPrefix(rest, "[<") { // old x86 "RIP: 0010:[<a>]  [<a>] sym"
			if _, r, ok := parseBracketAddr(rest); ok {
				rest = strings.TrimLeft(r, " ")
			}
		}
		if sym, tail, ok := parseSymbol(rest); ok && sym.HasOffset {
			f.copySymbol(sym)
			return f, tail, true
		}
		return f, rest, true
	}
	if strings.HasPrefix(s, "0x") {
		end := 2 + hexLen(s[2:])
		if end == 2 || (end < len(s) && s[end] != ' ' && s[end] != ',') {
			return f, "", false
		}
		f.setAddr(rawAddr{hexVal(s[2:end]), end - 2})
		return f, s[end:], true
	}
	sym, tail, ok := parseSymbol(s)
	if !ok || !sym.HasOffset && !sym.Inline { // "RIP: 0010:hlock_class kernel/locking/lockdep.c:183 [inline]"
		return f, "", false
	}
	f.copySymbol(sym)
	return f, tail, true
}

// parseTraceFrame parses a call trace entry. Entries without a raw address
// must be indented, as the kernel prints them.
func parseTraceFrame(t string, indented bool) (Frame, bool) {
	f := Frame{Reliable: true, Trace: -1}
	t = f.unreliable(t)
	if strings.HasPrefix(t, "[") {
		addr, rest, ok := parseBracketAddr(t)
		if !ok {
			return f, false
		}
		if !strings.HasPrefix(t, "[<") { // powerpc "[sp] [pc] sym"
			if !strings.HasPrefix(rest, " [") {
				return f, false
			}
			a2, r2, ok := parseBracketAddr(rest[1:])
			if !ok {
				return f, false
			}
			addr, rest = a2, r2
		}
		f.setAddr(addr)
		ok = f.afterAddr(strings.TrimLeft(rest, " "))
		if addr.val == 0 && addr.digits == 1 && f.Name != "" {
			f.Addr, f.HasAddr = 0, false // "[<0>] do_wait+0x114/0x320": /proc/PID/stack hides the address
		}
		return f, ok
	}
	if !indented {
		return f, false
	}
	sym, tail, ok := parseSymbol(t)
	if !ok {
		return f, false
	}
	f.copySymbol(sym)
	if !sym.HasOffset && !sym.Inline {
		return f, false
	}
	return f, tail == ""
}

// afterAddr parses what follows the raw address of a trace entry: nothing,
// a symbol, an arm32 "(sym) from [<addr>] (caller)", or a raw "0xaddr".
func (f *Frame) afterAddr(rest string) bool {
	rest = f.unreliable(rest)
	if rest == "" {
		return true
	}
	if strings.HasPrefix(rest, "(") {
		return f.arm32(rest)
	}
	if strings.HasPrefix(rest, "0x") && isHex(rest[2:]) {
		return true
	}
	sym, tail, ok := parseSymbol(rest)
	if !ok || tail != "" || !sym.HasOffset && !sym.Inline { // a symbolizer's inlined callee has no offset
		return false
	}
	f.copySymbol(sym)
	return true
}

// arm32 parses "(sym) from [<addr>] (caller)" after the first address.
func (f *Frame) arm32(s string) bool {
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return false
	}
	sym, tail, ok := parseSymbol(s[1:end])
	if !ok || tail != "" {
		return false
	}
	f.copySymbol(sym)
	rest := s[end+1:]
	if rest == "" {
		return true
	}
	if !strings.HasPrefix(rest, " from [") {
		return false
	}
	addr, r, ok := parseBracketAddr(rest[6:])
	if !ok {
		return false
	}
	from := Frame{Reliable: true, Trace: -1}
	from.setAddr(addr)
	r = strings.TrimLeft(r, " ")
	if r != "" {
		if !strings.HasPrefix(r, "(") || !strings.HasSuffix(r, ")") {
			return false
		}
		sym, tail, ok := parseSymbol(r[1 : len(r)-1])
		if !ok || tail != "" {
			return false
		}
		from.copySymbol(sym)
	}
	f.From = &from
	return true
}

// unreliable strips a leading "? " and records it.
func (f *Frame) unreliable(s string) string {
	if strings.HasPrefix(s, "? ") {
		f.Reliable = false
		return s[2:]
	}
	return s
}

// setAddr records a raw address and whether it is a hashed value.
func (f *Frame) setAddr(a rawAddr) {
	f.Addr, f.HasAddr, f.Hashed = a.val, true, a.digits == 16 && a.val>>32 == 0 && a.val != 0
}

// copySymbol copies the symbol fields of sym into f.
func (f *Frame) copySymbol(sym Frame) {
	f.Name, f.Offset, f.Size, f.HasOffset = sym.Name, sym.Offset, sym.Size, sym.HasOffset
	f.Module, f.BuildID, f.File, f.Inline, f.Source = sym.Module, sym.BuildID, sym.File, sym.Inline, sym.Source
	if !sym.Reliable {
		f.Reliable = false
	}
}

// rawAddr is a hexadecimal value and the number of digits it was written
// with.
type rawAddr struct {
	val    uint64
	digits int
}

// parseBracketAddr parses "[<hex>]" or "[hex]" at the start of s.
func parseBracketAddr(s string) (rawAddr, string, bool) {
	i := 1
	if strings.HasPrefix(s, "[<") {
		i = 2
	}
	n := hexLen(s[i:])
	end := i + n
	if n == 0 || n > 16 {
		return rawAddr{}, "", false
	}
	if i == 2 {
		if !strings.HasPrefix(s[end:], ">]") {
			return rawAddr{}, "", false
		}
		return rawAddr{hexVal(s[i:end]), n}, s[end+2:], true
	}
	if end >= len(s) || s[end] != ']' {
		return rawAddr{}, "", false
	}
	return rawAddr{hexVal(s[i:end]), n}, s[end+1:], true
}

// parseSymbol parses "name+0xoff/0xsize" or "name" followed by the optional
// suffixes " [mod]", " [mod build-id]", " file:line", " [inline]", " (P)"
// and " (unreliable)". It returns the text it did not understand.
func parseSymbol(s string) (Frame, string, bool) {
	f := Frame{Reliable: true}
	name, rest := cutName(s)
	if name == "" {
		return f, s, false
	}
	f.Name = name
	if strings.HasPrefix(rest, "+0x") {
		off, size, r, ok := parseOffSize(rest[1:])
		if !ok {
			return f, s, false
		}
		f.Offset, f.Size, f.HasOffset, rest = off, size, true, r
	}
	for rest != "" {
		r, ok := f.suffix(rest)
		if !ok {
			break
		}
		rest = r
	}
	return f, rest, true
}

// cutName splits a symbol name from what follows it. Names end at "+0x" or
// a space; names starting with '<' (Rust) may hold spaces up to ">::".
func cutName(s string) (string, string) {
	end := indexSpacePlus(s)
	if strings.HasPrefix(s, "<") {
		if gt := strings.LastIndex(s, ">::"); gt > 0 {
			if e := indexSpacePlus(s[gt:]); e >= 0 {
				end = gt + e
			} else {
				end = -1
			}
		}
	}
	if end < 0 {
		end = len(s)
	}
	name := s[:end]
	if name == "" || strings.ContainsAny(name, "[]()") && !strings.HasPrefix(name, "<") {
		return "", s
	}
	if end < len(s) && s[end] == '+' && !strings.HasPrefix(s[end:], "+0x") {
		return "", s
	}
	return name, s[end:]
}

// parseOffSize parses "0xoff/0xsize" at the start of s.
func parseOffSize(s string) (uint64, uint64, string, bool) {
	if !strings.HasPrefix(s, "0x") {
		return 0, 0, "", false
	}
	n := hexLen(s[2:])
	if n == 0 || n > 16 || !strings.HasPrefix(s[2+n:], "/0x") {
		return 0, 0, "", false
	}
	off := hexVal(s[2 : 2+n])
	s = s[2+n+3:]
	m := hexLen(s)
	if m == 0 || m > 16 {
		return 0, 0, "", false
	}
	return off, hexVal(s[:m]), s[m:], true
}

// suffix parses one suffix of a symbol, returning the rest.
func (f *Frame) suffix(s string) (string, bool) {
	if !strings.HasPrefix(s, " ") {
		return s, false
	}
	s = s[1:]
	switch {
	case strings.HasPrefix(s, "[inline]"):
		f.Inline = true
		return s[8:], true
	case strings.HasPrefix(s, "(unreliable)"):
		f.Reliable = false
		return s[12:], true
	case len(s) >= 3 && s[0] == '(' && s[2] == ')' && strings.IndexByte("PTCFKU", s[1]) >= 0:
		f.Source = s[1:2]
		return s[3:], true
	case strings.HasPrefix(s, "["):
		return f.module(s)
	}
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		end = len(s)
	}
	if isFileLine(s[:end]) {
		f.File = s[:end]
		return s[end:], true
	}
	return " " + s, false
}

// module parses "[mod]" or "[mod build-id]".
func (f *Frame) module(s string) (string, bool) {
	end := strings.IndexByte(s, ']')
	if end < 2 {
		return " " + s, false
	}
	in := s[1:end]
	mod, id, _ := strings.Cut(in, " ")
	if !isModuleName(mod) || (id != "" && !isHex(id)) {
		return " " + s, false
	}
	f.Module, f.BuildID = mod, id
	return s[end+1:], true
}

// isFileLine reports whether s looks like "path/file.c:123", or
// "path/file.c:-1", a symbolizer's file whose line it does not know.
func isFileLine(s string) bool {
	colon := strings.LastIndexByte(s, ':')
	if colon <= 0 || strings.IndexByte(s[:colon], '.') <= 0 {
		return false
	}
	line := s[colon+1:]
	return isDigits(line) || line == "-1"
}

// isModuleName reports whether s can be a module name.
func isModuleName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(isAlnum(c) || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// isHex reports whether s is a non-empty run of hexadecimal digits.
func isHex(s string) bool {
	return s != "" && hexLen(s) == len(s)
}

// hexLen returns the length of the run of hexadecimal digits at s's start.
func hexLen(s string) int {
	i := 0
	for i < len(s) && hexDigit(s[i]) >= 0 {
		i++
	}
	return i
}

// hexVal returns the value of s, which holds only hexadecimal digits; it
// keeps the low 64 bits of longer values.
func hexVal(s string) uint64 {
	var v uint64
	for i := 0; i < len(s); i++ {
		v = v<<4 | uint64(hexDigit(s[i]))
	}
	return v
}

// hexDigit returns the value of a hexadecimal digit, -1 for other bytes.
func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// indexSpacePlus returns the index of the first ' ' or '+' in s, or -1.
func indexSpacePlus(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '+' {
			return i
		}
	}
	return -1
}

// trimIndent removes leading spaces and tabs.
func trimIndent(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return s[i:]
}

// mayBeFrame is a fast check on the first byte of an unindented line: a
// frame starts with '[', '?', '(', '<', '-', an identifier, or a PC label.
func mayBeFrame(t string) bool {
	c := t[0]
	return c == '[' || c == '?' || c == '(' || c == '<' || c == '-' || c == '_' || isAlnum(c) || c == '.' || c == '$'
}
