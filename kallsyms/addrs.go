package kallsyms

import "sort"

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
	return sort.Search(len(runs), func(r int) bool { return int(runs[r].first) > i }) - 1
}

// at returns address i.
func (c *addrColumn) at(i int) uint64 {
	return uint64(c.hi[hiRunOf(c.hi, i)].hi)<<32 | uint64(c.lo[i])
}

// upper returns the number of addresses at or below x.
func (c *addrColumn) upper(x uint64) int {
	h, l := uint32(x>>32), uint32(x)
	// Runs before r have a lower hi, so all their addresses are below x.
	r := sort.Search(len(c.hi), func(r int) bool { return c.hi[r].hi >= h })
	first, end := len(c.lo), len(c.lo)
	if r < len(c.hi) {
		first = int(c.hi[r].first)
	}
	if r+1 < len(c.hi) {
		end = int(c.hi[r+1].first)
	}
	if r == len(c.hi) || c.hi[r].hi > h {
		return first // x lies between runs, or above all
	}
	lo := c.lo[first:end]
	return first + sort.Search(len(lo), func(k int) bool { return lo[k] > l })
}
