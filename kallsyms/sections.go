package kallsyms

// ModuleKind tells real modules from the kernel's pseudo-modules.
type ModuleKind int

// Module kinds.
const (
	KindModule  ModuleKind = iota // a loadable module
	KindBPF                       // [bpf]: BPF programs and trampolines
	KindFtrace                    // [__builtin__ftrace]: ftrace trampolines
	KindKprobes                   // [__builtin__kprobes]: kprobe instruction pages
)

// String names the kind.
func (k ModuleKind) String() string {
	switch k {
	case KindBPF:
		return "bpf"
	case KindFtrace:
		return "ftrace"
	case KindKprobes:
		return "kprobes"
	}
	return "module"
}

// Module describes one module of the table.
type Module struct {
	Name    string
	Kind    ModuleKind
	Symbols int    // number of symbols
	Start   uint64 // lowest symbol address
	End     uint64 // highest symbol address
	// TextEnd is where the module's text ends as the kernel computes symbol
	// sizes (KindModule only); zero when it cannot be told from the table.
	TextEnd uint64
}

// Modules returns the modules in the table (not the core kernel), in the
// order they first appear in the input.
func (t *Table) Modules() []Module {
	out := make([]Module, 0, len(t.mods)-1)
	for _, m := range t.mods[1:] {
		mod := Module{Name: m.name, Kind: m.kind, Symbols: m.symbols, Start: m.start, End: m.end}
		if m.start > m.end { // no symbol with an address in the module
			mod.Start = 0
		}
		if m.textEndKnown {
			mod.TextEnd = m.textEnd
		}
		out = append(out, mod)
	}
	return out
}

// HasDataSymbols reports whether the core table holds data symbols: true
// for a kernel built with CONFIG_KALLSYMS_ALL and for a System.map.
func (t *Table) HasDataSymbols() bool { return t.core.hasData }

// Section names the part of the kernel image or module space an address is in.
type Section string

// Sections.
const (
	SectionUnknown   Section = "unknown"
	SectionText      Section = "text"
	SectionInitText  Section = "init text"
	SectionRodata    Section = "rodata"
	SectionROAfter   Section = "ro_after_init"
	SectionData      Section = "data"
	SectionInitData  Section = "init data"
	SectionBSS       Section = "bss"
	SectionPerCPU    Section = "per-cpu"
	SectionModule    Section = "module"
	SectionBPF       Section = "bpf"
	SectionFtrace    Section = "ftrace trampoline"
	SectionKprobes   Section = "kprobe insn page"
	SectionNotKernel Section = "outside the kernel"
)

// sectionBounds lists the image sections by their markers, most specific first.
var sectionBounds = []struct {
	from, to marker
	sec      Section
}{
	{mPerCPUStart, mPerCPUEnd, SectionPerCPU},
	{mSinittext, mEinittext, SectionInitText},
	{mStext, mEtext, SectionText},
	{mStartROAfterInit, mEndROAfterInit, SectionROAfter},
	{mStartRodata, mEndRodata, SectionRodata},
	{mSdata, mEdata, SectionData},
	{mInitBegin, mInitEnd, SectionInitData},
	{mBssStart, mBssStop, SectionBSS},
	{mBssStop, mEnd, SectionBSS}, // brk area, still part of the image
}

// Section returns the section addr lies in, from the kernel's own marker
// symbols (_stext/_etext, __start_rodata, _sdata/_edata, __bss_start ...) and
// the module ranges. In a hidden table it is SectionUnknown.
func (t *Table) Section(addr uint64) Section {
	if t.hidden {
		return SectionUnknown
	}
	for _, b := range sectionBounds {
		if t.core.in(addr, b.from, b.to) {
			return b.sec
		}
	}
	if t.core.resolvable(addr) {
		return SectionUnknown
	}
	if loc, err := t.Lookup(addr); err == nil {
		switch t.mods[t.runs[t.runOf(loc.Index)].mod].kind {
		case KindBPF:
			return SectionBPF
		case KindFtrace:
			return SectionFtrace
		case KindKprobes:
			return SectionKprobes
		}
		return SectionModule
	}
	if end, ok := t.core.get(mEnd); ok && addr >= end || t.core.has[mStext] && addr < t.core.addr[mStext] {
		return SectionNotKernel
	}
	return SectionUnknown
}

// Export says whether a symbol is exported to modules.
type Export int

// Export states.
const (
	ExportUnknown Export = iota // the table cannot tell (no data symbols: no CONFIG_KALLSYMS_ALL)
	NotExported
	Exported
	ExportedGPL
)

// String describes the state in words.
func (e Export) String() string {
	switch e {
	case NotExported:
		return "not exported"
	case Exported:
		return "exported"
	case ExportedGPL:
		return "exported, GPL-only"
	}
	return "unknown (the table has no data symbols: kernel built without CONFIG_KALLSYMS_ALL)"
}

// ExportOf reports whether the core symbol name is exported to modules: it
// is when the table has __ksymtab_<name>, GPL-only when that entry lies
// between __start___ksymtab_gpl and __stop___ksymtab_gpl. Tables without
// data symbols cannot tell.
func (t *Table) ExportOf(name string) Export {
	if !t.core.hasData {
		return ExportUnknown
	}
	var buf [8]int
	for _, i := range t.AppendFind(buf[:0], "__ksymtab_"+name) {
		if !t.IsCore(i) {
			continue
		}
		if t.core.in(t.Addr(i), mStartKsymtabGPL, mStopKsymtabGPL) {
			return ExportedGPL
		}
		return Exported
	}
	return NotExported
}

// ExportOfSymbol reports whether symbol i is exported. For a module symbol
// the kernel prints the type letter in upper case exactly when the module
// exports it; for a core symbol see ExportOf.
func (t *Table) ExportOfSymbol(i int) Export {
	if !t.IsCore(i) {
		if t.mods[t.runs[t.runOf(i)].mod].kind != KindModule {
			return NotExported
		}
		if c := t.types[i]; c >= 'A' && c <= 'Z' {
			return Exported
		}
		return NotExported
	}
	return t.ExportOf(t.Name(i))
}
