package kallsyms

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// checkUpper compares the column's indexed search with a plain binary
// search over every address, around every address, at the edges of the
// address space and at random.
func checkUpper(t *testing.T, name string, c *addrColumn) {
	n := len(c.lo)
	want := func(x uint64) int { return sort.Search(n, func(i int) bool { return c.at(i) > x }) }
	probes := []uint64{0, 1, math.MaxUint64, math.MaxUint64 - 1, 1 << 32, 1<<32 - 1}
	for i := range n {
		a := c.at(i)
		probes = append(probes, a-1, a, a+1, a+segmentGap, a-segmentGap)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		probes = append(probes, r.Uint64(), c.at(r.IntN(n))+r.Uint64N(1<<20))
	}
	for _, x := range probes {
		if got, w := c.upper(x), want(x); got != w {
			t.Fatalf("%s: upper(%#x) = %d, want %d", name, x, got, w)
		}
	}
}

// TestAddrIndex checks the segment and bucket index on the real tables and
// on synthetic ones with gaps, aliases, a single symbol and addresses at the
// top and bottom of the address space.
func TestAddrIndex(t *testing.T) {
	for _, p := range []string{
		"firecracker-6.18.44/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run2-B/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/System.map.gz",
	} {
		tab, err := Open(fixture.Path(p))
		if err != nil {
			t.Fatal(err)
		}
		checkUpper(t, p, &tab.addrs)
	}
	for i, text := range []string{
		"ffffffff81000000 T a\n",
		"0000000000000000 A p\n0000000000001000 A q\nffffffff81000000 T a\nffffffff81000000 T b\nffffffff81000010 T c\n" +
			"ffffffffc0000000 t m\t[x]\nffffffffc0000000 t n\t[x]\nffffffffc0800000 t o\t[x]\nffffffffffffffff t top\t[x]\n",
		"0000000100000000 T a\n00000001ffffffff T b\n0000000200000000 T c\n00000002ff000000 T d\n",
		strings.Repeat("ffffffff81000000 T same\n", 100),
	} {
		tab, err := ParseBytes([]byte(text), Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkUpper(t, string(rune('a'+i)), &tab.addrs)
	}
}
