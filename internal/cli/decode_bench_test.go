package cli

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	fixtures "github.com/ksym-dev/ksym/internal/fixture"
)

// BenchmarkDecodeCLI runs the whole ksym decode, annotated and --summary,
// on run2-B's crash files and sysrq dumps and its dmesg -r log repeated to
// 20 MB on standard input: the library's work (decode's
// BenchmarkDecode50MB) plus the command line's (holding, annotating and
// printing lines), the table loaded from its file on each run included.
func BenchmarkDecodeCLI(b *testing.B) {
	var files []string
	for _, pat := range []string{"oops-*.txt", "dmesg-sysrq-*.txt"} {
		m, _ := filepath.Glob(bootDir + pat)
		files = append(files, m...)
	}
	var log []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		log = append(log, data...)
	}
	raw, err := gunzip(bootDir + "dmesg-raw.txt.gz")
	if err != nil {
		b.Fatal(err)
	}
	log = append(log, raw...)
	copies := (20<<20 + len(log) - 1) / len(log)
	for _, mode := range []string{"annotated", "summary"} {
		b.Run(mode, func(b *testing.B) {
			args := []string{"--kallsyms", kallsymsGz, "decode"}
			if mode == "summary" {
				args = append(args, "--summary")
			}
			b.SetBytes(int64(len(log) * copies))
			b.ReportAllocs()
			for b.Loop() {
				in := fixtures.Repeat(log, copies)
				if code := Execute(args, in, io.Discard, io.Discard); code != ExitOK {
					b.Fatalf("status %d", code)
				}
			}
		})
	}
}
