package kallsyms_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
)

// Benchmarks run on the real tables in testdata; the peer comparison lives
// in the separate bench/ module (see docs/benchmarks.md).
var benchTables = []struct{ name, path string }{
	{"firecracker-6.18", fixture.Path("firecracker-6.18.44/kallsyms.txt.gz")},
	{"debian-6.1", fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz")},
}

func BenchmarkParseBytes(b *testing.B) {
	for _, bt := range benchTables {
		data := fixture.Read(b, bt.path)
		b.Run(bt.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kallsyms.ParseBytes(data, kallsyms.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseReader(b *testing.B) {
	for _, bt := range benchTables {
		data := fixture.Read(b, bt.path)
		b.Run(bt.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kallsyms.Parse(bytes.NewReader(data), kallsyms.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpen parses the table from an uncompressed file in the page cache
// (mapped, on Linux), as Open does with a saved copy.
func BenchmarkOpen(b *testing.B) {
	for _, bt := range benchTables {
		data := fixture.Read(b, bt.path)
		path := filepath.Join(b.TempDir(), "kallsyms")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		b.Run(bt.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := kallsyms.Open(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRetained reports the heap a parsed table keeps, before and after
// the name index is built by the first name lookup.
func BenchmarkRetained(b *testing.B) {
	for _, bt := range benchTables {
		data := fixture.Read(b, bt.path)
		b.Run(bt.name, func(b *testing.B) {
			var parsed, indexed float64
			for b.Loop() {
				before := heapAlloc()
				tab, err := kallsyms.ParseBytes(data, kallsyms.Options{})
				if err != nil {
					b.Fatal(err)
				}
				parsed = float64(heapAlloc()-before) / (1 << 20)
				tab.Find("vfs_read")
				indexed = float64(heapAlloc()-before) / (1 << 20)
				runtime.KeepAlive(tab)
			}
			b.ReportMetric(parsed, "MiB-parsed")
			b.ReportMetric(indexed, "MiB-indexed")
		})
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// textAddrs draws n addresses inside text symbols of tab, reproducibly.
func textAddrs(b *testing.B, tab *kallsyms.Table, n int) []uint64 {
	r := rand.New(rand.NewPCG(1, 2))
	var out []uint64
	for len(out) < n {
		i := r.IntN(tab.Len())
		if t := tab.Type(i); t != 't' && t != 'T' {
			continue
		}
		size, ok := tab.Size(i)
		if !ok || size == 0 {
			continue
		}
		out = append(out, tab.Addr(i)+r.Uint64N(size))
	}
	return out
}

func BenchmarkLookup(b *testing.B) {
	for _, bt := range benchTables {
		tab, err := kallsyms.Open(bt.path)
		if err != nil {
			b.Fatal(err)
		}
		addrs := textAddrs(b, tab, 4096)
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := tab.Lookup(addrs[i&4095]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkFind times AppendFind over 4096 random distinct names, each held
// in memory of its own as a caller's would be.
func BenchmarkFind(b *testing.B) {
	for _, bt := range benchTables {
		tab, err := kallsyms.Open(bt.path)
		if err != nil {
			b.Fatal(err)
		}
		// Distinct names, each equally likely: a tool looks a name up once.
		seen := map[string]bool{}
		var distinct []string
		for i := range tab.Len() {
			if name := tab.Name(i); !seen[name] {
				seen[name] = true
				distinct = append(distinct, name)
			}
		}
		r := rand.New(rand.NewPCG(3, 4))
		names := make([]string, 4096)
		for i := range names {
			// A copy: the table's own string would compare equal by its
			// pointer, without reading a byte of the name.
			names[i] = strings.Clone(distinct[r.IntN(len(distinct))])
		}
		tab.Find(names[0])
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf [16]int
			i := 0
			for b.Loop() {
				if len(tab.AppendFind(buf[:0], names[i&4095])) == 0 {
					b.Fatal("not found")
				}
				i++
			}
		})
	}
}

// BenchmarkOpenIndex reads and checks an index file (written once, so in the
// page cache, as the cache of the live kernel is) and finds one address: the
// whole cost of answering from an index instead of parsing. It reports the
// index's size against the text table's.
func BenchmarkOpenIndex(b *testing.B) {
	for _, bt := range benchTables {
		data := fixture.Read(b, bt.path)
		tab, err := kallsyms.ParseBytes(data, kallsyms.Options{})
		if err != nil {
			b.Fatal(err)
		}
		file := filepath.Join(b.TempDir(), "table.ksymidx")
		var idx bytes.Buffer
		if _, err := tab.WriteIndex(&idx, nil); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(file, idx.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(file)
		addr := tab.Addr(tab.Len() / 2)
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x, err := kallsyms.OpenIndex(file)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := x.Table.Lookup(addr); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(fi.Size())/(1<<20), "index-MiB")
			b.ReportMetric(float64(len(data))/(1<<20), "text-MiB")
		})
	}
}

// BenchmarkWriteIndex measures building an index (including the name index)
// from a parsed table.
func BenchmarkWriteIndex(b *testing.B) {
	for _, bt := range benchTables {
		tab, err := kallsyms.ParseBytes(fixture.Read(b, bt.path), kallsyms.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bt.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if _, err := tab.WriteIndex(&buf, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
