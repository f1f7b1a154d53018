package symdiff

import (
	"errors"
	"slices"

	"github.com/ksym-dev/ksym/kallsyms"
)

// Options tune Compare. The zero value compares everything.
type Options struct {
	// NamesOnly compares names and types only, not positions and sizes.
	NamesOnly bool
	// Modules restricts the comparison to these modules; "vmlinux",
	// "kernel" (kallsyms.IsCoreName) or "" is the core kernel. Empty
	// compares all modules.
	Modules []string
}

// Kind tells a /proc/kallsyms table from a System.map.
type Kind string

// Table kinds.
const (
	KindKallsyms  Kind = "kallsyms"   // /proc/kallsyms or a copy of it
	KindSystemMap Kind = "system.map" // nm output of vmlinux: link-time addresses, no modules
)

// Scope says which symbols were compared.
type Scope string

// Scopes.
const (
	// ScopeAll compares every symbol both tables can list.
	ScopeAll Scope = "all"
	// ScopeText compares only what a kernel without CONFIG_KALLSYMS_ALL
	// lists (code and section markers), because one table has no data
	// symbols.
	ScopeText Scope = "text"
)

// TableInfo describes one of the two tables.
type TableInfo struct {
	Source      string // the name the table was parsed from
	Kind        Kind
	Hidden      bool // all addresses zero
	DataSymbols bool // the core table has data symbols (CONFIG_KALLSYMS_ALL or System.map)
	Symbols     int  // all symbols in the table
	CoreSymbols int
	Modules     int // loadable modules (pseudo-modules not counted)
	// Base is the core kernel's base address, the symbol BaseSymbol
	// ("_text", "_stext", or the lowest core code symbol's name). Zero when
	// the addresses are hidden.
	Base       uint64
	BaseSymbol string
	// Compared counts the symbols compared (in modules present in both
	// tables). The others are counted by reason below or belong to modules
	// present in this table only.
	Compared int
	// Runtime counts symbols of [bpf], [__builtin__ftrace] and
	// [__builtin__kprobes], which come and go at run time.
	Runtime int
	// NotInKallsyms counts System.map symbols /proc/kallsyms never lists
	// (compared with a kallsyms table only).
	NotInKallsyms int
	// OutOfScope counts symbols left out by ScopeText.
	OutOfScope int
	// Filtered counts symbols of modules not selected by Options.Modules.
	Filtered int
}

// Symbol is one side of a reported difference.
type Symbol struct {
	Name string
	Type byte   // nm type letter
	Addr uint64 // address in its table
	// Offset is Addr minus the base of its module's region (see the package
	// documentation); meaningful only if Relative. It is false for per-CPU
	// symbols and when positions are not compared.
	Offset   uint64
	Relative bool
	// Size is the kallsyms size among the compared symbols; meaningful only
	// if SizeKnown.
	Size      uint64
	SizeKnown bool
}

// Change is a symbol present in both tables that differs: A is the symbol in
// the first table, B in the second.
type Change struct {
	A, B Symbol
}

// Counts counts differences by category.
type Counts struct {
	Added       int // symbols only in B
	Removed     int // symbols only in A
	Renamed     int // renamed by a compiler clone suffix
	TypeChanged int // same name, different type letter
	Resized     int // same name, different size
	Moved       int // same name, different position relative to the base
}

// Total is the number of differences. A symbol that both moved and changed
// size counts twice.
func (c Counts) Total() int {
	return c.Added + c.Removed + c.Renamed + c.TypeChanged + c.Resized + c.Moved
}

func (c *Counts) add(o Counts) {
	c.Added += o.Added
	c.Removed += o.Removed
	c.Renamed += o.Renamed
	c.TypeChanged += o.TypeChanged
	c.Resized += o.Resized
	c.Moved += o.Moved
}

