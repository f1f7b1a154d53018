package srcline

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
)

// ErrMismatch reports a debug file that is not the one of the kernel or
// module it was offered for.
var ErrMismatch = errors.New("debug file does not match")

// MatchBuildID checks that the file's build ID is want (hexadecimal, any
// case). It fails with ErrMismatch when they differ or the file has none.
func (s *Symbolizer) MatchBuildID(want string) error {
	got := s.BuildID()
	if got == "" {
		return fmt.Errorf("%s: %w: it has no build ID, want %s", s.obj.path, ErrMismatch, want)
	}
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("%s: %w: build ID %s, want %s", s.obj.path, ErrMismatch, got, want)
	}
	return nil
}

// minAgreeing is the number of symbols a kallsyms table and a file must
// share, all at the same distance, for MatchKallsyms to trust the file.
const minAgreeing = 8

// MatchKallsyms checks that the file's symbol table has the same relative
// layout as the symbols of module (or, when module is "", of the core
// kernel) in the kallsyms table tab: every function of the file whose name
// is unique there (for a vmlinux, every global function: global names are
// unique in a linked image, and checking only those is cheaper) that the
// table has once, as a code symbol of that module, lies at the same distance from
// its kallsyms address, per section for a module (the kernel places each
// section of a module on its own). For the core kernel it returns that
// distance, the KASLR offset to subtract from a running kernel's address
// before Lookup. This is the check for a file whose build ID is not known;
// it fails with ErrMismatch.
func (s *Symbolizer) MatchKallsyms(tab *kallsyms.Table, module string) (uint64, error) {
	what := "the core kernel"
	if module != "" {
		what = "module " + module
	}
	m := &layoutMatch{s: s, tab: tab, module: module, deltas: map[int]uint64{}}
	var err error
	if s.Relocatable() {
		err = m.matchModule()
	} else {
		// Global names are unique in a linked image: no need to count.
		err = guard(s.obj.path, func() error {
			st, err := s.obj.symtab()
			if err != nil {
				return err
			}
			for i := 1; i < st.len(); i++ {
				e := st.at(i)
				if elf.SymType(e.info&0xf) == elf.STT_FUNC && elf.SymBind(e.info>>4) == elf.STB_GLOBAL && st.defined(e) {
					m.check(st.name(e), e.sec, e.value)
				}
			}
			return nil
		})
	}
	if err != nil {
		return 0, err
	}
	if m.bad != "" {
		return 0, fmt.Errorf("%s: %w %s in the symbol table %s: %s (another build)", s.obj.path, ErrMismatch, what, tab.Source(), m.bad)
	}
	if m.agree < minAgreeing {
		return 0, fmt.Errorf("%s: %w %s in the symbol table %s: only %d of its functions are there",
			s.obj.path, ErrMismatch, what, tab.Source(), m.agree)
	}
	for _, d := range m.deltas {
		return d, nil // the core kernel: one section key
	}
	return 0, nil
}

// layoutMatch is the state of MatchKallsyms.
type layoutMatch struct {
	s      *Symbolizer
	tab    *kallsyms.Table
	module string
	deltas map[int]uint64 // by section for a module; one key for the core
	agree  int
	bad    string // the first disagreement
	found  []int
	code   map[int]bool
}

// matchModule checks a module's functions whose names it has once.
func (m *layoutMatch) matchModule() error {
	syms, err := m.s.Symbols()
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, sym := range syms {
		count[sym.Name]++
	}
	for _, sym := range syms {
		if sym.Func && count[sym.Name] == 1 {
			m.check(sym.Name, m.s.sectionIndex(sym.Section), sym.Value)
		}
	}
	return nil
}

// check compares one function of the file with the table.
func (m *layoutMatch) check(name string, sec int, value uint64) {
	if m.bad != "" || !m.isCode(sec) {
		return
	}
	a, ok := uniqueIn(m.tab, name, m.module, m.found[:0])
	if !ok {
		return
	}
	key := 0
	if m.module != "" {
		key = sec
	}
	d := a - value
	if prev, ok := m.deltas[key]; ok && prev != d {
		m.bad = fmt.Sprintf("%s is at %#x there, where this file puts it at %#x", name, a, value+prev)
		return
	}
	m.deltas[key] = d
	m.agree++
}

// isCode reports whether section sec holds code, memoized.
func (m *layoutMatch) isCode(sec int) bool {
	if m.code == nil {
		m.code = map[int]bool{}
	}
	c, ok := m.code[sec]
	if !ok {
		secs := m.s.obj.ef.Sections
		c = sec >= 0 && sec < len(secs) && secs[sec].Flags&elf.SHF_EXECINSTR != 0
		m.code[sec] = c
	}
	return c
}

// sectionIndex returns the index of the allocated section named name, or
// -1.
func (s *Symbolizer) sectionIndex(name string) int {
	for i, sec := range s.obj.ef.Sections {
		if sec.Name == name && sec.Flags&elf.SHF_ALLOC != 0 {
			return i
		}
	}
	return -1
}

// uniqueIn returns the address of the one code symbol named name of module
// ("" for the core kernel) in tab.
func uniqueIn(tab *kallsyms.Table, name, module string, buf []int) (uint64, bool) {
	var addr uint64
	n := 0
	for _, i := range tab.AppendFind(buf, name) {
		if typ := tab.Type(i); typ != 't' && typ != 'T' {
			continue
		}
		if module == "" && !tab.IsCore(i) || module != "" && (tab.IsCore(i) || !SameModule(tab.ModuleName(i), module)) {
			continue
		}
		addr = tab.Addr(i)
		n++
	}
	return addr, n == 1
}

// SameModule reports whether two module names name the same module: the
// kernel treats '-' and '_' in module names as the same character
// (crc32c-intel.ko is loaded as crc32c_intel).
func SameModule(a, b string) bool {
	return len(a) == len(b) && strings.ReplaceAll(a, "-", "_") == strings.ReplaceAll(b, "-", "_")
}

// ModuleName returns the name a module file declares in its .modinfo
// section (name=lkdtm), or "" when it has none.
func (s *Symbolizer) ModuleName() string {
	var name string
	guard(s.obj.path, func() error {
		sec := s.obj.ef.Section(".modinfo")
		if sec == nil || sec.Type == elf.SHT_NOBITS {
			return nil
		}
		end := sec.Offset + sec.FileSize
		if end < sec.Offset || end > uint64(len(s.obj.data)) {
			return nil
		}
		for _, kv := range bytes.Split(s.obj.data[sec.Offset:end], []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("name=")); ok {
				name = string(v)
				return nil
			}
		}
		return nil
	})
	return name
}
