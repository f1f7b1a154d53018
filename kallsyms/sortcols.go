package kallsyms

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// sortByAddress puts the builder's columns in stable address order (file
// order among equal addresses).
//
// The kernel prints the core image sorted and each module in its ELF symbol
// table order, so a table is a sorted prefix followed by a shorter unsorted
// rest. The rest is taken out and sorted on its own, then merged into the
// prefix in place from the back: prefix symbols move only as far as the rest
// symbols sorting below them push them, in whole blocks, and nothing the size
// of the table is allocated.
func (b *builder) sortByAddress() {
	p := b.sorted
	if p == len(b.addrs) {
		return
	}
	var rest restColumns
	if e := &b.early; e.from == p {
		rest = e.joined()
	} else {
		rest = b.takeRest(p)
	}
	b.mergeRest(p, &rest)
}

// earlyRest is the rest of a parallel parse's last part, taken on that
// part's goroutine while the others may still be parsing. In a real table
// the rest is the module lines, which the kernel prints last, so the joined
// table's rest is usually just this one, taken already.
type earlyRest struct {
	from int // the rest's first symbol, in the joined builder; 0 when none was taken
	rest restColumns
	mods []uint16 // the part's module ids to the joined builder's; nil when the same
}

// takeRestEarly takes the builder's own rest, if it has one.
func (b *builder) takeRestEarly() {
	if p := b.sorted; p > 0 && p < len(b.addrs) && b.nonZero != 0 {
		b.early = earlyRest{from: p, rest: b.takeRest(p)}
	}
}

// joined returns the rest with the joined builder's module ids.
func (e *earlyRest) joined() restColumns {
	if e.mods != nil {
		for k, tm := range e.rest.typeMod {
			e.rest.typeMod[k] = tm&^0xffff | uint32(e.mods[uint16(tm)])
		}
	}
	return e.rest
}

// restColumns holds the symbols after the sorted prefix, in address order.
type restColumns struct {
	addrs   []uint64
	ends    []uint32 // end of name k in names
	typeMod []uint32 // type letter << 16 | module id
	names   []byte
}

func (r *restColumns) typ(k int) byte   { return byte(r.typeMod[k] >> 16) }
func (r *restColumns) mod(k int) uint16 { return uint16(r.typeMod[k]) }

// takeRest copies the symbols from p on into address order.
func (b *builder) takeRest(p int) restColumns {
	order := sortIndices(b.addrs, p)
	q := len(order)
	mods := newModulesInOrder(b.fileMod, len(b.addrs))
	r := restColumns{
		addrs: make([]uint64, q), ends: make([]uint32, q), typeMod: make([]uint32, q),
		names: make([]byte, 0, len(b.arena)-int(b.nameEnd[p-1])),
	}
	for k, o := range order {
		f := o.idx
		r.addrs[k] = b.addrs[f]
		r.typeMod[k] = uint32(b.types[f])<<16 | uint32(mods.at(int(f)))
		r.names = append(r.names, b.arena[b.nameEnd[f-1]:b.nameEnd[f]]...) // f >= p >= 1
		r.ends[k] = uint32(len(r.names))
	}
	return r
}

// modulesInOrder finds the module of symbols in file order, taken in any
// order: it keeps the file run of the last one, which usually holds the
// next too (a module's symbols are sorted apart from the others').
type modulesInOrder struct {
	runs        []fileRun
	n           int // symbols in the file
	k           int // the run of the last symbol asked for
	first, next int // where run k starts and where the next starts
}

func newModulesInOrder(runs []fileRun, n int) modulesInOrder {
	m := modulesInOrder{runs: runs, n: n}
	m.set(0)
	return m
}

func (m *modulesInOrder) set(k int) {
	m.k, m.first, m.next = k, m.runs[k].first, m.n
	if k+1 < len(m.runs) {
		m.next = m.runs[k+1].first
	}
}

