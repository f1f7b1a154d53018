package srcline

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// cuRange is an address range of a compilation unit.
type cuRange struct {
	lo, hi uint64
	off    uint64 // offset of the unit's header in .debug_info
}

// parseAranges reads .debug_aranges: the address ranges of each unit.
func parseAranges(b []byte, bo binary.ByteOrder) ([]cuRange, error) {
	var out []cuRange
	for p := 0; p < len(b); {
		start := p
		if p+4 > len(b) {
			return nil, errors.New(".debug_aranges: truncated set header")
		}
		length := uint64(bo.Uint32(b[p:]))
		p += 4
		is64 := length == 0xffffffff
		if is64 {
			if p+8 > len(b) {
				return nil, errors.New(".debug_aranges: truncated set header")
			}
			length = bo.Uint64(b[p:])
			p += 8
		}
		end := uint64(p) + length
		if length == 0 || end > uint64(len(b)) || end < uint64(p) {
			return nil, fmt.Errorf(".debug_aranges: set at 0x%x has a bad length", start)
		}
		set := b[:end]
		if p+2 > len(set) {
			return nil, errors.New(".debug_aranges: truncated set header")
		}
		p += 2 // version
		var cu uint64
		if is64 {
			if p+8 > len(set) {
				return nil, errors.New(".debug_aranges: truncated set header")
			}
			cu, p = bo.Uint64(set[p:]), p+8
		} else {
			if p+4 > len(set) {
				return nil, errors.New(".debug_aranges: truncated set header")
			}
			cu, p = uint64(bo.Uint32(set[p:])), p+4
		}
		if p+2 > len(set) {
			return nil, errors.New(".debug_aranges: truncated set header")
		}
		asize, ssize := int(set[p]), int(set[p+1])
		p += 2
		if asize != 4 && asize != 8 || ssize != 0 {
			return nil, fmt.Errorf(".debug_aranges: set at 0x%x: address size %d, segment size %d not supported", start, asize, ssize)
		}
		tuple := 2 * asize
		p = start + (p-start+tuple-1)/tuple*tuple
		for ; p+tuple <= len(set); p += tuple {
			lo, n := readAddr(set[p:], asize, bo), readAddr(set[p+asize:], asize, bo)
			if lo == 0 && n == 0 {
				break
			}
			if n > 0 && lo+n > lo {
				out = append(out, cuRange{lo, lo + n, cu})
			}
		}
		p = int(end)
	}
	sortRanges(out)
	return out, nil
}

func readAddr(b []byte, size int, bo binary.ByteOrder) uint64 {
	if size == 4 {
		return uint64(bo.Uint32(b))
	}
	return bo.Uint64(b)
}

func sortRanges(r []cuRange) {
	sort.Slice(r, func(i, j int) bool {
		if r[i].lo != r[j].lo {
			return r[i].lo < r[j].lo
		}
		return r[i].hi < r[j].hi
	})
}

// findRange returns the offset of the unit whose range holds pc.
func findRange(r []cuRange, pc uint64) (uint64, bool) {
	i := sort.Search(len(r), func(i int) bool { return r[i].lo > pc }) - 1
	// Ranges may overlap (a unit's range inside another's): look back a few.
	for k := i; k >= 0 && k > i-8; k-- {
		if r[k].lo <= pc && pc < r[k].hi {
			return r[k].off, true
		}
	}
	return 0, false
}

// unitHeaders returns the offset of every unit header in .debug_info.
func unitHeaders(info []byte, bo binary.ByteOrder) ([]uint64, error) {
	var offs []uint64
	for p := uint64(0); p < uint64(len(info)); {
		end, err := unitEnd(info, p, bo)
		if err != nil {
			return offs, err
		}
		offs = append(offs, p)
		p = end
	}
	return offs, nil
}

// unitEnd returns the end of the unit whose header is at off.
func unitEnd(info []byte, off uint64, bo binary.ByteOrder) (uint64, error) {
	if off+4 > uint64(len(info)) || off+4 < off {
		return 0, fmt.Errorf(".debug_info: no unit at 0x%x", off)
	}
	n, hdr := uint64(bo.Uint32(info[off:])), uint64(4)
	if n == 0xffffffff {
		if off+12 > uint64(len(info)) {
			return 0, fmt.Errorf(".debug_info: truncated unit at 0x%x", off)
		}
		n, hdr = bo.Uint64(info[off+4:]), 12
	}
	end := off + hdr + n
	if n < 2 || end > uint64(len(info)) || end < off {
		return 0, fmt.Errorf(".debug_info: unit at 0x%x has a bad length", off)
	}
	return end, nil
}

