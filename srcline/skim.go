package srcline

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
)

// The standard decoder builds an Entry, with every attribute decoded, for
// each entry it reads. Indexing a unit's functions that way decodes every
// type, variable and declaration at the top of the unit. skimFunctions
// reads the same entries without decoding what it does not need: it only
// sizes most attributes, and reads a subprogram's DW_AT_low_pc and
// DW_AT_high_pc (a subprogram with DW_AT_ranges, a function split into hot
// and cold parts, is handed back for the standard decoder to read).

// errSkim makes the caller fall back on the standard decoder.
var errSkim = errors.New("skim: unsupported")

// DWARF constants skimFunctions needs.
const (
	tagSubprogram = 0x2e
	atSibling     = 0x01
	atLowpc       = 0x11
	atHighpc      = 0x12
	atRanges      = 0x55
	atAddrBase    = 0x73
)

// abbrev is one abbreviation: a tag, whether entries have children, and
// their attributes.
type abbrev struct {
	tag      uint64
	children bool
	attrs    []attrForm
}

type attrForm struct {
	attr, form uint64
	implicit   int64
}

// skimmer reads the entries of one unit.
type skimmer struct {
	b        []byte // the unit, from its header
	bo       binary.ByteOrder
	vers     int
	is64     bool
	asize    int
	abbrevs  map[uint64]abbrev
	addr     []byte // .debug_addr
	addrBase uint64
}

// skimFunctions returns the ranges of the unit's top-level subprograms
// given by DW_AT_low_pc/DW_AT_high_pc, and the offsets (relative to the
// unit's header) of those given by DW_AT_ranges.
func (o *object) skimFunctions(off uint64) ([]funcRange, []dwarf.Offset, error) {
	info := o.secs[".debug_info"]
	end, err := unitEnd(info, off, o.ef.ByteOrder)
	if err != nil {
		return nil, nil, err
	}
	s := &skimmer{b: info[off:end], bo: o.ef.ByteOrder, addr: o.secs[".debug_addr"]}
	p, aoff, err := s.header()
	if err != nil {
		return nil, nil, err
	}
	if s.abbrevs, err = parseAbbrevs(o.secs[".debug_abbrev"], aoff); err != nil {
		return nil, nil, err
	}
	// The unit's own entry: its DW_AT_addr_base.
	root, p, err := s.entry(p, nil)
	if err != nil || !root.children {
		return nil, nil, err
	}
	var funcs []funcRange
	var ranged []dwarf.Offset
	for p < len(s.b) {
		start := p
		var e skimmed
		e, p, err = s.entry(p, &e)
		if err != nil {
			return nil, nil, err
		}
		if e.null {
			break // the end of the unit's children
		}
		if e.tag == tagSubprogram {
			switch {
			case e.hasRanges:
				ranged = append(ranged, dwarf.Offset(start))
			case e.hasLow && e.hasHigh:
				hi := e.high
				if !e.highIsAddr {
					hi = e.low + e.high
				}
				if hi > e.low {
					funcs = append(funcs, funcRange{e.low, hi, dwarf.Offset(start)})
				}
			}
		}
		if e.children {
			if p, err = s.skipChildren(p, e); err != nil {
				return nil, nil, err
			}
		}
	}
	return funcs, ranged, nil
}

// header reads the unit header and returns where its first entry starts
// and its abbreviation table's offset.
func (s *skimmer) header() (int, uint64, error) {
	b, bo := s.b, s.bo
	p := 4
	if bo.Uint32(b) == 0xffffffff {
		s.is64, p = true, 12
	}
	if p+2 > len(b) {
		return 0, 0, errSkim
	}
	s.vers = int(bo.Uint16(b[p:]))
	p += 2
	if s.vers >= 5 {
		if p+2 > len(b) {
			return 0, 0, errSkim
		}
		if b[p] != 0x01 && b[p] != 0x03 { // DW_UT_compile, DW_UT_partial
			return 0, 0, errSkim
		}
		s.asize = int(b[p+1])
		p += 2
	}
	var aoff uint64
	if s.is64 {
		if p+8 > len(b) {
			return 0, 0, errSkim
		}
		aoff, p = bo.Uint64(b[p:]), p+8
	} else {
		if p+4 > len(b) {
			return 0, 0, errSkim
		}
		aoff, p = uint64(bo.Uint32(b[p:])), p+4
	}
	if s.vers < 5 {
		if p >= len(b) {
			return 0, 0, errSkim
		}
		s.asize, p = int(b[p]), p+1
	}
	if s.vers < 2 || s.vers > 5 || s.asize != 4 && s.asize != 8 {
		return 0, 0, errSkim
	}
	return p, aoff, nil
}

