package kallsyms

import "sync"

// Table is an immutable parsed symbol table. Symbols are indexed 0..Len()-1
// in address order (file order among equal addresses; file order throughout
// when addresses are hidden). A Table is safe for concurrent use.
//
// It keeps every symbol in flat columns rather than one Go value each:
// addresses, type letters, one string holding every name back to back with
// where each starts, and the module runs.
type Table struct {
	source string
	addrs  addrColumn // sorted
	types  []byte
	// names holds every name back to back; name i is
	// names[nameOff[i]:nameOff[i+1]].
	names    string
	nameOff  []uint32
	runs     []run    // module runs in index order
	mods     []module // by module id; id 0 is the core kernel
	core     coreLayout
	hidden   bool
	pageSize uint64

	nameIndexOnce sync.Once
	nameIndex     nameIndex // built on the first name lookup
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

// Len returns the number of symbols.
func (t *Table) Len() int { return len(t.types) }

// Source returns the name the table was parsed from (Options.Source).
func (t *Table) Source() string { return t.source }

// Hidden reports whether all addresses are zero (see ErrAddressesHidden).
func (t *Table) Hidden() bool { return t.hidden }

// Name returns the name of symbol i. It does not allocate; the string shares
// the table's memory.
func (t *Table) Name(i int) string { return t.names[t.nameOff[i]:t.nameOff[i+1]] }

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
		Name: t.Name(i), Module: t.ModuleName(i), Addr: t.addrs.at(i),
		Size: size, SizeKnown: known, Type: t.types[i],
	}
}

// runOf returns the index in t.runs of the run holding symbol i.
func (t *Table) runOf(i int) int { return runAt(t.runs, i) }

// runAt returns the index in runs of the run holding symbol i: the last
// run starting at or before i (the first starts at 0).
func runAt(runs []run, i int) int {
	r, n := 0, len(runs)
	for n > 1 {
		half := n / 2
		if int(runs[r+half].first) <= i {
			r += half
		}
		n -= half
	}
	return r
}

// runEnd returns the index one past the last symbol of run r.
func (t *Table) runEnd(r int) int {
	if r+1 < len(t.runs) {
		return int(t.runs[r+1].first)
	}
	return t.Len()
}
