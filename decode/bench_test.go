package decode_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// BenchmarkDecodeLogs parses and decodes every crash file and sysrq dump of
// the real Debian boot run2-B against its own table (loaded once, outside the
// loop), repeated to about 10 MB: the throughput of `ksym decode` without
// its rendering.
func BenchmarkDecodeLogs(b *testing.B) {
	boot := fixture.Path("debian-6.1.0-56-amd64/boots/run2-B")
	t, err := kallsyms.Open(filepath.Join(boot, "kallsyms.txt.gz"))
	if err != nil {
		b.Fatal(err)
	}
	var one bytes.Buffer
	for _, pattern := range []string{"oops-*.txt", "dmesg-sysrq-*.txt"} {
		files, _ := filepath.Glob(filepath.Join(boot, pattern))
		for _, f := range files {
			one.Write(fixture.Read(b, f))
		}
	}
	log := bytes.Repeat(one.Bytes(), 10<<20/one.Len()+1)
	d := decode.New(t, decode.Options{})
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		reports := 0
		err := klog.Scan(bytes.NewReader(log), func(r *klog.Report) error {
			d.Decode(r)
			reports++
			return nil
		})
		if err != nil || reports == 0 {
			b.Fatalf("%d reports, %v", reports, err)
		}
	}
}
