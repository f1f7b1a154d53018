package kallsyms

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// TestNameIndexEveryName checks AppendFind against a map built by reading
// every name, for every name of the real tables (whose shared names go up to
// 483 copies of __func__.0), and that names one byte off (longer, shorter or
// one byte changed) are not found.
func TestNameIndexEveryName(t *testing.T) {
	for _, p := range []string{
		"firecracker-6.18.44/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/System.map.gz",
	} {
		tab, err := Open(fixture.Path(p))
		if err != nil {
			t.Fatal(err)
		}
		checkNameIndex(t, p, tab)
	}
}

// TestNameIndexSynthetic covers what the real tables lack: tables of one
// name, of seven, and of one symbol. (Synthetic inputs, written here.)
func TestNameIndexSynthetic(t *testing.T) {
	var same, many strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&same, "ffffffff81%06x t dup\n", i*16)
		fmt.Fprintf(&many, "ffffffff81%06x t f%d\n", i*16, i%7)
	}
	for name, text := range map[string]string{
		"one name 5000 times": same.String(),
		"7 names":             many.String(),
		"one symbol":          "ffffffff81000000 T _stext\n",
	} {
		tab, err := ParseBytes([]byte(text), Options{Source: name})
		if err != nil {
			t.Fatal(err)
		}
		checkNameIndex(t, name, tab)
	}
}

func checkNameIndex(t *testing.T, source string, tab *Table) {
	t.Helper()
	want := map[string][]int{}
	for i := range tab.Len() {
		want[tab.Name(i)] = append(want[tab.Name(i)], i)
	}
	for name, w := range want {
		if got := tab.AppendFind(nil, name); !slices.Equal(got, w) {
			t.Fatalf("%s: AppendFind(%q) = %v, want %v", source, name, got, w)
		}
		for _, off := range []string{name + "x", name[:len(name)-1], "x" + name,
			flipByte(name, 0), flipByte(name, len(name)/2), flipByte(name, len(name)-1)} {
			if got := tab.AppendFind(nil, off); len(want[off]) == 0 && len(got) > 0 {
				t.Fatalf("%s: AppendFind(%q) = %v, want none", source, off, got)
			}
		}
	}
}

// flipByte returns name with its byte i changed.
func flipByte(name string, i int) string {
	b := []byte(name)
	b[i] ^= 1
	return string(b)
}

// TestNameIndexHashCollision gives different names one hash, which a real
// table is unlikely to, and checks that each name keeps its own slot and
// symbols, in index order.
func TestNameIndexHashCollision(t *testing.T) {
	text := "ffffffff81000000 T b\nffffffff81000010 T a\nffffffff81000020 T b\nffffffff81000030 T c\nffffffff81000040 T a\nffffffff81000050 T b\n"
	tab, err := ParseBytes([]byte(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := newNameIndex(tab.Len())
	x.slots = make([]uint32, x.homes+1)
	before := make([]uint32, tab.Len())
	var shared []int
	for i := range tab.Len() {
		if p := tab.insertName(&x, i, tab.Name(i), 0, before); p >= 0 {
			shared = append(shared, p)
		}
	}
	for _, p := range shared {
		x.listShared(p, before)
	}
	var got []string
	for _, e := range x.slots {
		if e != 0 {
			got = append(got, fmt.Sprint(namedBy(&x, e&x.valueMask())))
		}
	}
	if want := []string{"[0 2 5]", "[1 4]", "[3]"}; !slices.Equal(got, want) {
		t.Fatalf("slots name %v, want %v (b, a, c)", got, want)
	}
}

// namedBy returns the symbols a slot of value v names.
func namedBy(x *nameIndex, v uint32) []int {
	if v <= x.n {
		return []int{int(v - 1)}
	}
	return x.appendShared(nil, v)
}

// BenchmarkBuildNameIndex times what the first name lookup on a table costs.
func BenchmarkBuildNameIndex(b *testing.B) {
	for _, p := range []string{"firecracker-6.18.44/kallsyms.txt.gz", "debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz"} {
		tab, err := Open(fixture.Path(p))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.SplitN(p, "/", 2)[0], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tab.buildNameIndex()
			}
		})
	}
}
