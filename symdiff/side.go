package symdiff

import (
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
)

// Regions of a module: the kernel allocates each page-aligned, and from
// Linux 6.4 separately, so each has its own base.
const (
	regText = iota
	regRodata
	regData
	numRegions
)

// How a symbol's position is compared.
const (
	posNone = iota // not compared: names only, or a module's per-CPU offset
	posRel         // off is relative to the base of the symbol's region
	posAbs         // off is the value itself: a core per-CPU offset
)

const pageSize = 4096

// sym is what the comparison needs of one symbol besides its name and type.
type sym struct {
	off       uint64
	size      uint64
	jmod      int32 // joint module id; -1 when not compared
	pos       uint8
	region    uint8
	sizeKnown bool
}

// side is one table prepared for the comparison.
type side struct {
	t    *kallsyms.Table
	info TableInfo
	// local modules: 0 is the core kernel, then modules in order of first
	// appearance in the table
	modNames []string
	modKind  []kallsyms.ModuleKind
	modSyms  []int
	lmod     []uint16             // local module of each symbol
	bases    [][numRegions]uint64 // per local module, region starts (all ones: none)
	syms     []sym
	// textRanges are [_stext, _etext] and [_sinittext, _einittext] for
	// ScopeText, when the table has the markers.
	textRanges [2][2]uint64
	hasRanges  [2]bool
}

// newSide describes t: its kind, modules and core base.
func newSide(t *kallsyms.Table) *side {
	s := &side{t: t}
	s.info = TableInfo{
		Source: t.Source(), Kind: KindKallsyms, Hidden: t.Hidden(),
		DataSymbols: t.HasDataSymbols(), Symbols: t.Len(),
	}
	if s.coreHas("kallsyms_names", "kallsyms_num_syms", "kallsyms_token_table") {
		s.info.Kind = KindSystemMap
	}
	s.localModules()
	if !t.Hidden() {
		s.info.Base, s.info.BaseSymbol = s.coreBase()
		s.textRanges[0], s.hasRanges[0] = s.coreRange("_stext", "_etext")
		s.textRanges[1], s.hasRanges[1] = s.coreRange("_sinittext", "_einittext")
	}
	return s
}

// localModules numbers the table's modules and assigns each symbol its
// module.
func (s *side) localModules() {
	t := s.t
	kinds := map[string]kallsyms.ModuleKind{}
	for _, m := range t.Modules() {
		kinds[m.Name] = m.Kind
		if m.Kind == kallsyms.KindModule {
			s.info.Modules++
		}
	}
	ids := map[string]uint16{"": 0}
	s.modNames, s.modKind, s.modSyms = []string{""}, []kallsyms.ModuleKind{kallsyms.KindModule}, []int{0}
	s.lmod = make([]uint16, t.Len())
	last, id := "", uint16(0)
	for i := range t.Len() {
		name := t.ModuleName(i)
		if name != last {
			var ok bool
			if id, ok = ids[name]; !ok {
				id = uint16(len(s.modNames))
				ids[name] = id
				s.modNames = append(s.modNames, name)
				s.modKind = append(s.modKind, kinds[name])
				s.modSyms = append(s.modSyms, 0)
			}
			last = name
		}
		s.lmod[i] = id
		s.modSyms[id]++
	}
	s.info.CoreSymbols = s.modSyms[0]
}

// coreFind returns the index of the first core symbol named name.
func (s *side) coreFind(name string) (int, bool) {
	var buf [8]int
	for _, i := range s.t.AppendFind(buf[:0], name) {
		if s.t.IsCore(i) {
			return i, true
		}
	}
	return 0, false
}

func (s *side) coreHas(names ...string) bool {
	for _, n := range names {
		if _, ok := s.coreFind(n); ok {
			return true
		}
	}
	return false
}

