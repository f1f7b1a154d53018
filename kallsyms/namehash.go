package kallsyms

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Names are hashed and compared as four eight-byte words. A name of 8 to 32
// bytes, most symbol names, is covered by four loads whose offsets depend on
// its length (they overlap for names shorter than 32 bytes), so hashing it
// and comparing it take no branch on its length: the lengths of the names a
// tool looks up vary at random, and each such branch would mispredict.

// spread returns the offsets of the second and third of the four words that
// cover a name of n bytes, 8 <= n <= 32: the first word is at 0 and the last
// at n-8, and no gap between consecutive words is more than 8 bytes.
func spread(n int) (b, c int) {
	a := (n - 6) / 3 // (n-8)/3 rounded up
	return a, n - 8 - a
}

// hashName is a fast, deterministic hash of a symbol name. It is part of the
// index file format (the name index places names by it): changing it needs a
// new IndexVersion.
func hashName(s string) uint64 {
	n := len(s)
	p := unsafe.StringData(s)
	h := uint64(n) * hashMul
	switch {
	case n < 8:
		h ^= shortWord(s)
	case n <= 32:
		b, c := spread(n)
		h = mix4(h, word8(p, 0), word8(p, b), word8(p, c), word8(p, n-8))
	default: // 32 bytes a step, then the last 32 (overlapping the step before)
		for i := 0; n-i > 32; i += 32 {
			h = mix4(h, word8(p, i), word8(p, i+8), word8(p, i+16), word8(p, i+24))
		}
		h = mix4(h, word8(p, n-32), word8(p, n-24), word8(p, n-16), word8(p, n-8))
	}
	h ^= h >> 32
	h *= hashMul
	return h ^ h>>29
}

const (
	hashMul = 0x9E3779B97F4A7C15
	// The keys have bytes above 0x7f: no word of an ASCII name equals one,
	// so the first factor of each product in mix4 is never zero for a
	// kernel's names (a zero factor would lose the other word; crafted
	// names that do that only collide, they are still compared in full).
	hashKey0 = 0xa0761d6478bd642f
	hashKey1 = 0xe7037ed1a0b428db
	hashKey2 = 0x8ebc6af09c88c6e3
	hashKey3 = 0x589965cc75374cc3
)

// mix4 folds four words into h: two 64x64->128-bit products, each of two
// words, their halves xored.
func mix4(h, a, b, c, d uint64) uint64 {
	hi0, lo0 := bits.Mul64(a^hashKey0, b^hashKey1^h)
	hi1, lo1 := bits.Mul64(c^hashKey2, d^hashKey3^h)
	return hi0 ^ lo0 ^ bits.RotateLeft64(hi1^lo1, 31)
}

// shortWord packs a name of fewer than 8 bytes into a word, every byte of it.
func shortWord(s string) uint64 {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	switch n := len(b); {
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		return uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16
	}
	return 0
}

// sameName reports whether a equals b, which has the same length. A name of
// 8 to 32 bytes is compared as the four words that hashName reads, with one
// branch on the result.
func sameName(a, b string) bool {
	n := len(a)
	if n < 8 || n > 32 || len(b) != n {
		return a == b
	}
	x, y := unsafe.StringData(a), unsafe.StringData(b)
	bo, co := spread(n)
	d := (word8(x, 0) ^ word8(y, 0)) | (word8(x, bo) ^ word8(y, bo)) |
		(word8(x, co) ^ word8(y, co)) | (word8(x, n-8) ^ word8(y, n-8))
	return d == 0
}

// word8 returns the eight bytes at p+i as a little-endian number, without
// bounds checks: the caller knows they are there.
func word8(p *byte, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(p), i))[:])
}
