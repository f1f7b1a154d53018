package kallsyms

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"sync/atomic"
)

// MaxNameLen is the longest symbol name accepted. The kernel's own limit is
// KSYM_NAME_LEN-1 = 511 bytes (since Linux 6.1); System.map files written by
// nm can hold longer (Rust) names, so the parser allows more, but not
// unbounded garbage.
const MaxNameLen = 4095

// maxLineLen bounds one input line: address, type, name and module.
const maxLineLen = MaxNameLen + 256

// readSize is how much Parse reads at a time: what cat reads, so that
// reading /proc/kallsyms takes no more read calls than a bare read would.
const readSize = 128 << 10

// Options tune Parse. The zero value is fine.
type Options struct {
	// Source names the input in errors ("/proc/kallsyms", a file path).
	Source string
	// PageSize of the kernel that wrote the table, used to find where a
	// module's text ends. Zero means 4096.
	PageSize uint64
}

// Open parses a file, plain or gzip-compressed (detected by its magic bytes).
// Other compressions are handled by package input.
func Open(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: %w", err)
	}
	defer f.Close()
	opts := Options{Source: path}
	hint := sizeHint(f)
	br := bufio.NewReaderSize(f, 16) // only to peek: larger reads go straight to the file
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("kallsyms: %s: %w", path, err)
		}
		return parse(zr, 4*hint, opts)
	}
	return parse(br, hint, opts)
}

// ParseBytes parses a table already in memory. The table does not keep a
// reference to data.
func ParseBytes(data []byte, opts Options) (*Table, error) {
	// Exact for lines "ADDRESS TYPE NAME\n", an overestimate for others.
	newlines := bytes.Count(data, []byte{'\n'})
	digits := max(bytes.IndexByte(data, ' '), 0)
	b := newBuilderLines(opts, newlines+1, max(len(data)-(digits+4)*newlines, 0)+64)
	rest, err := b.parseLines(data)
	if err == nil {
		err = b.parseLast(rest)
	}
	if err != nil {
		return nil, err
	}
	return b.finish()
}

// Parse reads a kallsyms or System.map text from r. It reads r on the
// calling goroutine, in pieces, and parses each piece on another goroutine
// while it reads the next: a live /proc/kallsyms, which the kernel writes
// as it is read, then costs little more than reading it. It never holds the
// whole text; the parsing goroutine ends before Parse returns; r is not read
// after Parse returns, and at most one more piece once a line is found
// malformed.
func Parse(r io.Reader, opts Options) (*Table, error) {
	return parse(r, sizeHint(r), opts)
}

// parse is Parse with a guess of the input's size in bytes (0 if unknown),
// to size the columns.
func parse(r io.Reader, hint int64, opts Options) (*Table, error) {
	b := newBuilder(opts, int(min(hint, 1<<32)))
	slab := make([]byte, numChunks*readSize)
	free, full := make(chan []byte, numChunks), make(chan []byte, numChunks)
	for i := range numChunks {
		free <- slab[i*readSize : (i+1)*readSize : (i+1)*readSize]
	}
	var failed atomic.Bool
	parsed := make(chan error, 1)
	go func() { parsed <- b.parseChunks(full, free, &failed) }()
	var readErr error
	for !failed.Load() {
		buf := <-free
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			full <- buf[:n] // never blocks: full has room for every chunk
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("%s: %w", sourceName(opts.Source), err)
			break
		}
	}
	close(full)
	perr := <-parsed
	if err := cmp.Or(readErr, perr); err != nil { // a read error cuts the last line short
		return nil, err
	}
	return b.finish()
}

// numChunks is how many pieces of readSize bytes are in flight: one parsed
// while the next is read is enough to hide the parse behind a live read, and
// each more piece is 128 KiB of peak memory for nothing.
const numChunks = 2

// parseChunks parses the chunks from full in order, a line split between two
// of them carried over, and hands each back on free; after an error it sets
// failed and only hands them back. It returns when full is closed.
func (b *builder) parseChunks(full <-chan []byte, free chan<- []byte, failed *atomic.Bool) error {
	carry := make([]byte, 0, maxLineLen+1) // the unfinished last line
	var err error
	for chunk := range full {
		if err == nil {
			if carry, err = b.parseChunk(carry, chunk); err != nil {
				failed.Store(true)
			}
		}
		free <- chunk[:cap(chunk)]
	}
	if err != nil {
		return err
	}
	return b.parseLast(carry)
}

