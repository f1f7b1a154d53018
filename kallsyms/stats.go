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
	acc := newStatsAcc()
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
	st.Largest = largest(acc.funcs, top)
	return st
}

// statsAcc accumulates per-module counts while scanning the table once.
type statsAcc struct {
	index    map[string]int // module name -> position in mods
	mods     []ModuleStats
	lastAddr map[string]uint64 // module -> address of the last text symbol counted
	funcs    []FunctionSize
}

func newStatsAcc() *statsAcc {
	core := ModuleStats{Name: CoreModuleName, Kind: "core"}
	return &statsAcc{
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
	a.funcs = append(a.funcs, FunctionSize{Name: t.Name(i), Module: mod, Size: size})
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
		a.mods = append(a.mods, ModuleStats{Name: name, Kind: moduleKind(name)})
	}
	return &a.mods[j]
}

func (a *statsAcc) modules() []ModuleStats { return a.mods }

// moduleKind names the kind of a module by the kernel's pseudo-module names.
func moduleKind(name string) string {
	switch name {
	case "bpf":
		return "bpf"
	case "__builtin__ftrace":
		return "ftrace"
	case "__builtin__kprobes":
		return "kprobes"
	}
	return "module"
}

// largest sorts funcs by size (descending), name, module and keeps top.
func largest(funcs []FunctionSize, top int) []FunctionSize {
	if top <= 0 {
		return []FunctionSize{}
	}
	sort.Slice(funcs, func(i, j int) bool {
		a, b := funcs[i], funcs[j]
		if a.Size != b.Size {
			return a.Size > b.Size
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Module < b.Module
	})
	if len(funcs) > top {
		funcs = funcs[:top]
	}
	return funcs
}
