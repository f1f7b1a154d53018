package symdiff_test

import (
	"testing"

	"github.com/ksym-dev/ksym/symdiff"
)

// BenchmarkDiff compares two real tables of about 110,000 symbols: two boots
// of the Debian 6.1 kernel (equivalent), and Debian 6.1 against the 6.18
// table (a large real difference). Parsing is not included.
func BenchmarkDiff(b *testing.B) {
	for _, bc := range []struct{ name, a, b string }{
		{"debian-boots", run1A, run2B},
		{"debian-vs-6.18", run1A, fc618},
	} {
		ta, tb := load(b, bc.a), load(b, bc.b)
		ta.Find("_text") // build the name indexes outside the loop: a parsed table builds them once
		tb.Find("_text")
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := symdiff.Compare(ta, tb, symdiff.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
