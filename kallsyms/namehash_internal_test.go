package kallsyms

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// TestSpreadCovers checks that the four words hashName and sameName read of a
// name of 8 to 32 bytes lie inside it and cover every byte of it.
func TestSpreadCovers(t *testing.T) {
	for n := 8; n <= 32; n++ {
		b, c := spread(n)
		covered := make([]bool, n)
		for _, off := range []int{0, b, c, n - 8} {
			if off < 0 || off+8 > n {
				t.Fatalf("n=%d: word at %d is outside the name", n, off)
			}
			for i := off; i < off+8; i++ {
				covered[i] = true
			}
		}
		if i := slices.Index(covered, false); i >= 0 {
			t.Fatalf("n=%d: words at 0, %d, %d, %d miss byte %d", n, b, c, n-8, i)
		}
	}
}

// randomName returns n random bytes of the symbol name alphabet.
func randomName(r *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestNameBytesAllCount checks, for every length up to 80 bytes, that
// sameName agrees with == on a copy of a name and on the name with any one
// byte changed, and that changing any one byte changes the hash: each byte of
// a name takes part in both.
func TestNameBytesAllCount(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 80; n++ {
		name := randomName(r, n)
		if !sameName(name, strings.Clone(name)) {
			t.Fatalf("sameName(%q, copy) = false", name)
		}
		h := hashName(name)
		for i := range n {
			b := []byte(name)
			b[i] ^= 0x40
			other := string(b)
			if sameName(name, other) || sameName(other, name) {
				t.Fatalf("sameName(%q, %q) = true", name, other)
			}
			if hashName(other) == h {
				t.Fatalf("hashName(%q) = hashName(%q)", name, other)
			}
		}
	}
}

// TestHashNameRealNames checks the hash on the names of the real tables: no
// two distinct names share a 64-bit hash, and the name index's scans are as
// short as linear probing at its load allows with a uniform hash (2.1 slots
// per name found, on average), so names do not cluster.
func TestHashNameRealNames(t *testing.T) {
	for _, p := range []string{
		"firecracker-6.18.44/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz",
	} {
		tab, err := Open(fixture.Path(p))
		if err != nil {
			t.Fatal(err)
		}
		byHash := map[uint64]string{}
		x := tab.index()
		scanned, names := 0, 0
		for i := range tab.Len() {
			name := tab.Name(i)
			h := hashName(name)
			if other, ok := byHash[h]; ok && other != name {
				t.Fatalf("%s: %q and %q have hash %#x", p, name, other, h)
			} else if ok {
				continue
			}
			byHash[h] = name
			names++
			for s := x.home(h); ; s++ {
				scanned++
				if v := x.slots[s] & x.valueMask(); v != 0 && tab.Name(int(x.first(v))) == name {
					break
				}
			}
		}
		if avg := float64(scanned) / float64(names); avg > 2.3 {
			t.Errorf("%s: %.2f slots scanned per name, want at most 2.3", p, avg)
		}
	}
}

// TestFindHashCollisions gives six names one hash, which a real table is
// unlikely to, so that names sit up to five slots past their home and a
// slot with the wanted tag holds another name: each name must still find
// exactly its own symbols, and a name absent from the table none.
// (Synthetic: the hash is forced.)
func TestFindHashCollisions(t *testing.T) {
	var text strings.Builder
	order := []string{"b", "a", "b", "c", "a", "d", "e", "f", "b"}
	want := map[string][]int{}
	for i, name := range order {
		fmt.Fprintf(&text, "ffffffff81%06x T %s\n", i*16, name)
		want[name] = append(want[name], i)
	}
	tab, err := ParseBytes([]byte(text.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []uint64{0, 0xffffffffffffffff, 0x123456789abcdef0} {
		x := newNameIndex(tab.Len())
		x.slots = make([]uint32, x.homes+1, x.homes+64)
		before := make([]uint32, tab.Len())
		var shared []int
		for i := range tab.Len() {
			if p := tab.insertName(&x, i, tab.Name(i), h, before); p >= 0 {
				shared = append(shared, p)
			}
		}
		for _, p := range shared {
			x.listShared(p, before)
		}
		tab.nameIndexOnce = sync.Once{}
		tab.nameIndexReady.Store(nil)
		tab.nameIndexOnce.Do(func() { tab.setNameIndex(x) })
		for _, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
			if got := tab.appendFind(nil, name, h); !slices.Equal(got, want[name]) {
				t.Errorf("hash %#x: find %q = %v, want %v", h, name, got, want[name])
			}
		}
	}
}

// FuzzNameHash checks sameName against == on any two names of one length,
// and that equal names hash alike.
func FuzzNameHash(f *testing.F) {
	f.Add("vfs_read", "vfs_reae")
	f.Add("__pfx_trace_event_raw_event_sched_switch", "__pfx_trace_event_raw_event_sched_switcH")
	f.Fuzz(func(t *testing.T, a, b string) {
		n := min(len(a), len(b))
		a, b = a[:n], b[:n]
		if got := sameName(a, b); got != (a == b) {
			t.Fatalf("sameName(%q, %q) = %v", a, b, got)
		}
		if a == b && hashName(a) != hashName(strings.Clone(b)) {
			t.Fatalf("hashName(%q) differs between copies", a)
		}
	})
}