// coreBase finds the core kernel's base: _text, else _stext, else the
// lowest core code symbol.
func (s *side) coreBase() (uint64, string) {
	for _, name := range []string{"_text", "_stext"} {
		if i, ok := s.coreFind(name); ok {
			return s.t.Addr(i), name
		}
	}
	for i := range s.t.Len() {
		if s.lmod[i] == 0 && kallsyms.IsText(s.t.Type(i)) {
			return s.t.Addr(i), s.t.Name(i)
		}
	}
	return 0, ""
}

func (s *side) coreRange(from, to string) ([2]uint64, bool) {
	i, ok1 := s.coreFind(from)
	j, ok2 := s.coreFind(to)
	if !ok1 || !ok2 {
		return [2]uint64{}, false
	}
	return [2]uint64{s.t.Addr(i), s.t.Addr(j)}, true
}

// filter says which symbols of a side are compared.
type filter struct {
	opts       *Options
	text       bool // ScopeText
	systemMap  bool // drop what /proc/kallsyms never lists
	jointOfMod []int32
}

// classify decides for every symbol whether it is compared, and counts
// those that are not by reason.
func (s *side) classify(f filter) {
	t := s.t
	s.syms = make([]sym, t.Len())
	for i := range s.syms {
		s.syms[i].jmod = -1
		lm := s.lmod[i]
		switch {
		case s.modKind[lm] != kallsyms.KindModule:
			s.info.Runtime++
		case !f.opts.selected(s.modNames[lm]):
			s.info.Filtered++
		case f.jointOfMod[lm] < 0:
			// a module present in this table only
		case f.systemMap && lm == 0 && notInKallsyms(t.Name(i), t.Type(i)):
			s.info.NotInKallsyms++
		case f.text && !s.inTextScope(i, lm == 0):
			s.info.OutOfScope++
		default:
			s.syms[i].jmod = f.jointOfMod[lm]
			s.info.Compared++
		}
	}
}

// inTextScope applies the rule of scripts/kallsyms.c without --all-symbols
// to a core symbol (section markers, and symbols in the text and init text
// ranges, except others at the very end of them), and that of
// kernel/module/kallsyms.c without CONFIG_KALLSYMS_ALL to a module symbol
// (code only).
func (s *side) inTextScope(i int, core bool) bool {
	typ := s.t.Type(i)
	if !core {
		return kallsyms.IsText(typ)
	}
	name := s.t.Name(i)
	if strings.HasPrefix(name, "__start_") || strings.HasPrefix(name, "__stop_") {
		return true
	}
	if s.t.Hidden() || !s.hasRanges[0] {
		return kallsyms.IsText(typ)
	}
	addr := s.t.Addr(i)
	for k, r := range s.textRanges {
		if !s.hasRanges[k] || addr < r[0] || addr > r[1] {
			continue
		}
		if addr == r[1] && name != [2]string{"_etext", "_einittext"}[k] {
			return false
		}
		return true
	}
	return false
}