// parseChunk parses chunk after carry, the start of a line the chunk before
// left unfinished, and returns the line this chunk leaves unfinished, in
// carry's array.
func (b *builder) parseChunk(carry, chunk []byte) ([]byte, error) {
	if len(carry) > 0 {
		nl := bytes.IndexByte(chunk, '\n')
		if nl < 0 {
			nl = len(chunk) - 1
		}
		carry = append(carry, chunk[:nl+1]...)
		chunk = chunk[nl+1:]
		if len(carry) > maxLineLen+1 {
			b.line++
			return nil, b.errorf("line longer than %d bytes", maxLineLen)
		}
		if carry[len(carry)-1] != '\n' { // still unfinished
			return carry, nil
		}
		if _, err := b.parseLines(carry); err != nil {
			return nil, err
		}
		carry = carry[:0]
	}
	rest, err := b.parseLines(chunk)
	if err != nil {
		return nil, err
	}
	if len(rest) > maxLineLen {
		b.line++
		return nil, b.errorf("line longer than %d bytes", maxLineLen)
	}
	return append(carry, rest...), nil
}

// sizeHint returns the size of r if it is a regular file that says how big
// it is (files in /proc say 0), else 0.
func sizeHint(r io.Reader) int64 {
	st, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return 0
	}
	fi, err := st.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}

func sourceName(s string) string {
	if s == "" {
		return "input"
	}
	return s
}

// builder accumulates symbols in file order.
type builder struct {
	opts    Options
	line    int
	lo      []uint32 // the low halves of the addresses
	hi      []hiRun  // their high halves, as runs in file order
	types   []byte
	nameOff []uint32 // a zero, then the end of every name in names
	names   []byte
	runs    []run // module runs in file order
	modIDs  map[string]uint16
	modName []string // by id; id 0 is the core kernel's ""
	core    coreScan
	// unsorted is the index of the first symbol below the one before it,
	// or -1; last is the address of the last symbol, and nonZero the OR of
	// every address.
	unsorted      int
	last, nonZero uint64
	slowOnly      bool // parse every line with parseLine (for tests)
}

// newBuilder sizes the columns for an input of about size bytes (0 when
// unknown): lines of a real table average about 45 bytes, 60% of which is
// the name.
func newBuilder(opts Options, size int) *builder {
	if size <= 0 {
		return newBuilderLines(opts, 1<<17, 4<<20) // a large kernel's
	}
	return newBuilderLines(opts, size/36+16, size*5/8+64)
}

// newBuilderLines sizes the columns for the given number of lines and bytes
// of names.
func newBuilderLines(opts Options, lines, names int) *builder {
	return &builder{
		opts:     opts,
		lo:       make([]uint32, 0, lines),
		types:    make([]byte, 0, lines),
		nameOff:  append(make([]uint32, 0, lines+1), 0),
		names:    make([]byte, 0, names),
		runs:     []run{{0, 0}},
		modName:  []string{""},
		unsorted: -1,
	}
}

func (b *builder) errorf(format string, args ...any) error {
	return &ParseError{File: b.opts.Source, Line: b.line, Msg: fmt.Sprintf(format, args...)}
}

// parseLines parses every complete line of buf and returns what follows the
// last newline: runs of lines of the common shape through fastLines, any
// other line through parseLine.
func (b *builder) parseLines(buf []byte) ([]byte, error) {
	for {
		if !b.slowOnly {
			buf = buf[b.fastLines(buf):]
		}
		nl := bytes.IndexByte(buf, '\n')
		if nl < 0 {
			return buf, nil
		}
		if err := b.parseLine(buf[:nl]); err != nil {
			return nil, err
		}
		buf = buf[nl+1:]
	}
}

