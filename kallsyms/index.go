package kallsyms

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"unsafe"
)

// The index is the Table's own arrays written to a file, so that a later
// process can map the file and use them in place: no parsing and no
// per-symbol allocation. The layout is documented in docs/index-format.md.
//
// A file is a 64-byte header, a directory of sections, and the sections, each
// starting at a multiple of 64 bytes. All integers are little-endian. The
// header carries a CRC-32C of itself and one of everything after it.

// ErrBadIndex is wrapped by every error that says a file is not a usable
// index: truncated, corrupted, from another format version, or not an index.
var ErrBadIndex = errors.New("not a usable ksym index")

// IndexVersion is the version of the index layout this package writes and
// reads. A file of another version is refused (rebuild it from the symbol
// table: 'ksym snapshot index').
const IndexVersion = 4

// indexMagic opens every index file.
var indexMagic = [8]byte{'K', 'S', 'Y', 'M', 'I', 'D', 'X', 0}

const (
	indexHeaderSize = 64
	dirEntrySize    = 24
	sectionAlign    = 64
	maxSections     = 64
	byteOrderMark   = 0x0102
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
	hdrAddrBase  = 56 // uint64
)

// Header flags.
const (
	flagHidden    = 1 << 0 // all addresses are zero
	flagWideAddrs = 1 << 1 // addresses are stored as plain 64-bit values
	flagWideStart = 1 << 3 // bucket starts are plain 32-bit indices (1<<2 was used by version 2)
)

// sectionID names a section of the index.
type sectionID uint32

const (
	secSource      sectionID = iota + 1 // bytes: Options.Source
	secMeta                             // bytes: the caller's metadata
	secTypes                            // n bytes: type letters
	secNameOff                          // n+1 uint32: name boundaries in secNames
	secNames                            // bytes: the name arena
	secRuns                             // uint64 each: first | mod<<32
	secModules                          // 6 uint64 each, see encodeModules
	secModuleNames                      // bytes: module names back to back
	secCore                             // coreWords uint64, see encodeCore
	secAddrLow                          // uint64: addresses below base
	secAddrOff                          // uint32: offsets from base, then scanWindow of padding
	secAddrWide                         // uint64: plain addresses (flagWideAddrs)
	secSegments                         // 4 uint64 each, see encodeSegments
	secBucketBase                       // uint32: bucket start per 256 buckets
	secBucketRel                        // uint16: bucket start relative to its base
	secBucketWide                       // uint32: bucket starts (flagWideStart)
	secSegDir                           // uint32: segment per 1 MiB window
	secNameShape                        // 1 uint64: home slots | index bits<<32
	secNameSlots                        // uint32: the name index's slots
	secNameDups                         // uint32: symbols of the names several share
	numSectionIDs
)

// section is one entry of the directory with its bytes.
type section struct {
	id   sectionID
	elem uint32 // size of one element, for the reader's checks
	data []byte
}

// WriteIndex writes t as an index file to w, with meta (opaque bytes, for
// example a JSON description of where the table came from) stored alongside
// and returned by LoadIndex. It builds the name index if no name lookup has
// yet. It returns the number of bytes written.
func (t *Table) WriteIndex(w io.Writer, meta []byte) (int64, error) {
	n, err := w.Write(t.AppendIndex(nil, meta))
	return int64(n), err
}

