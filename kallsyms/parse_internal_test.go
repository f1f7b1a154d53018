package kallsyms

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
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
	if len(s) >= 32 {
		if got, want := blankIn32(s), nameEndRef(s[:32]); got != want {
			t.Fatalf("blankIn32(%q) = %d, want %d", s[:32], got, want)
		}
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

// FuzzWordAtATime checks hex8, nameEnd and blankIn32, which read eight bytes at a time,
// against their plain versions.
func FuzzWordAtATime(f *testing.F) {
	for _, s := range []string{"ffffffff81000000 T _stext", "0000000000000000 A fixed_percpu_data", "lkdtm_BUG\t[lkdtm]", "x\x00y", "\xff\x80abcdefgh"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) { checkWords(t, s) })
}

// parseWith parses data with or without fastLines.
func parseWith(data []byte, slowOnly bool) (*Table, error) {
	b := newBuilder(Options{Source: "x"}, len(data))
	b.slowOnly = slowOnly
	rest, err := b.parseLines(data)
	if err == nil {
		err = b.parseLast(rest)
	}
	if err != nil {
		return nil, err
	}
	return b.finish()
}

// checkFastLines parses data with and without fastLines and wants the same
// table, or the same error.
func checkFastLines(t *testing.T, data []byte) {
	fast, ferr := parseWith(data, false)
	slow, serr := parseWith(data, true)
	if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
		t.Fatalf("errors differ: fast %v, slow %v", ferr, serr)
	}
	if ferr != nil {
		return
	}
	if fast.Len() != slow.Len() || fast.core != slow.core || len(fast.mods) != len(slow.mods) {
		t.Fatalf("tables differ: %d and %d symbols", fast.Len(), slow.Len())
	}
	for i := range fast.Len() {
		if fast.Symbol(i) != slow.Symbol(i) {
			t.Fatalf("symbol %d: fast %+v, slow %+v", i, fast.Symbol(i), slow.Symbol(i))
		}
	}
}

// TestFastLinesRealTables: the whole real tables, and their first halves
// (cut inside a line), parse the same with and without fastLines.
func TestFastLinesRealTables(t *testing.T) {
	for _, p := range []string{
		"firecracker-6.18.44/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run2-B/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/System.map.gz",
	} {
		data := fixture.Read(t, fixture.Path(p))
		checkFastLines(t, data)
		checkFastLines(t, data[:len(data)/2])
	}
}

// FuzzFastLines checks fastLines against parseLine, starting from lines of
// the real tables (core and module lines, markers) and synthetic edge cases.
func FuzzFastLines(f *testing.F) {
	for _, p := range []string{
		"firecracker-6.18.44/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run2-B/kallsyms.txt.gz",
	} {
		data := fixture.Read(f, fixture.Path(p))
		f.Add(data[:2000])
		f.Add(data[len(data)-2000:])
	}
	for _, s := range []string{
		"ffffffff81000000 T _stext\r\nffffffff81000010 T foo\r\n",
		"ffffffffc0000000 t a\t[m]\nffffffffc0000010 t b\t[m] \nffffffffc0000020 t c\t[mm]\nffffffff81000000 T d\n",
		"ffffffff81000000 T " + strings.Repeat("x", MaxNameLen) + "\nffffffff81000000 T " + strings.Repeat("y", MaxNameLen+1) + "\n",
		"ffffffff8100000g T a\n\x10fffffff81000000 T b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastLines(t, data) })
}
