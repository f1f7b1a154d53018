package kallsyms

import "sort"

// CoreModuleName is the name Stats and the CLI use for the core kernel.
const CoreModuleName = "vmlinux"

// Stats summarises a Table. JSON field names are stable.
type Stats struct {
	Symbols        int  `json:"symbols"`          // every symbol in the table
	CoreSymbols    int  `json:"core_symbols"`     // symbols of the core kernel
	ModuleSymbols  int  `json:"module_symbols"`   // symbols of modules and pseudo-modules
	Modules        int  `json:"modules"`          // loadable modules (pseudo-modules not counted)
	Hidden         bool `json:"addresses_hidden"` // all addresses are zero: sizes are unknown
	HasDataSymbols bool `json:"has_data_symbols"` // the core table has data symbols (CONFIG_KALLSYMS_ALL)
	// TextBytes is the total of ModuleStats.TextBytes.
	TextBytes uint64 `json:"text_bytes"`
	// ByType counts symbols per type letter (keys are one-letter strings).
	ByType map[string]int `json:"by_type"`
	// ByModule has the core kernel first, then modules and pseudo-modules in
	// table (address) order.
	ByModule []ModuleStats `json:"by_module"`
	// Largest lists the largest functions, largest first.
	Largest []FunctionSize `json:"largest_functions"`
}

// ModuleStats counts the symbols of one module or of the core kernel.
type ModuleStats struct {
	Name        string `json:"name"`         // module name; CoreModuleName for the core kernel
	Kind        string `json:"kind"`         // "core", "module", "bpf", "ftrace" or "kprobes"
	Symbols     int    `json:"symbols"`      // all symbols
	TextSymbols int    `json:"text_symbols"` // symbols of type T, t, W or w
	// TextBytes sums the kallsyms sizes of the text symbols, counting each
	// address once (aliases share their bytes).
	TextBytes uint64 `json:"text_bytes"`
}

// FunctionSize is one entry of Stats.Largest.
type FunctionSize struct {
	Name   string `json:"name"`
	Module string `json:"module"` // "" for the core kernel
	Size   uint64 `json:"size"`
}

// ComputeStats counts t's symbols by type and by module, sums the text bytes
// per module and finds the top largest functions (symbols of type T, t, W or
// w with a known size; ties broken by name, then module). top <= 0 lists none.
func ComputeStats(t *Table, top int) Stats {
	st := Stats{
		Symbols:        t.Len(),
		Hidden:         t.Hidden(),
		HasDataSymbols: t.HasDataSymbols(),
		ByType:         map[string]int{},
	}
	acc := newStatsAcc(t)
	for i := 0; i < t.Len(); i++ {
		acc.add(t, i, &st)
	}
	st.ByModule = acc.modules()
	for _, m := range st.ByModule {
		st.TextBytes += m.TextBytes
		if m.Kind == "module" {
			st.Modules++
		}
	}
	st.ModuleSymbols = st.Symbols - st.CoreSymbols
	st.Largest = largest(t, acc.funcs, top)
	return st
}

// statsAcc accumulates per-module counts while scanning the table once.
type statsAcc struct {
	kinds    map[string]ModuleKind
	index    map[string]int // module name -> position in mods
	mods     []ModuleStats
	lastAddr map[string]uint64 // module -> address of the last text symbol counted
	funcs    []sizedSymbol     // text symbols with a known size
}

func newStatsAcc(t *Table) *statsAcc {
	core := ModuleStats{Name: CoreModuleName, Kind: "core"}
	kinds := map[string]ModuleKind{}
	for _, m := range t.Modules() {
		kinds[m.Name] = m.Kind
	}
	return &statsAcc{
		kinds:    kinds,
		index:    map[string]int{"": 0},
		mods:     []ModuleStats{core},
		lastAddr: map[string]uint64{},
	}
}

func (a *statsAcc) add(t *Table, i int, st *Stats) {
	typ := t.Type(i)
	st.ByType[string([]byte{typ})]++
	mod := t.ModuleName(i)
	if mod == "" {
		st.CoreSymbols++
	}
	m := a.module(mod)
	m.Symbols++
	if !IsText(typ) {
		return
	}
	m.TextSymbols++
	size, ok := t.Size(i)
	if !ok {
		return
	}
	a.funcs = append(a.funcs, sizedSymbol{i, size})
	addr := t.Addr(i)
	if last, seen := a.lastAddr[mod]; seen && last == addr {
		return // an alias of the previous text symbol: same bytes
	}
	a.lastAddr[mod] = addr
	m.TextBytes += size
}

func (a *statsAcc) module(name string) *ModuleStats {
	j, ok := a.index[name]
	if !ok {
		j = len(a.mods)
		a.index[name] = j
		a.mods = append(a.mods, ModuleStats{Name: name, Kind: a.kinds[name].String()})
	}
	return &a.mods[j]
}

func (a *statsAcc) modules() []ModuleStats { return a.mods }

// sizedSymbol is a symbol index with its size.
type sizedSymbol struct {
	index int
	size  uint64
}

// largest returns the top largest of funcs, ordered by size (descending),
// name and module. Names are only materialised for the candidates: those at
// least as large as the top-th.
func largest(t *Table, funcs []sizedSymbol, top int) []FunctionSize {
	if top <= 0 || len(funcs) == 0 {
		return []FunctionSize{}
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].size > funcs[j].size })
	n := min(top, len(funcs))
	cutoff := funcs[n-1].size
	for n < len(funcs) && funcs[n].size == cutoff {
		n++ // ties with the last one kept are decided by name below
	}
	out := make([]FunctionSize, n)
	for k, f := range funcs[:n] {
		out[k] = FunctionSize{Name: t.Name(f.index), Module: t.ModuleName(f.index), Size: f.size}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Size != b.Size {
			return a.Size > b.Size
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Module < b.Module
	})
	return out[:min(top, len(out))]
}
