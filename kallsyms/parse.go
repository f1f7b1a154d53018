package kallsyms

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"
)

// MaxNameLen is the longest symbol name accepted. The kernel's own limit is
// KSYM_NAME_LEN-1 = 511 bytes (since Linux 6.1); System.map files written by
// nm can hold longer (Rust) names, so the parser allows more, but not
// unbounded garbage.
const MaxNameLen = 4095

// maxLineLen bounds one input line: address, type, name and module.
const maxLineLen = MaxNameLen + 256

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
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: %w", err)
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("kallsyms: %s: %w", path, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("kallsyms: %s: gzip: %w", path, err)
		}
	}
	return ParseBytes(data, Options{Source: path})
}

// ParseBytes parses a table already in memory. The table does not keep a
// reference to data.
func ParseBytes(data []byte, opts Options) (*Table, error) {
	b := newBuilder(opts, bytes.Count(data, []byte{'\n'})+1, len(data), addrDigits(data))
	rest, err := b.parseLines(data)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 { // no final newline
		if err := b.parseLine(rest); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// Parse reads a kallsyms or System.map text from r. Reading and parsing
// overlap: a live /proc/kallsyms, which the kernel generates as it is read,
// costs little more than reading it.
func Parse(r io.Reader, opts Options) (*Table, error) {
	b := newBuilder(opts, 1<<14, 1<<20, 0)
	chunks := make(chan []byte, 4)
	free := make(chan []byte, 4)
	errc := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go readChunks(r, chunks, free, errc, stop)

	var carry []byte // a line split across chunks
	for chunk := range chunks {
		buf, err := b.joinCarry(&carry, chunk)
		if err != nil {
			return nil, err
		}
		rest, err := b.parseLines(buf)
		if err != nil {
			return nil, err
		}
		carry = append(carry, rest...)
		select {
		case free <- chunk[:cap(chunk)]:
		default:
		}
	}
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("kallsyms: reading %s: %w", sourceName(opts.Source), err)
	}
	if len(carry) > 0 {
		if err := b.parseLine(carry); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// joinCarry completes the line held in carry with the start of chunk, parses
// it, and returns the rest of chunk.
func (b *builder) joinCarry(carry *[]byte, chunk []byte) ([]byte, error) {
	if len(*carry) == 0 {
		return chunk, nil
	}
	nl := bytes.IndexByte(chunk, '\n')
	if nl < 0 {
		*carry = append(*carry, chunk...)
		if len(*carry) > maxLineLen {
			b.line++
			return nil, b.errorf("line longer than %d bytes", maxLineLen)
		}
		return nil, nil
	}
	*carry = append(*carry, chunk[:nl]...)
	err := b.parseLine(*carry)
	*carry = (*carry)[:0]
	return chunk[nl+1:], err
}

// readChunks reads r into buffers and sends them on chunks until EOF; the
// final error (nil at EOF) goes to errc.
func readChunks(r io.Reader, chunks chan<- []byte, free <-chan []byte, errc chan<- error, stop <-chan struct{}) {
	defer close(chunks)
	const chunkSize = 256 << 10
	for {
		var buf []byte
		select {
		case buf = <-free:
		default:
			buf = make([]byte, chunkSize)
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			select {
			case chunks <- buf[:n]:
			case <-stop:
				errc <- nil
				return
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			errc <- nil
			return
		}
		if err != nil {
			errc <- err
			return
		}
	}
}

// addrDigits returns the number of hex digits that start data.
func addrDigits(data []byte) int {
	n := 0
	for n < len(data) && hexVal[data[n]] != 0xff {
		n++
	}
	return n
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
	addrs   []uint64
	types   []byte
	nameEnd []uint32 // end of name i in arena; start is nameEnd[i-1]
	arena   []byte
	fileMod []fileRun // module runs in file order
	modIDs  map[string]uint16
	mods    []string // module names by id; id 0 is the core kernel
	core    coreScan
}

// fileRun marks that symbols from first on belong to module mod.
type fileRun struct {
	first int
	mod   uint16
}

// newBuilder sizes the columns for the given number of lines and bytes of
// input; addrDigits is the length of the first line's address.
func newBuilder(opts Options, lines, bytes, addrDigits int) *builder {
	arenaCap := bytes - (addrDigits+4)*lines + 64
	if arenaCap < 64 || arenaCap > bytes {
		arenaCap = max(64, bytes)
	}
	return &builder{
		opts:    opts,
		addrs:   make([]uint64, 0, lines),
		types:   make([]byte, 0, lines),
		nameEnd: make([]uint32, 0, lines),
		arena:   make([]byte, 0, arenaCap),
		fileMod: []fileRun{{0, 0}},
		modIDs:  map[string]uint16{"": 0},
		mods:    []string{""},
		core:    newCoreScan(),
	}
}

func (b *builder) errorf(format string, args ...any) error {
	return &ParseError{File: b.opts.Source, Line: b.line, Msg: fmt.Sprintf(format, args...)}
}

// parseLines parses every complete line of buf and returns what follows the
// last newline.
func (b *builder) parseLines(buf []byte) ([]byte, error) {
	for {
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

// hexVal maps an ASCII byte to its hex value, or 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// parseLine parses "ADDRESS TYPE NAME[\t[MODULE]]" (without the newline).
func (b *builder) parseLine(line []byte) error {
	b.line++
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) == 0 {
		return nil // blank lines carry nothing; tolerate them
	}
	if len(line) > maxLineLen {
		return b.errorf("line longer than %d bytes", maxLineLen)
	}
	addr, i, err := b.parseAddr(line)
	if err != nil {
		return err
	}
	if i+3 > len(line) || line[i] != ' ' || line[i+2] != ' ' || !validType(line[i+1]) {
		return b.errorf("want \"ADDRESS TYPE NAME\", got %q", clip(line))
	}
	typ := line[i+1]
	name, mod, err := b.splitName(line[i+3:])
	if err != nil {
		return err
	}
	if len(mod) == 0 {
		b.core.note(name, typ, addr)
	}
	b.addrs = append(b.addrs, addr)
	b.types = append(b.types, typ)
	b.arena = append(b.arena, name...)
	b.nameEnd = append(b.nameEnd, uint32(len(b.arena)))
	if len(b.arena) > 1<<32-1-maxLineLen {
		return b.errorf("input too large: names exceed 4 GiB")
	}
	return b.setModule(mod)
}

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
	for ; i < len(line); i++ {
		v := hexVal[line[i]]
		if v == 0xff {
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

// hex8 decodes eight ASCII hex digits held big-endian in x (the first
// digit in the top byte), eight bytes at a time.
func hex8(x uint64) (uint32, bool) {
	const highs = 0x8080808080808080
	if x&highs != 0 {
		return 0, false
	}
	lower := x | 0x2020202020202020 // 'A'-'F' -> 'a'-'f'; digits keep their code
	// Per byte b < 0x80, b+(0x80-k) has its top bit set exactly when b >= k,
	// and no byte carries into the next.
	ge := func(k uint64) uint64 { return (lower + (0x80-k)*0x0101010101010101) & highs }
	digit := ge('0') &^ ge('9'+1)
	alpha := ge('a') &^ ge('f'+1)
	if digit|alpha != highs {
		return 0, false
	}
	v := lower&0x0f0f0f0f0f0f0f0f + (alpha>>7)*9 // one nibble value per byte
	// Pack the nibbles, most significant first: bytes to 16-, 32- and
	// 64-bit lanes.
	v = (v>>4 | v) & 0x00ff00ff00ff00ff
	v = (v>>8 | v) & 0x0000ffff0000ffff
	v = (v>>16 | v) & 0x00000000ffffffff
	return uint32(v), true
}

// validType reports whether c can be an nm type letter.
func validType(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '?' || c == '-'
}

// splitName splits "NAME" or "NAME\t[MODULE]" (spaces accepted too).
func (b *builder) splitName(rest []byte) (name, mod []byte, err error) {
	end := nameEnd(rest)
	name = rest[:end]
	if end < len(rest) {
		if rest[end] != '\t' && rest[end] != ' ' {
			return nil, nil, b.errorf("control character 0x%02x in symbol name", rest[end])
		}
		if mod, err = b.parseModule(rest[end:]); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case len(name) == 0:
		return nil, nil, b.errorf("missing symbol name")
	case len(name) > MaxNameLen:
		return nil, nil, b.errorf("symbol name of %d bytes is longer than %d", len(name), MaxNameLen)
	}
	return name, mod, nil
}

// nameEnd returns the index of the first byte of s below 0x21 (a blank or a
// control character), or len(s). It tests eight bytes at a time.
func nameEnd(s []byte) int {
	const ones, highs, limit = 0x0101010101010101, 0x8080808080808080, 0x21 * 0x0101010101010101
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

// parseModule parses "[MODULE]" with optional blanks around it; only blanks
// mean no module.
func (b *builder) parseModule(s []byte) ([]byte, error) {
	s = bytes.Trim(s, "\t ")
	if len(s) == 0 {
		return nil, nil
	}
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, b.errorf("want \"[module]\" after the name, got %q", clip(s))
	}
	mod := s[1 : len(s)-1]
	if bytes.ContainsAny(mod, "[] \t") {
		return nil, b.errorf("malformed module name %q", clip(mod))
	}
	return mod, nil
}

// setModule records that the symbol just appended belongs to mod.
func (b *builder) setModule(mod []byte) error {
	cur := b.fileMod[len(b.fileMod)-1].mod
	if len(mod) == 0 && cur == 0 || b.mods[cur] == string(mod) { // no allocation: compiler optimises the conversion
		return nil
	}
	id, ok := b.modIDs[string(mod)]
	if !ok {
		if len(b.mods) >= 1<<16-1 {
			return b.errorf("more than %d modules", 1<<16-1)
		}
		id = uint16(len(b.mods))
		name := string(mod)
		b.mods = append(b.mods, name)
		b.modIDs[name] = id
	}
	b.fileMod = append(b.fileMod, fileRun{first: len(b.addrs) - 1, mod: id})
	return nil
}

// clip shortens s for an error message.
func clip(s []byte) string {
	const max = 80
	if len(s) > max {
		return string(s[:max]) + "..."
	}
	return string(s)
}
