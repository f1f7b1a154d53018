package kallsyms

import (
	"math/bits"
	"slices"
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

// index returns the name index, built on the first call. Its fast path is
// one atomic load, inlined into the lookups.
func (t *Table) index() *nameIndex {
	if x := t.nameIndexReady.Load(); x != nil {
		return x
	}
	return t.indexOnce()
}

// indexOnce builds the name index unless it is built or being built, and
// waits for it.
func (t *Table) indexOnce() *nameIndex {
	t.nameIndexOnce.Do(func() { t.setNameIndex(t.buildNameIndex()) })
	return &t.nameIndex
}

// setNameIndex installs x as the name index; only nameIndexOnce calls it.
func (t *Table) setNameIndex(x nameIndex) {
	t.nameIndex = x
	t.nameIndexReady.Store(&t.nameIndex)
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
	return t.appendFind(dst, name, hashName(name))
}

// appendFind is AppendFind for a name whose hash is h.
func (t *Table) appendFind(dst []int, name string, h uint64) []int {
	x := t.index()
	tag, mask, home := x.tag(h), x.valueMask(), x.home(h)
	// Most names sit in one of the four slots from their home (91% of the
	// 6.18 table's): take the first of them with the name's tag without a
	// branch, whose outcome would be a coin toss. Only the slot of a name
	// holds that name, wherever a scan finds it.
	if s := x.slots[home:]; len(s) >= 4 {
		match := b2u(s[0]&^mask == tag) | b2u(s[1]&^mask == tag)<<1 |
			b2u(s[2]&^mask == tag)<<2 | b2u(s[3]&^mask == tag)<<3
		e := s[bits.TrailingZeros32(match|1<<3)]
		if v := e & mask; e&^mask == tag && v != 0 && t.named(x.first(v), name) {
			return x.appendSlot(dst, v)
		}
	}
	for _, e := range x.slots[home:] { // the rest of the way: a tag collision, or farther away
		if e == 0 {
			break
		}
		if v := e & mask; e&^mask == tag && t.named(x.first(v), name) {
			return x.appendSlot(dst, v)
		}
	}
	return dst
}

// first returns the first symbol of the name whose slot value is v.
func (x *nameIndex) first(v uint32) uint32 {
	if v <= x.n {
		return v - 1
	}
	return x.dups[v-x.n-1]
}

// appendSlot appends the symbols of the name whose slot value is v.
func (x *nameIndex) appendSlot(dst []int, v uint32) []int {
	if v <= x.n {
		return append(dst, int(v-1))
	}
	return x.appendShared(dst, v)
}

// named reports whether symbol i is named name: Name(i) == name, lengths
// compared before bytes.
func (t *Table) named(i uint32, name string) bool {
	start, end := t.nameOff.span(i)
	return end-start == len(name) && sameName(t.names[start:end], name)
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