// fastLines parses the leading lines of buf that have the common shape, 16
// hex digits, type, name and newline, or "\t[mod]" before the newline when
// mod is the current module, and returns how many bytes they took. It stops
// at any other line, at a line cut by the end of buf, and when a column is
// full, and leaves those to parseLine. It appends through local copies of
// the columns, and finds each line's end from its name's: the usual line
// costs about half what parseLine's checks and appends to the builder do,
// and a live read parses while no read is outstanding.
func (b *builder) fastLines(buf []byte) int {
	lo, types, names, offs := b.lo, b.types, b.names, b.nameOff
	last, nonZero, unsorted, mod := b.last, b.nonZero, b.unsorted, b.curMod()
	// The top eight digits are the same for most of a table: they are
	// decoded once per run of them.
	hiWord, hi, ok1 := uint64(0x3030303030303030), uint32(0), true // "00000000"
	n := 0
	for {
		p := buf[n:]
		if len(p) < 21 || p[16] != ' ' || p[18] != ' ' || !validType(p[17]) {
			break
		}
		if w := binary.BigEndian.Uint64(p); w != hiWord {
			hiWord = w
			hi, ok1 = hex8(w)
		}
		low, ok2 := hex8(binary.BigEndian.Uint64(p[8:]))
		name := p[19:min(len(p), 19+MaxNameLen+1)]
		end := 32
		if len(name) >= 32 {
			end = blankIn32(name)
		}
		if end == 32 {
			end = nameEnd(name)
		}
		if !ok1 || !ok2 || end == 0 || end == len(name) || // no name; a name too long or cut by buf's end
			len(lo) == cap(lo) || cap(names)-len(names) < end || len(names)+end > 1<<32-1 {
			break
		}
		size := 19 + end + 1
		if len(mod) > 0 && name[end] == '\t' && isModuleTail(p[size:], mod) {
			size += len(mod) + 3
		} else if len(mod) > 0 || name[end] != '\n' {
			break
		}
		addr := uint64(hi)<<32 | uint64(low)
		if addr < last && unsorted < 0 {
			unsorted = len(lo)
		}
		if addr>>32 != last>>32 || len(lo) == 0 { // (the usual line skips the call)
			b.hi = addHi(b.hi, len(lo), hi)
		}
		last, nonZero = addr, nonZero|addr
		lo = append(lo, low)
		types = append(types, p[17])
		if k := len(names); end <= 32 && len(name) >= 32 && cap(names)-k >= 32 {
			// Most names are shorter than 32 bytes: a copy of a fixed 32
			// bytes is a few moves, where append calls memmove.
			*(*[32]byte)(names[k : k+32]) = *(*[32]byte)(name)
			names = names[:k+end]
		} else {
			names = append(names, name[:end]...)
		}
		offs = append(offs, uint32(len(names)))
		if len(mod) == 0 && name[0] == '_' && end <= longestMarker {
			b.core.noteMarker(name[:end], addr)
		}
		b.line++
		n += size
	}
	b.lo, b.types, b.names, b.nameOff = lo, types, names, offs
	b.last, b.nonZero, b.unsorted = last, nonZero, unsorted
	return n
}

// curMod returns the module of the last symbol ("" for the core kernel).
func (b *builder) curMod() string { return b.modName[b.runs[len(b.runs)-1].mod] }

// isModuleTail reports whether s starts with "[mod]\n".
func isModuleTail(s []byte, mod string) bool {
	return len(s) >= len(mod)+3 && s[0] == '[' && s[len(mod)+1] == ']' && s[len(mod)+2] == '\n' &&
		string(s[1:len(mod)+1]) == mod
}

// parseLast parses the text after the last newline, if any.
func (b *builder) parseLast(rest []byte) error {
	if len(rest) == 0 {
		return nil
	}
	return b.parseLine(rest)
}

// parseLine parses "ADDRESS TYPE NAME[\t[MODULE]]" (without the newline) and
// adds the symbol. A blank line carries nothing and is skipped.
func (b *builder) parseLine(text []byte) error {
	b.line++
	if len(text) > 0 && text[len(text)-1] == '\r' {
		text = text[:len(text)-1]
	}
	if len(text) == 0 {
		return nil
	}
	if len(text) > maxLineLen {
		return b.errorf("line longer than %d bytes", maxLineLen)
	}
	addr, i, err := b.parseAddr(text)
	if err != nil {
		return err
	}
	if i+3 > len(text) || text[i] != ' ' || text[i+2] != ' ' || !validType(text[i+1]) {
		return b.errorf("want \"ADDRESS TYPE NAME\", got %q", clip(text))
	}
	typ, rest := text[i+1], text[i+3:]
	end := nameEnd(rest)
	name := rest[:end]
	var mod []byte
	if end < len(rest) {
		if rest[end] != '\t' && rest[end] != ' ' {
			return b.errorf("control character 0x%02x in symbol name", rest[end])
		}
		if mod, err = b.parseModule(rest[end:]); err != nil {
			return err
		}
	}
	switch {
	case len(name) == 0:
		return b.errorf("missing symbol name")
	case len(name) > MaxNameLen:
		return b.errorf("symbol name of %d bytes is longer than %d", len(name), MaxNameLen)
	}
	return b.add(addr, typ, name, mod)
}

