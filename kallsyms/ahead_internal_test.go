package kallsyms

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// streamAhead parses data as Parse streams it, in chunks of the given size,
// computing the offsets ahead after each, then sorts as finish does.
func streamAhead(tb testing.TB, data []byte, chunk int) *builder {
	b := newBuilder(Options{}, 1<<17, 4<<20, 16)
	b.ahead.start(1 << 17)
	var carry []byte
	for len(data) > 0 {
		n := min(chunk, len(data))
		rest, err := b.parseLines(append(carry, data[:n]...), false)
		if err != nil {
			tb.Fatal(err)
		}
		b.ahead.extend(b.addrs, b.sorted)
		carry, data = slices.Clone(rest), data[n:]
	}
	if err := b.parseAll(carry); err != nil {
		tb.Fatal(err)
	}
	b.ahead.extend(b.addrs, b.sorted)
	if b.nonZero != 0 {
		b.sortByAddress()
	}
	return b
}

// TestOffsetsAhead: the address column built from offsets computed while
// streaming is the one newAddrColumn builds from the finished addresses, and
// it is used for every real table in address order. The synthetic tables
// are the shapes where the guess of the column's base is wrong, which real
// tables do not have.
func TestOffsetsAhead(t *testing.T) {
	lines := func(addrs ...uint64) []byte {
		var b bytes.Buffer
		for i, a := range addrs {
			fmt.Fprintf(&b, "%016x t s%d\n", a, i)
		}
		return b.Bytes()
	}
	const kernel, modules = 0xffffffff81000000, 0xffffffffc0000000
	tests := []struct {
		name string
		data []byte
		used bool
	}{
		{"firecracker 6.18", fixture.Read(t, fixture.Path("firecracker-6.18.44/kallsyms.txt.gz")), true},
		{"System.map", fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/System.map.gz")), true},
		{"Debian, modules unsorted", fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz")), false},
		{"Debian as printed to a user", fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms-nonroot-head.txt")), false},
		{"per-CPU, kernel and modules", lines(0, 0x1000, kernel, kernel+0x10, kernel+0x20, kernel+0x30, kernel+0x40, kernel+0x50,
			kernel+0x60, kernel+0x70, kernel+0x80, kernel+0x90, kernel+2<<20, kernel+2<<20+8, modules, modules+0x40), true},
		{"32-bit", lines(0xc1000000, 0xc1000010, 0xc8000000), false},
		{"above 4 GiB but far below the kernel", lines(0, 1<<32, kernel, kernel+0x10, modules), false},
		{"mostly small offsets", lines(0, 1, 2, 3, 4, 5, 6, 7, 8, kernel), false},
		{"unsorted at the end", lines(0, kernel, kernel+0x10, modules+0x40, modules), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunk := range []int{100, 4096, 128 << 10} {
				b := streamAhead(t, tt.data, chunk)
				var sp tailSpares
				sp.reserve(1 << 17)
				got, used := b.ahead.column(b.addrs, &sp)
				if used != tt.used {
					t.Fatalf("chunks of %d: column used %v, want %v", chunk, used, tt.used)
				}
				if !used {
					continue
				}
				want := newAddrColumn(b.addrs, nil)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("chunks of %d: column differs from newAddrColumn's", chunk)
				}
				if pad := got.off[len(got.off) : len(got.off)+scanWindow]; !slices.Equal(pad, want.off[len(want.off):len(want.off)+scanWindow]) {
					t.Fatalf("chunks of %d: padding %x", chunk, pad)
				}
			}
		})
	}
}

// TestStreamedSortedTable: a sorted real table streamed (its address column
// computed while reading) answers every lookup as the same table in memory.
func TestStreamedSortedTable(t *testing.T) {
	data := fixture.Read(t, fixture.Path("firecracker-6.18.44/kallsyms.txt.gz"))
	streamed, err := Parse(struct{ io.Reader }{bytes.NewReader(data)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := ParseBytes(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(streamed.addrs, whole.addrs) {
		t.Fatal("address columns differ")
	}
	if !reflect.DeepEqual(streamed.nameOff, whole.nameOff) {
		t.Fatal("name starts differ")
	}
	// The packed arrays are the spares allocated while reading (their sizes).
	if c := cap(streamed.nameOff.rel); c != 1<<17+1 {
		t.Errorf("name starts in an array of %d, not the spare one", c)
	}
	if c := cap(streamed.addrs.buckets.rel); c != 1<<16+128 {
		t.Errorf("address buckets in an array of %d, not the spare one", c)
	}
	for _, a := range probeAddrs(whole) {
		l1, err1 := streamed.Lookup(a)
		l2, err2 := whole.Lookup(a)
		if l1 != l2 || err1 != err2 {
			t.Fatalf("Lookup(%#x): streamed %+v, %v; in memory %+v, %v", a, l1, err1, l2, err2)
		}
	}
}