// newUnitData returns a dwarf.Data holding the unit at off, and the offset
// of the unit's header in it. The standard decoder reads every unit header
// and abbreviation table of the .debug_info it is given, so it is given only
// this unit's bytes, where references are relative to the unit. A unit that
// refers to other units (DW_FORM_ref_addr: LTO, dwz) gets the whole
// .debug_info instead, opened once.
func (o *object) newUnitData(off uint64) (*dwarf.Data, dwarf.Offset, error) {
	info := o.secs[".debug_info"]
	end, err := unitEnd(info, off, o.ef.ByteOrder)
	if err != nil {
		return nil, 0, err
	}
	global, err := usesRefAddr(info[off:end], o.secs[".debug_abbrev"], o.ef.ByteOrder)
	if err != nil {
		return nil, 0, err
	}
	if global {
		if o.whole == nil {
			if o.whole, err = o.dwarfData(info); err != nil {
				return nil, 0, err
			}
		}
		return o.whole, dwarf.Offset(off), nil
	}
	d, err := o.dwarfData(info[off:end])
	return d, 0, err
}

// dwarfData returns a dwarf.Data over info and the other sections.
func (o *object) dwarfData(info []byte) (*dwarf.Data, error) {
	s := o.secs
	d, err := dwarf.New(s[".debug_abbrev"], nil, nil, info, s[".debug_line"], nil, s[".debug_ranges"], s[".debug_str"])
	if err != nil {
		return nil, err
	}
	for _, name := range []string{".debug_addr", ".debug_line_str", ".debug_str_offsets", ".debug_rnglists"} {
		if b := s[name]; b != nil {
			d.AddSection(name, b)
		}
	}
	return d, nil
}

// formRefAddr is DW_FORM_ref_addr, a reference to another unit.
const formRefAddr = 0x10

// usesRefAddr reports whether the unit whose bytes are u has an attribute
// of form DW_FORM_ref_addr in its abbreviation table.
func usesRefAddr(u, abbrev []byte, bo binary.ByteOrder) (bool, error) {
	p, is64 := 4, false
	if len(u) >= 4 && bo.Uint32(u) == 0xffffffff {
		p, is64 = 12, true
	}
	if p+2 > len(u) {
		return false, errors.New("truncated unit header")
	}
	vers := bo.Uint16(u[p:])
	p += 2
	if vers >= 5 {
		p += 2 // unit type, address size
	}
	var aoff uint64
	switch {
	case is64 && p+8 <= len(u):
		aoff = bo.Uint64(u[p:])
	case !is64 && p+4 <= len(u):
		aoff = uint64(bo.Uint32(u[p:]))
	default:
		return false, errors.New("truncated unit header")
	}
	if aoff >= uint64(len(abbrev)) {
		return false, fmt.Errorf("abbreviation offset 0x%x is past .debug_abbrev", aoff)
	}
	b := abbrev[aoff:]
	for {
		code, n := uleb(b)
		if n == 0 {
			return false, errors.New("truncated .debug_abbrev")
		}
		if code == 0 {
			return false, nil
		}
		b = b[n:]
		if _, n = uleb(b); n == 0 || n >= len(b) { // tag, then the children byte
			return false, errors.New("truncated .debug_abbrev")
		}
		b = b[n+1:]
		for {
			attr, n := uleb(b)
			if n == 0 {
				return false, errors.New("truncated .debug_abbrev")
			}
			b = b[n:]
			form, n := uleb(b)
			if n == 0 {
				return false, errors.New("truncated .debug_abbrev")
			}
			b = b[n:]
			if attr == 0 && form == 0 {
				break
			}
			if form == formRefAddr {
				return true, nil
			}
			if form == 0x21 { // DW_FORM_implicit_const: a value follows
				if _, n = uleb(b); n == 0 {
					return false, errors.New("truncated .debug_abbrev")
				}
				b = b[n:]
			}
		}
	}
}

// uleb decodes an unsigned LEB128 number, returning it and its length (0
// when b ends first).
func uleb(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		if i < 10 {
			v |= uint64(c&0x7f) << (7 * i)
		}
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}
