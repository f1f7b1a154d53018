package kstack

import (
	"strconv"
	"strings"
)

// Frame is one stack frame as the kernel printed it, or as a table
// resolved it (Resolved).
type Frame struct {
	// Name is the function, empty for an address the kernel could not
	// name (printed as "0xffffffffc0001234") and nobody resolved.
	Name string `json:"name,omitempty"`
	// Offset and Size are the "+0xoff/0xsize" after Name, valid when
	// HasOffset; Size is 0 when the kernel printed no size.
	Offset    uint64 `json:"offset,omitempty"`
	Size      uint64 `json:"size,omitempty"`
	HasOffset bool   `json:"has_offset,omitempty"`
	// Module is the module of the function, empty for the kernel image.
	Module string `json:"module,omitempty"`
	// Addr is the address printed with the frame, valid when HasAddr: an
	// address hidden by the kernel ("[<0>]") or hashed by %p is not one.
	Addr    uint64 `json:"addr,omitempty"`
	HasAddr bool   `json:"has_addr,omitempty"`
	// Resolved reports that Name, Offset, Size and Module come from a
	// symbol table (Resolve), not from the kernel's text.
	Resolved bool `json:"resolved,omitempty"`
}

// Func returns the frame's identity in a stack: the function name, with
// its module as "name [mod]", or the raw address "0x..." when unnamed.
// Offsets are left out, so that a task waiting in the same functions is
// the same stack wherever in them it waits.
func (f Frame) Func() string {
	if f.Name == "" {
		if f.HasAddr {
			return "0x" + strconv.FormatUint(f.Addr, 16)
		}
		return "?"
	}
	if f.Module != "" {
		return f.Name + " [" + f.Module + "]"
	}
	return f.Name
}

// String returns the frame as the kernel prints it: "name+0xoff/0xsize
// [mod]", or the raw address.
func (f Frame) String() string {
	if f.Name == "" {
		return f.Func()
	}
	s := f.Name
	if f.HasOffset {
		s += "+0x" + strconv.FormatUint(f.Offset, 16)
		if f.Size != 0 {
			s += "/0x" + strconv.FormatUint(f.Size, 16)
		}
	}
	if f.Module != "" {
		s += " [" + f.Module + "]"
	}
	return s
}

// ParseFrameLine parses one line of a /proc/PID/stack capture:
// "[<0>] do_wait+0x114/0x320", "[<ffffffff8108f0b5>] do_wait+0x1c5/0x260"
// (older kernels, or as root on some), "[<0>] fn+0x1/0x2 [mod]", "[<0>]
// fn+0x1/0x2 [mod buildid]", "[<0>] 0xffffffffc0001234" (an address the
// kernel could not name). It returns false for any other line. end reports
// the "[<ffffffffffffffff>] 0xffffffffffffffff" that older kernels print
// after the last frame (its bracket may hold a hashed value), which is not
// a frame.
func ParseFrameLine(line string) (f Frame, end, ok bool) {
	line = strings.TrimRight(line, " \t\r\n")
	if !strings.HasPrefix(line, "[<") {
		return Frame{}, false, false
	}
	close := strings.Index(line, ">]")
	if close < 3 || close > 2+16 {
		return Frame{}, false, false
	}
	digits := line[2:close]
	addr, err := strconv.ParseUint(digits, 16, 64)
	if err != nil {
		return Frame{}, false, false
	}
	rest := line[close+2:]
	if !strings.HasPrefix(rest, " ") {
		return Frame{}, false, false
	}
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return Frame{}, false, false
	}
	if allOnes(digits) || strings.HasPrefix(rest, "0x") && allOnes(rest[2:]) {
		return Frame{}, true, true
	}
	f.Addr, f.HasAddr = addr, isAddress(digits, addr)
	if strings.HasPrefix(rest, "0x") {
		v, err := strconv.ParseUint(rest[2:], 16, 64)
		if err != nil {
			return Frame{}, false, false
		}
		if v != 0 { // %pB prints the address it cannot name
			f.Addr, f.HasAddr = v, true
		}
		return f, false, true
	}
	if !parseSymbol(rest, &f) {
		return Frame{}, false, false
	}
	return f, false, true
}

// isAddress reports whether the printed digits are an address: not zero
// (kptr_restrict, or kernels since 4.16 that always print [<0>]) and not a
// hashed %p value (16 digits whose upper half is zero).
func isAddress(digits string, v uint64) bool {
	if v == 0 {
		return false
	}
	return len(digits) != 16 || v>>32 != 0
}

// allOnes reports whether hex digits are all f: ULONG_MAX.
func allOnes(digits string) bool {
	if len(digits) != 8 && len(digits) != 16 {
		return false
	}
	return strings.Trim(digits, "fF") == ""
}

// parseSymbol parses "name+0xoff/0xsize [mod buildid]" into f.
func parseSymbol(s string, f *Frame) bool {
	if strings.HasSuffix(s, "]") {
		open := strings.LastIndex(s, " [")
		if open < 0 {
			return false
		}
		mod := s[open+2 : len(s)-1]
		if sp := strings.IndexByte(mod, ' '); sp >= 0 {
			mod = mod[:sp] // the build ID after the module name
		}
		if mod == "" || strings.ContainsAny(mod, "[] \t") {
			return false
		}
		f.Module, s = mod, s[:open]
	}
	plus := strings.LastIndex(s, "+0x")
	if plus < 0 {
		return false // %pB always prints the offset
	}
	f.Name = s[:plus]
	off, size, hasSize := s[plus+3:], "", false
	if slash := strings.IndexByte(off, '/'); slash >= 0 {
		off, size, hasSize = off[:slash], off[slash+1:], true
	}
	o, err := strconv.ParseUint(off, 16, 64)
	if err != nil {
		return false
	}
	f.Offset, f.HasOffset = o, true
	if hasSize {
		if !strings.HasPrefix(size, "0x") {
			return false
		}
		z, err := strconv.ParseUint(size[2:], 16, 64)
		if err != nil {
			return false
		}
		f.Size = z
	}
	return validName(f.Name)
}

// validName reports whether s can be a symbol name: not empty, no control
// characters, not an arm32 "(func) from [<addr>] (caller" pair.
func validName(s string) bool {
	if s == "" || s[0] == '(' || strings.Contains(s, "[<") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}
