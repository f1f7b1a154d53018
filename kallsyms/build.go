package kallsyms

import (
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// finish turns the file-order columns into a Table: sorted by address,
// module runs and facts worked out.
func (b *builder) finish() (*Table, error) {
	if len(b.lo) == 0 {
		return nil, fmt.Errorf("%s: %w", sourceName(b.opts.Source), ErrEmpty)
	}
	t := &Table{source: b.opts.Source, pageSize: b.opts.PageSize, hidden: b.nonZero == 0}
	if t.pageSize == 0 {
		t.pageSize = 4096
	}
	if b.unsorted >= 0 && !t.hidden {
		b.sortByAddress()
	}
	t.addrs = newAddrColumn(trim(b.lo), b.hi)
	t.types, t.nameOff = trim(b.types), trim(b.nameOff)
	if names := trim(b.names); len(names) > 0 {
		t.names = unsafe.String(&names[0], len(names)) // never written again
	}
	t.runs = b.runs
	t.mods = t.describeModules(b.modName)
	t.core = t.coreLayout(&b.core)
	return t, nil
}

// trim returns s, or a copy just its size when more than a quarter of its
// array is unused (columns are sized by a guess of the input).
func trim[S ~[]E, E any](s S) S {
	if cap(s)-len(s) > len(s)/4 {
		return slices.Clone(s)
	}
	return s
}

// sortByAddress puts the columns in stable address order (file order among
// equal addresses) and rebuilds the module and address runs.
//
// The kernel prints the core image sorted and each module in its ELF symbol
// table order, so a table is a sorted prefix followed by a shorter unsorted
// rest (the modules). The rest is sorted on its own and merged with the
// prefix; the merge knows each symbol's address and module, and so builds
// the new runs as it goes.
func (b *builder) sortByAddress() {
	n, p := len(b.lo), b.unsorted
	rest := make([]keyed, n-p)
	c := fileCursor{b: b}
	for k := range rest {
		addr, mod := c.at(p + k)
		rest[k] = keyed{addr: addr, idx: uint32(p + k), mod: mod}
	}
	rest = radixSort(rest)
	out := sortedColumns{
		lo: make([]uint32, 0, n), types: make([]byte, 0, n),
		nameOff: append(make([]uint32, 0, n+1), 0), names: make([]byte, 0, len(b.names)),
	}
	c = fileCursor{b: b}
	i := 0
	for _, r := range rest {
		j := i // the prefix is earlier in the file: first among equals
		for j < p {
			if addr, _ := c.at(j); addr > r.addr {
				break
			}
			j++
		}
		out.block(b, i, j)
		out.one(b, r)
		i = j
	}
	out.block(b, i, p)
	b.lo, b.hi, b.types, b.nameOff, b.names, b.runs = out.lo, out.his, out.types, out.nameOff, out.names, out.runs
}

// sortedColumns receives the symbols in address order: blocks of the sorted
// prefix, which keep their order, and single symbols of the rest.
type sortedColumns struct {
	lo      []uint32
	types   []byte
	nameOff []uint32
	names   []byte
	runs    []run
	his     []hiRun
}

// block appends file symbols [f0, f1) of b.
func (o *sortedColumns) block(b *builder, f0, f1 int) {
	if f0 == f1 {
		return
	}
	k := len(o.lo)
	o.lo = append(o.lo, b.lo[f0:f1]...)
	o.types = append(o.types, b.types[f0:f1]...)
	shift := uint32(len(o.names)) - b.nameOff[f0] // modulo 2^32, as the offsets are
	o.names = append(o.names, b.names[b.nameOff[f0]:b.nameOff[f1]]...)
	for _, end := range b.nameOff[f0+1 : f1+1] {
		o.nameOff = append(o.nameOff, end+shift)
	}
	for r := runAt(b.runs, f0); r < len(b.runs) && int(b.runs[r].first) < f1; r++ {
		o.setModule(k+max(int(b.runs[r].first), f0)-f0, b.runs[r].mod)
	}
	for r := hiRunOf(b.hi, f0); r < len(b.hi) && int(b.hi[r].first) < f1; r++ {
		o.his = addHi(o.his, k+max(int(b.hi[r].first), f0)-f0, b.hi[r].hi)
	}
}

// one appends the symbol of the rest s.
func (o *sortedColumns) one(b *builder, s keyed) {
	k, f := len(o.lo), int(s.idx)
	o.lo = append(o.lo, uint32(s.addr))
	o.types = append(o.types, b.types[f])
	o.names = append(o.names, b.names[b.nameOff[f]:b.nameOff[f+1]]...)
	o.nameOff = append(o.nameOff, uint32(len(o.names)))
	o.setModule(k, s.mod)
	o.his = addHi(o.his, k, uint32(s.addr>>32))
}

// setModule says that symbol k belongs to module mod.
func (o *sortedColumns) setModule(k int, mod uint16) {
	if len(o.runs) == 0 || o.runs[len(o.runs)-1].mod != mod {
		o.runs = append(o.runs, run{first: uint32(k), mod: mod})
	}
}

// fileCursor reads the builder's addresses and modules in increasing file
// order.
type fileCursor struct {
	b          *builder
	hiRun, run int // the runs of the last symbol read
}

// at returns the address and module of file symbol f, f at or after the
// last one read.
func (c *fileCursor) at(f int) (uint64, uint16) {
	b := c.b
	for c.hiRun+1 < len(b.hi) && int(b.hi[c.hiRun+1].first) <= f {
		c.hiRun++
	}
	for c.run+1 < len(b.runs) && int(b.runs[c.run+1].first) <= f {
		c.run++
	}
	return uint64(b.hi[c.hiRun].hi)<<32 | uint64(b.lo[f]), b.runs[c.run].mod
}

// keyed is a symbol's address and module with its index in the file.
type keyed struct {
	addr uint64
	idx  uint32
	mod  uint16
}

// radixSort sorts a by address, stably, a byte at a time from the lowest,
// skipping the bytes in which no two addresses differ, and returns the
// sorted slice (a or another). It is a few passes over the symbols where a
// comparison sort of a real table's module symbols took four times as long.
func radixSort(a []keyed) []keyed {
	var differ uint64
	for _, x := range a {
		differ |= x.addr ^ a[0].addr
	}
	tmp := make([]keyed, len(a))
	for shift := 0; shift < 64; shift += 8 {
		if differ>>shift&0xff == 0 {
			continue
		}
		var count [257]int
		for _, x := range a {
			count[x.addr>>shift&0xff+1]++
		}
		for d := 1; d < len(count); d++ {
			count[d] += count[d-1]
		}
		for _, x := range a {
			d := x.addr >> shift & 0xff
			tmp[count[d]] = x
			count[d]++
		}
		a, tmp = tmp, a
	}
	return a
}

// describeModules computes what the table knows of each module.
func (t *Table) describeModules(names []string) []module {
	mods := make([]module, len(names))
	for id, name := range names {
		mods[id] = module{name: name, kind: kindOf(name), start: math.MaxUint64}
	}
	for r, rn := range t.runs {
		m := &mods[rn.mod]
		first, end := int(rn.first), t.runEnd(r)
		m.symbols += end - first
		// Symbols of a run are sorted by address; absolute ones (per-CPU
		// offsets) are not in the module's memory.
		for first < end && isAbsolute(t.types[first]) {
			first++
		}
		for end > first && isAbsolute(t.types[end-1]) {
			end--
		}
		if first < end {
			m.start, m.end = min(m.start, t.addrs.at(first)), max(m.end, t.addrs.at(end-1))
		}
	}
	if !t.hidden {
		t.setTextEnds(mods)
	}
	return mods
}

// setTextEnds finds where the kernel considers each module's text to end:
// the module loader page-aligns the text part of the module's core layout
// (CONFIG_STRICT_MODULE_RWX), so the end is the first page boundary after
// the last text symbol. It is known for certain when no data symbol lies
// between the last text symbol and that boundary; otherwise the first such
// symbol ends the text, as far as the table can tell.
func (t *Table) setTextEnds(mods []module) {
	lastText := make([]uint64, len(mods))
	hasText := make([]bool, len(mods))
	t.forModuleSymbols(mods, func(id uint16, i int) {
		if isText(t.types[i]) {
			lastText[id], hasText[id] = max(lastText[id], t.addrs.at(i)), true
		}
	})
	for id := range mods {
		if hasText[id] {
			mods[id].textEnd, mods[id].textEndKnown = roundUp(lastText[id]+1, t.pageSize), true
		}
	}
	t.forModuleSymbols(mods, func(id uint16, i int) {
		m := &mods[id]
		if a := t.addrs.at(i); hasText[id] && !isText(t.types[i]) && a > lastText[id] && a < m.textEnd {
			m.textEnd, m.textEndKnown = a, false // data inside the page: not page-aligned text
		}
	})
}

// forModuleSymbols calls f with every symbol of a loadable module, in
// address order.
func (t *Table) forModuleSymbols(mods []module, f func(id uint16, i int)) {
	for r, rn := range t.runs {
		if rn.mod == 0 || mods[rn.mod].kind != KindModule {
			continue
		}
		for i := int(rn.first); i < t.runEnd(r); i++ {
			f(rn.mod, i)
		}
	}
}

func kindOf(name string) ModuleKind {
	switch name {
	case "bpf":
		return KindBPF
	case "__builtin__ftrace":
		return KindFtrace
	case "__builtin__kprobes":
		return KindKprobes
	}
	return KindModule
}

// isText reports whether an nm type letter denotes code.
func isText(typ byte) bool {
	switch typ {
	case 't', 'T', 'w', 'W':
		return true
	}
	return false
}

func isAbsolute(typ byte) bool { return typ == 'a' || typ == 'A' }

func roundUp(a, page uint64) uint64 {
	if page == 0 {
		return a
	}
	r := (a + page - 1) &^ (page - 1)
	if r < a { // overflow at the top of the address space
		return math.MaxUint64
	}
	return r
}
