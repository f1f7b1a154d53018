package kallsyms

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// finish turns the file-order columns into a Table: sorted by address,
// module runs and facts worked out.
func (b *builder) finish() (*Table, error) {
	if len(b.addrs) == 0 {
		return nil, fmt.Errorf("%s: %w", sourceName(b.opts.Source), ErrEmpty)
	}
	t := &Table{source: b.opts.Source, pageSize: b.opts.PageSize, hidden: b.nonZero == 0}
	if t.pageSize == 0 {
		t.pageSize = 4096
	}
	if b.unsorted >= 0 && !t.hidden {
		b.sortByAddress()
	}
	t.addrs, t.types, t.nameOff = trim(b.addrs), trim(b.types), trim(b.nameOff)
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
// equal addresses) and rebuilds the module runs.
//
// The kernel prints the core image sorted and each module in its ELF symbol
// table order, so a table is a sorted prefix followed by a shorter unsorted
// rest (the modules). The rest is sorted on its own and merged with the
// prefix.
func (b *builder) sortByAddress() {
	n, p := len(b.addrs), b.unsorted
	rest := make([]uint32, n-p)
	for k := range rest {
		rest[k] = uint32(p + k)
	}
	slices.SortStableFunc(rest, func(x, y uint32) int { return cmp.Compare(b.addrs[x], b.addrs[y]) })
	order := make([]uint32, 0, n)
	i := 0
	for _, r := range rest {
		for ; i < p && b.addrs[i] <= b.addrs[r]; i++ { // the prefix is earlier in the file
			order = append(order, uint32(i))
		}
		order = append(order, r)
	}
	for ; i < p; i++ {
		order = append(order, uint32(i))
	}
	b.permute(order)
}

// permute reorders the columns so that symbol k is the one at order[k], and
// rebuilds the runs.
func (b *builder) permute(order []uint32) {
	n := len(order)
	modOf := make([]uint16, n)
	for r, rn := range b.runs {
		end := n
		if r+1 < len(b.runs) {
			end = int(b.runs[r+1].first)
		}
		for i := int(rn.first); i < end; i++ {
			modOf[i] = rn.mod
		}
	}
	addrs, types := make([]uint64, n), make([]byte, n)
	nameOff, names := make([]uint32, 1, n+1), make([]byte, 0, len(b.names))
	runs := make([]run, 0, len(b.runs)+8)
	for k, f := range order {
		addrs[k], types[k] = b.addrs[f], b.types[f]
		names = append(names, b.names[b.nameOff[f]:b.nameOff[f+1]]...)
		nameOff = append(nameOff, uint32(len(names)))
		if m := modOf[f]; k == 0 || runs[len(runs)-1].mod != m {
			runs = append(runs, run{first: uint32(k), mod: m})
		}
	}
	b.addrs, b.types, b.nameOff, b.names, b.runs = addrs, types, nameOff, names, runs
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
			m.start, m.end = min(m.start, t.addrs[first]), max(m.end, t.addrs[end-1])
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
			lastText[id], hasText[id] = max(lastText[id], t.addrs[i]), true
		}
	})
	for id := range mods {
		if hasText[id] {
			mods[id].textEnd, mods[id].textEndKnown = roundUp(lastText[id]+1, t.pageSize), true
		}
	}
	t.forModuleSymbols(mods, func(id uint16, i int) {
		m := &mods[id]
		if a := t.addrs[i]; hasText[id] && !isText(t.types[i]) && a > lastText[id] && a < m.textEnd {
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
