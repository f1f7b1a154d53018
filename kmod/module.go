package kmod

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ksym-dev/ksym/input"
)

// Module is what the kernel's loader reads from a module file.
type Module struct {
	Path    string // the file it was read from
	Name    string // .modinfo name=, else the file name without .ko (dashes as underscores)
	Info    Modinfo
	Machine elf.Machine
	Is64    bool
	// HasVersions is set when the file has a __versions section (built
	// with CONFIG_MODVERSIONS); the kernel then ignores the release part
	// of vermagic and checks CRCs instead.
	HasVersions bool
	Versions    []Version
	// Undefined lists the symbols the loader must resolve (SHN_UNDEF in
	// .symtab), in symbol-table order.
	Undefined []Undefined
	// Exports lists the symbols the module exports (__ksymtab_<name> in
	// __ksymtab or __ksymtab_gpl), in symbol-table order.
	Exports []Export
}

// Undefined is a symbol the module uses and does not define.
type Undefined struct {
	Name string
	Weak bool // STB_WEAK: the kernel lets it stay unresolved
}

// Export is a symbol the module exports.
type Export struct {
	Name      string
	GPLOnly   bool   // EXPORT_SYMBOL_GPL (in __ksymtab_gpl)
	Namespace string // EXPORT_SYMBOL_NS*; "" for none
	CRC       uint32 // valid when HasCRC (CONFIG_MODVERSIONS: __crc_<name> in __kcrctab)
	HasCRC    bool
}

// ErrNotModule is wrapped by the errors for files that are not kernel
// modules (not ELF, not relocatable, no module structure).
var ErrNotModule = errors.New("not a kernel module")

// Read reads the module file at path, decompressing .xz, .zst and .gz
// (by content, not by name).
func Read(path string) (*Module, error) {
	data, err := input.ReadAll(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(data, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse reads a module from the uncompressed ELF image data; path names it
// and gives the fallback module name. Malformed files give an error, never a
// partial Module.
func Parse(data []byte, path string) (m *Module, err error) {
	defer func() {
		// debug/elf is hardened against malformed files, but a parse
		// failure must never take the program down.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: malformed ELF (%v)", ErrNotModule, r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, notELF(data, err)
	}
	if f.Type != elf.ET_REL {
		return nil, fmt.Errorf("%w: ELF type %v, a module is a relocatable object (ET_REL)", ErrNotModule, f.Type)
	}
	if f.Section(".gnu.linkonce.this_module") == nil {
		return nil, fmt.Errorf("%w: no .gnu.linkonce.this_module section (the kernel says \"No module found in object\")", ErrNotModule)
	}
	m = &Module{Path: path, Machine: f.Machine, Is64: f.Class == elf.ELFCLASS64}
	if err := m.readSections(f); err != nil {
		return nil, err
	}
	if err := m.readSymbols(f); err != nil {
		return nil, err
	}
	m.Name = m.Info.Name
	if m.Name == "" {
		m.Name = NameFromPath(path)
	}
	return m, nil
}

// notELF explains an elf.NewFile failure.
func notELF(data []byte, err error) error {
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return fmt.Errorf("%w: not an ELF file (a module is an ELF .ko, optionally xz, zstd or gzip compressed)", ErrNotModule)
	}
	return fmt.Errorf("%w: corrupt or truncated ELF file: %v", ErrNotModule, err)
}

// NameFromPath returns the module name the file name implies: the base
// name up to the first '.', dashes turned into underscores (as modprobe
// and the kernel do).
func NameFromPath(path string) string {
	base := filepath.Base(path)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// readSections reads .modinfo and __versions.
func (m *Module) readSections(f *elf.File) error {
	if s := f.Section(".modinfo"); s != nil {
		b, err := sectionData(s)
		if err != nil {
			return err
		}
		if m.Info, err = ParseModinfo(b); err != nil {
			return err
		}
	}
	if s := f.Section("__versions"); s != nil {
		b, err := sectionData(s)
		if err != nil {
			return err
		}
		m.HasVersions = true
		if m.Versions, err = ParseVersions(b, f.ByteOrder, m.Is64); err != nil {
			return err
		}
	}
	return nil
}

// sectionData reads a section's bytes, failing for sections that lie
// outside the file.
func sectionData(s *elf.Section) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS {
		return nil, fmt.Errorf("%w: section %s has no contents in the file", ErrNotModule, s.Name)
	}
	b, err := s.Data()
	if err != nil {
		return nil, fmt.Errorf("%w: section %s: %v (truncated file?)", ErrNotModule, s.Name, err)
	}
	return b, nil
}

// readSymbols reads the undefined symbols and the exports from .symtab.
func (m *Module) readSymbols(f *elf.File) error {
	syms, err := f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		return fmt.Errorf("%w: no symbol table (the kernel says \"module has no symbols (stripped?)\")", ErrNotModule)
	}
	if err != nil {
		return fmt.Errorf("%w: .symtab: %v", ErrNotModule, err)
	}
	ex := exportReader{f: f, data: map[int][]byte{}}
	for _, s := range syms {
		switch {
		case s.Section == elf.SHN_UNDEF && s.Name != "":
			m.Undefined = append(m.Undefined, Undefined{Name: s.Name, Weak: elf.ST_BIND(s.Info) == elf.STB_WEAK})
		case strings.HasPrefix(s.Name, "__ksymtab_"):
			if e, ok := ex.export(s); ok {
				m.Exports = append(m.Exports, e)
			}
		}
	}
	return ex.fill(m.Exports, syms)
}
