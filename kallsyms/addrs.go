package kallsyms

// addrColumn holds sorted addresses in four bytes each: the low 32 bits of
// every address, and the high 32 bits as runs of symbols that share them. A
// real table has two or three such runs (per-CPU offsets near 0, then the
// kernel image and the modules in the top 4 GiB), so the column costs half of
// plain 64-bit addresses.
type addrColumn struct {
	lo []uint32
	hi []hiRun // in index order, the first at 0, each with a higher hi than the one before
}

// hiRun says that symbols from first up to the next run's first have hi as
// the high 32 bits of their address.
type hiRun struct {
	first, hi uint32
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
	h, l := uint32(x>>32), uint32(x)
	r, n := 0, len(c.hi) // the last run whose hi is at most h, or the first
	for n > 1 {
		half := n / 2
		if c.hi[r+half].hi <= h {
			r += half
		}
		n -= half
	}
	first, end := int(c.hi[r].first), len(c.lo)
	if r+1 < len(c.hi) {
		end = int(c.hi[r+1].first)
	}
	switch {
	case c.hi[r].hi < h:
		return end // x is above the whole run, below the next
	case c.hi[r].hi > h:
		return 0 // x is below every address (r is the first run)
	}
	return first + countAtOrBelow(c.lo[first:end], l)
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
