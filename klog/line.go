package klog

import (
	"strconv"
	"strings"
)

// Line is one line of kernel log text with the prefixes added by printk,
// dmesg, syslog, journald or /dev/kmsg separated from the message itself.
// Every prefix is kept as written so that output can annotate the line.
type Line struct {
	// Num is the 1-based number of the line in its input, 0 when unknown.
	Num int
	// Raw is the line as read, without its line terminator.
	Raw string
	// Text is the message after every recognised prefix, with carriage
	// returns, terminal escape sequences and control bytes removed. Leading
	// white space of the message is kept: call trace frames are indented.
	Text string
	// Time is the printk timestamp as written inside its brackets, without
	// padding ("102.725341"), or computed from a /dev/kmsg record.
	Time string
	// Date is a wall clock date: dmesg -T ("Mon Nov 26 07:55:13 2026"),
	// syslog or journalctl ("Nov 26 07:55:13") or RFC 3339.
	Date string
	// Host is the host name of a syslog or journalctl line.
	Host string
	// Caller is the printk caller id without padding: "T1234" (task) or
	// "C3" (CPU).
	Caller string
	// Level is the console log level 0-7 from a "<N>" or /dev/kmsg prefix,
	// -1 when the line has none.
	Level int
	// Facility is the syslog facility from a "<N>" or /dev/kmsg prefix.
	Facility int
	// Seq is the /dev/kmsg sequence number, -1 when the line has none.
	Seq int64
	// Dropped is N for a "** N printk messages dropped **" line, else 0.
	Dropped int
	// Glued is text found before the printk prefix on a serial console
	// capture, such as "syzkaller login: ", or a message the kernel printed
	// without its newline just before this one (see unterminated): not part
	// of the message.
	Glued string
	// Cut reports that the line was longer than MaxLineLength: Raw holds
	// its first MaxLineLength bytes, the rest was dropped (Scan).
	Cut bool
}

// ParseLine splits one line of log text (without its terminator) into its
// prefixes and message. It accepts any input and never fails: text it does
// not recognise is the message.
func ParseLine(raw string) Line {
	l := Line{Raw: raw, Level: -1, Seq: -1}
	s := clean(raw)
	s = l.stripDropped(s)
	s = l.stripLevel(s)
	if rest, ok := l.stripKmsg(s); ok {
		l.Text = rest
		l.parseDropped()
		return l
	}
	s = l.stripSyslog(s)
	rest, ok := l.stripBrackets(s)
	if !ok && l.Date == "" {
		rest = l.stripGlued(s)
	}
	l.Text = l.stripUnterminated(rest)
	l.parseDropped()
	return l
}

// unterminated are messages that kernels printed without a newline, so
// that the next message continues their line: x86 KASAN's hint before a
// general protection fault (arch/x86/mm/kasan_init_64.c, 4.x).
var unterminated = []string{"kasan: GPF could be caused by NULL-ptr deref or user memory access"}

// stripUnterminated moves an unterminated message that another message
// continues into Glued and returns the rest.
func (l *Line) stripUnterminated(s string) string {
	for _, u := range unterminated {
		if rest, ok := strings.CutPrefix(s, u); ok && rest != "" {
			l.Glued += u
			return rest
		}
	}
	return s
}

// Seconds returns the timestamp as seconds, and false when the line has none.
func (l Line) Seconds() (float64, bool) {
	if l.Time == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(l.Time, 64)
	return f, err == nil
}

// clean removes carriage returns, terminal escape sequences and other
// control bytes except tabs. Clean input is returned unchanged.
func clean(s string) string {
	i := cleanPrefix(s)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == 0x1b:
			i = skipEscape(s, i+1)
			continue
		case c < 0x20 && c != '\t', c == 0x7f:
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String()
}

// cleanPrefix returns the length of the prefix of s that clean keeps as
// is. It checks eight bytes at a time for bytes below 0x20 or equal to 0x7f.
func cleanPrefix(s string) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		ctl := (x - 0x20*lo) & ^x & hi                    // a byte below 0x20
		del := ((x ^ 0x7f*lo) - lo) & ^(x ^ 0x7f*lo) & hi // a byte equal to 0x7f
		if ctl|del != 0 {
			break
		}
	}
	for i < len(s) && (s[i] >= 0x20 || s[i] == '\t') && s[i] != 0x7f {
		i++
	}
	return i
}