// at returns the module of symbol i.
func (m *modulesInOrder) at(i int) uint16 {
	if i < m.first || i >= m.next {
		k, _ := slices.BinarySearchFunc(m.runs, i+1, func(r fileRun, t int) int { return cmp.Compare(r.first, t) })
		m.set(k - 1) // the last run starting at or before i; runs[0] starts at 0
	}
	return m.runs[m.k].mod
}

// mergeRest merges the sorted rest into the sorted prefix [0, p) of the
// columns and rebuilds the module runs: the first few rest symbols at the
// front when they sort near the start (see mergeFront), the others from the
// back.
//
// Invariant: symbols [w, n) and name bytes [wb, len(arena)) are final, with
// w = i + j - low; the prefix symbols [0, i) and rest symbols [low, j) are still to
// place. Writes land at or above w and reads below i, so moving a prefix
// block right (copy is memmove) never clobbers what is still to be read.
func (b *builder) mergeRest(p int, r *restColumns) {
	fileRuns := len(b.fileMod)
	low := b.mergeFront(p, r)
	p += low
	i, j := p, len(r.addrs)
	wb := len(b.arena)
	runs := newRunsBackward(b.fileMod, p, 2*fileRuns+2*low+2)
	for j > low {
		// Prefix symbols above the last rest symbol come after it (among
		// equal addresses the prefix, earlier in the file, comes first).
		i0 := upperBound(b.addrs[:i], r.addrs[j-1])
		wb = b.movePrefix(i0, i, i0+j-low, wb, &runs)
		i = i0
		// Rest symbols at or above the prefix's new last symbol follow it.
		j0 := low
		if i > 0 {
			k, _ := slices.BinarySearch(r.addrs[low:j], b.addrs[i-1])
			j0 += k
		}
		wb = b.placeRest(r, j0, j, i+j0-low, wb, &runs)
		j = j0
	}
	runs.prefix(0, i, 0)
	b.fileMod = runs.forward()
}

// movePrefix moves prefix symbols [i0, i) to start at symbol dst, their names
// to end at byte wb, and returns where their names now start.
func (b *builder) movePrefix(i0, i, dst, wb int, runs *runsBackward) int {
	if i0 == i {
		return wb
	}
	start, end := nameSpan(b.nameEnd, i0, i)
	nb := wb - (end - start)
	runs.prefix(i0, i, dst-i0)
	copy(b.addrs[dst:], b.addrs[i0:i])
	copy(b.types[dst:], b.types[i0:i])
	copy(b.arena[nb:wb], b.arena[start:end])
	shift := uint32(nb - start)
	ends := b.nameEnd[dst : dst+i-i0]
	copy(ends, b.nameEnd[i0:i])
	for k := range ends {
		ends[k] += shift
	}
	return nb
}

// placeRest writes rest symbols [j0, j) at symbol dst, their names ending at
// byte wb, and returns where their names start.
func (b *builder) placeRest(r *restColumns, j0, j, dst, wb int, runs *runsBackward) int {
	if j0 == j {
		return wb
	}
	start, end := nameSpan(r.ends, j0, j)
	nb := wb - (end - start)
	copy(b.addrs[dst:], r.addrs[j0:j])
	copy(b.arena[nb:wb], r.names[start:end])
	shift := uint32(nb - start)
	for k := j0; k < j; k++ {
		b.types[dst+k-j0] = r.typ(k)
		b.nameEnd[dst+k-j0] = r.ends[k] + shift
	}
	for k := j - 1; k >= j0; k-- {
		if k == j0 || r.mod(k-1) != r.mod(k) {
			runs.add(dst+k-j0, r.mod(k))
		}
	}
	return nb
}

// nameSpan returns where the names of symbols [i0, i) start and end, given
// each name's end.
func nameSpan(ends []uint32, i0, i int) (start, end int) {
	if i0 > 0 {
		start = int(ends[i0-1])
	}
	return start, int(ends[i-1])
}

