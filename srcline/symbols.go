package srcline

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ksym-dev/ksym/internal/elfnote"
)

// ErrAmbiguous reports a symbol name that names several addresses.
var ErrAmbiguous = errors.New("several symbols have this name")

// ErrNoSymbol reports a symbol name the file's symbol table lacks.
var ErrNoSymbol = errors.New("no such symbol")

// Symbol is a defined symbol of the file's symbol table.
type Symbol struct {
	Name    string
	Section string // the section it is defined in
	// Value is its address: for a relocatable object, the offset in its
	// section.
	Value  uint64
	Size   uint64
	Func   bool // STT_FUNC
	Global bool // STB_GLOBAL: unique in a linked kernel or module
}

// Symbols returns the file's defined symbols that lie in an allocated
// section (its .symtab), in the file's order. The slice is the
// Symbolizer's: the caller must not change it.
func (s *Symbolizer) Symbols() ([]Symbol, error) {
	if s.symbols != nil || s.symbolsErr != nil {
		return s.symbols, s.symbolsErr
	}
	err := guard(s.obj.path, func() error {
		var err error
		s.symbols, err = s.obj.readSymbols()
		return err
	})
	if err != nil {
		s.symbolsErr = err
	} else if s.symbols == nil {
		s.symbols = []Symbol{}
	}
	return s.symbols, err
}

// readSymbols reads .symtab.
func (o *object) readSymbols() ([]Symbol, error) {
	st, err := o.symtab()
	if err != nil {
		return nil, err
	}
	var out []Symbol
	for i := 1; i < st.len(); i++ { // entry 0 is the null symbol
		e := st.at(i)
		if !st.defined(e) {
			continue
		}
		t := elf.SymType(e.info & 0xf)
		out = append(out, Symbol{st.name(e), o.ef.Sections[e.sec].Name, e.value, e.size, t == elf.STT_FUNC, elf.SymBind(e.info>>4) == elf.STB_GLOBAL})
	}
	return out, nil
}

// symtab is the file's .symtab, read in place, with one copy of its string
// table of which the names are substrings.
type symtab struct {
	data  []byte
	names string
	size  int // of an entry
	bo    binary.ByteOrder
	secs  []*elf.Section
}

// rawSym is one entry of a symtab.
type rawSym struct {
	nameOff     uint32
	info        byte
	sec         int
	value, size uint64
}

// symtab returns the file's symbol table, read once.
func (o *object) symtab() (*symtab, error) {
	if o.syms != nil {
		return o.syms, nil
	}
	ef := o.ef
	var tab *elf.Section
	for _, sec := range ef.Sections {
		if sec.Type == elf.SHT_SYMTAB {
			tab = sec
			break
		}
	}
	if tab == nil {
		return nil, fmt.Errorf("%s: no symbol table (.symtab)", o.path)
	}
	if int(tab.Link) >= len(ef.Sections) {
		return nil, fmt.Errorf("%s: symbol table without its string table", o.path)
	}
	data, err := o.sectionData(tab)
	if err != nil {
		return nil, fmt.Errorf("%s: .symtab: %w", o.path, err)
	}
	strs, err := o.sectionData(ef.Sections[tab.Link])
	if err != nil {
		return nil, fmt.Errorf("%s: symbol names: %w", o.path, err)
	}
	st := &symtab{data: data, names: string(strs), size: 16, bo: ef.ByteOrder, secs: ef.Sections}
	if ef.Class == elf.ELFCLASS64 {
		st.size = 24
	}
	o.syms = st
	return st, nil
}

func (st *symtab) len() int { return len(st.data) / st.size }

// at decodes entry i.
func (st *symtab) at(i int) rawSym {
	e, bo := st.data[i*st.size:(i+1)*st.size], st.bo
	if st.size == 24 {
		return rawSym{bo.Uint32(e), e[4], int(bo.Uint16(e[6:])), bo.Uint64(e[8:]), bo.Uint64(e[16:])}
	}
	return rawSym{bo.Uint32(e), e[12], int(bo.Uint16(e[14:])), uint64(bo.Uint32(e[4:])), uint64(bo.Uint32(e[8:]))}
}

// defined reports whether e is a symbol of an allocated section, not a
// section or file symbol, with a name in the string table.
func (st *symtab) defined(e rawSym) bool {
	if e.sec == int(elf.SHN_UNDEF) || e.sec >= len(st.secs) || st.secs[e.sec].Flags&elf.SHF_ALLOC == 0 {
		return false
	}
	t := elf.SymType(e.info & 0xf)
	return t != elf.STT_SECTION && t != elf.STT_FILE && int(e.nameOff) < len(st.names)
}