// ModuleDiff is the comparison of one module present in both tables, or of
// the core kernel (Name ""). Every list is in table order, that is address
// order (of A for Removed and the changes, of B for Added); empty lists are
// empty, not nil.
type ModuleDiff struct {
	Name string // "" for the core kernel
	// BaseA and BaseB are the bases positions are relative to: the core
	// kernel's base, or the start of the module's text (zero when positions
	// are not compared).
	BaseA, BaseB       uint64
	SymbolsA, SymbolsB int // symbols compared

	Added       []Symbol // in B only
	Removed     []Symbol // in A only
	Renamed     []Change // A's name and B's differ by compiler clone suffixes
	TypeChanged []Change
	Resized     []Change
	Moved       []Change
}

// Counts counts the module's differences.
func (m *ModuleDiff) Counts() Counts {
	return Counts{
		Added: len(m.Added), Removed: len(m.Removed), Renamed: len(m.Renamed),
		TypeChanged: len(m.TypeChanged), Resized: len(m.Resized), Moved: len(m.Moved),
	}
}

// Slide is BaseB minus BaseA: for the core kernel, the difference of the
// KASLR offsets of two boots of one build.
func (m *ModuleDiff) Slide() int64 { return int64(m.BaseB - m.BaseA) }

// ModuleSummary names a module present in one table only.
type ModuleSummary struct {
	Name    string
	Symbols int
}

// Result is the comparison of two tables.
type Result struct {
	A, B  TableInfo
	Scope Scope
	// NamesOnly is set when positions and sizes were not compared
	// (Options.NamesOnly, or hidden addresses).
	NamesOnly bool
	// Notes explain, one sentence each, how the comparison adapted to the
	// tables (scope, System.map, hidden addresses).
	Notes []string
	// Modules holds the core kernel (first, when selected) and then the
	// modules present in both tables, by name.
	Modules []ModuleDiff
	// OnlyInA and OnlyInB are the modules present in one table only, by
	// name.
	OnlyInA, OnlyInB []ModuleSummary
	// ModulesExempt is set when one table is a System.map: it lists no
	// modules, so modules only in the other table do not make them differ.
	ModulesExempt bool
}

// Counts sums the differences of every module.
func (r *Result) Counts() Counts {
	var c Counts
	for i := range r.Modules {
		c.add(r.Modules[i].Counts())
	}
	return c
}

// Core returns the comparison of the core kernel, or nil when it was not
// compared.
func (r *Result) Core() *ModuleDiff {
	if len(r.Modules) > 0 && r.Modules[0].Name == "" {
		return &r.Modules[0]
	}
	return nil
}

// Slide is the core kernel's base in B minus that in A (the KASLR offset
// difference); zero when positions are not compared.
func (r *Result) Slide() int64 {
	if r.NamesOnly {
		return 0
	}
	return int64(r.B.Base - r.A.Base)
}

// Equivalent reports whether the tables hold the same symbols with the same
// types, sizes and relative positions in every compared module, and the
// same modules (unless ModulesExempt).
func (r *Result) Equivalent() bool {
	if r.Counts().Total() != 0 {
		return false
	}
	return r.ModulesExempt || len(r.OnlyInA) == 0 && len(r.OnlyInB) == 0
}

// ErrNilTable is returned by Compare when a table is nil.
var ErrNilTable = errors.New("symdiff: nil table")

// Compare compares table a (the old one) with table b (the new one).
func Compare(a, b *kallsyms.Table, opts Options) (*Result, error) {
	if a == nil || b == nil {
		return nil, ErrNilTable
	}
	c := newComparison(a, b, opts)
	c.match()
	return c.result(), nil
}

// selected reports whether module mod ("" for the core) is to be compared.
func (o *Options) selected(mod string) bool {
	if len(o.Modules) == 0 {
		return true
	}
	return slices.ContainsFunc(o.Modules, func(m string) bool {
		return m == mod || mod == "" && (m == "" || kallsyms.IsCoreName(m))
	})
}