// skipEscape returns the index after the escape sequence whose introducer
// (ESC) ends just before i: CSI "[...final", OSC "]...BEL or ST", or one byte.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		for i++; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return i
	case ']':
		for i++; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return i
	}
	return i + 1
}

// stripLevel removes a dmesg -r "<N>" prefix.
func (l *Line) stripLevel(s string) string {
	if len(s) < 3 || s[0] != '<' {
		return s
	}
	n, end := digits(s, 1)
	if end == 1 || end >= len(s) || s[end] != '>' || end-1 > 4 {
		return s
	}
	l.Level, l.Facility = n&7, n>>3
	return s[end+1:]
}

// stripKmsg parses a /dev/kmsg record "level,seq,usec,flags[,...];text".
func (l *Line) stripKmsg(s string) (string, bool) {
	if len(s) < 8 || s[0] < '0' || s[0] > '9' || strings.IndexByte(s[:min(len(s), 8)], ',') < 0 {
		return s, false
	}
	semi := strings.IndexByte(s, ';')
	if semi < 5 {
		return s, false
	}
	fields := strings.Split(s[:semi], ",")
	if len(fields) < 4 {
		return s, false
	}
	prio, err1 := strconv.Atoi(fields[0])
	seq, err2 := strconv.ParseInt(fields[1], 10, 64)
	usec, err3 := strconv.ParseUint(fields[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || prio < 0 {
		return s, false
	}
	l.Level, l.Facility, l.Seq = prio&7, prio>>3, seq
	l.Time = strconv.FormatUint(usec/1e6, 10) + "." + pad6(usec%1e6)
	return s[semi+1:], true
}

// pad6 formats n (< 1e6) on six digits.
func pad6(n uint64) string {
	t := strconv.FormatUint(n, 10)
	return "000000"[len(t):] + t
}

// stripSyslog removes a syslog or journalctl "Mon DD HH:MM:SS host kernel: "
// or RFC 3339 "2026-11-26T07:55:13.123+00:00 host kernel: " prefix.
func (l *Line) stripSyslog(s string) string {
	var date, rest string
	switch {
	case len(s) > 16 && isMonth(s[:3]) && s[3] == ' ' && isClock(s[7:15]) && s[15] == ' ':
		date, rest = s[:15], s[16:]
	case len(s) > 20 && isDigits(s[:4]) && s[4] == '-' && s[10] == 'T':
		sp := strings.IndexByte(s, ' ')
		if sp < 0 {
			return s
		}
		date, rest = s[:sp], s[sp+1:]
	default:
		return s
	}
	host, text, ok := cutKernelTag(rest)
	if !ok {
		return s
	}
	l.Date, l.Host = date, host
	return text
}

// cutKernelTag splits "host kernel: text" (or "host kernel[0]: text").
func cutKernelTag(s string) (host, text string, ok bool) {
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		return "", "", false
	}
	rest := s[sp+1:]
	if !strings.HasPrefix(rest, "kernel") {
		return "", "", false
	}
	colon := strings.IndexByte(rest, ':')
	if colon < 0 || colon > 12 {
		return "", "", false
	}
	return s[:sp], strings.TrimPrefix(rest[colon+1:], " "), true
}

// stripBrackets removes leading "[time]", "[ T1]", "[  C3]" and dmesg -T
// "[date]" prefixes, then one separating space. It reports whether any
// prefix was found.
func (l *Line) stripBrackets(s string) (string, bool) {
	found := false
	for len(s) > 0 && s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			break
		}
		if !l.bracket(strings.TrimSpace(s[1:end])) {
			break
		}
		found = true
		s = s[end+1:]
		if len(s) > 1 && s[0] == ' ' && s[1] == '[' && isCallerBracket(s[1:]) {
			s = s[1:]
		}
	}
	if !found {
		return s, false
	}
	s = strings.TrimPrefix(s, " ")
	if l.Host == "" {
		if host, text, ok := cutKernelTag(s); ok && l.Time != "" && isHostName(host) {
			l.Host, s = host, text
		}
	}
	return s, true
}