// name returns the name of e.
func (st *symtab) name(e rawSym) string {
	n := st.names[e.nameOff:]
	if j := strings.IndexByte(n, 0); j >= 0 {
		n = n[:j]
	}
	return n
}

// SymbolAddress returns the address of the symbol named name: its value,
// plus for a relocatable object the base its section was laid out at.
func (s *Symbolizer) SymbolAddress(name string) (uint64, error) {
	if s.syms == nil && s.symErr == nil {
		syms, err := s.Symbols()
		s.symErr = err
		s.syms = make(map[string][]Symbol)
		for _, sym := range syms {
			s.syms[sym.Name] = append(s.syms[sym.Name], sym)
		}
	}
	if s.symErr != nil {
		return 0, s.symErr
	}
	cands := s.syms[name]
	if len(cands) == 0 {
		return 0, fmt.Errorf("%s: %s: %w", s.obj.path, name, ErrNoSymbol)
	}
	var addr uint64
	for i, c := range cands {
		base, _, _ := s.obj.sectionBase(c.Section)
		a := c.Value
		if s.Relocatable() {
			a += base
		}
		if i > 0 && a != addr {
			return 0, fmt.Errorf("%s: %s: %w", s.obj.path, name, ErrAmbiguous)
		}
		addr = a
	}
	return addr, nil
}

// BuildID returns the file's GNU build ID (its NT_GNU_BUILD_ID note) in
// hexadecimal, or "" when it has none.
func (s *Symbolizer) BuildID() string {
	var id string
	guard(s.obj.path, func() error {
		id = buildID(s.obj.ef, s.obj.data)
		return nil
	})
	return id
}

// buildID returns the hexadecimal build ID of an ELF file, read from its
// note sections, or "" when none is found.
func buildID(ef *elf.File, data []byte) string {
	for _, sec := range ef.Sections {
		if sec.Type != elf.SHT_NOTE {
			continue
		}
		end := sec.Offset + sec.FileSize
		if end < sec.Offset || end > uint64(len(data)) {
			continue
		}
		if id := elfnote.BuildID(data[sec.Offset:end], ef.ByteOrder); id != "" {
			return id
		}
	}
	return ""
}

// symbolAt returns the name of the code symbol at or nearest below pc in
// the file's symbol table (of several at one address, the first by name):
// the function of code the DWARF describes no subprogram for (assembly, or
// padding after a function's last instruction), named as addr2line names
// it. The code symbols are sorted by address, as offsets into the string
// table, on the first call.
func (s *Symbolizer) symbolAt(pc uint64) string {
	st, err := s.obj.symtab()
	if err != nil {
		return ""
	}
	if s.byAddr == nil {
		s.byAddr = s.codeSymbols(st)
	}
	i := sort.Search(len(s.byAddr), func(i int) bool { return s.byAddr[i].addr > pc }) - 1
	if i < 0 {
		return ""
	}
	for i > 0 && s.byAddr[i-1].addr == s.byAddr[i].addr {
		i--
	}
	return st.name(rawSym{nameOff: s.byAddr[i].nameOff})
}

// codeSym is a code symbol at its laid-out address.
type codeSym struct {
	addr    uint64
	nameOff uint32
}

// codeSymbols returns the code symbols sorted by address, then name.
func (s *Symbolizer) codeSymbols(st *symtab) []codeSym {
	bases := make([]int64, len(st.secs)) // base+1 of a code section, 0 for others
	for i, sec := range st.secs {
		if sec.Flags&elf.SHF_ALLOC != 0 && sec.Flags&elf.SHF_EXECINSTR != 0 {
			base, _ := s.codeBase(sec.Name)
			bases[i] = int64(base) + 1
		}
	}
	out := []codeSym{}
	for i := 1; i < st.len(); i++ {
		e := st.at(i)
		if e.sec >= len(bases) || bases[e.sec] == 0 || !st.defined(e) || strings.HasPrefix(st.names[e.nameOff:], "$") {
			continue
		}
		out = append(out, codeSym{e.value + uint64(bases[e.sec]-1), e.nameOff})
	}
	slices.SortFunc(out, func(a, b codeSym) int {
		if c := cmp.Compare(a.addr, b.addr); c != 0 {
			return c
		}
		return strings.Compare(st.name(rawSym{nameOff: a.nameOff}), st.name(rawSym{nameOff: b.nameOff}))
	})
	return out
}

// codeBase returns the base of a code section (0 but in a relocatable
// object) and whether the section named name holds code.
func (s *Symbolizer) codeBase(name string) (uint64, bool) {
	base, sec, ok := s.obj.sectionBase(name)
	if !ok || sec.Flags&elf.SHF_EXECINSTR == 0 {
		return 0, false
	}
	if !s.Relocatable() {
		base = 0
	}
	return base, true
}
