package kallsyms

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// addrColumn builds the address column over the sections and checks every
// invariant upper relies on.
func (h header) addrColumn(secs [numSectionIDs][]byte, n int) (addrColumn, error) {
	if h.flags&flagWideAddrs != 0 {
		wide := view[uint64](secs[secAddrWide])
		if len(wide) != n || !slices.IsSorted(wide) {
			return addrColumn{}, errors.New("wide addresses are not n sorted values")
		}
		return addrColumn{wide: wide}, nil
	}
	c := addrColumn{low: view[uint64](secs[secAddrLow]), base: h.base}
	padded := view[uint32](secs[secAddrOff])
	if len(c.low)+len(padded) != n+scanWindow || len(c.low) >= n {
		return addrColumn{}, fmt.Errorf("%d low and %d offset addresses for %d symbols", len(c.low), len(padded), n)
	}
	c.off = padded[:n-len(c.low)]
	if err := checkOffsets(c.low, c.base, padded, len(c.off)); err != nil {
		return addrColumn{}, err
	}
	var err error
	if c.segs, err = decodeSegments(view[uint64](secs[secSegments]), c.off); err != nil {
		return addrColumn{}, err
	}
	if err = c.decodeBuckets(secs, h.flags&flagWideStart != 0); err != nil {
		return addrColumn{}, err
	}
	c.segDir = view[uint32](secs[secSegDir])
	c.setHotSegment()
	return c, c.checkSegDir()
}

// checkOffsets checks that low addresses lie sorted below base, offsets are
// sorted, and the padding after them is all ones.
func checkOffsets(low []uint64, base uint64, padded []uint32, n int) error {
	if !slices.IsSorted(low) || len(low) > 0 && low[len(low)-1] >= base {
		return errors.New("low addresses are not sorted below the base")
	}
	if !slices.IsSorted(padded[:n]) {
		return errors.New("address offsets are not sorted")
	}
	for _, p := range padded[n:] {
		if p != math.MaxUint32 {
			return errors.New("address offsets lack their padding")
		}
	}
	return nil
}

// decodeSegments reads the segments and checks that they cover off in
// order and describe it.
func decodeSegments(w []uint64, off []uint32) ([]segment, error) {
	segs := make([]segment, len(w)/4)
	next := uint32(0)
	for i := range segs {
		s := segment{
			start: uint32(w[4*i]), last: uint32(w[4*i] >> 32),
			first: uint32(w[4*i+1]), end: uint32(w[4*i+1] >> 32),
			mul: w[4*i+2], bucket: uint32(w[4*i+3]),
		}
		if s.first != next || s.end <= s.first || int(s.end) > len(off) || w[4*i+3] > math.MaxUint32 ||
			s.start != off[s.first] || s.last != off[s.end-1] || s.mul > 1<<32 {
			return nil, fmt.Errorf("address segment %d is malformed", i)
		}
		segs[i], next = s, s.end
	}
	if int(next) != len(off) {
		return nil, errors.New("address segments do not cover every symbol")
	}
	return segs, nil
}

// decodeBuckets reads the bucket starts and checks them against the
// segments: every bucket a lookup can read, and the one after it, exists and
// starts at a symbol of the column.
func (c *addrColumn) decodeBuckets(secs [numSectionIDs][]byte, wide bool) error {
	bs := &c.buckets
	var count int
	if wide {
		bs.wide = view[uint32](secs[secBucketWide])
		count = len(bs.wide)
	} else {
		bs.base, bs.rel = view[uint32](secs[secBucketBase]), view[uint16](secs[secBucketRel])
		count = len(bs.rel)
		if len(bs.base) != (count+255)>>8 {
			return errors.New("bucket bases do not match the buckets")
		}
	}
	for b := range count {
		if bs.at(uint32(b)) > len(c.off) {
			return fmt.Errorf("bucket %d starts at symbol %d", b, bs.at(uint32(b)))
		}
	}
	next := uint64(0) // first bucket not yet claimed by a segment
	for i := range c.segs {
		s := &c.segs[i]
		last := uint64(s.bucket) + uint64(s.bucketOf(s.last)) + 1 // the last bucket a lookup reads
		if uint64(s.bucket) < next || last >= uint64(count) {
			return fmt.Errorf("address segment %d has too few buckets", i)
		}
		for b := s.bucket; uint64(b) <= last; b++ {
			if !c.bucketStartsRight(s, b) {
				return fmt.Errorf("bucket %d starts at symbol %d", b, bs.at(b))
			}
		}
		next = last + 1
	}
	return nil
}

