package kallsyms

import (
	"encoding/binary"
	"strconv"
	"testing"
)

// hex8Ref is hex8 written plainly, a digit at a time.
func hex8Ref(s []byte) (uint32, bool) {
	v, err := strconv.ParseUint(string(s), 16, 32)
	return uint32(v), err == nil && len(s) == 8 && s[0] != '+' && s[0] != '-'
}

// nameEndRef is nameEnd written plainly, a byte at a time.
func nameEndRef(s []byte) int {
	for i, c := range s {
		if c < 0x21 {
			return i
		}
	}
	return len(s)
}

// checkWords compares the word-at-a-time helpers with their plain versions
// on s.
func checkWords(t *testing.T, s []byte) {
	if got, want := nameEnd(s), nameEndRef(s); got != want {
		t.Fatalf("nameEnd(%q) = %d, want %d", s, got, want)
	}
	if len(s) >= 8 {
		got, ok := hex8(binary.BigEndian.Uint64(s))
		want, wok := hex8Ref(s[:8])
		if ok != wok || ok && got != want {
			t.Fatalf("hex8(%q) = %#x, %v; want %#x, %v", s[:8], got, ok, want, wok)
		}
	}
}

// TestHex8EveryByte puts every byte value at every place of a valid address
// half, so that each digit class and each boundary around them ('/', ':',
// '@', 'G', '`', 'g', bytes >= 0x80) is met in every lane.
func TestHex8EveryByte(t *testing.T) {
	for _, base := range []string{"ffffffff", "81000000", "0aB3c4D9"} {
		for i := range 8 {
			for c := range 256 {
				s := []byte(base)
				s[i] = byte(c)
				checkWords(t, s)
			}
		}
	}
}

// FuzzWordAtATime checks hex8 and nameEnd, which read eight bytes at a time,
// against their plain versions.
func FuzzWordAtATime(f *testing.F) {
	for _, s := range []string{"ffffffff81000000 T _stext", "0000000000000000 A fixed_percpu_data", "lkdtm_BUG\t[lkdtm]", "x\x00y", "\xff\x80abcdefgh"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) { checkWords(t, s) })
}