// parseAbbrevs reads the abbreviation table at off.
func parseAbbrevs(b []byte, off uint64) (map[uint64]abbrev, error) {
	if off >= uint64(len(b)) {
		return nil, errSkim
	}
	b = b[off:]
	m := map[uint64]abbrev{}
	for {
		code, n := uleb(b)
		if n == 0 {
			return nil, errSkim
		}
		b = b[n:]
		if code == 0 {
			return m, nil
		}
		tag, n := uleb(b)
		if n == 0 || n >= len(b) {
			return nil, errSkim
		}
		a := abbrev{tag: tag, children: b[n] != 0}
		b = b[n+1:]
		for {
			attr, n1 := uleb(b)
			if n1 == 0 {
				return nil, errSkim
			}
			form, n2 := uleb(b[n1:])
			if n2 == 0 {
				return nil, errSkim
			}
			b = b[n1+n2:]
			if attr == 0 && form == 0 {
				break
			}
			f := attrForm{attr: attr, form: form}
			if form == 0x21 { // DW_FORM_implicit_const
				v, n := sleb(b)
				if n == 0 {
					return nil, errSkim
				}
				f.implicit, b = v, b[n:]
			}
			a.attrs = append(a.attrs, f)
		}
		m[code] = a
	}
}

// skimmed is what skimFunctions keeps of an entry.
type skimmed struct {
	null, children  bool
	tag             uint64
	low, high       uint64
	hasLow, hasHigh bool
	highIsAddr      bool
	hasRanges       bool
	sibling         uint64
	hasSibling      bool
}

// entry reads the entry at p, returning it and where the next one starts.
// With keep nil only DW_AT_addr_base is kept (the unit's own entry).
func (s *skimmer) entry(p int, keep *skimmed) (skimmed, int, error) {
	var e skimmed
	code, n := uleb(s.b[p:])
	if n == 0 {
		return e, 0, errSkim
	}
	p += n
	if code == 0 {
		e.null = true
		return e, p, nil
	}
	a, ok := s.abbrevs[code]
	if !ok {
		return e, 0, fmt.Errorf("%w: abbreviation %d", errSkim, code)
	}
	e.tag, e.children = a.tag, a.children
	want := keep == nil || a.tag == tagSubprogram
	for _, f := range a.attrs {
		v, next, err := s.value(p, f)
		if err != nil {
			return e, 0, err
		}
		if f.attr == atSibling && f.form >= 0x11 && f.form <= 0x15 { // unit-relative
			e.sibling, e.hasSibling = v, true
		}
		if want {
			s.keep(&e, f, v)
		}
		p = next
	}
	return e, p, nil
}

// keep records the attributes skimFunctions needs.
func (s *skimmer) keep(e *skimmed, f attrForm, v uint64) {
	switch f.attr {
	case atAddrBase:
		s.addrBase = v
	case atLowpc:
		e.low, e.hasLow = s.address(f.form, v)
	case atHighpc:
		if isAddrForm(f.form) {
			e.high, e.hasHigh = s.address(f.form, v)
			e.highIsAddr = true
		} else {
			e.high, e.hasHigh = v, true
		}
	case atRanges:
		e.hasRanges = true
	}
}

func isAddrForm(form uint64) bool {
	return form == 0x01 || form == 0x1b || form >= 0x29 && form <= 0x2c || form == 0x1f01
}

// address resolves an address attribute: DW_FORM_addr is the address,
// DW_FORM_addrx* an index into .debug_addr from DW_AT_addr_base.
func (s *skimmer) address(form, v uint64) (uint64, bool) {
	if form == 0x01 {
		return v, true
	}
	if !isAddrForm(form) {
		return 0, false
	}
	p := s.addrBase + v*uint64(s.asize)
	if p+uint64(s.asize) > uint64(len(s.addr)) || p < s.addrBase {
		return 0, false
	}
	return readAddr(s.addr[p:], s.asize, s.bo), true
}

// skipChildren skips the children of e, which start at p: to its
// DW_AT_sibling when it has one, else entry by entry.
func (s *skimmer) skipChildren(p int, e skimmed) (int, error) {
	if e.hasSibling && e.sibling > uint64(p) && e.sibling <= uint64(len(s.b)) {
		return int(e.sibling), nil
	}
	for depth := 1; depth > 0; {
		var c skimmed
		var err error
		c, p, err = s.entry(p, &c)
		if err != nil {
			return 0, err
		}
		switch {
		case c.null:
			depth--
		case c.children:
			if c.hasSibling && c.sibling > uint64(p) && c.sibling <= uint64(len(s.b)) {
				p = int(c.sibling)
			} else {
				depth++
			}
		}
		if p >= len(s.b) && depth > 0 {
			return 0, errSkim
		}
	}
	return p, nil
}

