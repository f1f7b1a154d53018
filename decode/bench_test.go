package decode_test

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// BenchmarkDecodeLogs parses and decodes real logs against the real Debian
// boot run2-B's table (loaded once, outside the loop): the throughput of
// `ksym decode` without its rendering.
//
//   - sysrq-t: the largest fixture log, run2-B's sysrq-t task dump (46 KB);
//   - debian-10MB: run2-B's crash files and sysrq dumps, repeated to 10 MB;
//   - all-10MB: every fixture log (the three Debian boots' crash files and
//     dumps, and the 147 syzkaller files of many kernels and architectures,
//     whose frames the table does not have), repeated to 10 MB. One
//     Decoder reads it as one log: from the first syzkaller report on, the
//     table is known not to match, and every report is decoded from the
//     log alone.
func BenchmarkDecodeLogs(b *testing.B) {
	boot := fixture.Path("debian-6.1.0-56-amd64/boots/run2-B")
	t, err := kallsyms.Open(filepath.Join(boot, "kallsyms.txt.gz"))
	if err != nil {
		b.Fatal(err)
	}
	sysrq := fixture.Read(b, filepath.Join(boot, "dmesg-sysrq-t.txt"))
	debian := concat(b, globs(boot, "oops-*.txt", "dmesg-sysrq-*.txt"))
	all := concat(b, append(globs(fixture.Path("debian-6.1.0-56-amd64/boots/*"), "oops-*.txt", "dmesg-sysrq-*.txt"),
		walk(b, fixture.Path("crashlogs/syzkaller"))...))
	for _, c := range []struct {
		name string
		log  []byte
	}{
		{"sysrq-t", sysrq},
		{"debian-10MB", repeat(debian, 10<<20)},
		{"all-10MB", repeat(all, 10<<20)},
	} {
		b.Run(c.name, func(b *testing.B) { benchDecode(b, t, c.log) })
	}
}

func benchDecode(b *testing.B, t *kallsyms.Table, log []byte) {
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

// globs returns the files matching each pattern in the directories dirs
// matches.
func globs(dirs string, patterns ...string) []string {
	var out []string
	for _, p := range patterns {
		files, _ := filepath.Glob(filepath.Join(dirs, p))
		out = append(out, files...)
	}
	return out
}

// walk returns every regular file under dir.
func walk(b *testing.B, dir string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, path)
		}
		return err
	})
	if err != nil || len(out) == 0 {
		b.Fatalf("%s: %d files, %v", dir, len(out), err)
	}
	return out
}

func concat(b *testing.B, files []string) []byte {
	var buf bytes.Buffer
	for _, f := range files {
		buf.Write(fixture.Read(b, f))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// repeat repeats data to at least size bytes.
func repeat(data []byte, size int) []byte {
	return bytes.Repeat(data, size/len(data)+1)
}