// AppendIndex appends the index file of t (see WriteIndex) to dst.
func (t *Table) AppendIndex(dst []byte, meta []byte) []byte {
	secs, flags := t.indexSections(meta)
	start := len(dst)
	dirEnd := indexHeaderSize + dirEntrySize*len(secs)
	dst = append(dst, make([]byte, dirEnd)...)
	for i, s := range secs {
		dst = pad(dst, start, sectionAlign)
		off := len(dst) - start
		dst = append(dst, s.data...)
		e := dst[start+indexHeaderSize+dirEntrySize*i:]
		binary.LittleEndian.PutUint32(e[0:], uint32(s.id))
		binary.LittleEndian.PutUint32(e[4:], s.elem)
		binary.LittleEndian.PutUint64(e[8:], uint64(off))
		binary.LittleEndian.PutUint64(e[16:], uint64(len(s.data)))
	}
	dst = pad(dst, start, 8)
	h := dst[start:]
	copy(h, indexMagic[:])
	le := binary.LittleEndian
	le.PutUint16(h[hdrVersion:], IndexVersion)
	le.PutUint16(h[hdrByteOrder:], byteOrderMark)
	le.PutUint32(h[hdrSize:], indexHeaderSize)
	le.PutUint64(h[hdrFileSize:], uint64(len(h)))
	le.PutUint32(h[hdrSections:], uint32(len(secs)))
	le.PutUint32(h[hdrFlags:], flags)
	le.PutUint64(h[hdrSymbols:], uint64(t.Len()))
	le.PutUint64(h[hdrPageSize:], t.pageSize)
	le.PutUint64(h[hdrAddrBase:], t.addrs.base)
	le.PutUint32(h[hdrBodyCRC:], crc32.Checksum(h[indexHeaderSize:], castagnoli))
	le.PutUint32(h[hdrCRC:], crc32.Checksum(h[:hdrCRC], castagnoli))
	return dst
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// pad appends zeros until the length from start is a multiple of align.
func pad(b []byte, start, align int) []byte {
	for (len(b)-start)%align != 0 {
		b = append(b, 0)
	}
	return b
}

// indexSections returns every section and the header flags.
func (t *Table) indexSections(meta []byte) ([]section, uint32) {
	var flags uint32
	if t.hidden {
		flags |= flagHidden
	}
	c := &t.addrs
	if c.wide != nil {
		flags |= flagWideAddrs
	}
	if c.buckets.wide != nil {
		flags |= flagWideStart
	}
	x := t.index()
	secs := []section{
		{secSource, 1, []byte(t.source)},
		{secMeta, 1, meta},
		{secTypes, 1, t.types},
		{secNameOff, 4, encodeLE(t.nameOff.all())},
		{secNames, 1, []byte(t.names)},
		{secRuns, 8, encodeRuns(t.runs)},
		{secModules, 48, encodeModules(t.mods)},
		{secModuleNames, 1, moduleNames(t.mods)},
		{secCore, 8, encodeLE(encodeCore(&t.core))},
		{secAddrLow, 8, encodeLE(c.low)},
		{secAddrOff, 4, encodeLE(c.off[:len(c.off)+paddingOf(c.off)])},
		{secAddrWide, 8, encodeLE(c.wide)},
		{secSegments, 32, encodeSegments(c.segs)},
		{secBucketBase, 4, encodeLE(c.buckets.base)},
		{secBucketRel, 2, encodeLE(c.buckets.rel)},
		{secBucketWide, 4, encodeLE(c.buckets.wide)},
		{secSegDir, 4, encodeLE(c.segDir)},
		{secNameShape, 8, encodeLE([]uint64{uint64(x.homes) | uint64(x.idxBits)<<32})},
		{secNameSlots, 4, encodeLE(x.slots)},
		{secNameDups, 4, encodeLE(x.dups)},
	}
	return secs, flags
}

// encodeLE returns the values as little-endian bytes.
func encodeLE[T uint16 | uint32 | uint64](v []T) []byte {
	var zero T
	size := int(unsafe.Sizeof(zero))
	b := make([]byte, 0, size*len(v))
	for _, x := range v {
		for i := range size {
			b = append(b, byte(uint64(x)>>(8*i)))
		}
	}
	return b
}

// paddingOf returns how many padding entries follow off within its capacity.
func paddingOf(off []uint32) int {
	if off == nil {
		return 0
	}
	return min(scanWindow, cap(off)-len(off))
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
		b = le.AppendUint64(b, m.start)
		b = le.AppendUint64(b, m.end)
		b = le.AppendUint64(b, m.textEnd)
		b = le.AppendUint64(b, uint64(m.symbols))
		b = le.AppendUint64(b, uint64(off)<<32|uint64(len(m.name)))
		b = le.AppendUint64(b, uint64(m.kind)|known<<8)
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

// encodeSegments writes per segment: start | last<<32, first | end<<32, mul,
// bucket.
func encodeSegments(segs []segment) []byte {
	b := make([]byte, 0, 32*len(segs))
	le := binary.LittleEndian
	for _, s := range segs {
		b = le.AppendUint64(b, uint64(s.start)|uint64(s.last)<<32)
		b = le.AppendUint64(b, uint64(s.first)|uint64(s.end)<<32)
		b = le.AppendUint64(b, s.mul)
		b = le.AppendUint64(b, uint64(s.bucket))
	}
	return b
}

// Index is a Table loaded from an index file, with the metadata stored in
// it. A Table from OpenIndex uses the mapped file in place: after Close,
// neither the Table nor any string it returned (names, module names) may be
// used. Without Close the mapping lasts as long as the process.
type Index struct {
	Table *Table
	Meta  []byte // as given to WriteIndex; shares the index's memory
	close func() error
}

// Close releases the file mapping, if any. See Index.
func (x *Index) Close() error {
	if x.close == nil {
		return nil
	}
	c := x.close
	x.close = nil
	return c()
}

// IsIndex reports whether data starts like an index file.
func IsIndex(data []byte) bool {
	return len(data) >= len(indexMagic) && string(data[:len(indexMagic)]) == string(indexMagic[:])
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
// Table over data and checks that every array is consistent, so that no
// lookup on it can index out of range.
//
// The body's checksum is computed on another goroutine while the arrays are
// checked (both read every page; together they take half the time). The
// checks are safe on any bytes, and a checksum mismatch is reported in
// preference to what the checks found, as the likelier cause.
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
	base     uint64
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
		return header{}, fmt.Errorf("format version %d, this ksym reads version %d: rebuild the index from the symbol table",
			le.Uint16(data[hdrVersion:]), IndexVersion)
	case le.Uint32(data[hdrCRC:]) != crc32.Checksum(data[:hdrCRC], castagnoli):
		return header{}, errors.New("header checksum mismatch: the file is corrupted")
	case le.Uint32(data[hdrSize:]) != indexHeaderSize:
		return header{}, fmt.Errorf("header size %d, want %d", le.Uint32(data[hdrSize:]), indexHeaderSize)
	}
	if size := le.Uint64(data[hdrFileSize:]); size != uint64(len(data)) {
		return header{}, fmt.Errorf("truncated or extended: %d bytes, the header says %d", len(data), size)
	}
	if !hostLittleEndian {
		return header{}, errors.New("an index is little-endian and this machine is not: parse the text table instead")
	}
	h := header{
		flags:    le.Uint32(data[hdrFlags:]),
		sections: int(le.Uint32(data[hdrSections:])),
		symbols:  le.Uint64(data[hdrSymbols:]),
		pageSize: le.Uint64(data[hdrPageSize:]),
		base:     le.Uint64(data[hdrAddrBase:]),
	}
	if h.sections > maxSections {
		return header{}, fmt.Errorf("%d sections, at most %d expected", h.sections, maxSections)
	}
	return h, nil
}

// sectionElems is the element size of each known section.
var sectionElems = [numSectionIDs]uint32{
	secSource: 1, secMeta: 1, secTypes: 1, secNameOff: 4, secNames: 1, secRuns: 8,
	secModules: 48, secModuleNames: 1, secCore: 8, secAddrLow: 8, secAddrOff: 4,
	secAddrWide: 8, secSegments: 32, secBucketBase: 4, secBucketRel: 2,
	secBucketWide: 4, secSegDir: 4, secNameShape: 8, secNameSlots: 4, secNameDups: 4,
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
func view[T uint16 | uint32 | uint64](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
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
		nameOff:  packedSeq{wide: view[uint32](secs[secNameOff])},
		names:    unsafe.String(unsafe.SliceData(secs[secNames]), len(secs[secNames])),
	}
	if len(t.types) != n {
		return nil, fmt.Errorf("%d type letters for %d symbols", len(t.types), n)
	}
	if err := checkNames(t.nameOff.wide, n, len(t.names)); err != nil {
		return nil, err
	}
	var err error
	if t.runs, err = decodeRuns(secs[secRuns], n); err != nil {
		return nil, err
	}
	t.setHotRun()
	if t.mods, err = decodeModules(secs[secModules], secs[secModuleNames], t.runs); err != nil {
		return nil, err
	}
	if t.core, err = decodeCore(view[uint64](secs[secCore])); err != nil {
		return nil, err
	}
	if t.addrs, err = h.addrColumn(secs, n); err != nil {
		return nil, err
	}
	x, err := decodeNameIndex(secs, n)
	if err != nil {
		return nil, err
	}
	t.nameIndexOnce.Do(func() { t.setNameIndex(x) })
	return t, nil
}

// checkNames checks that the name boundaries rise from 0 to the arena's end.
func checkNames(off []uint32, n, arena int) error {
	if len(off) != n+1 || off[0] != 0 || int(off[n]) != arena {
		return errors.New("name offsets do not cover the name arena")
	}
	for i := 1; i <= n; i++ {
		if off[i] < off[i-1] {
			return fmt.Errorf("name offsets fall at symbol %d", i)
		}
	}
	return nil
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

// maxIndexSize bounds the files OpenIndex accepts: far above any real
// table (a 6.x kernel's is about 5 MB).
const maxIndexSize = 1 << 32

// WriteIndexFile writes t's index (see WriteIndex) to path with permission
// perm, atomically: a new file is written beside it and renamed over path, so
// a process that has the old file mapped keeps a consistent view.
func (t *Table) WriteIndexFile(path string, meta []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = t.WriteIndex(f, meta)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
