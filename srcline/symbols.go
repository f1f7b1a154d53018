package srcline

import (
	"bytes"
	"cmp"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
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

// readSymbols reads .symtab: its names are substrings of one copy of the
// string table, not one allocation each.
func (o *object) readSymbols() ([]Symbol, error) {
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
	names := string(strs)
	size := 16
	if ef.Class == elf.ELFCLASS64 {
		size = 24
	}
	bo := ef.ByteOrder
	out := make([]Symbol, 0, len(data)/size)
	for p := size; p+size <= len(data); p += size { // entry 0 is the null symbol
		e := data[p : p+size]
		var nameOff uint32
		var info byte
		var shndx uint16
		var value, sz uint64
		if size == 24 {
			nameOff, info, shndx, value, sz = bo.Uint32(e), e[4], bo.Uint16(e[6:]), bo.Uint64(e[8:]), bo.Uint64(e[16:])
		} else {
			nameOff, value, sz, info, shndx = bo.Uint32(e), uint64(bo.Uint32(e[4:])), uint64(bo.Uint32(e[8:])), e[12], bo.Uint16(e[14:])
		}
		i := int(shndx)
		if shndx == uint16(elf.SHN_UNDEF) || i >= len(ef.Sections) || ef.Sections[i].Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		t := elf.SymType(info & 0xf)
		if t == elf.STT_SECTION || t == elf.STT_FILE || int(nameOff) >= len(names) {
			continue
		}
		name := names[nameOff:]
		if j := strings.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		out = append(out, Symbol{name, ef.Sections[i].Name, value, sz, t == elf.STT_FUNC, elf.SymBind(info>>4) == elf.STB_GLOBAL})
	}
	return out, nil
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
		if id := noteBuildID(data[sec.Offset:end], ef.ByteOrder); id != "" {
			return id
		}
	}
	return ""
}

// noteBuildID returns the NT_GNU_BUILD_ID in a list of ELF notes.
func noteBuildID(b []byte, bo binary.ByteOrder) string {
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		name := (namesz + 3) &^ 3
		desc := (descsz + 3) &^ 3
		if 12+name+desc > uint64(len(b)) {
			return ""
		}
		if typ == ntGNUBuildID && namesz == 4 && bytes.Equal(b[12:16], []byte("GNU\x00")) && descsz > 0 {
			return hex.EncodeToString(b[12+name : 12+name+descsz])
		}
		b = b[12+name+desc:]
	}
	return ""
}

// ntGNUBuildID is the note type of a GNU build ID.
const ntGNUBuildID = 3

// symbolAt returns the name of the code symbol at or nearest below pc in
// the file's symbol table: the function of code the DWARF describes no
// subprogram for (assembly, or padding after a function's last
// instruction), named as addr2line names it. The code symbols are sorted
// by address on the first call.
func (s *Symbolizer) symbolAt(pc uint64) string {
	if s.byAddr == nil {
		syms, _ := s.Symbols()
		s.byAddr = []addrSym{}
		secs := map[string]struct {
			base uint64
			code bool
		}{}
		for _, sym := range syms {
			sec, ok := secs[sym.Section]
			if !ok {
				sec.base, sec.code = s.codeBase(sym.Section)
				secs[sym.Section] = sec
			}
			if sec.code && !strings.HasPrefix(sym.Name, "$") {
				s.byAddr = append(s.byAddr, addrSym{sym.Value + sec.base, sym.Name})
			}
		}
		slices.SortFunc(s.byAddr, func(a, b addrSym) int {
			if c := cmp.Compare(a.addr, b.addr); c != 0 {
				return c
			}
			return strings.Compare(a.name, b.name)
		})
	}
	i := sort.Search(len(s.byAddr), func(i int) bool { return s.byAddr[i].addr > pc }) - 1
	if i < 0 {
		return ""
	}
	// Of several symbols at one address, the first by name, as the scan
	// of the table would choose.
	for i > 0 && s.byAddr[i-1].addr == s.byAddr[i].addr {
		i--
	}
	return s.byAddr[i].name
}

// addrSym is a code symbol at its (laid out) address.
type addrSym struct {
	addr uint64
	name string
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
