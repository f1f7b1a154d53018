package kallsyms

// Merging at the front. A module's per-CPU variables appear in the module's
// lines with their small per-CPU offsets (discard_pa_seq [ext4] at 0x35000 on
// the Debian kernels), so after sorting they belong among the core kernel's
// per-CPU symbols at the start of the table. Merged from the back, each one
// moves the whole core up by one slot and its name's bytes (3 MB, 0.8 ms on
// the Debian table). The builder's columns are allocated with a little room
// before their first symbol instead, so these few symbols are merged in at
// the front by moving the core's per-CPU symbols below them down into it.

// Room before the first symbol, in symbols and in name bytes.
const (
	frontSyms  = 32
	frontBytes = 2048
)

// frontRoom holds a builder's column arrays whole, room included.
type frontRoom struct {
	addrs   []uint64
	types   []byte
	nameOff []uint32 // room, then the zero before nameEnd's first entry
	arena   []byte
}

// newFrontRoom allocates columns for lines symbols and arena name bytes, with
// room before them.
func newFrontRoom(lines, arena int) frontRoom {
	return frontRoom{
		addrs:   make([]uint64, frontSyms+lines),
		types:   make([]byte, frontSyms+lines),
		nameOff: make([]uint32, frontSyms+1+lines),
		arena:   make([]byte, frontBytes+arena),
	}
}

// columns returns the arrays after the room, at full length.
func (f *frontRoom) columns() (addrs []uint64, types []byte, nameOff []uint32, arena []byte) {
	return f.addrs[frontSyms:], f.types[frontSyms:], f.nameOff[frontSyms:], f.arena[frontBytes:]
}

// backs reports whether b's columns still start right after f's room (a
// streamed input's columns may have outgrown them).
func (f *frontRoom) backs(b *builder) bool {
	return f.addrs != nil && len(b.addrs) > 0 && len(b.arena) > 0 && len(b.nameOff) > 0 &&
		&f.addrs[frontSyms] == &b.addrs[0] && &f.types[frontSyms] == &b.types[0] &&
		&f.nameOff[frontSyms+1] == &b.nameEnd[0] && &f.nameOff[frontSyms] == &b.nameOff[0] &&
		&f.arena[frontBytes] == &b.arena[0]
}

// mergeFront merges the first rest symbols, those that sort among the first
// half of the prefix [0, p), into the room before the columns, moving the
// prefix symbols below them down, and returns how many it merged (0 when
// there is no room or it would not pay). The columns then start that many
// symbols earlier, so the prefix is [0, p+low).
func (b *builder) mergeFront(p int, r *restColumns) int {
	low, cut := b.frontPlan(p, r)
	if low == 0 {
		return 0
	}
	f, n, lowBytes := &b.front, len(b.addrs), int(r.ends[low-1])
	addrs, types := f.addrs[frontSyms-low:frontSyms-low+n], f.types[frontSyms-low:frontSyms-low+n]
	nameOff := f.nameOff[frontSyms-low : frontSyms-low+1+n]
	arena := f.arena[frontBytes-lowBytes : frontBytes-lowBytes+len(b.arena)]
	nameOff[0] = 0
	ends := nameOff[1:]
	runs := make([]fileRun, 0, len(b.fileMod)+2*low+1)
	fr := 0      // the file run holding prefix symbol i
	i, w := 0, 0 // next prefix symbol to move (old index), next slot to write (new index)
	wb := 0      // next name byte to write (new offset)
	for j := range low {
		// Prefix symbols at or below rest symbol j come before it.
		i1 := i + upperBound(b.addrs[i:cut], r.addrs[j])
		for k := i; k < i1; {
			for fr+1 < len(b.fileMod) && b.fileMod[fr+1].first <= k {
				fr++
			}
			runs = append(runs, fileRun{first: w + k - i, mod: b.fileMod[fr].mod})
			k = b.runEndAt(fr, i1)
		}
		if i1 > i {
			start, end := nameSpan(b.nameEnd, i, i1)
			copy(addrs[w:], addrs[i+low:i1+low]) // old symbol k is new k+low
			copy(types[w:], types[i+low:i1+low])
			copy(arena[wb:], arena[start+lowBytes:end+lowBytes])
			for k := i; k < i1; k++ {
				ends[w+k-i] = b.nameEnd[k] - uint32(start) + uint32(wb)
			}
			w, wb = w+i1-i, wb+end-start
		}
		start, end := nameSpan(r.ends, j, j+1)
		name := r.names[start:end]
		addrs[w], types[w] = r.addrs[j], r.typ(j)
		copy(arena[wb:], name)
		wb += len(name)
		ends[w] = uint32(wb)
		runs = append(runs, fileRun{first: w, mod: r.mod(j)})
		w++
		i = i1
	}
	// The prefix from cut on stays where it is (old symbol k is new k+low);
	// its names are now lowBytes further from the arena's start, and its
	// runs low symbols further.
	stay := ends[cut+low : p+low]
	for k := range stay {
		stay[k] += uint32(lowBytes)
	}
	for k := fr; k < len(b.fileMod) && b.fileMod[k].first < p; k++ {
		runs = append(runs, fileRun{first: max(b.fileMod[k].first, cut) + low, mod: b.fileMod[k].mod})
	}
	b.addrs, b.types, b.nameOff, b.nameEnd, b.arena = addrs, types, nameOff, ends, arena
	b.fileMod = runs
	return low
}

// frontPlan returns how many rest symbols to merge at the front, and the end
// of the prefix symbols that move down for them: the most rest symbols,
// within the room, that sort among the first half of the prefix.
func (b *builder) frontPlan(p int, r *restColumns) (low, cut int) {
	if !b.front.backs(b) {
		return 0, 0
	}
	for low = min(len(r.addrs), frontSyms); low > 0; low-- {
		cut = upperBound(b.addrs[:p], r.addrs[low-1])
		if cut <= p/2 && int(r.ends[low-1]) <= frontBytes {
			return low, cut
		}
	}
	return 0, 0
}

// runEndAt returns where file run fr ends, at most at limit.
func (b *builder) runEndAt(fr, limit int) int {
	if fr+1 < len(b.fileMod) {
		return min(b.fileMod[fr+1].first, limit)
	}
	return limit
}