// runsBackward collects module runs while the columns are merged from the
// back: runs are added in decreasing order of their first symbol.
type runsBackward struct {
	file []fileRun // the file's runs, for the prefix
	fr   int       // the last file run that can still hold a prefix symbol
	out  []fileRun
}

// newRunsBackward starts the runs of a merge into prefix [0, p) whose file
// runs are file; size is a guess of how many runs the merge makes.
func newRunsBackward(file []fileRun, p, size int) runsBackward {
	fr := len(file) - 1
	for fr > 0 && file[fr].first >= p {
		fr--
	}
	return runsBackward{file: file, fr: fr, out: make([]fileRun, 0, size)}
}

func (rb *runsBackward) add(first int, mod uint16) {
	rb.out = append(rb.out, fileRun{first: first, mod: mod})
}

// prefix adds the runs of prefix symbols [i0, i), which move by delta.
func (rb *runsBackward) prefix(i0, i, delta int) {
	for i > i0 {
		for rb.fr > 0 && rb.file[rb.fr].first >= i {
			rb.fr--
		}
		first := max(rb.file[rb.fr].first, i0)
		rb.add(first+delta, rb.file[rb.fr].mod)
		i = first
	}
}

// forward returns the runs in increasing order.
func (rb *runsBackward) forward() []fileRun {
	slices.Reverse(rb.out)
	return rb.out
}

// sortIndices returns the file indices from p on in stable address order
// (in the idx fields). Addresses within 4 GiB below the highest (all of a
// machine's modules) are radix-sorted on 32 bits; the few below that
// (per-CPU offsets) are sorted apart and come first.
func sortIndices(addrs []uint64, p int) []keyed32 {
	rest := addrs[p:]
	top := slices.Max(rest)
	floor := uint64(0)
	if top > math.MaxUint32 {
		floor = top - math.MaxUint32
	}
	nfar := 0
	for _, a := range rest {
		if a < floor {
			nfar++
		}
	}
	out := make([]keyed32, 2*len(rest)) // the sorted keys, then room for radixSort32
	far, near := out[:0:nfar], out[nfar:nfar:len(rest)]
	for k, a := range rest {
		if a < floor {
			far = append(far, keyed32{0, uint32(p + k)})
		} else {
			near = append(near, keyed32{uint32(a - floor), uint32(p + k)})
		}
	}
	slices.SortStableFunc(far, func(x, y keyed32) int { return cmp.Compare(addrs[x.idx], addrs[y.idx]) })
	if sorted := radixSort32(near, out[len(rest):]); len(near) > 0 && &sorted[0] != &near[0] {
		copy(near, sorted)
	}
	return out[:len(rest)]
}

// keyed32 is a 32-bit sort key with a symbol's file index.
type keyed32 struct{ key, idx uint32 }

// radixSort32 sorts by key, stably, in passes of up to 12 bits over the
// bits in which keys differ: two passes when they span less than 16 MiB,
// the usual case for the module area, at most three.
// tmp has room for len(a) keys; the result is a or tmp.
func radixSort32(a, tmp []keyed32) []keyed32 {
	if len(a) < 2 {
		return a
	}
	lo, hi := ^uint32(0), uint32(0)
	for _, k := range a {
		lo, hi = min(lo, k.key), max(hi, k.key)
	}
	width := uint(bits.Len32(lo ^ hi))
	passes := (width + 11) / 12
	if passes == 0 {
		return a
	}
	digit := (width + passes - 1) / passes
	mask := uint32(1)<<digit - 1
	tmp = tmp[:len(a)]
	var counts [1<<12 + 1]int
	count := counts[:mask+2]
	for shift := uint(0); shift < width; shift += digit {
		clear(count)
		for _, k := range a {
			count[(k.key>>shift)&mask+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, k := range a {
			d := (k.key >> shift) & mask
			tmp[count[d]] = k
			count[d]++
		}
		a, tmp = tmp, a
	}
	return a
}