// add appends one symbol.
func (b *builder) add(addr uint64, typ byte, name, mod []byte) error {
	if len(b.names)+len(name) > 1<<32-1 {
		return b.errorf("input too large: names exceed 4 GiB")
	}
	if string(mod) != b.curMod() {
		if err := b.setModule(mod); err != nil {
			return err
		}
	}
	if addr < b.last && b.unsorted < 0 {
		b.unsorted = len(b.lo)
	}
	b.hi = addHi(b.hi, len(b.lo), uint32(addr>>32))
	b.last = addr
	b.nonZero |= addr
	b.lo = append(b.lo, uint32(addr))
	b.types = append(b.types, typ)
	b.names = grow(b.names, len(name))
	b.names = append(b.names, name...)
	b.nameOff = append(b.nameOff, uint32(len(b.names)))
	if len(mod) == 0 && name[0] == '_' {
		b.core.noteMarker(name, addr)
	}
	return nil
}

// grow makes room for n more elements, doubling the array when it must grow
// (append alone grows a large one by a quarter at a time, in more copies:
// names take the most room).
func grow[S ~[]E, E any](s S, n int) S {
	if cap(s)-len(s) >= n {
		return s
	}
	return slices.Grow(s, max(n, cap(s)))
}

// setModule starts a run of symbols of mod (nil for the core kernel).
func (b *builder) setModule(mod []byte) error {
	id, ok := b.modIDs[string(mod)]
	if !ok && len(mod) > 0 {
		if len(b.modName) > maxModules {
			return b.errorf("more than %d modules", maxModules)
		}
		if b.modIDs == nil {
			b.modIDs = make(map[string]uint16)
		}
		id = uint16(len(b.modName))
		b.modIDs[string(mod)] = id
		b.modName = append(b.modName, string(mod))
	}
	if last := &b.runs[len(b.runs)-1]; int(last.first) == len(b.lo) {
		last.mod = id // the run before had no symbol
	} else {
		b.runs = append(b.runs, run{first: uint32(len(b.lo)), mod: id})
	}
	return nil
}

// maxModules is how many distinct modules a table may name.
const maxModules = 1<<16 - 1

// parseAddr reads the hexadecimal address at the start of line and returns it
// with the index of the byte after it.
func (b *builder) parseAddr(line []byte) (uint64, int, error) {
	if len(line) > 16 && line[16] == ' ' { // the common 64-bit case
		hi, ok1 := hex8(binary.BigEndian.Uint64(line))
		lo, ok2 := hex8(binary.BigEndian.Uint64(line[8:]))
		if ok1 && ok2 {
			return uint64(hi)<<32 | uint64(lo), 16, nil
		}
	}
	var addr uint64
	i := 0
	for ; i < len(line) && i <= 16; i++ {
		v := hexVal(line[i])
		if v < 0 {
			break
		}
		addr = addr<<4 | uint64(v)
	}
	switch {
	case i == 0:
		return 0, 0, b.errorf("line does not start with a hexadecimal address: %q", clip(line))
	case i > 16:
		return 0, 0, b.errorf("address %q is longer than 64 bits", clip(line[:i]))
	}
	return addr, i, nil
}

