package kallsyms

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Table is an immutable parsed symbol table. Symbols are indexed 0..Len()-1
// in address order (file order among equal addresses; file order throughout
// when addresses are hidden). A Table is safe for concurrent use.
type Table struct {
	source string
	addrs  addrColumn
	types  []byte
	// names holds every name back to back; name i is
	// names[nameOff.at(i):nameOff.at(i+1)].
	names   string
	nameOff packedSeq
	runs    []run    // module runs in index order
	mods    []module // by module id; id 0 is the core kernel
	// hot is the longest run (the core kernel's text, in a real table):
	// runOf answers for its symbols without a search.
	hot              int
	hotFirst, hotEnd int
	core             coreLayout
	hidden           bool
	pageSize         uint64

	nameIndexOnce  sync.Once
	nameIndex      nameIndex
	nameIndexReady atomic.Pointer[nameIndex] // &nameIndex once it is built
}

// run says that symbols from first up to the next run's first belong to mod.
type run struct {
	first uint32
	mod   uint16
}

// module is what the table knows of one module or pseudo-module.
type module struct {
	name         string
	kind         ModuleKind
	symbols      int
	start, end   uint64 // lowest and highest symbol address
	textEnd      uint64 // where the kernel considers the module's text to end
	textEndKnown bool
}

// Len returns the number of symbols.
func (t *Table) Len() int { return len(t.types) }

// Source returns the name the table was parsed from (Options.Source).
func (t *Table) Source() string { return t.source }

// Hidden reports whether all addresses are zero (see ErrAddressesHidden).
func (t *Table) Hidden() bool { return t.hidden }

// Name returns the name of symbol i. It does not allocate; the string shares
// the table's memory.
func (t *Table) Name(i int) string {
	start, end := t.nameOff.span(uint32(i))
	return t.names[start:end]
}

// AppendName appends the name of symbol i to dst.
func (t *Table) AppendName(dst []byte, i int) []byte { return append(dst, t.Name(i)...) }

// Addr returns the address of symbol i (zero in a hidden table).
func (t *Table) Addr(i int) uint64 { return t.addrs.at(i) }

// Type returns the nm type letter of symbol i as printed.
func (t *Table) Type(i int) byte { return t.types[i] }

// ModuleName returns the module of symbol i: "" for the core kernel, "bpf",
// "__builtin__ftrace" or "__builtin__kprobes" for pseudo-modules.
func (t *Table) ModuleName(i int) string { return t.mods[t.runs[t.runOf(i)].mod].name }

// IsCore reports whether symbol i belongs to the core kernel image.
func (t *Table) IsCore(i int) bool { return t.runs[t.runOf(i)].mod == 0 }

// Symbol returns symbol i. It does not allocate.
func (t *Table) Symbol(i int) Symbol {
	size, known := t.Size(i)
	return Symbol{
		Name: t.Name(i), Module: t.ModuleName(i), Addr: t.Addr(i),
		Size: size, SizeKnown: known, Type: t.types[i],
	}
}

// Symbol is one entry of the table.
type Symbol struct {
	Name   string
	Module string // "" for the core kernel; "bpf", "__builtin__ftrace", "__builtin__kprobes", or a module name
	Addr   uint64
	// Size is the kallsyms size (see the package documentation); meaningful
	// only if SizeKnown.
	Size      uint64
	SizeKnown bool
	Type      byte // nm type letter as printed
}

// runOf returns the index in t.runs of the run holding symbol i: the hot
// run without a search, any other by runAt.
func (t *Table) runOf(i int) int {
	if i >= t.hotFirst && i < t.hotEnd {
		return t.hot
	}
	return t.runAt(i)
}

// runAt returns the index in t.runs of the run holding symbol i by a binary
// search whose steps depend only on the number of runs, with the comparisons
// turned into masks, since a lookup's module is unpredictable.
func (t *Table) runAt(i int) int {
	runs := t.runs
	base, n := 0, len(runs) // runs[0] starts at 0
	for n > 1 {
		half := n >> 1
		le := (int(runs[base+half].first) - i - 1) >> 63 // -1 if the run starts at or before i
		base += half & le
		n -= half
	}
	return base
}

// setHotRun finds the longest run, for runOf.
func (t *Table) setHotRun() {
	t.hot, t.hotFirst, t.hotEnd = 0, 0, 0
	for r := range t.runs {
		if first, end := int(t.runs[r].first), t.runEnd(r); end-first > t.hotEnd-t.hotFirst {
			t.hot, t.hotFirst, t.hotEnd = r, first, end
		}
	}
}

// runEnd returns the index one past the last symbol of run r.
func (t *Table) runEnd(r int) int {
	if r+1 < len(t.runs) {
		return int(t.runs[r+1].first)
	}
	return t.Len()
}