// bucketStartsRight reports whether bucket b of segment s starts where
// addSegment puts it: at the first symbol of the segment in bucket b or
// after it.
func (c *addrColumn) bucketStartsRight(s *segment, b uint32) bool {
	st, j := c.buckets.at(b), b-s.bucket
	switch {
	case st < int(s.first) || st > int(s.end):
		return false
	case st > int(s.first) && s.bucketOf(c.off[st-1]) >= j:
		return false
	case st < int(s.end) && s.bucketOf(c.off[st]) < j:
		return false
	}
	return true
}

// checkSegDir checks that every window of the directory names the last
// segment starting at or before the window's end, and that segments are at
// least a window apart (so a lookup's segment is that one or the one before).
func (c *addrColumn) checkSegDir() error {
	if len(c.segDir) != int(c.off[len(c.off)-1]>>segmentGapBits)+1 {
		return fmt.Errorf("segment directory has %d windows", len(c.segDir))
	}
	for i := 1; i < len(c.segs); i++ {
		if c.segs[i].start-c.segs[i-1].last < segmentGap {
			return fmt.Errorf("address segment %d is too close to the one before", i)
		}
	}
	si := 0
	for w, got := range c.segDir {
		end := uint64(w)<<segmentGapBits | (segmentGap - 1)
		for si+1 < len(c.segs) && uint64(c.segs[si+1].start) <= end {
			si++
		}
		if int(got) != si {
			return fmt.Errorf("segment directory window %d names segment %d, not %d", w, got, si)
		}
	}
	return nil
}

// decodeNameIndex reads the name index and checks that its shape fits the
// table, that every scan ends within it and that every slot names existing
// symbols. (That each symbol is named once, in the slot its hash gives, is
// left to the checksum, like the rest of the layout: a wrong file can then
// miss a name, not make a lookup read out of range.)
func decodeNameIndex(secs [numSectionIDs][]byte, n int) (nameIndex, error) {
	shape := view[uint64](secs[secNameShape])
	x := newNameIndex(n)
	if len(shape) != 1 || shape[0] != uint64(x.homes)|uint64(x.idxBits)<<32 {
		return x, errors.New("name index parameters are malformed")
	}
	x.slots, x.dups = view[uint32](secs[secNameSlots]), view[uint32](secs[secNameDups])
	if len(x.slots) <= int(x.homes) || len(x.slots) > int(x.homes)+n+1 || x.slots[len(x.slots)-1] != 0 ||
		len(x.dups) > n || len(x.dups) > 0 && x.dups[len(x.dups)-1]&lastDup == 0 {
		return x, errors.New("name index slots are malformed")
	}
	if !x.slotsValid() {
		return x, errors.New("name index names a missing symbol")
	}
	return x, nil
}

// slotsValid reports whether every used slot names a symbol or starts a list
// of symbols in dups. The loop over the slots has no branch on whether a slot
// is empty, which would be mispredicted a third of the time.
func (x *nameIndex) slotsValid() bool {
	var used, named uint32
	mask := x.valueMask()
	for _, e := range x.slots {
		v := e & mask
		if v > x.n && !x.sharedValid(v) { // a shared name (rare)
			return false
		}
		used += b2u(e != 0)
		named += b2u(v != 0)
	}
	return used == named // no slot holds a tag without a value
}

// sharedValid reports whether the slot value v of a shared name starts a
// list within dups of symbols of the table.
func (x *nameIndex) sharedValid(v uint32) bool {
	p := v - x.n - 1
	if int(p) >= len(x.dups) || p > 0 && x.dups[p-1]&lastDup == 0 {
		return false // not the start of a list
	}
	for _, e := range x.dups[p:] {
		if e&^lastDup >= x.n {
			return false
		}
		if e&lastDup != 0 {
			return true
		}
	}
	return false
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
