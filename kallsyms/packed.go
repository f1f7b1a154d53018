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
func (bs *packedSeq) span(b uint32) (lo, hi int) {
	if bs.wide != nil {
		w := bs.wide[b : b+2]
		return int(w[0]), int(w[1])
	}
	i, rel := int(b), bs.rel
	_ = rel[i+1]
	return int(bs.base[i>>8]) + int(rel[i]), int(bs.base[(i+1)>>8]) + int(rel[i+1])
}

// at returns element b.
func (bs *packedSeq) at(b uint32) int {
	if bs.wide != nil {
		return int(bs.wide[b])
	}
	return int(bs.base[b>>8]) + int(bs.rel[b])
}

// fill stores the values (non-decreasing), 256 at a time:
// the last of a block is its largest, so one check per block says whether
// its numbers fit two bytes.
func (bs *packedSeq) fill(starts []uint32) {
	bs.base = make([]uint32, (len(starts)+255)>>8)
	bs.rel = make([]uint16, len(starts))
	for b := 0; b < len(starts); b += 256 {
		block, rel := starts[b:min(b+256, len(starts))], bs.rel[b:min(b+256, len(starts))]
		base := block[0]
		if block[len(block)-1]-base > 0xffff {
			*bs = packedSeq{wide: starts}
			return
		}
		bs.base[b>>8] = base
		for k, s := range block {
			rel[k] = uint16(s - base)
		}
	}
}

// all returns every element as plain values: wide itself, or a new slice.
func (bs *packedSeq) all() []uint32 {
	if bs.wide != nil {
		return bs.wide
	}
	out := make([]uint32, len(bs.rel))
	for i, r := range bs.rel {
		out[i] = bs.base[i>>8] + uint32(r)
	}
	return out
}