// finish turns the file-order columns into a Table.
func (b *builder) finish() (*Table, error) {
	n := len(b.addrs)
	if n == 0 {
		return nil, fmt.Errorf("%s: %w", sourceName(b.opts.Source), ErrEmpty)
	}
	t := &Table{source: b.opts.Source, pageSize: b.opts.PageSize, hidden: b.nonZero == 0}
	if t.pageSize == 0 {
		t.pageSize = 4096
	}
	if !t.hidden {
		b.sortByAddress()
	}
	// The address column takes the longest to build, and trimming a name
	// arena sized by guess (a streamed input's) comes next: on a large table
	// each runs on a goroutine of its own while the rest is worked out from
	// the plain sorted addresses.
	concurrent := n >= minConcurrentFinish && runtime.GOMAXPROCS(0) > 1
	var wg sync.WaitGroup
	var col addrColumn
	run := func(f func()) {
		if concurrent {
			wg.Go(f)
		} else {
			f()
		}
	}
	// Without offsets computed ahead, this goroutine computes the upper half
	// of them while the column's goroutine computes the lower half.
	shared := concurrent && !b.ahead.on && !t.hidden
	if shared {
		b.column.start(b.addrs, nil)
		b.halves.Add(1)
	}
	run(func() {
		if shared {
			b.column.offsets(0, 2)
			b.halves.Wait()
			col = b.column.index(&b.spares)
			return
		}
		var ok bool
		if col, ok = b.ahead.column(b.addrs, &b.spares); !ok {
			col = b.column.whole(b.addrs, b.ahead.spare(), &b.spares)
		}
	})
	if shared {
		b.column.offsets(1, 2)
		b.halves.Done()
	}
	if arenaSlack(b.arena) {
		run(func() { t.names = arenaString(b.arena) })
	} else {
		t.names = arenaString(b.arena)
	}
	t.addrs = addrColumn{wide: b.addrs}
	t.types = b.types
	if cap(t.types)-len(t.types) > len(t.types)/16 { // columns of a streamed input are sized by guess
		t.types = slices.Clone(t.types)
	}
	t.nameOff.fill(b.nameOffsets(), b.spares.nameBase, b.spares.nameRel)
	t.runs = compactRuns(b.fileMod)
	t.setHotRun()
	t.mods = t.describeModules(b.mods.strings())
	t.core = t.coreLayout(&b.core)
	wg.Wait()
	t.addrs = col
	return t, nil
}

// minConcurrentFinish is the least number of symbols worth building the
// address column concurrently for.
const minConcurrentFinish = 1 << 14

// nameOffsets returns where every name starts, and the end of the last:
// a zero, then every name's end. The builder's nameEnd usually sits right
// after such a zero already, and is then used in place.
func (b *builder) nameOffsets() []uint32 {
	n := len(b.nameEnd)
	if n > 0 && cap(b.nameOff) > n && &b.nameOff[:2][1] == &b.nameEnd[0] {
		return b.nameOff[:n+1]
	}
	off := make([]uint32, n+1)
	copy(off[1:], b.nameEnd)
	return off
}

// arenaString returns the arena as a string without copying when it is
// reasonably full, and trims it otherwise. The arena is never written again.
func arenaString(arena []byte) string {
	if len(arena) == 0 {
		return ""
	}
	if arenaSlack(arena) {
		arena = slices.Clip(append([]byte(nil), arena...))
	}
	return unsafe.String(&arena[0], len(arena))
}

// arenaSlack reports whether the arena has so much room left that it is
// worth copying the names into one just their size.
func arenaSlack(arena []byte) bool { return cap(arena)-len(arena) > len(arena)/16 }

// compactRuns converts builder runs, dropping empty ones.
func compactRuns(in []fileRun) []run {
	out := make([]run, 0, len(in))
	for i, r := range in {
		if i+1 < len(in) && in[i+1].first == r.first {
			continue // empty run
		}
		if len(out) > 0 && out[len(out)-1].mod == r.mod {
			continue
		}
		out = append(out, run{first: uint32(r.first), mod: r.mod})
	}
	return out
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
			m.start, m.end = min(m.start, t.Addr(first)), max(m.end, t.Addr(end-1))
		}
	}
	for id := range mods {
		if mods[id].kind == KindModule && id != 0 && !t.hidden {
			mods[id].textEnd, mods[id].textEndKnown = t.moduleTextEnd(uint16(id))
		}
	}
	return mods
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

// moduleTextEnd finds where the kernel considers module id's text to end:
// the module loader page-aligns the text part of the module's core layout
// (CONFIG_STRICT_MODULE_RWX), so the end is the first page boundary after
// the last text symbol. It is known for certain when the first non-text
// symbol after it lies on the next page boundary or beyond.
func (t *Table) moduleTextEnd(id uint16) (uint64, bool) {
	var lastText uint64
	found := false
	for r := range t.runs {
		if t.runs[r].mod != id {
			continue
		}
		for i := int(t.runs[r].first); i < t.runEnd(r); i++ {
			if isText(t.types[i]) {
				lastText, found = max(lastText, t.Addr(i)), true
			}
		}
	}
	if !found {
		return 0, false
	}
	end := roundUp(lastText+1, t.pageSize)
	for r := range t.runs {
		if t.runs[r].mod != id {
			continue
		}
		for i := int(t.runs[r].first); i < t.runEnd(r); i++ {
			if a := t.Addr(i); !isText(t.types[i]) && a > lastText && a < end {
				return a, false // data inside the page: not page-aligned text
			}
		}
	}
	return end, true
}

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
