package kallsyms

// packedSeq holds a non-decreasing sequence of uint32 in two bytes per
// element: element i is base[i>>8] + rel[i]. When 256 consecutive elements
// span more than 65,535, wide holds plain values instead. It stores the
// first symbol of every address bucket, and where every name starts.
type packedSeq struct {
	base []uint32
	rel  []uint16
	wide []uint32
}

// span returns elements b and b+1.
func (ps *packedSeq) span(b uint32) (lo, hi int) {
	if ps.wide != nil {
		w := ps.wide[b : b+2]
		return int(w[0]), int(w[1])
	}
	i, rel := int(b), ps.rel
	_ = rel[i+1]
	return int(ps.base[i>>8]) + int(rel[i]), int(ps.base[(i+1)>>8]) + int(rel[i+1])
}

// at returns element b.
func (ps *packedSeq) at(b uint32) int {
	if ps.wide != nil {
		return int(ps.wide[b])
	}
	return int(ps.base[b>>8]) + int(ps.rel[b])
}

// fill stores the values (non-decreasing), 256 at a time:
// the last of a block is its largest, so one check per block says whether
// its numbers fit two bytes. It uses the arrays of base and rel when they
// are big enough and not much bigger (see tailSpares), else new ones.
func (ps *packedSeq) fill(starts []uint32, base []uint32, rel []uint16) {
	nb := (len(starts) + 255) >> 8
	if cap(base) >= nb && fits(cap(rel), len(starts), 2) {
		ps.base, ps.rel = base[:nb], rel[:len(starts)]
	} else {
		ps.base, ps.rel = make([]uint32, nb), make([]uint16, len(starts))
	}
	for b := 0; b < len(starts); b += 256 {
		block, rel := starts[b:min(b+256, len(starts))], ps.rel[b:min(b+256, len(starts))]
		base := block[0]
		if block[len(block)-1]-base > 0xffff {
			*ps = packedSeq{wide: starts}
			return
		}
		ps.base[b>>8] = base
		for k, s := range block {
			rel[k] = uint16(s - base)
		}
	}
}

// all returns every element as plain values: wide itself, or a new slice.
func (ps *packedSeq) all() []uint32 {
	if ps.wide != nil {
		return ps.wide
	}
	out := make([]uint32, len(ps.rel))
	for i, r := range ps.rel {
		out[i] = ps.base[i>>8] + uint32(r)
	}
	return out
}
