package kallsyms

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// refLookup is Lookup written plainly, without the bucket index or the fast
// paths: a binary search over all addresses.
func refLookup(t *Table, addr uint64) (Location, error) {
	if t.hidden {
		return Location{}, ErrAddressesHidden
	}
	u := sort.Search(t.Len(), func(i int) bool { return t.addrs.at(i) > addr })
	if u == 0 {
		return Location{}, ErrNoSymbol
	}
	k := u - 1
	r := t.runOf(k)
	first, end := int(t.runs[r].first), t.runEnd(r)
	sym := t.addrs.at(k)
	for k > first && t.addrs.at(k-1) == sym {
		k--
	}
	var next uint64
	hasNext := u < end
	if hasNext {
		next = t.addrs.at(u)
	}
	if !t.resolvable(addr, k, r, next, hasNext) {
		return Location{}, ErrNoSymbol
	}
	size, known := t.sizeAt(k, r, addr, next, hasNext)
	return Location{Index: k, Offset: addr - sym, Size: size, SizeKnown: known}, nil
}

// probeAddrs returns addresses around every symbol of t, at the edges of
// the offset range, and at random.
func probeAddrs(t *Table) []uint64 {
	c := &t.addrs
	out := []uint64{0, 1, math.MaxUint64, c.base - 1, c.base, c.base + math.MaxUint32, c.base + math.MaxUint32 + 1}
	for i := range t.Len() {
		a := t.addrs.at(i)
		out = append(out, a-1, a, a+1)
		if i+1 < t.Len() {
			out = append(out, a+(t.addrs.at(i+1)-a)/2, t.addrs.at(i+1)-2)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		out = append(out, c.base+r.Uint64N(1<<32), r.Uint64())
	}
	return out
}

// checkLookups compares Lookup and LookupReturn with refLookup on every
// probe address.
func checkLookups(tb testing.TB, name string, t *Table) {
	for _, a := range probeAddrs(t) {
		got, err := t.Lookup(a)
		want, werr := refLookup(t, a)
		if got != want || err != werr {
			tb.Fatalf("%s: Lookup(%#x) = %+v, %v; want %+v, %v", name, a, got, err, want, werr)
		}
		if a == 0 {
			continue
		}
		got, err = t.LookupReturn(a)
		want, werr = refLookup(t, a-1)
		want.Offset++
		if werr != nil {
			want = Location{}
		}
		if got != want || err != werr {
			tb.Fatalf("%s: LookupReturn(%#x) = %+v, %v; want %+v, %v", name, a, got, err, want, werr)
		}
	}
}

// TestLookupMatchesReference checks the bucket index and the fast paths
// against a plain binary search, on the real tables and on small ones with
// aliases, low symbols and modules at the edges of the runs.
func TestLookupMatchesReference(t *testing.T) {
	for _, p := range []string{
		"firecracker-6.18.44/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run2-B/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run3-C/kallsyms.txt.gz",
	} {
		tab, err := Open(fixture.Path(p))
		if err != nil {
			t.Fatal(err)
		}
		checkLookups(t, p, tab)
	}
	for i, s := range []string{
		"0000000000000000 A fixed_percpu_data\n0000000000000000 A a2\n0000000000001000 A irq_stack\n" +
			"ffffffff81000000 T _stext\nffffffff81000000 T _text\nffffffff81000000 T startup_64\n" +
			"ffffffff81000010 T foo\nffffffff81000010 t foo_alias\nffffffff81000040 T bar\n" +
			"ffffffff81001000 T _etext\nffffffff81002000 D _sdata\nffffffff81003000 B _end\n" +
			"ffffffffc0001000 t m1\t[mod]\nffffffffc0001000 t m1a\t[mod]\nffffffffc0001100 t m2\t[mod]\n" +
			"ffffffffc0201000 t bpf_prog_6deef7357e7b4530_x\t[bpf]\n" +
			"ffffffffc0300000 t ftrace_trampoline\t[__builtin__ftrace]\n",
		"ffffffff81000000 T a\nffffffff81000000 T a\nffffffff81000000 t a\t[m]\n",
		"ffffffff81000000 T _stext\nffffffff81000010 T foo\nffffffff81000020 T _etext\n",
		"ffffffffffffffff T top\n0000000000000000 T bottom\n",
		"0000000000000000 T a\n0000000000000000 T b\n",
		"ffffffff81000000 t x\t[m]\nffffffff81000000 T y\nffffffff81000010 T z\nffffffff81000010 T _etext\n",
	} {
		tab, err := Parse(strings.NewReader(s), Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkLookups(t, string(rune('a'+i)), tab)
	}
}
