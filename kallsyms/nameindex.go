package kallsyms

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unsafe"
)

// nameIndex finds symbols by name. It is an open-addressing hash table with
// one slot per distinct name, so a lookup hashes the name, reads a few
// adjacent slots (usually one cache line) and compares the one name whose tag
// matches. It is built on the first name lookup: address-only users never pay
// for it.
//
// Each name has a home slot, (hash>>32)*homes>>32, and sits there or, when
// that was taken, in the first free slot after it (linear probing, without
// wrapping around: slots past the last home hold the overflow). Names are
// inserted in address order, so core-kernel names sit nearest their home. A
// lookup scans from the name's home to the next empty slot.
//
// A name that several symbols share (static functions of the same name in
// different files, __func__.0 in hundreds of them) has one slot, which
// points into dups, so that its copies do not lengthen the scans of every
// other name placed after them.
type nameIndex struct {
	// slots hold a value v in the low idxBits bits and, above them, the
	// low bits of the name's hash as a tag; 0 is an empty slot. v <= n is
	// the only symbol with that name, index v-1; v > n is a shared name,
	// whose symbols are listed from dups[v-n-1]. At least one empty slot
	// follows the last name.
	slots []uint32
	// dups lists the symbols of each shared name in address order, the
	// last one of each name marked with lastDup.
	dups    []uint32
	n       uint32 // symbols in the table
	homes   uint32 // number of home slots: len(slots) > homes
	idxBits uint8  // bits of a slot that hold its value
}

// nameLoad is the share of home slots that names fill, in 1/16ths. At 11/16 a
// lookup scans about three slots to find a name and six to miss one.
const nameLoad = 11

// lastDup marks the last symbol of a shared name in nameIndex.dups.
const lastDup = 1 << 31

// newNameIndex returns the empty shape of the name index of n symbols.
func newNameIndex(n int) nameIndex {
	// Values go up to n plus the length of dups, which is at most n.
	return nameIndex{n: uint32(n), homes: uint32(n*16/nameLoad + 1), idxBits: uint8(bits.Len64(2*uint64(n) + 1))}
}

// home returns the slot where the scan for a name with hash h starts.
func (x *nameIndex) home(h uint64) int {
	return int((h >> 32) * uint64(x.homes) >> 32)
}

// tag returns the tag bits of a slot for hash h, in place.
func (x *nameIndex) tag(h uint64) uint32 {
	return uint32(h) &^ x.valueMask()
}

func (x *nameIndex) valueMask() uint32 {
	return uint32(1<<x.idxBits - 1)
}

// hashName is a fast, deterministic hash of a symbol name. It is part of the
// index file format (the name index places names by it): changing it needs a new
// IndexVersion.
func hashName(s string) uint64 {
	const m = 0x9E3779B97F4A7C15
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	h := uint64(len(s)) * m
	for len(b) >= 8 { // eight bytes per step, one load each
		h = (h ^ binary.LittleEndian.Uint64(b)) * m
		h ^= h >> 29
		b = b[8:]
	}
	var v uint64 // the last 0 to 7 bytes, every one of them
	switch n := len(b); {
	case n >= 4:
		v = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		v = uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16
	}
	h = (h ^ v) * m
	h ^= h >> 32
	h *= m
	return h ^ h>>29
}

func (t *Table) index() *nameIndex {
	t.nameIndexOnce.Do(func() { t.nameIndex = t.buildNameIndex() })
	return &t.nameIndex
}

// buildNameIndex inserts the symbols in index order, each name into the
// first free slot from its home on unless a symbol of the same name is there
// already, and then turns the slots of shared names into lists.
func (t *Table) buildNameIndex() nameIndex {
	n := t.Len()
	x := newNameIndex(n)
	x.slots = make([]uint32, x.homes+1, x.homes+64) // room for a cluster past the last home
	before := make([]uint32, n)                     // per symbol, the one before it of its name, +1
	var shared []int                                // slots of names that several symbols have
	for i := range n {
		name := t.Name(i)
		if p := t.insertName(&x, i, name, hashName(name), before); p >= 0 {
			shared = append(shared, p)
		}
	}
	for _, p := range shared {
		x.listShared(p, before)
	}
	return x
}

// insertName puts symbol i, named name with hash h, into the first free slot
// from its home on, or into the slot of the same name if one is on the way,
// linking it in before to the symbol it replaces there. It returns that slot
// if the name was not shared before, or -1.
func (t *Table) insertName(x *nameIndex, i int, name string, h uint64, before []uint32) int {
	tag, mask, p := x.tag(h), x.valueMask(), x.home(h)
	found := -1
	for ; x.slots[p] != 0; p++ {
		e := x.slots[p]
		if last := e & mask; e&^mask == tag && t.Name(int(last-1)) == name {
			if before[last-1] == 0 {
				found = p
			}
			before[i] = last
			break
		}
	}
	x.slots[p] = tag | uint32(i+1)
	if p+1 == len(x.slots) {
		x.slots = append(x.slots, 0) // keep an empty slot at the end
	}
	return found
}

// listShared appends the symbols of the shared name in slot p to dups, in
// index order, and points the slot at them. The slot holds the last symbol,
// before links each to the one before it.
func (x *nameIndex) listShared(p int, before []uint32) {
	mask := x.valueMask()
	first := len(x.dups)
	for v := x.slots[p] & mask; v != 0; v = before[v-1] {
		x.dups = append(x.dups, v-1)
	}
	slices.Reverse(x.dups[first:])
	x.dups[len(x.dups)-1] |= lastDup
	x.slots[p] = x.slots[p]&^mask | (x.n + 1 + uint32(first))
}

// AppendFind appends to dst the indices of every symbol named name, in
// address order. It does not allocate when dst has room.
func (t *Table) AppendFind(dst []int, name string) []int {
	x := t.index()
	h := hashName(name)
	tag, mask := x.tag(h), x.valueMask()
	for p := x.home(h); p < len(x.slots); p++ {
		e := x.slots[p]
		if e == 0 {
			break
		}
		if e&^mask != tag {
			continue
		}
		v := e & mask
		if v <= x.n {
			if t.named(v-1, name) {
				return append(dst, int(v-1))
			}
			continue
		}
		if t.named(x.dups[v-x.n-1], name) {
			return x.appendShared(dst, v)
		}
	}
	return dst
}

// named reports whether symbol i is named name: Name(i) == name, lengths
// compared before bytes.
func (t *Table) named(i uint32, name string) bool {
	start, end := t.nameOff.span(i)
	return end-start == len(name) && t.names[start:end] == name
}

// appendShared appends the symbols of the shared name whose slot value is v.
func (x *nameIndex) appendShared(dst []int, v uint32) []int {
	for _, i := range x.dups[v-x.n-1:] {
		dst = append(dst, int(i&^lastDup))
		if i&lastDup != 0 {
			break
		}
	}
	return dst
}
