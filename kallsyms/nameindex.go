package kallsyms

// nameIndex finds symbols by name: a hash table with open addressing
// (linear probing), one slot per symbol. A slot holds a symbol's index plus
// one; 0 is empty. At most half the slots are full, so a scan ends soon at an
// empty one.
//
// Symbols are inserted in index order, so the symbols of one name lie along
// its scan in address order, and a lookup collects them by scanning from the
// name's home slot to the next empty slot. It is built on the first name
// lookup: address-only users never pay for it.
type nameIndex struct {
	slots []uint32 // a power of two long
}

// newNameIndex returns an empty index with room for n symbols.
func newNameIndex(n int) nameIndex {
	size := 1
	for size < 2*n+1 {
		size <<= 1
	}
	return nameIndex{slots: make([]uint32, size)}
}

// hashName is the 64-bit FNV-1a hash of a name. It is part of the index file
// format, which stores the slots.
func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h ^ h>>32
}

// index returns the name index, built on the first call.
func (t *Table) index() *nameIndex {
	t.nameIndexOnce.Do(func() {
		if t.nameIndex.slots == nil {
			t.nameIndex = t.buildNameIndex()
		}
	})
	return &t.nameIndex
}

// buildNameIndex inserts every symbol, in index order.
func (t *Table) buildNameIndex() nameIndex {
	x := newNameIndex(t.Len())
	mask := uint64(len(x.slots) - 1)
	for i := range t.Len() {
		p := hashName(t.Name(i)) & mask
		for x.slots[p] != 0 {
			p = (p + 1) & mask
		}
		x.slots[p] = uint32(i + 1)
	}
	return x
}

// AppendFind appends to dst the indices of every symbol named name, in
// address order. It does not allocate when dst has room.
func (t *Table) AppendFind(dst []int, name string) []int {
	x := t.index()
	mask := uint64(len(x.slots) - 1)
	for p := hashName(name) & mask; x.slots[p] != 0; p = (p + 1) & mask {
		if i := int(x.slots[p] - 1); t.Name(i) == name {
			dst = append(dst, i)
		}
	}
	return dst
}
