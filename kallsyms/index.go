package kallsyms

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"unsafe"
)

// An index file is a Table's own columns written out, so that a later
// process can load them with no parsing and no per-symbol work: the
// addresses, type letters, name offsets and names, the module runs and
// modules, the core layout and the name index's slots.
//
// A file is a 64-byte header, a directory of sections, and the sections,
// each starting at a multiple of 64 bytes. All integers are little-endian.
// The header carries a CRC-32C of itself and one of everything after it.
// docs/snapshots.md describes the layout.

// ErrBadIndex is wrapped by every error that says a file is not a usable
// index: truncated, corrupted, from another format version, or not an index.
var ErrBadIndex = errors.New("not a usable ksym index")

// IndexVersion is the version of the index layout this package writes and
// reads. A file of another version is refused.
const IndexVersion = 5

// indexMagic opens every index file.
var indexMagic = [8]byte{'K', 'S', 'Y', 'M', 'I', 'D', 'X', 0}

const (
	indexHeaderSize = 64
	dirEntrySize    = 24
	sectionAlign    = 64
	maxSections     = 64
	byteOrderMark   = 0x0102
	maxIndexSize    = 1 << 32 // far above any real table's (a 6.x kernel's is about 6 MB)
)

// Header offsets.
const (
	hdrVersion   = 8  // uint16
	hdrByteOrder = 10 // uint16, byteOrderMark
	hdrSize      = 12 // uint32, indexHeaderSize
	hdrFileSize  = 16 // uint64
	hdrSections  = 24 // uint32
	hdrFlags     = 28 // uint32
	hdrBodyCRC   = 32 // uint32, CRC-32C of bytes [64, file size)
	hdrCRC       = 36 // uint32, CRC-32C of bytes [0, 36)
	hdrSymbols   = 40 // uint64
	hdrPageSize  = 48 // uint64
)

// flagHidden says that all addresses are zero.
const flagHidden = 1

// sectionID names a section of the index.
type sectionID uint32

const (
	secSource      sectionID = iota + 1 // bytes: Options.Source
	secMeta                             // bytes: the caller's metadata
	secAddrLo                           // n uint32: the low halves of the addresses, sorted
	secAddrHi                           // uint64 each: first | hi<<32, see addrColumn
	secTypes                            // n bytes: type letters
	secNameOff                          // n+1 uint32: name boundaries in secNames
	secNames                            // bytes: the names
	secRuns                             // uint64 each: first | mod<<32
	secModules                          // 6 uint64 each, see encodeModules
	secModuleNames                      // bytes: module names back to back
	secCore                             // coreWords uint64, see encodeCore
	secNameSlots                        // uint32: the name index's slots
	numSectionIDs
)

// sectionElems is the element size of each section.
var sectionElems = [numSectionIDs]uint32{
	secSource: 1, secMeta: 1, secAddrLo: 4, secAddrHi: 8, secTypes: 1, secNameOff: 4, secNames: 1,
	secRuns: 8, secModules: 48, secModuleNames: 1, secCore: 8, secNameSlots: 4,
}

