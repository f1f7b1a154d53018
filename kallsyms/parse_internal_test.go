package kallsyms

import (
	"encoding/binary"
	"strconv"
	"testing"
)

// TestHex8 checks the eight-digits-at-once decoder against strconv, and that
// it rejects every byte that is not a hex digit (synthetic: the real tables
// hold only valid digits).
func TestHex8(t *testing.T) {
	for _, s := range []string{"ffffffff", "81000000", "0123abcd", "DEADbeef", "00000000", "c09e64a0"} {
		got, ok := hex8(binary.BigEndian.Uint64([]byte(s)))
		want, _ := strconv.ParseUint(s, 16, 32)
		if !ok || uint64(got) != want {
			t.Errorf("%s: got %x %v", s, got, ok)
		}
	}
	for _, s := range []string{"fffffffg", "8100 000", "0123abc:", "DEAD@eef", "/0000000", "G0000000", "`0000000"} {
		if _, ok := hex8(binary.BigEndian.Uint64([]byte(s))); ok {
			t.Errorf("%s accepted", s)
		}
	}
}
