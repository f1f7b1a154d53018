package kallsyms

import (
	"math"
	"slices"
	"sort"
)

// addrColumn stores the sorted addresses compactly and finds them fast.
//
// Kernel and module addresses of one machine lie within 4 GiB of each other,
// so they are stored as 32-bit offsets from base. The few symbols far below
// (per-CPU offsets such as fixed_percpu_data at 0) are kept apart in low. A
// table that does not fit that shape keeps plain 64-bit addresses in wide.
//
// Searching uses a bucket index: the offsets are cut into segments at large
// gaps (kernel image, module area), and each segment into power-of-two wide
// buckets that record the first symbol at or after their start, so a lookup
// is one bucket read and a branch-free count of a window of offsets.
type addrColumn struct {
	low  []uint64
	base uint64
	off  []uint32
	wide []uint64

	segs    []segment
	buckets packedSeq
	// segDir maps each segmentGap-wide window of offsets to the last segment
	// starting at or before its end: segments are at least segmentGap apart,
	// so d's segment is that one or the one before.
	segDir []uint32
	// hot is a copy of the segment with the most symbols (the core
	// kernel's, in a real table): upperOff finds offsets inside it without
	// the two dependent reads of segDir and segs.
	hot segment
}

// segment is a run of offsets without a large gap.
type segment struct {
	start, last uint32 // offsets of its first and last symbol
	first, end  uint32 // symbol indices (into off) [first, end)
	// mul maps an offset to its bucket: (d-start)*mul >> 32, as evenly as a
	// division by the bucket width but without dividing.
	mul    uint64
	bucket uint32 // index of its first bucket in buckets
}

// bucketOf returns the bucket, within s, of an offset in [start, last].
func (s *segment) bucketOf(d uint32) uint32 { return uint32(uint64(d-s.start) * s.mul >> 32) }

const (
	segmentGapBits   = 20
	segmentGap       = 1 << segmentGapBits // a gap this large starts a new segment
	symbolsPerBucket = 2
	scanWindow       = 8 // offsets counted at once; off is padded by as many
)

// columnBuild builds the address column of sorted addresses in steps: start,
// offsets (in one pass, or in two halves by two goroutines, see
// builder.finish), index.
type columnBuild struct {
	c    addrColumn
	src  []uint64 // the addresses stored as offsets
	cuts [2][]int // per half, where a large gap (segmentGap) starts a new segment
	buf  [2][16]int
}

// start sets up the column of sorted, in buf's array if that has room and
// not much more (buf may be nil).
func (cb *columnBuild) start(sorted []uint64, buf []uint32) {
	n := len(sorted)
	top := sorted[n-1]
	nlow := 0
	if top > math.MaxUint32 {
		floor := top - math.MaxUint32
		nlow = sort.Search(n, func(i int) bool { return sorted[i] >= floor })
	}
	if nlow > n/8 {
		cb.c = addrColumn{wide: sorted}
		return
	}
	if !roomy(cap(buf), n-nlow) {
		buf = make([]uint32, 0, n-nlow+scanWindow)
	}
	cb.c = addrColumn{base: sorted[nlow], off: buf[:n-nlow]}
	for i := range scanWindow { // padding above every offset, for upperOff's window
		cb.c.off[:cap(cb.c.off)][n-nlow+i] = math.MaxUint32
	}
	if nlow > 0 {
		cb.c.low = append([]uint64(nil), sorted[:nlow]...)
	}
	cb.src = sorted[nlow:]
}

// whole builds the column of sorted in one pass (start, offsets, index),
// offsets in buf's array and index in sp's if they fit (both may be nil).
func (cb *columnBuild) whole(sorted []uint64, buf []uint32, sp *tailSpares) addrColumn {
	cb.start(sorted, buf)
	cb.offsets(0, 1)
	return cb.index(sp)
}

// offsets computes half h of the offsets, of halves 1 (all) or 2.
func (cb *columnBuild) offsets(h, halves int) {
	if cb.c.wide != nil {
		return
	}
	n := len(cb.src)
	lo, hi := n*h/halves, n*(h+1)/halves
	prev := cb.c.base
	if lo > 0 {
		prev = cb.src[lo-1]
	}
	cb.cuts[h] = offsets(cb.c.off[lo:hi], cb.src[lo:hi], cb.c.base, prev, lo, cb.buf[h][:0])
}

