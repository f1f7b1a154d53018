package cli

import "github.com/ksym-dev/ksym/symdiff"

// diffReport is the JSON answer of ksym diff (schema in docs/cli.md).
type diffReport struct {
	A             diffTable        `json:"a"`
	B             diffTable        `json:"b"`
	Equivalent    bool             `json:"equivalent"`
	Verdict       string           `json:"verdict"`
	Scope         string           `json:"scope"`
	NamesOnly     bool             `json:"names_only"`
	Slide         string           `json:"slide,omitempty"`
	Notes         []string         `json:"notes"`
	Counts        diffCounts       `json:"counts"`
	Modules       []diffModule     `json:"modules"`
	OnlyInA       []diffOnlyModule `json:"modules_only_in_a"`
	OnlyInB       []diffOnlyModule `json:"modules_only_in_b"`
	ModulesExempt bool             `json:"modules_exempt"`
}

// diffTable describes one table.
type diffTable struct {
	Source        string `json:"source"`
	Kind          string `json:"kind"`
	Hidden        bool   `json:"hidden"`
	DataSymbols   bool   `json:"data_symbols"`
	Symbols       int    `json:"symbols"`
	CoreSymbols   int    `json:"core_symbols"`
	Modules       int    `json:"modules"`
	Base          string `json:"base,omitempty"`
	BaseSymbol    string `json:"base_symbol,omitempty"`
	Compared      int    `json:"compared"`
	Runtime       int    `json:"runtime"`
	NotInKallsyms int    `json:"not_in_kallsyms"`
	OutOfScope    int    `json:"out_of_scope"`
	Filtered      int    `json:"filtered"`
}

type diffCounts struct {
	Added       int `json:"added"`
	Removed     int `json:"removed"`
	Renamed     int `json:"renamed"`
	TypeChanged int `json:"type_changed"`
	Resized     int `json:"resized"`
	Moved       int `json:"moved"`
}

// diffModule is one module present in both tables ("vmlinux": the core).
// The lists are present only with --details (and then only those --only
// selects), as arrays even when empty.
type diffModule struct {
	Name        string        `json:"name"`
	BaseA       string        `json:"base_a,omitempty"`
	BaseB       string        `json:"base_b,omitempty"`
	Slide       string        `json:"slide,omitempty"`
	SymbolsA    int           `json:"symbols_a"`
	SymbolsB    int           `json:"symbols_b"`
	Counts      diffCounts    `json:"counts"`
	Renamed     *[]diffChange `json:"renamed,omitempty"`
	Removed     *[]diffSymbol `json:"removed,omitempty"`
	Added       *[]diffSymbol `json:"added,omitempty"`
	TypeChanged *[]diffChange `json:"type_changed,omitempty"`
	Resized     *[]diffChange `json:"resized,omitempty"`
	Moved       *[]diffChange `json:"moved,omitempty"`
}

// diffSymbol is a symbol in a difference. offset is relative to the base of
// its module's region; absent for per-CPU symbols and when positions are not
// compared.
type diffSymbol struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Address string `json:"address"`
	Offset  string `json:"offset,omitempty"`
	Size    string `json:"size,omitempty"`
}

type diffChange struct {
	A diffSymbol `json:"a"`
	B diffSymbol `json:"b"`
}

type diffOnlyModule struct {
	Name    string `json:"name"`
	Symbols int    `json:"symbols"`
}

func diffJSON(r *symdiff.Result, details bool, kinds map[string]bool) diffReport {
	out := diffReport{
		A: diffTableJSON(&r.A, r.NamesOnly), B: diffTableJSON(&r.B, r.NamesOnly),
		Equivalent: r.Equivalent(), Verdict: r.Verdict(), Scope: string(r.Scope), NamesOnly: r.NamesOnly,
		Notes: append([]string{}, r.Notes...), Counts: countsJSON(r.Counts()),
		Modules: []diffModule{}, OnlyInA: onlyJSON(r.OnlyInA), OnlyInB: onlyJSON(r.OnlyInB),
		ModulesExempt: r.ModulesExempt,
	}
	if !r.NamesOnly {
		out.Slide = signedHex(r.Slide())
	}
	for i := range r.Modules {
		out.Modules = append(out.Modules, moduleJSON(&r.Modules[i], r.NamesOnly, details, kinds))
	}
	return out
}

func diffTableJSON(t *symdiff.TableInfo, namesOnly bool) diffTable {
	d := diffTable{
		Source: t.Source, Kind: string(t.Kind), Hidden: t.Hidden, DataSymbols: t.DataSymbols,
		Symbols: t.Symbols, CoreSymbols: t.CoreSymbols, Modules: t.Modules,
		Compared: t.Compared, Runtime: t.Runtime, NotInKallsyms: t.NotInKallsyms,
		OutOfScope: t.OutOfScope, Filtered: t.Filtered,
	}
	if !namesOnly {
		d.Base, d.BaseSymbol = hex0x(t.Base), t.BaseSymbol
	}
	return d
}

func countsJSON(c symdiff.Counts) diffCounts {
	return diffCounts{Added: c.Added, Removed: c.Removed, Renamed: c.Renamed,
		TypeChanged: c.TypeChanged, Resized: c.Resized, Moved: c.Moved}
}

func onlyJSON(mods []symdiff.ModuleSummary) []diffOnlyModule {
	out := make([]diffOnlyModule, 0, len(mods))
	for _, m := range mods {
		out = append(out, diffOnlyModule{m.Name, m.Symbols})
	}
	return out
}

func moduleJSON(m *symdiff.ModuleDiff, namesOnly, details bool, kinds map[string]bool) diffModule {
	d := diffModule{Name: moduleLabel(m.Name), SymbolsA: m.SymbolsA, SymbolsB: m.SymbolsB, Counts: countsJSON(m.Counts())}
	if !namesOnly {
		d.BaseA, d.BaseB, d.Slide = hex0x(m.BaseA), hex0x(m.BaseB), signedHex(m.Slide())
	}
	if !details {
		return d
	}
	changes := func(kind string, l []symdiff.Change) *[]diffChange {
		if !kinds[kind] {
			return nil
		}
		out := make([]diffChange, 0, len(l))
		for _, c := range l {
			out = append(out, diffChange{symbolJSONDiff(c.A), symbolJSONDiff(c.B)})
		}
		return &out
	}
	symbols := func(kind string, l []symdiff.Symbol) *[]diffSymbol {
		if !kinds[kind] {
			return nil
		}
		out := make([]diffSymbol, 0, len(l))
		for _, s := range l {
			out = append(out, symbolJSONDiff(s))
		}
		return &out
	}
	d.Renamed, d.TypeChanged = changes("renamed", m.Renamed), changes("type", m.TypeChanged)
	d.Resized, d.Moved = changes("resized", m.Resized), changes("moved", m.Moved)
	d.Removed, d.Added = symbols("removed", m.Removed), symbols("added", m.Added)
	return d
}

func symbolJSONDiff(s symdiff.Symbol) diffSymbol {
	d := diffSymbol{Name: s.Name, Type: string([]byte{s.Type}), Address: hex0x(s.Addr)}
	if s.Relative {
		d.Offset = hex0x(s.Offset)
	}
	if s.SizeKnown {
		d.Size = hex0x(s.Size)
	}
	return d
}
