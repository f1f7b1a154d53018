package symdiff_test

import (
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/symdiff"
)

// FuzzCompare compares any two tables the parser accepts: no panic, a table
// is equivalent to itself, and every symbol compared is accounted for once
// (paired, renamed, added or removed).
func FuzzCompare(f *testing.F) {
	f.Add(kernelText(boot1, kernel), kernelText(boot2, kernel))
	f.Add(kernelText(boot1, kernel), kernelText(hidden, kernel))
	f.Add("ffffffff81000000 T _text\nffffffff81000100 t foo\n", "ffffffff81000000 T _text\nffffffff81000100 t foo.isra.0\n")
	f.Add("0000000000000000 A a\nffffffffc0000000 t x\t[m]\nffffffffc0000000 t x\t[m]\n", "ffffffffc0001000 t x\t[m]\nffffffffc0001000 r x.cold\t[m]\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, err := kallsyms.ParseBytes([]byte(a), kallsyms.Options{})
		if err != nil {
			return
		}
		tb, err := kallsyms.ParseBytes([]byte(b), kallsyms.Options{})
		if err != nil {
			return
		}
		if r, _ := symdiff.Compare(ta, ta, symdiff.Options{}); !r.Equivalent() {
			t.Errorf("a table differs from itself: %s", r.Verdict())
		}
		r, err := symdiff.Compare(ta, tb, symdiff.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Modules {
			if m.SymbolsA-len(m.Removed) != m.SymbolsB-len(m.Added) {
				t.Errorf("module %q: %d symbols, %d removed in A; %d symbols, %d added in B",
					m.Name, m.SymbolsA, len(m.Removed), m.SymbolsB, len(m.Added))
			}
		}
		_ = r.Verdict()
	})
}

// kernelText is the text of a synthetic table, for seeding the fuzzer.
func kernelText(l layout, spec string) string {
	text, err := synthText(l, spec)
	if err != nil {
		panic(err)
	}
	return text
}