// WriteIndex writes t as an index file to w, with meta (opaque bytes, for
// example a JSON description of where the table came from) stored alongside
// and returned by LoadIndex. It builds the name index if no name lookup has
// yet. It returns the number of bytes written.
func (t *Table) WriteIndex(w io.Writer, meta []byte) (int64, error) {
	secs := [numSectionIDs][]byte{
		secSource:      []byte(t.source),
		secMeta:        meta,
		secAddrLo:      encodeLE(t.addrs.lo),
		secAddrHi:      encodeHiRuns(t.addrs.hi),
		secTypes:       t.types,
		secNameOff:     encodeLE(t.nameOff),
		secNames:       []byte(t.names),
		secRuns:        encodeRuns(t.runs),
		secModules:     encodeModules(t.mods),
		secModuleNames: moduleNames(t.mods),
		secCore:        encodeLE(encodeCore(&t.core)),
		secNameSlots:   encodeLE(t.index().slots),
	}
	count := int(numSectionIDs) - 1
	buf := make([]byte, indexHeaderSize+dirEntrySize*count)
	for id := secSource; id < numSectionIDs; id++ {
		buf = pad(buf, sectionAlign)
		e := buf[indexHeaderSize+dirEntrySize*(int(id)-1):]
		le := binary.LittleEndian
		le.PutUint32(e[0:], uint32(id))
		le.PutUint32(e[4:], sectionElems[id])
		le.PutUint64(e[8:], uint64(len(buf)))
		le.PutUint64(e[16:], uint64(len(secs[id])))
		buf = append(buf, secs[id]...)
	}
	buf = pad(buf, 8)
	var flags uint32
	if t.hidden {
		flags |= flagHidden
	}
	le := binary.LittleEndian
	copy(buf, indexMagic[:])
	le.PutUint16(buf[hdrVersion:], IndexVersion)
	le.PutUint16(buf[hdrByteOrder:], byteOrderMark)
	le.PutUint32(buf[hdrSize:], indexHeaderSize)
	le.PutUint64(buf[hdrFileSize:], uint64(len(buf)))
	le.PutUint32(buf[hdrSections:], uint32(count))
	le.PutUint32(buf[hdrFlags:], flags)
	le.PutUint64(buf[hdrSymbols:], uint64(t.Len()))
	le.PutUint64(buf[hdrPageSize:], t.pageSize)
	le.PutUint32(buf[hdrBodyCRC:], crc32.Checksum(buf[indexHeaderSize:], castagnoli))
	le.PutUint32(buf[hdrCRC:], crc32.Checksum(buf[:hdrCRC], castagnoli))
	n, err := w.Write(buf)
	return int64(n), err
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// pad appends zeros until the length of b is a multiple of align.
func pad(b []byte, align int) []byte {
	for len(b)%align != 0 {
		b = append(b, 0)
	}
	return b
}

// encodeLE returns the values as little-endian bytes.
func encodeLE[T uint32 | uint64](v []T) []byte {
	size := int(unsafe.Sizeof(T(0)))
	b := make([]byte, 0, size*len(v))
	for _, x := range v {
		for i := range size {
			b = append(b, byte(uint64(x)>>(8*i)))
		}
	}
	return b
}

func encodeHiRuns(runs []hiRun) []byte {
	b := make([]byte, 0, 8*len(runs))
	for _, r := range runs {
		b = binary.LittleEndian.AppendUint64(b, uint64(r.first)|uint64(r.hi)<<32)
	}
	return b
}

func encodeRuns(runs []run) []byte {
	b := make([]byte, 0, 8*len(runs))
	for _, r := range runs {
		b = binary.LittleEndian.AppendUint64(b, uint64(r.first)|uint64(r.mod)<<32)
	}
	return b
}

// encodeModules writes per module: start, end, textEnd, symbols, name
// offset<<32 | name length, kind | textEndKnown<<8.
func encodeModules(mods []module) []byte {
	b := make([]byte, 0, 48*len(mods))
	le := binary.LittleEndian
	off := 0
	for _, m := range mods {
		known := uint64(0)
		if m.textEndKnown {
			known = 1
		}
		for _, w := range []uint64{m.start, m.end, m.textEnd, uint64(m.symbols),
			uint64(off)<<32 | uint64(len(m.name)), uint64(m.kind) | known<<8} {
			b = le.AppendUint64(b, w)
		}
		off += len(m.name)
	}
	return b
}

func moduleNames(mods []module) []byte {
	var b []byte
	for _, m := range mods {
		b = append(b, m.name...)
	}
	return b
}

// coreWords is the number of uint64 in the core section: the marker
// addresses, a bit set of the markers present, flags (hasData, fallback) and
// the two resolvable ranges.
const coreWords = int(numMarkers) + 2 + 4

func encodeCore(l *coreLayout) []uint64 {
	w := make([]uint64, 0, coreWords)
	w = append(w, l.addr[:]...)
	var has, flags uint64
	for m, ok := range l.has {
		if ok {
			has |= 1 << m
		}
	}
	if l.hasData {
		flags |= 1
	}
	if l.fallback {
		flags |= 2
	}
	w = append(w, has, flags)
	for _, r := range l.ranges {
		w = append(w, r.start, r.end)
	}
	return w
}

// Index is a Table loaded from an index file, with the metadata stored in
// it.
type Index struct {
	Table *Table
	Meta  []byte // as given to WriteIndex
}

// IsIndex reports whether data starts like an index file.
func IsIndex(data []byte) bool {
	return len(data) >= len(indexMagic) && string(data[:len(indexMagic)]) == string(indexMagic[:])
}

// OpenIndex reads the index file at path and returns its table.
func OpenIndex(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < indexHeaderSize || fi.Size() > maxIndexSize {
		return nil, fmt.Errorf("%s: %w: %d bytes", path, ErrBadIndex, fi.Size())
	}
	// One byte more than the file has: a file that grew since Stat reads
	// past its header's size and is refused as such.
	data := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(f, data)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	return LoadIndex(data[:n], path)
}

// LoadIndex checks an index file held in data and returns its table, which
// uses data in place (data must not be modified afterwards). source names
// the file in errors. Every error wraps ErrBadIndex.
func LoadIndex(data []byte, source string) (*Index, error) {
	if source == "" {
		source = "index"
	}
	t, meta, err := loadIndex(alignedCopy(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", source, ErrBadIndex, err)
	}
	return &Index{Table: t, Meta: meta}, nil
}

// alignedCopy returns data, or an 8-byte aligned copy of it when the arrays
// in it could not be used in place.
func alignedCopy(data []byte) []byte {
	if uintptr(unsafe.Pointer(unsafe.SliceData(data)))%8 == 0 {
		return data
	}
	words := make([]uint64, (len(data)+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(data))
	copy(b, data)
	return b
}

// hostLittleEndian is true on the machines that can use an index in place.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// loadIndex checks the header, checksums and directory, then builds the
// Table over data and checks that every column is consistent, so that no
// lookup on it can index out of range or fail to end.
//
// The body's checksum is computed on another goroutine while the columns
// are checked: both read every page, and a warm ksym addr spends most of
// its time here. The checks are safe on any bytes; a checksum mismatch is
// reported in preference to what they found, as the likelier cause.
func loadIndex(data []byte) (*Table, []byte, error) {
	h, err := checkHeader(data)
	if err != nil {
		return nil, nil, err
	}
	sum := make(chan bool, 1)
	go func() {
		sum <- binary.LittleEndian.Uint32(data[hdrBodyCRC:]) == crc32.Checksum(data[indexHeaderSize:], castagnoli)
	}()
	var t *Table
	secs, err := readDirectory(data, h.sections)
	if err == nil {
		t, err = h.table(secs)
	}
	if !<-sum {
		return nil, nil, errors.New("checksum mismatch: the file is corrupted")
	}
	if err != nil {
		return nil, nil, err
	}
	return t, secs[secMeta], nil
}

// header is the decoded fixed header.
type header struct {
	flags    uint32
	sections int
	symbols  uint64
	pageSize uint64
}

func checkHeader(data []byte) (header, error) {
	le := binary.LittleEndian
	switch {
	case !IsIndex(data):
		return header{}, errors.New("no index magic at the start")
	case len(data) < indexHeaderSize:
		return header{}, fmt.Errorf("truncated: %d bytes, the header alone is %d", len(data), indexHeaderSize)
	case le.Uint16(data[hdrByteOrder:]) != byteOrderMark:
		return header{}, errors.New("unknown byte order")
	case le.Uint16(data[hdrVersion:]) != IndexVersion:
		return header{}, fmt.Errorf("format version %d, this ksym reads version %d", le.Uint16(data[hdrVersion:]), IndexVersion)
	case le.Uint32(data[hdrCRC:]) != crc32.Checksum(data[:hdrCRC], castagnoli):
		return header{}, errors.New("header checksum mismatch: the file is corrupted")
	case le.Uint32(data[hdrSize:]) != indexHeaderSize:
		return header{}, fmt.Errorf("header size %d, want %d", le.Uint32(data[hdrSize:]), indexHeaderSize)
	case le.Uint64(data[hdrFileSize:]) != uint64(len(data)):
		return header{}, fmt.Errorf("truncated or extended: %d bytes, the header says %d", len(data), le.Uint64(data[hdrFileSize:]))
	case !hostLittleEndian:
		return header{}, errors.New("an index is little-endian and this machine is not")
	}
	h := header{
		flags:    le.Uint32(data[hdrFlags:]),
		sections: int(le.Uint32(data[hdrSections:])),
		symbols:  le.Uint64(data[hdrSymbols:]),
		pageSize: le.Uint64(data[hdrPageSize:]),
	}
	if h.sections > maxSections {
		return header{}, fmt.Errorf("%d sections, at most %d expected", h.sections, maxSections)
	}
	return h, nil
}

// readDirectory returns the bytes of every known section by id. Sections of
// unknown ids (from a later, compatible writer) are ignored.
func readDirectory(data []byte, count int) ([numSectionIDs][]byte, error) {
	var secs [numSectionIDs][]byte
	var seen [numSectionIDs]bool
	le := binary.LittleEndian
	dirEnd := indexHeaderSize + dirEntrySize*count
	if dirEnd > len(data) {
		return secs, fmt.Errorf("truncated directory: %d sections need %d bytes, the file has %d", count, dirEnd, len(data))
	}
	for i := range count {
		e := data[indexHeaderSize+dirEntrySize*i:]
		id, elem := sectionID(le.Uint32(e)), le.Uint32(e[4:])
		off, size := le.Uint64(e[8:]), le.Uint64(e[16:])
		if off < uint64(dirEnd) || off > uint64(len(data)) || size > uint64(len(data))-off || off%8 != 0 {
			return secs, fmt.Errorf("section %d lies outside the file (offset %d, %d bytes)", id, off, size)
		}
		if id == 0 || id >= numSectionIDs {
			continue
		}
		if seen[id] || elem != sectionElems[id] || size%uint64(elem) != 0 {
			return secs, fmt.Errorf("section %d: duplicate or bad element size", id)
		}
		seen[id] = true
		secs[id] = data[off : off+size : off+size]
	}
	for id := secSource; id < numSectionIDs; id++ {
		if !seen[id] {
			return secs, fmt.Errorf("section %d is missing", id)
		}
	}
	return secs, nil
}

// view returns b as a slice of T in place (b is 8-byte aligned, its length a
// multiple of T's size, and the host little-endian).
func view[T uint32 | uint64](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(T(0))))
}

// table builds the Table over the sections and checks it.
func (h header) table(secs [numSectionIDs][]byte) (*Table, error) {
	if h.symbols == 0 || h.symbols >= math.MaxUint32 || h.pageSize == 0 || h.pageSize&(h.pageSize-1) != 0 {
		return nil, fmt.Errorf("bad header: %d symbols, page size %d", h.symbols, h.pageSize)
	}
	n := int(h.symbols)
	t := &Table{
		source:   string(secs[secSource]),
		hidden:   h.flags&flagHidden != 0,
		pageSize: h.pageSize,
		types:    secs[secTypes],
		nameOff:  view[uint32](secs[secNameOff]),
		names:    unsafe.String(unsafe.SliceData(secs[secNames]), len(secs[secNames])),
	}
	if len(t.types) != n {
		return nil, fmt.Errorf("%d type letters for %d symbols", len(t.types), n)
	}
	var err error
	if t.addrs, err = decodeAddrs(view[uint32](secs[secAddrLo]), view[uint64](secs[secAddrHi]), n); err != nil {
		return nil, err
	}
	if err := checkNames(t.nameOff, n, len(t.names)); err != nil {
		return nil, err
	}
	if t.runs, err = decodeRuns(secs[secRuns], n); err != nil {
		return nil, err
	}
	if t.mods, err = decodeModules(secs[secModules], secs[secModuleNames], t.runs); err != nil {
		return nil, err
	}
	if t.core, err = decodeCore(view[uint64](secs[secCore])); err != nil {
		return nil, err
	}
	slots := view[uint32](secs[secNameSlots])
	if err := checkSlots(slots, n); err != nil {
		return nil, err
	}
	t.nameIndex.slots = slots
	return t, nil
}

// checkNames checks that the name boundaries rise from 0 to the names' end.
func checkNames(off []uint32, n, size int) error {
	if len(off) != n+1 || off[0] != 0 || int(off[n]) != size {
		return errors.New("name offsets do not cover the names")
	}
	for i := 1; i <= n; i++ {
		if off[i] < off[i-1] {
			return fmt.Errorf("name offsets fall at symbol %d", i)
		}
	}
	return nil
}

// checkSlots checks the name index's shape: a power of two long, every value
// a symbol, and an empty slot for every scan to end at. That a name sits
// where its hash puts it is the checksum's to vouch for: a misplaced one is
// only not found.
func checkSlots(slots []uint32, n int) error {
	if len(slots) < 2 || len(slots)&(len(slots)-1) != 0 {
		return fmt.Errorf("%d name slots, want a power of two", len(slots))
	}
	empty := false
	for _, v := range slots {
		if v > uint32(n) {
			return fmt.Errorf("a name slot holds symbol %d of %d", v, n)
		}
		empty = empty || v == 0
	}
	if !empty {
		return errors.New("no empty name slot")
	}
	return nil
}

// decodeAddrs checks the address column: n low halves, runs of high halves
// from symbol 0 on, each higher than the one before, and addresses that rise
// within each run.
func decodeAddrs(lo []uint32, words []uint64, n int) (addrColumn, error) {
	c := addrColumn{lo: lo, hi: make([]hiRun, len(words))}
	if len(lo) != n || len(words) == 0 {
		return c, fmt.Errorf("%d addresses and %d address runs for %d symbols", len(lo), len(words), n)
	}
	for r, w := range words {
		c.hi[r] = hiRun{first: uint32(w), hi: uint32(w >> 32)}
		if int(c.hi[r].first) >= n || (r == 0) != (c.hi[r].first == 0) ||
			r > 0 && (c.hi[r].first <= c.hi[r-1].first || c.hi[r].hi <= c.hi[r-1].hi) {
			return c, fmt.Errorf("address run %d is out of order", r)
		}
	}
	for r := range c.hi {
		end := n
		if r+1 < len(c.hi) {
			end = int(c.hi[r+1].first)
		}
		for i := int(c.hi[r].first) + 1; i < end; i++ {
			if lo[i] < lo[i-1] {
				return c, fmt.Errorf("addresses fall at symbol %d", i)
			}
		}
	}
	return newAddrColumn(lo, c.hi), nil
}

func decodeRuns(b []byte, n int) ([]run, error) {
	words := view[uint64](b)
	if len(words) == 0 {
		return nil, errors.New("no module runs")
	}
	runs := make([]run, len(words))
	for i, w := range words {
		runs[i] = run{first: uint32(w), mod: uint16(w >> 32)}
		if w>>48 != 0 || int(runs[i].first) >= n || (i == 0) != (runs[i].first == 0) ||
			i > 0 && runs[i].first <= runs[i-1].first {
			return nil, fmt.Errorf("module run %d is out of order", i)
		}
	}
	return runs, nil
}

func decodeModules(b, names []byte, runs []run) ([]module, error) {
	words := view[uint64](b)
	mods := make([]module, len(words)/6)
	if len(mods) == 0 || len(mods) > math.MaxUint16+1 {
		return nil, fmt.Errorf("%d modules", len(mods))
	}
	for id := range mods {
		w := words[6*id:]
		off, size := w[4]>>32, w[4]&math.MaxUint32
		kind := ModuleKind(w[5] & 0xff)
		if off+size > uint64(len(names)) || kind > KindKprobes || w[5]>>9 != 0 || w[3] > math.MaxUint32 {
			return nil, fmt.Errorf("module %d is malformed", id)
		}
		mods[id] = module{
			name: unsafe.String(unsafe.SliceData(names[off:]), int(size)), kind: kind, symbols: int(w[3]),
			start: w[0], end: w[1], textEnd: w[2], textEndKnown: w[5]>>8&1 != 0,
		}
	}
	for _, r := range runs {
		if int(r.mod) >= len(mods) {
			return nil, fmt.Errorf("module run names module %d of %d", r.mod, len(mods))
		}
	}
	return mods, nil
}

func decodeCore(w []uint64) (coreLayout, error) {
	var l coreLayout
	if len(w) != coreWords {
		return l, fmt.Errorf("core layout has %d words, want %d", len(w), coreWords)
	}
	copy(l.addr[:], w)
	has, flags := w[numMarkers], w[numMarkers+1]
	for m := range l.has {
		l.has[m] = has>>m&1 != 0
	}
	l.hasData, l.fallback = flags&1 != 0, flags&2 != 0
	r := w[numMarkers+2:]
	l.ranges = [2]addrRange{{r[0], r[1]}, {r[2], r[3]}}
	return l, nil
}
