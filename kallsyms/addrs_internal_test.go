package kallsyms

import (
	"reflect"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// TestColumnHalves: an address column whose offsets two goroutines compute,
// half each, in either order (as finish does), is the column computed in one
// pass, and its segments start at every large gap, wherever the gap falls
// relative to the halves. The synthetic tables put a gap right at the
// boundary of the halves and just after it, which real tables do by chance
// only.
func TestColumnHalves(t *testing.T) {
	const kernel, modules = 0xffffffff81000000, 0xffffffffc0000000
	seq := func(base uint64, n int) []uint64 {
		out := make([]uint64, n)
		for i := range out {
			out[i] = base + uint64(i)*0x40
		}
		return out
	}
	cat := func(parts ...[]uint64) (out []uint64) {
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []uint64
	}{
		{"firecracker 6.18", tableAddrs(t, "firecracker-6.18.44/kallsyms.txt.gz")},
		{"Debian, with modules", tableAddrs(t, "debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz")},
		{"gap at the halves' boundary", cat(seq(kernel, 50), seq(modules, 50))},
		{"gap one after the boundary", cat(seq(kernel, 51), seq(modules, 49))},
		{"gap one before the boundary", cat(seq(kernel, 49), seq(modules, 51))},
		{"per-CPU offsets below", cat([]uint64{0, 0x1000}, seq(kernel, 40), seq(kernel+3<<20, 10), seq(modules, 50))},
		{"one symbol", []uint64{kernel}},
		{"wide", cat(seq(0, 50), seq(kernel, 50))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole := newAddrColumn(tt.sorted, nil)
			for _, order := range [][]int{{0, 1}, {1, 0}} {
				var cb columnBuild
				cb.start(tt.sorted, nil)
				for _, h := range order {
					cb.offsets(h, 2)
				}
				if got := cb.index(nil); !reflect.DeepEqual(got, whole) {
					t.Fatalf("halves in order %v: column differs from the one-pass column", order)
				}
			}
			if whole.wide != nil {
				return
			}
			var want []uint32 // offsets where a segment starts: the first, and after each large gap
			low := len(whole.low)
			for i := low; i < len(tt.sorted); i++ {
				if i == low || tt.sorted[i]-tt.sorted[i-1] >= segmentGap {
					want = append(want, uint32(i-low))
				}
			}
			var got []uint32
			for _, s := range whole.segs {
				got = append(got, s.first)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("segments start at %v, want %v", got, want)
			}
		})
	}
}

// newAddrColumn builds the column of sorted in one pass, offsets in buf's
// array if that has room and not much more (buf may be nil).
func newAddrColumn(sorted []uint64, buf []uint32) addrColumn {
	var cb columnBuild
	return cb.whole(sorted, buf, nil)
}

// tableAddrs returns the sorted addresses of a fixture table.
func tableAddrs(t *testing.T, rel string) []uint64 {
	t.Helper()
	tab, err := ParseBytes(fixture.Read(t, fixture.Path(rel)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint64, tab.Len())
	for i := range out {
		out[i] = tab.Addr(i)
	}
	return out
}
