package srcline_test

import (
	"testing"

	"github.com/ksym-dev/ksym/srcline"
)

// BenchmarkDebianFrames opens the Debian vmlinux and symbolizes every core
// frame the Debian boots printed (oopses and sysrq dumps, 139 distinct
// addresses), as one process would: a cold Symbolizer each iteration (the
// file's pages stay in the page cache). Whole-process figures against
// llvm-symbolizer are bench/srcline.sh's.
func BenchmarkDebianFrames(b *testing.B) {
	vmlinux := debianVmlinux(b)
	var frames []printed
	for _, p := range debianFrames(b) {
		if p.module == "" {
			frames = append(frames, p)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := srcline.Open(vmlinux)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range frames {
			s.Lookup(p.addr, p.isReturn)
		}
		s.Close()
	}
	b.ReportMetric(float64(len(frames)), "frames/op")
}