// notInKallsyms reports whether scripts/kallsyms.c leaves a System.map symbol
// out of the kernel's table: absolute symbols (its per-CPU A symbols are data
// symbols made absolute), the kallsyms tables themselves, arm mapping
// symbols and linker stubs.
func notInKallsyms(name string, typ byte) bool {
	switch typ {
	case 'A', 'a', 'U', 'u', 'N', 'n':
		return true
	}
	if kallsymsTables[name] || strings.HasPrefix(name, "$") || strings.HasPrefix(name, ".L") {
		return true
	}
	for _, p := range ignoredPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, suf := range []string{"_from_arm", "_from_thumb", "_veneer"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return strings.Contains(name, ".long_branch.") || strings.Contains(name, ".plt_branch.")
}

// kallsymsTables are the tables scripts/kallsyms.c generates; they are in
// vmlinux (and its System.map) but not in /proc/kallsyms.
var kallsymsTables = map[string]bool{
	"kallsyms_addresses": true, "kallsyms_offsets": true, "kallsyms_relative_base": true,
	"kallsyms_num_syms": true, "kallsyms_names": true, "kallsyms_markers": true,
	"kallsyms_token_table": true, "kallsyms_token_index": true, "kallsyms_seqs_of_names": true,
	"_SDA_BASE_": true, "_SDA2_BASE_": true,
}

var ignoredPrefixes = []string{
	"__efistub_", "__kvm_nvhe_$", "__kvm_nvhe_.L", "__AArch64ADRPThunk_", "__ARMV5PureThunk_",
	"__ARMV7PILongThunk_", "__ThumbV7PILongThunk_", "__LA25Thunk_", "__microLA25Thunk_",
	"__kcfi_typeid_",
}

// regionOf returns the module region of a type letter.
func regionOf(typ byte) uint8 {
	switch typ {
	case 't', 'T', 'w', 'W':
		return regText
	case 'r', 'R':
		return regRodata
	}
	return regData
}

// positions computes every compared symbol's position relative to its base.
func (s *side) positions() {
	s.bases = s.moduleBases()
	bases := s.bases
	t := s.t
	for i := range s.syms {
		p := &s.syms[i]
		if p.jmod < 0 {
			continue
		}
		addr, typ := t.Addr(i), t.Type(i)
		switch lm := s.lmod[i]; {
		case lm == 0 && (typ == 'A' || typ == 'a' || addr < s.info.Base):
			p.pos, p.off = posAbs, addr
		case lm == 0:
			p.pos, p.off = posRel, addr-s.info.Base
		case typ == 'A' || typ == 'a':
			p.pos = posNone
		default:
			p.region = regionOf(typ)
			p.pos, p.off = posRel, addr-bases[lm][p.region]
		}
	}
}

// moduleBases returns, per local module, the start of each region: its
// lowest symbol rounded down to a page.
func (s *side) moduleBases() [][numRegions]uint64 {
	bases := make([][numRegions]uint64, len(s.modNames))
	for m := range bases {
		for r := range numRegions {
			bases[m][r] = ^uint64(0)
		}
	}
	t := s.t
	for i := range s.syms {
		lm := s.lmod[i]
		if lm == 0 || s.syms[i].jmod < 0 {
			continue
		}
		typ := t.Type(i)
		if typ == 'A' || typ == 'a' {
			continue
		}
		r := regionOf(typ)
		bases[lm][r] = min(bases[lm][r], t.Addr(i)&^(pageSize-1))
	}
	return bases
}

// textBase returns the base of local module lm's text (the core base for
// the core kernel), or of its lowest region when it has no text; zero when
// it has no relative symbol.
func (s *side) textBase(lm uint16) uint64 {
	if lm == 0 {
		return s.info.Base
	}
	if s.bases == nil {
		return 0
	}
	b := s.bases[lm]
	if b[regText] != ^uint64(0) {
		return b[regText]
	}
	if low := min(b[regRodata], b[regData]); low != ^uint64(0) {
		return low
	}
	return 0
}

// sizes computes each relative symbol's size: the distance to the next
// higher compared symbol of its module and region. It walks the table
// backwards, remembering per module and region the lowest address seen and
// the next higher one.
func (s *side) sizes(joint int) {
	type cursor struct {
		low, high        uint64
		seen, haveHigher bool
	}
	cur := make([]cursor, joint*numRegions)
	t := s.t
	for i := len(s.syms) - 1; i >= 0; i-- {
		p := &s.syms[i]
		if p.pos != posRel {
			continue
		}
		c := &cur[int(p.jmod)*numRegions+int(p.region)]
		addr := t.Addr(i)
		if c.seen && addr < c.low {
			c.high, c.haveHigher = c.low, true
		}
		if !c.seen || addr < c.low {
			c.low, c.seen = addr, true
		}
		if c.haveHigher {
			p.size, p.sizeKnown = c.high-addr, true
		}
	}
}
