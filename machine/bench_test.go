package machine

import (
	"os"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

// BenchmarkReadKallsyms compares reading the live /proc/kallsyms with one
// large buffer against os.ReadFile, which grows its buffer from 512 bytes
// because procfs reports size 0.
func BenchmarkReadKallsyms(b *testing.B) {
	const path = "/proc/kallsyms"
	if _, err := os.ReadFile(path); err != nil {
		b.Skip(err)
	}
	b.Run("readAll", func(b *testing.B) {
		for b.Loop() {
			data, err := readAll(path, kallsymsBuffer)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
		}
	})
	b.Run("os.ReadFile", func(b *testing.B) {
		for b.Loop() {
			data, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
		}
	})
	b.Run("Kallsyms", func(b *testing.B) {
		for b.Loop() {
			if _, err := Default().Kallsyms(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkKallsymsParseStream(b *testing.B) {
	for b.Loop() {
		f, err := os.Open("/proc/kallsyms")
		if err != nil {
			b.Skip(err)
		}
		if _, err := kallsyms.Parse(f, kallsyms.Options{Source: "/proc/kallsyms"}); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