// bracket records the content of one prefix bracket, reporting whether it
// was a prefix at all.
func (l *Line) bracket(in string) bool {
	switch {
	case isTimestamp(in):
		if l.Time != "" {
			return false
		}
		l.Time = in
	case isCaller(in):
		if l.Caller != "" {
			return false
		}
		l.Caller = strings.ReplaceAll(in, " ", "")
	case len(in) == 24 && isWeekday(in[:3]) && isMonth(in[4:7]):
		if l.Date != "" {
			return false
		}
		l.Date = in
	default:
		return false
	}
	return true
}

// isCallerBracket reports whether s starts with a caller id bracket.
func isCallerBracket(s string) bool {
	end := strings.IndexByte(s, ']')
	return end > 0 && isCaller(strings.TrimSpace(s[1:end]))
}

// stripGlued finds a timestamp prefix after console noise, as in
// "syzkaller login: [   36.852785] text".
func (l *Line) stripGlued(s string) string {
	for i := 1; i < len(s); i++ {
		if s[i] != '[' {
			continue
		}
		end := strings.IndexByte(s[i:], ']')
		if end < 0 {
			return s
		}
		if isTimestamp(strings.TrimSpace(s[i+1 : i+end])) {
			if rest, ok := l.stripBrackets(s[i:]); ok {
				l.Glued = s[:i]
				return rest
			}
		}
	}
	return s
}

// stripDropped removes a "** N printk messages dropped ** " marker glued
// before the next record, as consoles print it.
func (l *Line) stripDropped(s string) string {
	const suffix = " printk messages dropped ** "
	if !strings.HasPrefix(s, "** ") {
		return s
	}
	n, end := digits(s, 3)
	if end == 3 || !strings.HasPrefix(s[end:], suffix) || len(s) == end+len(suffix) {
		return s
	}
	l.Dropped = n
	return s[end+len(suffix):]
}

// parseDropped recognises "** N printk messages dropped **".
func (l *Line) parseDropped() {
	t := l.Text
	if !strings.HasPrefix(t, "** ") || !strings.HasSuffix(t, " printk messages dropped **") {
		return
	}
	n, end := digits(t, 3)
	if end > 3 && t[end] == ' ' {
		l.Dropped = n
	}
}

// isTimestamp reports whether s is "digits.digits".
func isTimestamp(s string) bool {
	dot := strings.IndexByte(s, '.')
	return dot > 0 && dot < len(s)-1 && isDigits(s[:dot]) && isDigits(s[dot+1:])
}

// isCaller reports whether s is a caller id "T123" or "C3", with optional
// spaces after the letter.
func isCaller(s string) bool {
	if len(s) < 2 || (s[0] != 'T' && s[0] != 'C') {
		return false
	}
	return isDigits(strings.TrimLeft(s[1:], " "))
}

// isHostName reports whether s can be a host name in a journal line.
func isHostName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '.' || c == '_' || isAlnum(c)) {
			return false
		}
	}
	return s != ""
}

// isClock reports whether s is "HH:MM:SS".
func isClock(s string) bool {
	return len(s) == 8 && s[2] == ':' && s[5] == ':' && isDigits(s[:2]) && isDigits(s[3:5]) && isDigits(s[6:])
}

// isMonth reports whether s is an English month abbreviation.
func isMonth(s string) bool {
	i := strings.Index("JanFebMarAprMayJunJulAugSepOctNovDec", s)
	return len(s) == 3 && i >= 0 && i%3 == 0
}

// isWeekday reports whether s is an English weekday abbreviation.
func isWeekday(s string) bool {
	switch s {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

// isDigits reports whether s is a non-empty run of decimal digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// digits parses the decimal number starting at s[i], returning it and the
// index after it; it saturates instead of overflowing.
func digits(s string, i int) (int, int) {
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<40 {
			n = n*10 + int(s[i]-'0')
		}
	}
	return n, i
}
