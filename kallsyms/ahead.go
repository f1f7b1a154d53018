package kallsyms

import "math"

// offsetsAhead computes a streamed table's address offsets (the bulk of
// columnBuild's work) while the input is still being read, so that little
// is left to do after the last read. A live /proc/kallsyms keeps the reader
// waiting on the kernel most of the time: work done between chunks is free.
//
// It works on the table as parsed so far, as long as that is in address
// order, and guesses where the column's base lies: at the first address
// above 4 GiB (the kernel's, after the per-CPU offsets). column checks the
// guess against the whole table, as columnBuild.start would place the base,
// and gives up otherwise; so does an unsorted table, whose order the merge
// changes.
//
// It lives in the builder, unused (on unset) but for a streamed input.
type offsetsAhead struct {
	on     bool
	nlow   int      // symbols below base, once started
	base   uint64   // the address of symbol nlow
	off    []uint32 // the offsets of symbols nlow, nlow+1, ...
	cuts   []int    // where a large gap starts a new segment (indices into off)
	cutBuf [16]int  // cuts' first array
	prev   uint64
	seen   int // symbols looked at
	failed bool
}

// start prepares room for about n symbols.
func (o *offsetsAhead) start(n int) {
	*o = offsetsAhead{on: true, off: make([]uint32, 0, n+scanWindow)}
	o.cuts = o.cutBuf[:0]
}

// extend converts the symbols parsed since the last call; sorted is the
// length of the table's sorted prefix.
func (o *offsetsAhead) extend(addrs []uint64, sorted int) {
	if !o.on || o.failed || sorted < len(addrs) {
		o.failed = true
		return
	}
	i := o.seen
	if len(o.off) == 0 { // not started: still among the small offsets
		for i < len(addrs) && addrs[i] <= math.MaxUint32 {
			i++
		}
		if i == len(addrs) {
			o.seen = i
			return
		}
		o.nlow, o.base, o.prev = i, addrs[i], addrs[i]
	}
	for _, a := range addrs[i:] {
		if a-o.base > math.MaxUint32 {
			o.failed = true
			return
		}
		if a-o.prev >= segmentGap {
			o.cuts = append(o.cuts, len(o.off))
		}
		o.off = append(o.off, uint32(a-o.base))
		o.prev = a
	}
	o.seen = len(addrs)
}

// column returns the address column of sorted, the whole table, from the
// offsets computed ahead, or false when they do not make the column
// columnBuild would.
func (o *offsetsAhead) column(sorted []uint64, sp *tailSpares) (addrColumn, bool) {
	n := len(sorted)
	if !o.on || o.failed || o.seen != n || len(o.off) == 0 || o.nlow > n/8 {
		return addrColumn{}, false
	}
	floor := uint64(0)
	if top := sorted[n-1]; top > math.MaxUint32 {
		floor = top - math.MaxUint32
	}
	if sorted[o.nlow] < floor || o.nlow > 0 && sorted[o.nlow-1] >= floor {
		return addrColumn{}, false // columnBuild would cut elsewhere
	}
	c := addrColumn{base: o.base, off: padOffsets(o.off)}
	if o.nlow > 0 {
		c.low = append([]uint64(nil), sorted[:o.nlow]...)
	}
	c.buildIndex(append(o.cuts, len(o.off)), sp)
	return c, true
}

// spare returns the array of the offsets for columnBuild to use when they
// were given up on, or nil: an unsorted streamed table then allocates no
// column of offsets twice.
func (o *offsetsAhead) spare() []uint32 {
	if !o.on {
		return nil
	}
	return o.off[:0]
}

// roomy reports whether an array of capacity c holds n offsets and their
// padding, with not much more room left over (a sixteenth, or 64 KiB).
func roomy(c, n int) bool {
	spare := c - n - scanWindow
	return spare >= 0 && spare <= max(n/16, 16<<10)
}

// padOffsets sets the padding upperOff's window reads past the last offset,
// in off's own array when it has room for it and not much more.
func padOffsets(off []uint32) []uint32 {
	if !roomy(cap(off), len(off)) {
		off = append(make([]uint32, 0, len(off)+scanWindow), off...)
	}
	pad := off[len(off) : len(off)+scanWindow]
	for i := range pad {
		pad[i] = math.MaxUint32
	}
	return off
}