// hexVal returns the value of the hex digit c, or -1.
func hexVal(c byte) int {
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

// hex8 decodes eight ASCII hex digits held big-endian in x (the first digit
// in the top byte), all eight at once: an address is most of a line, and a
// digit at a time costs a third of the whole parse.
func hex8(x uint64) (uint32, bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	lower := x | 0x2020202020202020 // 'A'-'F' -> 'a'-'f'
	// Per byte b < 0x80, b+(0x80-k) has its top bit set exactly when b >= k,
	// and no byte carries into the next (bytes >= 0x80 are refused). Digits
	// are tested on x itself: lowering would turn 0x10-0x19 into them.
	digit := (x + (0x80-'0')*ones) &^ (x + (0x80-'9'-1)*ones)
	alpha := (lower + (0x80-'a')*ones) &^ (lower + (0x80-'f'-1)*ones) & highs
	v := lower&0x0f0f0f0f0f0f0f0f + alpha>>4 + alpha>>7 // one nibble value per byte ('a' is 1 + 9)
	// Pack the nibbles, most significant first: bytes to 16-, 32- and
	// 64-bit lanes.
	v = (v>>4 | v) & 0x00ff00ff00ff00ff
	v = (v>>8 | v) & 0x0000ffff0000ffff
	return uint32(v>>16 | v), (digit|alpha)&^x&highs == highs
}

// blankIn32 returns the index of the first byte below 0x21 among the first
// 32 of s, or 32, without a branch on where it is: most names are shorter
// than 32 bytes, of lengths that vary at random, and a loop that stops at
// the name's end mispredicts its exit. Each word's flags (exact up to the
// word's first) are gathered into a byte, bit k for byte k, and the lowest
// bit of the four bytes is the answer.
func blankIn32(s []byte) int {
	m := blankFlags(binary.LittleEndian.Uint64(s)) | blankFlags(binary.LittleEndian.Uint64(s[8:]))<<8 |
		blankFlags(binary.LittleEndian.Uint64(s[16:]))<<16 | blankFlags(binary.LittleEndian.Uint64(s[24:32]))<<24
	return bits.TrailingZeros32(m) // 32 when none
}

// blankFlags returns a byte with bit k set when byte k of x (little-endian)
// is below 0x21; only the lowest set bit is exact.
func blankFlags(x uint64) uint32 {
	const highs, limit = 0x8080808080808080, 0x21 * 0x0101010101010101
	m := (x - limit) &^ x & highs // bytes >= 0x80 never flag
	// Bits 7, 15, ... 63 to bits 56 ... 63: the products do not overlap.
	return uint32((m >> 7) * 0x0102040810204080 >> 56)
}

// nameEnd returns the index of the first byte of s below 0x21 (a blank or a
// control character), or len(s). It tests eight bytes at a time.
func nameEnd(s []byte) int {
	const highs, limit = 0x8080808080808080, 0x21 * 0x0101010101010101
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		// Flags bytes < 0x21 (bytes >= 0x80 never flag); the lowest flag is exact.
		if m := (x - limit) &^ x & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x21 {
			return i
		}
	}
	return i
}

// validType reports whether c can be an nm type letter.
func validType(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '?' || c == '-'
}

// parseModule parses "[MODULE]" with blanks before it and optionally after;
// only blanks mean no module.
func (b *builder) parseModule(s []byte) ([]byte, error) {
	s = bytes.Trim(s, "\t ")
	if len(s) == 0 {
		return nil, nil
	}
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, b.errorf("want \"[module]\" after the name, got %q", clip(s))
	}
	mod := s[1 : len(s)-1]
	for _, c := range mod {
		if c <= ' ' || c == '[' || c == ']' {
			return nil, b.errorf("malformed module name %q", clip(mod))
		}
	}
	return mod, nil
}

// clip shortens s for an error message.
func clip(s []byte) string {
	const max = 80
	if len(s) > max {
		return string(s[:max]) + "..."
	}
	return string(s)
}

// ParseError reports malformed input with its place.
type ParseError struct {
	File string // the input's name, as given in Options.Source; "" when unknown
	Line int    // 1-based line number
	Msg  string // what is wrong
}

// Error implements error as "source:line: msg".
func (e *ParseError) Error() string {
	src := e.File
	if src == "" {
		src = "kallsyms"
	}
	return fmt.Sprintf("%s:%d: %s", src, e.Line, e.Msg)
}

// Errors callers can test with errors.Is.
var (
	// ErrAddressesHidden means every address in the table is zero, as the
	// kernel prints them to a reader it does not trust (kptr_restrict, no
	// CAP_SYSLOG). Names are still usable; addresses are not.
	ErrAddressesHidden = errors.New("kallsyms: addresses are hidden (all zero)")
	// ErrNoSymbol means the address lies outside every range the kernel
	// itself would resolve to a symbol: below the first symbol, past the end of
	// the kernel image or of a module, or in user space.
	ErrNoSymbol = errors.New("kallsyms: address is not inside any kernel symbol")
	// ErrEmpty means the input held no symbols.
	ErrEmpty = errors.New("kallsyms: no symbols in input")
)
