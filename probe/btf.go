package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// BTF holds the names of the functions a BTF blob describes
// (/sys/kernel/btf/vmlinux): a BPF fentry/fexit program is attached by the
// BTF id of its target, so a function without a BTF FUNC entry cannot get
// one.
type BTF struct {
	funcs map[string]int // FUNC entries per name
}

// BTF kinds (include/uapi/linux/btf.h) and the bytes each adds after the
// 12-byte struct btf_type; perMember is multiplied by vlen.
const (
	btfKindFunc = 12
	btfMaxKind  = 19 // BTF_KIND_ENUM64
	btfTypeLen  = 12
	btfHeadLen  = 24
	btfMagic    = 0xeb9f
)

var btfExtra = [btfMaxKind + 1]struct{ fixed, perMember uint64 }{
	1:  {fixed: 4},      // INT
	3:  {fixed: 12},     // ARRAY
	4:  {perMember: 12}, // STRUCT
	5:  {perMember: 12}, // UNION
	6:  {perMember: 8},  // ENUM
	13: {perMember: 8},  // FUNC_PROTO
	14: {fixed: 4},      // VAR
	15: {perMember: 12}, // DATASEC
	17: {fixed: 4},      // DECL_TAG
	19: {perMember: 12}, // ENUM64
}

// errNotBTF is returned for data that does not start with the BTF magic.
var errNotBTF = errors.New("not BTF data (no 0xeB9F magic)")

// ParseBTF reads the FUNC entries of a complete (not split) BTF blob, as
// /sys/kernel/btf/vmlinux holds it, in either byte order. Truncated or
// inconsistent data is an error.
func ParseBTF(data []byte) (*BTF, error) {
	if len(data) < btfHeadLen {
		return nil, errNotBTF
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch {
	case binary.LittleEndian.Uint16(data) == btfMagic:
	case binary.BigEndian.Uint16(data) == btfMagic:
		bo = binary.BigEndian
	default:
		return nil, errNotBTF
	}
	hdrLen := uint64(bo.Uint32(data[4:]))
	typeOff, typeLen := uint64(bo.Uint32(data[8:])), uint64(bo.Uint32(data[12:]))
	strOff, strLen := uint64(bo.Uint32(data[16:])), uint64(bo.Uint32(data[20:]))
	size := uint64(len(data))
	if hdrLen < btfHeadLen || hdrLen > size ||
		hdrLen+typeOff+typeLen > size || hdrLen+strOff+strLen > size {
		return nil, fmt.Errorf("BTF header: sections (types %d+%d, strings %d+%d after a %d-byte header) run past the %d bytes", typeOff, typeLen, strOff, strLen, hdrLen, size)
	}
	types := data[hdrLen+typeOff : hdrLen+typeOff+typeLen]
	strs := data[hdrLen+strOff : hdrLen+strOff+strLen]
	b := &BTF{funcs: make(map[string]int)}
	for off := uint64(0); off < uint64(len(types)); {
		if uint64(len(types))-off < btfTypeLen {
			return nil, fmt.Errorf("BTF types: %d stray bytes at offset %d", uint64(len(types))-off, off)
		}
		nameOff := bo.Uint32(types[off:])
		info := bo.Uint32(types[off+4:])
		kind, vlen := (info>>24)&0x1f, uint64(info&0xffff)
		if kind == 0 || kind > btfMaxKind {
			return nil, fmt.Errorf("BTF types: unknown kind %d at offset %d", kind, off)
		}
		if kind == btfKindFunc {
			name, err := btfString(strs, nameOff)
			if err != nil {
				return nil, fmt.Errorf("BTF FUNC at offset %d: %w", off, err)
			}
			b.funcs[name]++
		}
		next := off + btfTypeLen + btfExtra[kind].fixed + btfExtra[kind].perMember*vlen
		if next > uint64(len(types)) {
			return nil, fmt.Errorf("BTF types: the type at offset %d (kind %d, %d members) runs past the %d-byte type section", off, kind, vlen, len(types))
		}
		off = next
	}
	return b, nil
}

// btfString returns the NUL-terminated string at off in the string section.
func btfString(strs []byte, off uint32) (string, error) {
	if uint64(off) >= uint64(len(strs)) {
		return "", fmt.Errorf("name offset %d past the %d-byte string section", off, len(strs))
	}
	for i := int(off); i < len(strs); i++ {
		if strs[i] == 0 {
			return string(strs[off:i]), nil
		}
	}
	return "", fmt.Errorf("name at offset %d is not NUL-terminated", off)
}

// HasFunc reports whether the BTF has a FUNC entry named name.
func (b *BTF) HasFunc(name string) bool { return b.funcs[name] > 0 }

// Funcs returns the number of distinct function names with a FUNC entry.
func (b *BTF) Funcs() int { return len(b.funcs) }
