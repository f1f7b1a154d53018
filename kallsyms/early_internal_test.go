package kallsyms

import (
	"bytes"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// TestModuleTail: the bisection finds the module lines a real table ends
// with, as a plain scan back from the end counts them.
func TestModuleTail(t *testing.T) {
	for _, p := range []string{"firecracker-6.18.44/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz", "debian-6.1.0-56-amd64/System.map.gz"} {
		data := fixture.Read(t, fixture.Path(p))
		want := 0
		for rest := data; len(rest) > 0; {
			start := bytes.LastIndexByte(rest[:len(rest)-1], '\n') + 1
			if !bytes.Contains(rest[start:], []byte("\t[")) {
				break
			}
			want += len(rest) - start
			rest = rest[:start]
		}
		if got := moduleTail(data); got != want {
			t.Errorf("%s: moduleTail %d, want %d", p, got, want)
		}
	}
	for _, tt := range []struct {
		text string
		want int
	}{
		{"", 0},
		{"\n", 0},
		{"ffffffff81000000 T a\n", 0},
		{"ffffffffc0000000 t a\t[m]", 24},
		{"ffffffff81000000 T a\nffffffffc0000000 t b\t[m]\r\n", 26},
	} {
		if got := moduleTail([]byte(tt.text)); got != tt.want {
			t.Errorf("%q: moduleTail %d, want %d", tt.text, got, tt.want)
		}
	}
}

// TestEarlyRest: the Debian table parsed in parts, its module lines in the
// last part, takes the rest on that part's goroutine (smaller for it), and the
// table is the one parsed whole. Real table.
func TestEarlyRest(t *testing.T) {
	data := fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz"))
	whole, err := parseWhole(data)
	if err != nil {
		t.Fatal(err)
	}
	mods := moduleTail(data)
	for k := 2; k <= 4; k++ {
		parts := splitParts(data, k)
		last := parts[len(parts)-1]
		if len(last) < mods || len(last) >= len(data)/k {
			t.Errorf("%d parts: the last has %d bytes, want between the %d of module lines and %d", k, len(last), mods, len(data)/k)
		}
		b, err := parseParts(data, parts, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if b.early.from == 0 || b.early.from != b.sorted {
			t.Fatalf("%d parts: the rest was not taken early", k)
		}
		tab, err := b.finish()
		if err != nil {
			t.Fatal(err)
		}
		if tab.Len() != whole.Len() {
			t.Fatalf("%d parts: %d symbols, parsed whole %d", k, tab.Len(), whole.Len())
		}
		for i := range tab.Len() {
			if got, want := tab.Symbol(i), whole.Symbol(i); got != want {
				t.Fatalf("%d parts: symbol %d is %+v, parsed whole %+v", k, i, got, want)
			}
		}
	}
}

// TestEarlyRestModuleIDs: a last part that numbers its modules otherwise
// than the joined table does gets its rest's modules renumbered. Synthetic:
// in the real tables every module line lies in the last part.
func TestEarlyRestModuleIDs(t *testing.T) {
	first := "ffffffff81000000 T _stext\nffffffff81000010 T x\nffffffffc0000000 t a1\t[a]\nffffffffc0000010 t a2\t[a]\n"
	last := "ffffffffc0002000 t b2\t[b]\nffffffffc0001000 t b1\t[b]\nffffffffc0000020 t a3\t[a]\n"
	data := []byte(first + last)
	whole, err := parseWhole(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseParts(data, [][]byte{data[:len(first)], data[len(first):]}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.early.from == 0 || b.early.mods == nil {
		t.Fatal("the rest was not taken early with its module ids mapped")
	}
	tab, err := b.finish()
	if err != nil {
		t.Fatal(err)
	}
	for i := range whole.Len() {
		if got, want := tab.Symbol(i), whole.Symbol(i); got != want {
			t.Fatalf("symbol %d is %+v, parsed whole %+v", i, got, want)
		}
	}
}