// value reads the value of an attribute of form f.form at p: the value
// for constants, addresses, indices and references (relative to the unit),
// 0 for strings and blocks, which are only skipped.
func (s *skimmer) value(p int, f attrForm) (uint64, int, error) {
	b := s.b
	off := 4
	if s.is64 {
		off = 8
	}
	fixed := func(n int) (uint64, int, error) {
		if p+n > len(b) {
			return 0, 0, errSkim
		}
		switch n {
		case 1:
			return uint64(b[p]), p + 1, nil
		case 2:
			return uint64(s.bo.Uint16(b[p:])), p + 2, nil
		case 3:
			return uint64(b[p]) | uint64(b[p+1])<<8 | uint64(b[p+2])<<16, p + 3, nil
		case 4:
			return uint64(s.bo.Uint32(b[p:])), p + 4, nil
		case 8:
			return s.bo.Uint64(b[p:]), p + 8, nil
		}
		return 0, p + n, nil
	}
	varint := func() (uint64, int, error) {
		v, n := uleb(b[p:])
		if n == 0 {
			return 0, 0, errSkim
		}
		return v, p + n, nil
	}
	block := func(n uint64, q int) (uint64, int, error) {
		if n > uint64(len(b)-q) {
			return 0, 0, errSkim
		}
		return 0, q + int(n), nil
	}
	switch f.form {
	case 0x01: // addr
		return fixed(s.asize)
	case 0x03: // block2
		n, q, err := fixed(2)
		if err != nil {
			return 0, 0, err
		}
		return block(n, q)
	case 0x04: // block4
		n, q, err := fixed(4)
		if err != nil {
			return 0, 0, err
		}
		return block(n, q)
	case 0x05, 0x12: // data2, ref2
		return fixed(2)
	case 0x06, 0x13, 0x1c, 0x28, 0x2c: // data4, ref4, ref_sup4, strx4, addrx4
		return fixed(4)
	case 0x07, 0x14, 0x20, 0x24: // data8, ref8, ref_sig8, ref_sup8
		return fixed(8)
	case 0x08: // string
		for q := p; q < len(b); q++ {
			if b[q] == 0 {
				return 0, q + 1, nil
			}
		}
		return 0, 0, errSkim
	case 0x09, 0x18: // block, exprloc
		n, q, err := varint()
		if err != nil {
			return 0, 0, err
		}
		return block(n, q)
	case 0x0a: // block1
		n, q, err := fixed(1)
		if err != nil {
			return 0, 0, err
		}
		return block(n, q)
	case 0x0b, 0x0c, 0x11, 0x25, 0x29: // data1, flag, ref1, strx1, addrx1
		return fixed(1)
	case 0x26, 0x2a: // strx2, addrx2
		return fixed(2)
	case 0x27, 0x2b: // strx3, addrx3
		return fixed(3)
	case 0x0d: // sdata
		v, n := sleb(b[p:])
		if n == 0 {
			return 0, 0, errSkim
		}
		return uint64(v), p + n, nil
	case 0x0f, 0x15, 0x1a, 0x1b, 0x22, 0x23, 0x1f01, 0x1f02: // udata, ref_udata, strx, addrx, loclistx, rnglistx, GNU indices
		return varint()
	case 0x0e, 0x17, 0x1d, 0x1f, 0x1f20, 0x1f21: // strp, sec_offset, strp_sup, line_strp, GNU alt
		return fixed(off)
	case 0x10: // ref_addr
		if s.vers == 2 {
			return fixed(s.asize)
		}
		return fixed(off)
	case 0x19: // flag_present
		return 1, p, nil
	case 0x1e: // data16
		return block(16, p)
	case 0x21: // implicit_const
		return uint64(f.implicit), p, nil
	case 0x16: // indirect
		form, q, err := varint()
		if err != nil {
			return 0, 0, err
		}
		return s.value(q, attrForm{attr: f.attr, form: form})
	}
	return 0, 0, fmt.Errorf("%w: form %#x", errSkim, f.form)
}

// sleb decodes a signed LEB128 number, returning it and its length (0
// when b ends first).
func sleb(b []byte) (int64, int) {
	var v int64
	var shift uint
	for i, c := range b {
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1
		}
	}
	return 0, 0
}
