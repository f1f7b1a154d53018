package kallsyms

// addrColumn holds sorted addresses in four bytes each: the low 32 bits of
// every address, and the high 32 bits as runs of symbols that share them. A
// real table has two or three such runs (per-CPU offsets near 0, then the
// kernel image and the modules in the top 4 GiB), so the column costs half of
// plain 64-bit addresses.
type addrColumn struct {
	lo []uint32
	hi []hiRun // in index order, the first at 0, each with a higher hi than the one before
	// The addresses are cut into segments at large gaps and where the high
	// half changes (per-CPU offsets, the kernel image, the module area),
	// and each segment into buckets of a power-of-two width, about four
	// symbols each, whose first symbols starts records. A lookup finds its
	// segment (a handful), reads one bucket and counts within it, instead
	// of taking a cache miss at each of seventeen halving steps.
	segs   []segment
	starts []uint32 // per bucket, its first symbol; one more per segment, its end
}

// segment is a run of addresses with the same high half and no large gap.
type segment struct {
	start, last uint64 // the addresses of its first and last symbol
	first, end  uint32 // its symbols
	bucket      uint32 // its first bucket in starts
	shift       uint8  // its buckets are 1<<shift wide
}

const (
	segmentGap       = 1 << 24 // a gap this wide starts a new segment
	symbolsPerBucket = 4
)

// newAddrColumn returns the column of the given halves, indexed.
func newAddrColumn(lo []uint32, hi []hiRun) addrColumn {
	c := addrColumn{lo: lo, hi: hi, starts: make([]uint32, 0, len(lo)/symbolsPerBucket+16)}
	for r, run := range hi {
		end := len(lo)
		if r+1 < len(hi) {
			end = int(hi[r+1].first)
		}
		first := int(run.first)
		for i := first + 1; i <= end; i++ {
			if i == end || lo[i]-lo[i-1] >= segmentGap {
				c.addSegment(first, i, uint64(run.hi)<<32)
				first = i
			}
		}
	}
	return c
}

// addSegment adds the segment of symbols [first, end), whose addresses have
// the high half hi, and its buckets.
func (c *addrColumn) addSegment(first, end int, hi uint64) {
	lo := c.lo
	s := segment{start: hi | uint64(lo[first]), last: hi | uint64(lo[end-1]),
		first: uint32(first), end: uint32(end), bucket: uint32(len(c.starts))}
	span, want := s.last-s.start, uint64(max(1, (end-first)/symbolsPerBucket))
	for span>>s.shift+1 > want {
		s.shift++
	}
	i := first
	for b := range span>>s.shift + 2 { // the buckets, then the segment's end
		for i < end && uint64(lo[i])-uint64(lo[first]) < b<<s.shift {
			i++
		}
		c.starts = append(c.starts, uint32(i))
	}
	c.segs = append(c.segs, s)
}

// hiRun says that symbols from first up to the next run's first have hi as
// the high 32 bits of their address.
type hiRun struct {
	first, hi uint32
}

// addHi records that the address of symbol i, appended in index order, has
// the high half hi: a new run when the last one's differs.
func addHi(runs []hiRun, i int, hi uint32) []hiRun {
	if len(runs) == 0 || runs[len(runs)-1].hi != hi {
		runs = append(runs, hiRun{first: uint32(i), hi: hi})
	}
	return runs
}

// hiRunOf returns the index in runs of the run holding symbol i.
func hiRunOf(runs []hiRun, i int) int {
	r, n := 0, len(runs) // runs[0] starts at 0
	for n > 1 {
		half := n / 2
		if int(runs[r+half].first) <= i {
			r += half
		}
		n -= half
	}
	return r
}

// at returns address i.
func (c *addrColumn) at(i int) uint64 {
	return uint64(c.hi[hiRunOf(c.hi, i)].hi)<<32 | uint64(c.lo[i])
}

// upper returns the number of addresses at or below x.
func (c *addrColumn) upper(x uint64) int {
	k, n := 0, len(c.segs) // the last segment starting at or below x, or the first
	for n > 1 {
		half := n / 2
		if c.segs[k+half].start <= x {
			k += half
		}
		n -= half
	}
	s := &c.segs[k]
	switch {
	case x < s.start:
		return 0 // below every address
	case x >= s.last:
		return int(s.end) // the next segment starts above x
	}
	b := s.bucket + uint32((x-s.start)>>s.shift)
	i0, i1 := c.starts[b], c.starts[b+1]
	return int(i0) + countAtOrBelow(c.lo[i0:i1], uint32(x)) // x has the segment's high half
}

// countAtOrBelow returns the number of elements of the sorted s at or below
// x, by halving without a branch on the comparisons, whose outcomes are a
// coin toss.
func countAtOrBelow(s []uint32, x uint32) int {
	if len(s) == 0 || s[0] > x {
		return 0
	}
	base, n := 0, len(s)
	for n > 1 {
		half := n / 2
		above := (uint64(x) - uint64(s[base+half])) >> 63 // 1 if the element is above x
		base += half & (int(above) - 1)
		n -= half
	}
	return base + 1
}
