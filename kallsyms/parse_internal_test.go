package kallsyms

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
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
	for _, s := range []string{"fffffffg", "8100 000", "0123abc:", "DEAD@eef", "/0000000", "G0000000", "`0000000",
		"0000000\xb9", "\xe6fffffff"[:8], "\x80\x80\x80\x80\x80\x80\x80\x80", "0000\xc1000"} {
		if _, ok := hex8(binary.BigEndian.Uint64([]byte(s))); ok {
			t.Errorf("%s accepted", s)
		}
	}
}

// FuzzParseParallel: parsing an input in parts (as ParseBytes does for large
// inputs, one part per CPU) gives the same table, or the same error, as
// parsing it whole. Each part gets a region of one shared name arena sized
// for the common line shape; the seeds include lines that overflow it
// (short addresses after a long one, module suffixes, blank lines, CRLF).
func FuzzParseParallel(f *testing.F) {
	f.Add([]byte("ffffffff81000000 T _text\nffffffff81000000 T _stext\nffffffff81000010 t a\nffffffff81000020 t b\n"), uint8(2))
	f.Add([]byte("0000000000035000 A fixed\nffffffff81000000 T _stext\nffffffff81000100 t x\nffffffffc0002000 t m2\t[mod]\n"+
		"ffffffffc0001000 t m1\t[mod]\n0000000000035000 a per_cpu_var\t[mod]\nffffffffc0003000 t n1\t[other]\n"), uint8(3))
	f.Add([]byte("ffffffff81000000 T _stext\n81000010 t short\n81000020 t shorter\nffffffff81000030 T long_name_here\n"), uint8(2))
	f.Add([]byte("ffffffff81000000 T a\r\n\nffffffff81000010 T b\r\n\n\nffffffff81000020 T c"), uint8(4))
	f.Add([]byte("ffffffffc0000000 t z\t[m]\nffffffffc0000010 t y\t[m]\nffffffff81000000 T _stext\nffffffff81000010 T w\n"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		whole, err := parseWhole(data)
		parts := splitParts(data, int(k%6)+1)
		split, errSplit := parseParallel(data, parts, Options{})
		if (err == nil) != (errSplit == nil) {
			t.Fatalf("whole: %v; in %d parts: %v", err, len(parts), errSplit)
		}
		if err != nil {
			if err.Error() != errSplit.Error() {
				t.Fatalf("whole: %v; in %d parts: %v", err, len(parts), errSplit)
			}
			return
		}
		if whole.Len() != split.Len() {
			t.Fatalf("Len %d, in %d parts %d", whole.Len(), len(parts), split.Len())
		}
		for i := range whole.Len() {
			if a, b := whole.Symbol(i), split.Symbol(i); a != b {
				t.Fatalf("symbol %d: whole %+v, in %d parts %+v", i, a, len(parts), b)
			}
		}
	})
}

// parseWhole parses data with one builder, whatever its size.
func parseWhole(data []byte) (*Table, error) {
	b := newBuilder(Options{}, bytes.Count(data, []byte{'\n'})+1, len(data), addrDigits(data))
	if err := b.parseAll(data); err != nil {
		return nil, err
	}
	return b.finish()
}

// TestSortedAcrossParts: a table printed in address order, parsed in any
// number of parts, is known to be sorted when the parts are joined, so
// finishing it sorts nothing; a table with modules is known to be sorted up
// to its first module line out of order. Real tables; the expected prefix is
// computed here by a plain scan.
func TestSortedAcrossParts(t *testing.T) {
	for _, path := range []string{"../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz",
		"../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz"} {
		data := fixture.Read(t, path)
		ref := newBuilder(Options{}, bytes.Count(data, []byte{'\n'})+1, len(data), addrDigits(data))
		if err := ref.parseAll(data); err != nil {
			t.Fatal(err)
		}
		want := 1
		for want < len(ref.addrs) && ref.addrs[want-1] <= ref.addrs[want] {
			want++
		}
		for k := 1; k <= 5; k++ {
			b, err := parseParts(data, splitParts(data, k), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if b.sorted != want || ref.sorted != want {
				t.Errorf("%s in %d parts: sorted prefix %d (one builder: %d), want %d", path, k, b.sorted, ref.sorted, want)
			}
			if b.nonZero == 0 {
				t.Errorf("%s in %d parts: addresses taken for all zero", path, k)
			}
		}
	}
}

// TestStreamedTableTrimmed: Parse sizes its columns for a large kernel
// before it knows the input's size; a small table streamed through it keeps
// columns no bigger than allocations of their exact size. The first 5,000
// lines of a real table.
func TestStreamedTableTrimmed(t *testing.T) {
	data := fixture.Read(t, "../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz")
	for range 5000 {
		data = data[bytes.IndexByte(data, '\n')+1:]
	}
	small := fixture.Read(t, "../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz")
	small = small[:len(small)-len(data)]
	tab, err := Parse(bytes.NewReader(small), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := tab.Len()
	if n != 5000 {
		t.Fatalf("Len = %d, want 5000", n)
	}
	// An allocation of exactly n rounds up to the allocator's size class.
	if c, exact := cap(tab.types), cap(slices.Clone(make([]byte, n))); c > exact {
		t.Errorf("types keep %d bytes for %d symbols (an exact allocation: %d)", c, n, exact)
	}
	if c, exact := cap(tab.nameOff.rel), cap(slices.Clone(make([]uint16, n+1))); c > exact {
		t.Errorf("name starts keep %d entries for %d symbols (an exact allocation: %d)", c, n, exact)
	}
	b := len(tab.addrs.buckets.rel)
	if c, exact := cap(tab.addrs.buckets.rel), cap(slices.Clone(make([]uint16, b))); c > exact {
		t.Errorf("address buckets keep %d entries for %d (an exact allocation: %d)", c, b, exact)
	}
}
