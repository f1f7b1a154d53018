package kmod

import (
	"debug/elf"
	"fmt"
	"strings"
)

// exportReader finds a module's exports from its symbols: __ksymtab_<name>
// in __ksymtab or __ksymtab_gpl; __kstrtabns_<name> pointing at the
// namespace string in __ksymtab_strings; __crc_<name> pointing at the CRC
// in __kcrctab or __kcrctab_gpl (the layout of Linux 5.4 to 6.4; newer
// kernels keep the namespace in the __ksymtab entry and have no
// __kstrtabns_ symbols, so their namespaces are not read).
type exportReader struct {
	f    *elf.File
	data map[int][]byte // section contents by index, read once
}

// export returns the export a __ksymtab_ symbol defines.
func (r exportReader) export(s elf.Symbol) (Export, bool) {
	sec := r.section(s)
	if sec == nil || (sec.Name != "__ksymtab" && sec.Name != "__ksymtab_gpl") {
		return Export{}, false
	}
	return Export{Name: strings.TrimPrefix(s.Name, "__ksymtab_"), GPLOnly: sec.Name == "__ksymtab_gpl"}, true
}

// section returns the section a symbol is defined in, or nil.
func (r exportReader) section(s elf.Symbol) *elf.Section {
	if s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE || int(s.Section) >= len(r.f.Sections) {
		return nil
	}
	return r.f.Sections[s.Section]
}

// bytesAt returns the contents of the section of s from s's value on.
func (r exportReader) bytesAt(s elf.Symbol) ([]byte, error) {
	sec := r.section(s)
	if sec == nil {
		return nil, fmt.Errorf("%w: symbol %s is not in a section", ErrNotModule, s.Name)
	}
	b, ok := r.data[int(s.Section)]
	if !ok {
		var err error
		if b, err = sectionData(sec); err != nil {
			return nil, err
		}
		r.data[int(s.Section)] = b
	}
	if s.Value >= uint64(len(b)) {
		return nil, fmt.Errorf("%w: symbol %s points past the end of %s", ErrNotModule, s.Name, sec.Name)
	}
	return b[s.Value:], nil
}

// fill adds the namespaces and CRCs of exports.
func (r exportReader) fill(exports []Export, syms []elf.Symbol) error {
	if len(exports) == 0 {
		return nil
	}
	at := make(map[string]int, len(exports))
	for i, e := range exports {
		at[e.Name] = i
	}
	for _, s := range syms {
		var err error
		if name, ok := strings.CutPrefix(s.Name, "__kstrtabns_"); ok {
			if i, ok := at[name]; ok {
				err = r.namespace(&exports[i], s)
			}
		} else if name, ok := strings.CutPrefix(s.Name, "__crc_"); ok {
			if i, ok := at[name]; ok {
				err = r.crc(&exports[i], s)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r exportReader) namespace(e *Export, s elf.Symbol) error {
	b, err := r.bytesAt(s)
	if err != nil {
		return err
	}
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	if n == len(b) {
		return fmt.Errorf("%w: the namespace of %s has no terminating NUL", ErrNotModule, e.Name)
	}
	e.Namespace = string(b[:n])
	return nil
}

func (r exportReader) crc(e *Export, s elf.Symbol) error {
	if s.Section == elf.SHN_ABS { // older kernels: the value is the CRC
		e.CRC, e.HasCRC = uint32(s.Value), true
		return nil
	}
	if sec := r.section(s); sec == nil || !strings.HasPrefix(sec.Name, "__kcrctab") {
		return nil
	}
	b, err := r.bytesAt(s)
	if err != nil {
		return err
	}
	if len(b) < 4 {
		return fmt.Errorf("%w: the CRC of %s is cut short", ErrNotModule, e.Name)
	}
	e.CRC, e.HasCRC = r.f.ByteOrder.Uint32(b), true
	return nil
}
