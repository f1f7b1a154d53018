package srcline

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// relocate applies the relocations of the DWARF sections of a relocatable
// object (.rela.debug_info and the like), with each allocated section at the
// base layOut gave it. The relocated sections are copies: the file stays
// untouched.
func (o *object) relocate() error {
	syms, err := o.ef.Symbols()
	if err != nil && len(syms) == 0 {
		return fmt.Errorf("%s: relocatable object without a symbol table: %v", o.path, err)
	}
	for _, rs := range o.ef.Sections {
		if rs.Type != elf.SHT_RELA && rs.Type != elf.SHT_REL {
			continue
		}
		if int(rs.Info) >= len(o.ef.Sections) {
			continue
		}
		target := o.ef.Sections[rs.Info].Name
		if _, ok := o.secs[target]; !ok || !isWanted(target) {
			continue
		}
		rels, err := o.sectionData(rs)
		if err != nil {
			return fmt.Errorf("%s: section %s: %w", o.path, rs.Name, err)
		}
		sec := append([]byte(nil), o.secs[target]...)
		if err := o.apply(sec, rels, rs.Type == elf.SHT_RELA, syms); err != nil {
			return fmt.Errorf("%s: section %s: %w", o.path, rs.Name, err)
		}
		o.secs[target] = sec
	}
	return nil
}

// rel is one relocation entry.
type rel struct {
	off, sym, typ uint64
	addend        int64
}

// apply applies the relocation entries in rels to sec.
func (o *object) apply(sec, rels []byte, rela bool, syms []elf.Symbol) error {
	is64 := o.ef.Class == elf.ELFCLASS64
	bo := o.ef.ByteOrder
	size := map[[2]bool]int{{true, true}: 24, {true, false}: 16, {false, true}: 12, {false, false}: 8}[[2]bool{is64, rela}]
	for p := 0; p+size <= len(rels); p += size {
		e := rels[p : p+size]
		var r rel
		if is64 {
			info := bo.Uint64(e[8:])
			r = rel{off: bo.Uint64(e), sym: info >> 32, typ: info & 0xffffffff}
			if rela {
				r.addend = int64(bo.Uint64(e[16:]))
			}
		} else {
			info := bo.Uint32(e[4:])
			r = rel{off: uint64(bo.Uint32(e)), sym: uint64(info >> 8), typ: uint64(info & 0xff)}
			if rela {
				r.addend = int64(int32(bo.Uint32(e[8:])))
			}
		}
		if err := o.applyOne(sec, r, rela, syms, bo); err != nil {
			return err
		}
	}
	return nil
}

// applyOne applies one relocation: S + A, where S is the symbol's value plus
// its section's base.
func (o *object) applyOne(sec []byte, r rel, rela bool, syms []elf.Symbol, bo binary.ByteOrder) error {
	width := relocWidth(o.ef.Machine, r.typ)
	if width < 0 {
		return fmt.Errorf("unsupported relocation type %d for %v", r.typ, o.ef.Machine)
	}
	if width == 0 {
		return nil
	}
	if r.off+uint64(width) > uint64(len(sec)) || r.off+uint64(width) < r.off {
		return fmt.Errorf("relocation at 0x%x is outside the section", r.off)
	}
	var s uint64
	if r.sym > 0 {
		if r.sym > uint64(len(syms)) {
			return fmt.Errorf("relocation names symbol %d of %d", r.sym, len(syms))
		}
		sym := syms[r.sym-1] // Symbols() leaves out the null symbol 0
		s = sym.Value + o.bases[int(sym.Section)]
	}
	a := uint64(r.addend)
	loc := sec[r.off : r.off+uint64(width)]
	if width == 8 {
		if !rela {
			a = bo.Uint64(loc)
		}
		bo.PutUint64(loc, s+a)
	} else {
		if !rela {
			a = uint64(bo.Uint32(loc))
		}
		bo.PutUint32(loc, uint32(s+a))
	}
	return nil
}

// relocWidth returns the width in bytes of an absolute data relocation that
// DWARF sections use, 0 for a relocation with no effect, or -1 for one this
// package does not apply.
func relocWidth(m elf.Machine, typ uint64) int {
	switch m {
	case elf.EM_X86_64:
		switch elf.R_X86_64(typ) {
		case elf.R_X86_64_NONE:
			return 0
		case elf.R_X86_64_64:
			return 8
		case elf.R_X86_64_32, elf.R_X86_64_32S:
			return 4
		}
	case elf.EM_AARCH64:
		switch elf.R_AARCH64(typ) {
		case elf.R_AARCH64_NONE:
			return 0
		case elf.R_AARCH64_ABS64:
			return 8
		case elf.R_AARCH64_ABS32:
			return 4
		}
	case elf.EM_386:
		switch elf.R_386(typ) {
		case elf.R_386_NONE:
			return 0
		case elf.R_386_32:
			return 4
		}
	case elf.EM_ARM:
		switch elf.R_ARM(typ) {
		case elf.R_ARM_NONE:
			return 0
		case elf.R_ARM_ABS32:
			return 4
		}
	case elf.EM_PPC64:
		switch elf.R_PPC64(typ) {
		case elf.R_PPC64_NONE:
			return 0
		case elf.R_PPC64_ADDR64:
			return 8
		case elf.R_PPC64_ADDR32:
			return 4
		}
	case elf.EM_S390:
		switch elf.R_390(typ) {
		case elf.R_390_NONE:
			return 0
		case elf.R_390_64:
			return 8
		case elf.R_390_32:
			return 4
		}
	}
	return -1
}
