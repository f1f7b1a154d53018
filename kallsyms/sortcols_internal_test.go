package kallsyms

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortIndices checks the rest's order against a stable sort, for rests
// with many equal addresses (aliases whose file order must be kept) and
// addresses far below the others. Synthetic: the real tables' rests have
// few equal addresses.
func TestSortIndices(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 100, 4095, 4096, 12289} {
		for _, spread := range []uint64{1, 16, 1 << 20, 1 << 40} {
			p := 3
			addrs := make([]uint64, p+n)
			for i := range addrs[p:] {
				a := 0xffffffffc0000000 + rng.Uint64N(spread)
				if rng.IntN(50) == 0 {
					a = rng.Uint64N(spread) // a per-CPU offset, far below
				}
				addrs[p+i] = a
			}
			want := make([]int, n)
			for i := range want {
				want[i] = p + i
			}
			slices.SortStableFunc(want, func(x, y int) int { return cmp.Compare(addrs[x], addrs[y]) })
			got := sortIndices(addrs, p)
			if len(got) != n {
				t.Fatalf("n=%d spread=%#x: %d indices", n, spread, len(got))
			}
			for i, k := range got {
				if int(k.idx) != want[i] {
					t.Fatalf("n=%d spread=%#x: index %d is symbol %d, want %d", n, spread, i, k.idx, want[i])
				}
			}
		}
	}
}
