package decode_test

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"runtime"
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

// BenchmarkDecode50MB is the target of issue 14: decode keeps at least 50
// MB/s on a 50 MB log, in memory bounded by the longest report, not the
// input. The log is the whole real corpus (the 147 syzkaller files of many
// kernels and architectures, and the three Debian boots' crash files,
// sysrq dumps and whole dmesg -r boot logs, 1.5 MB) repeated to 50 MB and
// streamed through klog.Scan from a reader that holds one copy, decoded
// against run2-B's table (loaded once). peak-heap-MB is the largest heap
// in use seen while decoding (sampled every 1024 reports), the table
// included. MB/cpu-s is the throughput per second of processor time the
// process used (the garbage collector's included): on a machine shared with
// other work, MB/s (wall clock) drops with the load, MB/cpu-s much less.
func BenchmarkDecode50MB(b *testing.B) {
	boot := fixture.Path("debian-6.1.0-56-amd64/boots/run2-B")
	t, err := kallsyms.Open(filepath.Join(boot, "kallsyms.txt.gz"))
	if err != nil {
		b.Fatal(err)
	}
	files := globs(fixture.Path("debian-6.1.0-56-amd64/boots/*"), "oops-*.txt", "dmesg-sysrq-*.txt", "dmesg-raw.txt.gz")
	corpus := concat(b, append(files, walk(b, fixture.Path("crashlogs/syzkaller"))...))
	copies := (50<<20 + len(corpus) - 1) / len(corpus)
	d := decode.New(t, decode.Options{})
	b.SetBytes(int64(len(corpus) * copies))
	b.ReportAllocs()
	var peak uint64
	cpu0, cpuOK := cpuTime()
	for b.Loop() {
		reports := 0
		err := klog.Scan(fixture.Repeat(corpus, copies), func(r *klog.Report) error {
			d.Decode(r)
			if reports++; reports%1024 == 0 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			return nil
		})
		if err != nil || reports == 0 {
			b.Fatalf("%d reports, %v", reports, err)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	if cpu1, ok := cpuTime(); ok && cpuOK && cpu1 > cpu0 {
		b.ReportMetric(float64(len(corpus)*copies*b.N)/1e6/(cpu1-cpu0).Seconds(), "MB/cpu-s")
	}
}