// index builds the column's index once its offsets are computed, in the
// spare arrays of sp if it has them (sp may be nil).
func (cb *columnBuild) index(sp *tailSpares) addrColumn {
	if cb.c.wide == nil {
		cuts := append(cb.cuts[0], cb.cuts[1]...)
		cb.c.buildIndex(append(cuts, len(cb.src)), sp)
	}
	return cb.c
}

// offsets sets off[i] to addrs[i]-base, for addrs sorted and within 4 GiB
// above base, and appends to cuts first+i for every i where a large gap
// (segmentGap) after prev or the address before starts a new segment.
// Locals and a slice of off as long as addrs keep the loop free of bounds
// checks and reloads.
func offsets(off []uint32, addrs []uint64, base, prev uint64, first int, cuts []int) []int {
	off = off[:len(addrs)]
	for i, a := range addrs {
		off[i] = uint32(a - base)
		if a-prev >= segmentGap {
			cuts = append(cuts, first+i)
		}
		prev = a
	}
	return cuts
}

func (c *addrColumn) at(i int) uint64 {
	if c.wide != nil {
		return c.wide[i]
	}
	if i < len(c.low) {
		return c.low[i]
	}
	return c.base + uint64(c.off[i-len(c.low)])
}

// buildIndex cuts off into segments, ending at the given ends, and fills
// their buckets.
func (c *addrColumn) buildIndex(ends []int, sp *tailSpares) {
	starts := sp.startsFor(len(c.off)/symbolsPerBucket + 2*len(ends)) // nb+1 per segment
	c.segs = make([]segment, 0, len(ends))
	first := 0
	for _, end := range ends {
		starts = c.addSegment(starts, first, end)
		first = end
	}
	base, rel := sp.bucketArrays()
	c.buckets.fill(starts, base, rel)
	c.setHotSegment()
	c.segDir = make([]uint32, c.off[len(c.off)-1]>>segmentGapBits+1)
	si := 0
	for w := range c.segDir {
		end := uint64(w)<<segmentGapBits | (segmentGap - 1)
		for si+1 < len(c.segs) && uint64(c.segs[si+1].start) <= end {
			si++
		}
		c.segDir[w] = uint32(si)
	}
}

// addSegment adds the segment of symbols [first, end) and appends its
// buckets' starts. Bucket b starts at the first symbol in it or after it:
// first plus the number of symbols in the buckets before b, counted
// without branches (a symbol's bucket never decreases along the segment).
func (c *addrColumn) addSegment(starts []uint32, first, end int) []uint32 {
	s := segment{start: c.off[first], last: c.off[end-1], first: uint32(first), end: uint32(end), bucket: uint32(len(starts))}
	span := uint64(s.last-s.start) + 1
	nb := int(min(uint64(max(1, (end-first)/symbolsPerBucket)), span))
	s.mul = (uint64(nb) << 32) / span
	starts = slices.Grow(starts, nb+1)
	counts := starts[len(starts) : len(starts)+nb+1]
	clear(counts)
	start, mul := s.start, s.mul
	for _, d := range c.off[first:end] {
		counts[uint64(d-start)*mul>>32]++ // s.bucketOf(d) < nb: (span-1)*mul>>32 < nb
	}
	at := uint32(first)
	for b, k := range counts {
		counts[b] = at
		at += k
	}
	c.segs = append(c.segs, s)
	return starts[:len(starts)+nb+1]
}

// upper returns the number of symbols whose address is <= addr.
func (c *addrColumn) upper(addr uint64) int {
	if c.wide != nil {
		return upperBound(c.wide, addr)
	}
	if addr < c.base {
		return upperBound(c.low, addr)
	}
	d := addr - c.base
	if d > math.MaxUint32 {
		return len(c.low) + len(c.off)
	}
	return len(c.low) + c.upperOff(uint32(d))
}

