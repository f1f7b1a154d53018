package kallsyms

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync"
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
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: %w", err)
	}
	defer f.Close()
	opts := Options{Source: path}
	size, regular := regularSize(f)
	if !regular { // /proc/kallsyms
		return Parse(f, opts)
	}
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic == [2]byte{0x1f, 0x8b} {
		return openGzip(f, path)
	}
	return parseRegular(f, size, opts)
}

// openGzip parses the gzip-compressed file f.
func openGzip(f *os.File, path string) (*Table, error) {
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: %s: %w", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: %s: gzip: %w", path, err)
	}
	return ParseBytes(data, Options{Source: path})
}

// ParseBytes parses a table already in memory. Large inputs are parsed in
// parallel, one part per CPU. The table does not keep a reference to data.
func ParseBytes(data []byte, opts Options) (*Table, error) {
	parts := splitParts(data, parallelism(len(data)))
	if len(parts) == 1 {
		b := newBuilder(opts, bytes.Count(data, []byte{'\n'})+1, len(data), addrDigits(data))
		if err := b.parseAll(data); err != nil {
			return nil, err
		}
		return b.finish()
	}
	return parseParallel(data, parts, opts)
}

// parseAll parses buf to its end, final line without newline included.
func (b *builder) parseAll(buf []byte) error {
	_, err := b.parseLines(buf, true)
	return err
}

// Parse reads a kallsyms or System.map text from r. Reading and parsing
// overlap: a live /proc/kallsyms, which the kernel generates as it is read,
// costs little more than reading it. A regular file (an *os.File, or any
// reader with a Stat method, reporting a size) is parsed whole, as ParseBytes
// does, in parallel: on Linux an *os.File is mapped rather than read. A file
// that shrinks while it is mapped gives ErrFileChanged.
func Parse(r io.Reader, opts Options) (*Table, error) {
	if size, ok := regularSize(r); ok {
		return parseRegular(r, size, opts)
	}
	// The reader fills chunks cut from one slab and waits for the parser to
	// hand them back; the slab holds enough for reading never to wait on a
	// parser that keeps up.
	slab := make([]byte, numChunks*chunkSize+carrySize)
	chunks := make(chan []byte, numChunks)
	free := make(chan []byte, numChunks)
	for i := range numChunks {
		free <- slab[i*chunkSize : (i+1)*chunkSize : (i+1)*chunkSize]
	}
	var readErr error
	defer close(free) // stops the reader if parsing stops first
	go readChunks(r, chunks, free, &readErr)
	// The columns are allocated (and, from reused memory, zeroed) while the
	// kernel writes the first chunk: room for 131,072 symbols, and names of
	// 4 MiB of text (1.5 MiB). The name arena grows while reading, where its
	// copies overlap the kernel's writing, rather than start at the size of
	// a large kernel and be cut down after the last read; finish copies what
	// it keeps of a column left more than 1/16 empty (names, types) into one
	// just its size.
	b := newBuilder(opts, 1<<17, 4<<20, 16)
	b.ahead.start(1 << 17)
	b.spares.reserve(1 << 17)

	carry := slab[numChunks*chunkSize:][:0:carrySize] // a line split across chunks
	for chunk := range chunks {
		b.reserveNames(len(chunk) + len(carry))
		buf, err := b.joinCarry(&carry, chunk)
		if err != nil {
			return nil, err
		}
		rest, err := b.parseLines(buf, false)
		if err != nil {
			return nil, err
		}
		b.ahead.extend(b.addrs, b.sorted)
		carry = append(carry, rest...)
		free <- chunk[:cap(chunk)] // never blocks: it holds every chunk
	}
	if readErr != nil { // set before chunks was closed
		return nil, fmt.Errorf("kallsyms: reading %s: %w", sourceName(opts.Source), readErr)
	}
	if err := b.parseAll(carry); err != nil {
		return nil, err
	}
	b.ahead.extend(b.addrs, b.sorted)
	return b.finish()
}