// setHotSegment copies the segment with the most symbols into c.hot.
func (c *addrColumn) setHotSegment() {
	c.hot = segment{}
	for _, s := range c.segs {
		if s.end-s.first > c.hot.end-c.hot.first {
			c.hot = s
		}
	}
}

// upperOff returns the number of offsets <= d.
func (c *addrColumn) upperOff(d uint32) int {
	s := &c.hot
	if d-s.start >= s.last-s.start { // outside [start, last) of the hot segment (the zero one holds nothing)
		w := int(d >> segmentGapBits)
		if w >= len(c.segDir) { // above the last symbol
			return len(c.off)
		}
		si := int(c.segDir[w]) // the last segment starting in or before d's window
		s = &c.segs[si]
		if d < s.start { // then d lies above the segment before, or below all
			if si == 0 {
				return 0
			}
			s = &c.segs[si-1]
		}
		if d >= s.last {
			return int(s.end)
		}
	}
	lo, hi := c.buckets.span(s.bucket + s.bucketOf(d))
	// Symbols in [lo, hi) start inside the bucket; those before lo are <= d,
	// those from hi on are > d. A bucket rarely holds more than a window's
	// worth; bigger ones are first narrowed, without branching on the
	// comparisons, to a window that holds the answer.
	for n := hi - lo; n > scanWindow; n -= n >> 1 {
		half := n >> 1
		above := (uint64(d) - uint64(c.off[lo+half])) >> 63 // 1 if the entry is > d
		lo += half & (int(above) - 1)
	}
	// Count the window without branches: the loads are independent, and
	// entries past the answer (or the padding past the end) are all > d.
	// (d-o)>>63 is 1 exactly when o > d; unrolled, the eight are summed in
	// a handful of instructions.
	win := (*[scanWindow]uint32)(c.off[lo : lo+scanWindow])
	dd := uint64(d)
	above := (dd-uint64(win[0]))>>63 + (dd-uint64(win[1]))>>63 + (dd-uint64(win[2]))>>63 + (dd-uint64(win[3]))>>63 +
		(dd-uint64(win[4]))>>63 + (dd-uint64(win[5]))>>63 + (dd-uint64(win[6]))>>63 + (dd-uint64(win[7]))>>63
	return lo + scanWindow - int(above)
}

func upperBound(a []uint64, x uint64) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// tailSpares are arrays for a streamed table's index, allocated while the
// kernel writes the first chunk, sized for as many symbols as the columns:
// the work after the last read then neither allocates them nor faults in
// their pages, and is less likely to start a garbage collection, which
// would take a CPU from it (about a third of that work, measured on a live
// 6.18 table).
type tailSpares struct {
	starts     []uint32 // the address buckets' starts, before packing
	bucketBase []uint32 // the packed bucket starts
	bucketRel  []uint16
	nameBase   []uint32 // the packed name starts
	nameRel    []uint16
}

// reserve allocates the spare arrays for a table of up to n symbols.
func (sp *tailSpares) reserve(n int) {
	buckets := n/symbolsPerBucket + 128 // nb+1 per segment: room for 64 segments
	sp.starts = make([]uint32, 0, buckets)
	sp.bucketBase, sp.bucketRel = make([]uint32, (buckets+255)>>8), make([]uint16, buckets)
	sp.nameBase, sp.nameRel = make([]uint32, (n+1+255)>>8), make([]uint16, n+1)
}

// startsFor returns an empty slice with room for n bucket starts, the spare
// one if it is big enough (sp may be nil).
func (sp *tailSpares) startsFor(n int) []uint32 {
	if sp != nil && cap(sp.starts) >= n {
		return sp.starts[:0]
	}
	return make([]uint32, 0, n)
}

// bucketArrays returns the spare arrays for the packed bucket starts, or nil
// (sp may be nil).
func (sp *tailSpares) bucketArrays() ([]uint32, []uint16) {
	if sp == nil {
		return nil, nil
	}
	return sp.bucketBase, sp.bucketRel
}

// fits reports whether an array of capacity c holds n elements of size
// bytes with little room left over, so that keeping it costs little: a
// sixteenth, or 64 KiB.
func fits(c, n, size int) bool {
	return c >= n && (c-n)*size <= max(n*size/16, 64<<10)
}