// parseRegular parses r, a regular file of size bytes: mapped when it is an
// *os.File that can be mapped, else read whole.
func parseRegular(r io.Reader, size int64, opts Options) (*Table, error) {
	if f, ok := r.(*os.File); ok {
		if t, mapped, err := parseFile(f, size, opts); mapped {
			return t, err
		}
	}
	data, err := readSized(r, size)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: reading %s: %w", sourceName(opts.Source), err)
	}
	return ParseBytes(data, opts)
}

// regularSize returns the size of r when it is a regular file that says how
// big it is; files in /proc say 0 and are streamed.
func regularSize(r io.Reader) (int64, bool) {
	st, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return 0, false
	}
	fi, err := st.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 || fi.Size() > 1<<32 {
		return 0, false
	}
	return fi.Size(), true
}

// readSized reads r to its end into a buffer sized for size bytes (more, if
// the file grew).
func readSized(r io.Reader, size int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// reserveNames makes room in the name arena for n more bytes, doubling it
// when it must grow (append would grow it by a quarter, in more copies, and
// more garbage to collect while the kernel is still writing). The arena
// keeps its room in front (see mergeFront).
func (b *builder) reserveNames(n int) {
	if cap(b.arena)-len(b.arena) >= n {
		return
	}
	full := make([]byte, frontBytes+max(2*cap(b.arena), len(b.arena)+n))
	b.arena = append(full[frontBytes:frontBytes], b.arena...)
	b.front.arena = full
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
	err := b.parseAll(*carry)
	*carry = (*carry)[:0]
	return chunk[nl+1:], err
}

// Parse reads in chunks of chunkSize bytes, numChunks of them in flight, and
// keeps a line split across two chunks in carrySize bytes (more are
// allocated for a longer one).
//
// 128 KiB is what cat reads at a time: a live parse makes no more read calls
// than a bare read of the file (64 KiB chunks measured about 1% slower).
const (
	chunkSize = 128 << 10
	numChunks = 6
	carrySize = 1024
)

// readChunks reads r into buffers taken from free and sends them on chunks
// until EOF, a read error (stored in *readErr before chunks is closed) or
// free's closing. Sending never blocks: chunks has room for every buffer.
func readChunks(r io.Reader, chunks chan<- []byte, free <-chan []byte, readErr *error) {
	defer close(chunks)
	for buf := range free {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			chunks <- buf[:n]
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return
		}
		if err != nil {
			*readErr = err
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
	nameEnd []uint32  // end of name i in arena; start is nameEnd[i-1]
	nameOff []uint32  // nameEnd's array from one slot before it, when it has that slot (see nameOffsets)
	front   frontRoom // the columns' arrays with room before them, if allocated so (see mergeFront)
	arena   []byte
	fileMod []fileRun // module runs in file order
	mods    modNames  // module names by id; id 0 is the core kernel
	core    coreScan
	ahead   offsetsAhead // a streamed input's address offsets, computed while reading
	early   earlyRest    // the rest of a parallel parse's last part, if taken already
	column  columnBuild  // the address column, built by two goroutines (see finish)
	spares  tailSpares   // a streamed input's arrays for the index, allocated early
	halves  sync.WaitGroup
	// sorted is the length of the longest sorted prefix of addrs, and
	// nonZero the OR of every address, both kept up while appending.
	sorted  int
	nonZero uint64
}

// note keeps sorted and nonZero up for an address about to be appended.
func (b *builder) note(addr uint64) {
	if n := len(b.addrs); b.sorted == n && (n == 0 || addr >= b.addrs[n-1]) {
		b.sorted++
	}
	b.nonZero |= addr
}

// fileRun marks that symbols from first on belong to module mod.
type fileRun struct {
	first int
	mod   uint16
}

// newBuilder sizes the columns for the given number of lines and bytes of
// input; addrDigits is the length of the first line's address.
func newBuilder(opts Options, lines, bytes, addrDigits int) *builder {
	front := newFrontRoom(lines, arenaSize(bytes, lines, addrDigits)+64)
	addrs, types, nameOff, arena := front.columns()
	b := newBuilderInto(opts, addrs[:0], types[:0], nameOff[1:1], arena[:0])
	b.nameOff, b.front = nameOff[:1], front
	return b
}

// newBuilderInto makes a builder that appends to the given columns.
func newBuilderInto(opts Options, addrs []uint64, types []byte, nameEnd []uint32, arena []byte) *builder {
	return &builder{
		opts:    opts,
		addrs:   addrs,
		types:   types,
		nameEnd: nameEnd,
		arena:   arena,
		fileMod: append(make([]fileRun, 0, 64), fileRun{0, 0}),
		mods:    newModNames(),
	}
}

// arenaSize estimates the bytes of names in an input of the given bytes and
// lines: exact for lines "ADDRESS TYPE NAME\n" with addresses of addrDigits
// digits, more for anything longer.
func arenaSize(bytes, lines, addrDigits int) int {
	if n := bytes - (addrDigits+4)*lines; n >= 0 {
		return n
	}
	return bytes
}

func (b *builder) errorf(format string, args ...any) error {
	return &ParseError{File: b.opts.Source, Line: b.line, Msg: fmt.Sprintf(format, args...)}
}

// parseLines parses every complete line of buf and returns what follows the
// last newline; with final set, that rest is parsed as a last line. Runs of
// lines in the common shape go through fastLines; parseLine takes the others
// (and reports them, when malformed).
func (b *builder) parseLines(buf []byte, final bool) ([]byte, error) {
	for len(buf) > 0 {
		curMod := b.mods.name(b.fileMod[len(b.fileMod)-1].mod)
		n, err := b.fastLines(buf, curMod)
		if err != nil {
			return nil, err
		}
		buf = buf[n:]
		if len(buf) == 0 {
			break
		}
		nl := bytes.IndexByte(buf, '\n')
		if nl < 0 && !final {
			return buf, nil
		}
		text := buf
		if nl >= 0 {
			text, buf = buf[:nl], buf[nl+1:]
		} else {
			buf = nil
		}
		s, err := b.parseLine(text)
		if err != nil {
			return nil, err
		}
		if s.name != nil { // not a blank line
			if err := b.add(s); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// add appends one symbol parsed by parseLine.
func (b *builder) add(s line) error {
	if len(b.arena)+len(s.name) > 1<<32-1 {
		return b.errorf("input too large: names exceed 4 GiB")
	}
	b.note(s.addr)
	b.addrs = append(b.addrs, s.addr)
	b.types = append(b.types, s.typ)
	b.arena = append(b.arena, s.name...)
	b.nameEnd = append(b.nameEnd, uint32(len(b.arena)))
	if err := b.setModule(s.mod, len(b.addrs)-1); err != nil {
		return err
	}
	if len(s.mod) == 0 && s.name[0] == '_' {
		b.core.noteMarker(s.name, s.addr)
	}
	return nil
}

// fastLines parses the leading lines of buf that have the common shape (16
// hex digits, type, name, newline, or "\t[mod]" before the newline when mod
// is the current module) and returns how many bytes they took. It stops at any
// other line, at a change of module and at a line cut by the end of buf.
//
// The columns are appended to through local slices (stores into the builder
// would each cost a write barrier while the GC runs), and the top eight
// digits of an address, the same for most of a table, are decoded once per
// run of them.
func (b *builder) fastLines(buf []byte, mod []byte) (int, error) {
	addrs, types, ends, arena := b.addrs, b.types, b.nameEnd, b.arena
	sorted, nonZero := b.sorted, b.nonZero
	defer func() {
		b.addrs, b.types, b.nameEnd, b.arena = addrs, types, ends, arena
		b.sorted, b.nonZero = sorted, nonZero
	}()
	prev := uint64(0)
	if len(addrs) > 0 {
		prev = addrs[len(addrs)-1]
	}
	n := 0
	hiWord, hi := uint64(0x3030303030303030), uint32(0) // "00000000"
	for {
		p := buf[n:]
		if len(p) < 28 || p[16] != ' ' || p[18] != ' ' || !typeOK[p[17]] {
			return n, nil
		}
		if w := binary.BigEndian.Uint64(p); w != hiWord {
			h, ok := hex8(w)
			if !ok {
				return n, nil
			}
			hiWord, hi = w, h
		}
		lo, ok := hex8(binary.BigEndian.Uint64(p[8:]))
		if !ok {
			return n, nil
		}
		name := p[19:]
		j, copied := 0, false
		if len(name) >= 32 && cap(arena)-len(arena) >= 32 {
			// Most names are shorter than 32 bytes: copy 32 and find the
			// name's end in them, without branches on its length.
			j = copyName32(arena[len(arena):len(arena)+32], name)
			copied = j < 32
		}
		if !copied { // a longer name, or too little room for the copy
			j = nameEnd(name[:min(len(name), MaxNameLen+1)])
		}
		if j == 0 || j == min(len(name), MaxNameLen+1) { // no name, too long, or cut by the end of buf
			return n, nil
		}
		size := 19 + j + 1
		switch {
		case len(mod) == 0 && name[j] == '\n':
		case len(mod) > 0 && name[j] == '\t' && isModuleTail(name[j+1:], mod):
			size += len(mod) + 3
		default:
			return n, nil
		}
		if len(arena)+j > 1<<32-1 {
			return n, b.errorf("input too large: names exceed 4 GiB")
		}
		addr := uint64(hi)<<32 | uint64(lo)
		if sorted == len(addrs) && addr >= prev { // (prev is 0 before the first)
			sorted++
		}
		prev, nonZero = addr, nonZero|addr
		addrs = append(addrs, addr)
		types = append(types, p[17])
		if copied {
			arena = arena[:len(arena)+j]
		} else {
			arena = append(arena, name[:j]...)
		}
		ends = append(ends, uint32(len(arena)))
		if len(mod) == 0 && name[0] == '_' {
			b.core.noteMarker(name[:j], addr)
		}
		b.line++
		n += size
	}
}

// isModuleTail reports whether s starts with "[mod]\n".
func isModuleTail(s, mod []byte) bool {
	return len(s) >= len(mod)+3 && s[0] == '[' && s[len(mod)+1] == ']' && s[len(mod)+2] == '\n' &&
		bytes.Equal(s[1:len(mod)+1], mod)
}

// typeOK marks the bytes that can be an nm type letter.
var typeOK = func() (t [256]bool) {
	for c := range t {
		t[c] = validType(byte(c))
	}
	return t
}()

// line is one parsed input line; name is nil for a blank line.
type line struct {
	addr      uint64
	typ       byte
	name, mod []byte
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
func (b *builder) parseLine(text []byte) (line, error) {
	b.line++
	if len(text) > 0 && text[len(text)-1] == '\r' {
		text = text[:len(text)-1]
	}
	if len(text) == 0 {
		return line{}, nil // blank lines carry nothing; tolerate them
	}
	if len(text) > maxLineLen {
		return line{}, b.errorf("line longer than %d bytes", maxLineLen)
	}
	addr, i, err := b.parseAddr(text)
	if err != nil {
		return line{}, err
	}
	if i+3 > len(text) || text[i] != ' ' || text[i+2] != ' ' || !validType(text[i+1]) {
		return line{}, b.errorf("want \"ADDRESS TYPE NAME\", got %q", clip(text))
	}
	name, mod, err := b.splitName(text[i+3:])
	return line{addr: addr, typ: text[i+1], name: name, mod: mod}, err
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
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	lower := x | 0x2020202020202020 // 'A'-'F' -> 'a'-'f'; digits keep their code
	// Per byte b < 0x80, b+(0x80-k) has its top bit set exactly when b >= k,
	// and no byte carries into the next (bytes >= 0x80 are refused).
	digit := (lower + (0x80-'0')*ones) &^ (lower + (0x80-'9'-1)*ones)
	alpha := (lower + (0x80-'a')*ones) &^ (lower + (0x80-'f'-1)*ones) & highs
	v := lower&0x0f0f0f0f0f0f0f0f + alpha>>4 + alpha>>7 // one nibble value per byte ('a' is 1 + 9)
	// Pack the nibbles, most significant first: bytes to 16-, 32- and
	// 64-bit lanes.
	v = (v>>4 | v) & 0x00ff00ff00ff00ff
	v = (v>>8 | v) & 0x0000ffff0000ffff
	return uint32(v>>16 | v), (digit|alpha)&^x&highs == highs
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

// copyName32 copies the first 32 bytes of name to dst and returns the index
// of the first byte below 0x21 among them, or 32. The four words are tested
// at once: each word's flags (exact up to the word's first) are gathered
// into one byte, bit k for byte k, and the lowest bit of the four bytes is
// the answer.
func copyName32(dst, name []byte) int {
	_, _ = dst[31], name[31]
	w0, w1 := binary.LittleEndian.Uint64(name), binary.LittleEndian.Uint64(name[8:])
	w2, w3 := binary.LittleEndian.Uint64(name[16:]), binary.LittleEndian.Uint64(name[24:])
	binary.LittleEndian.PutUint64(dst, w0)
	binary.LittleEndian.PutUint64(dst[8:], w1)
	binary.LittleEndian.PutUint64(dst[16:], w2)
	binary.LittleEndian.PutUint64(dst[24:], w3)
	m := blankFlags(w0) | blankFlags(w1)<<8 | blankFlags(w2)<<16 | blankFlags(w3)<<24
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

// parseModule parses "[MODULE]" with blanks before it and optionally after;
// only blanks mean no module.
func (b *builder) parseModule(s []byte) ([]byte, error) {
	for len(s) > 0 && (s[0] == '\t' || s[0] == ' ') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == '\t' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
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

// setModule records that symbol i, the last one parsed, belongs to mod.
func (b *builder) setModule(mod []byte, i int) error {
	if bytes.Equal(b.mods.name(b.fileMod[len(b.fileMod)-1].mod), mod) {
		return nil
	}
	id, ok := b.mods.id(mod)
	if !ok {
		return b.errorf("more than %d modules", maxModules)
	}
	b.fileMod = append(b.fileMod, fileRun{first: i, mod: id})
	return nil
}

// maxModules is how many distinct modules a table may name.
const maxModules = 1<<16 - 1

// modNames holds module names back to back; id 0 is the core kernel's "".
// Tables name a few dozen modules, so a linear search beats a map and
// allocates nothing. The zero value holds only the core, and allocates on
// the first module (most parts of a parallel parse see none).
type modNames struct {
	arena []byte
	ends  []int
}

func newModNames() modNames { return modNames{} }

// name returns the name with the given id.
func (m *modNames) name(id uint16) []byte {
	if m.ends == nil {
		return nil // only the core, id 0
	}
	start := 0
	if id > 0 {
		start = m.ends[id-1]
	}
	return m.arena[start:m.ends[id]]
}

// id returns the id of name, adding it if new; false when there are too many.
func (m *modNames) id(name []byte) (uint16, bool) {
	if len(name) == 0 {
		return 0, true
	}
	if m.ends == nil {
		m.arena, m.ends = make([]byte, 0, 512), append(make([]int, 0, 64), 0)
	}
	for id := range m.ends {
		if bytes.Equal(m.name(uint16(id)), name) {
			return uint16(id), true
		}
	}
	if len(m.ends) >= maxModules {
		return 0, false
	}
	m.arena = append(m.arena, name...)
	m.ends = append(m.ends, len(m.arena))
	return uint16(len(m.ends) - 1), true
}

// strings returns every name, sharing one allocation.
func (m *modNames) strings() []string {
	if m.ends == nil {
		return []string{""}
	}
	all := string(m.arena)
	out := make([]string, len(m.ends))
	start := 0
	for id, end := range m.ends {
		out[id] = all[start:end]
		start = end
	}
	return out
}

// clip shortens s for an error message.
func clip(s []byte) string {
	const max = 80
	if len(s) > max {
		return string(s[:max]) + "..."
	}
	return string(s)
}
