package bench

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/kallsyms"
	otelkallsyms "go.opentelemetry.io/ebpf-profiler/kallsyms"
	"go.opentelemetry.io/ebpf-profiler/libpf"

	pyrosymtab "github.com/grafana/pyroscope/ebpf/symtab"
	igkallsyms "github.com/inspektor-gadget/inspektor-gadget/pkg/kallsyms"
)

// Sinks keep results alive so the compiler cannot drop the work.
var (
	sinkAny  any
	sinkStr  string
	sinkU64  uint64
	sinkBool bool
	sinkInts []int
)

func check(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// parseImpl is one way of building a whole table, for BenchmarkParse.
type parseImpl struct {
	name  string
	ksym  bool // needs the ksym module
	proc  bool // reads /proc/kallsyms: needs the fixture bind-mounted there (run.sh)
	build func(f *fixture) (any, error)
}

// parseImpls are the implementations BenchmarkParse times, in report order.
var parseImpls = []parseImpl{
	{"ksym-bytes", true, false, func(f *fixture) (any, error) { return kallsyms.ParseBytes(f.data, kallsyms.Options{}) }},
	{"ksym-reader", true, false, func(f *fixture) (any, error) {
		return kallsyms.Parse(bytes.NewReader(f.data), kallsyms.Options{})
	}},
	{"ksym-openfile", true, false, func(f *fixture) (any, error) { return kallsyms.Open(f.file) }},
	{"readfile", false, false, func(f *fixture) (any, error) { return os.ReadFile(f.file) }},
	{"pyroscope", false, false, func(f *fixture) (any, error) { return buildPyroscope(f.data) }},
	{"inspektor-gadget", false, false, func(f *fixture) (any, error) { return buildIG(f.data) }},
	{"cloudflare", false, false, func(f *fixture) (any, error) { return buildCloudflare(f.file) }},
	{"tetragon", false, false, func(f *fixture) (any, error) { return buildTetragon(f.procDir) }},
	{"otel", false, true, func(*fixture) (any, error) { return buildOTel() }},
	{"proc-readfile", false, true, func(*fixture) (any, error) { return os.ReadFile("/proc/kallsyms") }},
	{"ksym-proc", true, true, func(*fixture) (any, error) {
		fh, err := os.Open("/proc/kallsyms")
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		return kallsyms.Parse(fh, kallsyms.Options{Source: "/proc/kallsyms"})
	}},
}

// BenchmarkParse times building a whole table. Libraries that only take a path
// read the fixture from a temp file (page cache); "readfile" is that bare read.
// OTel reads only /proc/kallsyms: it runs when run.sh has bind-mounted the
// fixture there ("proc-readfile" is then the bare read of that file).
func BenchmarkParse(b *testing.B) {
	for _, f := range tables(b) {
		b.Run("table="+f.name, func(b *testing.B) {
			for _, impl := range parseImpls {
				b.Run("impl="+impl.name, func(b *testing.B) {
					if impl.ksym {
						needKsym(b)
					}
					if impl.proc && !procFixture(b, f) {
						b.Skip("needs the fixture bind-mounted over /proc/kallsyms (run.sh)")
					}
					b.SetBytes(int64(len(f.data)))
					for b.Loop() {
						v, err := impl.build(f)
						check(b, err)
						sinkAny = v
					}
				})
			}
		})
	}
}

// BenchmarkRetained measures the heap a parsed table keeps alive: GC, HeapAlloc
// before; build; GC, HeapAlloc after, with the table still referenced. Each
// iteration measures once; the metric is the mean, ns/op is suppressed.
func BenchmarkRetained(b *testing.B) {
	for _, f := range tables(b) {
		b.Run("table="+f.name, func(b *testing.B) {
			run := func(b *testing.B, build func() any) {
				var sum float64
				for i := 0; i < b.N; i++ {
					before := heapAfterGC()
					v := build()
					after := heapAfterGC()
					runtime.KeepAlive(v)
					sum += mib(after, before)
				}
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(sum/float64(b.N), "retained-MiB")
			}
			b.Run("impl=ksym", func(b *testing.B) {
				needKsym(b)
				var sumParse, sumFind float64
				for i := 0; i < b.N; i++ {
					before := heapAfterGC()
					t, err := buildKsym(f.data)
					check(b, err)
					afterParse := heapAfterGC()
					sinkInts = t.AppendFind(sinkInts[:0], f.names[0])
					afterFind := heapAfterGC()
					runtime.KeepAlive(t)
					sumParse += mib(afterParse, before)
					sumFind += mib(afterFind, before)
				}
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(sumParse/float64(b.N), "retained-MiB")
				b.ReportMetric(sumFind/float64(b.N), "retained-after-find-MiB")
			})
			b.Run("impl=pyroscope", func(b *testing.B) {
				run(b, func() any { t, err := buildPyroscope(f.data); check(b, err); return t })
			})
			b.Run("impl=inspektor-gadget", func(b *testing.B) {
				run(b, func() any { t, err := buildIG(f.data); check(b, err); return t })
			})
			b.Run("impl=cloudflare", func(b *testing.B) {
				run(b, func() any { t, err := buildCloudflare(f.file); check(b, err); return t })
			})
			b.Run("impl=tetragon", func(b *testing.B) {
				run(b, func() any { t, err := buildTetragon(f.procDir); check(b, err); return t })
			})
			b.Run("impl=otel", func(b *testing.B) {
				if !procFixture(b, f) {
					b.Skip("needs the fixture bind-mounted over /proc/kallsyms (run.sh)")
				}
				run(b, func() any { s, err := buildOTel(); check(b, err); return s })
			})
		})
	}
}

// BenchmarkLookupAddr times one address lookup (ns/op is per lookup), cycling
// through the fixture's 4096 pseudo-random kernel-text addresses.
func BenchmarkLookupAddr(b *testing.B) {
	for _, f := range tables(b) {
		b.Run("table="+f.name, func(b *testing.B) {
			addrs := f.addrs
			b.Run("impl=ksym", func(b *testing.B) {
				needKsym(b)
				t, err := buildKsym(f.data)
				check(b, err)
				var off uint64
				var name string
				i := 0
				for b.Loop() {
					loc, err := t.Lookup(addrs[i&(nAddrs-1)])
					if err == nil {
						name = t.Name(loc.Index)
						off += loc.Offset
					}
					i++
				}
				sinkStr, sinkU64 = name, off
			})
			b.Run("impl=ksym-format", func(b *testing.B) {
				needKsym(b)
				t, err := buildKsym(f.data)
				check(b, err)
				buf := make([]byte, 0, 1024)
				i := 0
				for b.Loop() {
					loc, err := t.Lookup(addrs[i&(nAddrs-1)])
					if err == nil {
						buf = t.AppendLocation(buf[:0], loc)
					}
					i++
				}
				sinkStr = string(buf)
			})
			b.Run("impl=pyroscope", func(b *testing.B) {
				t, err := buildPyroscope(f.data)
				check(b, err)
				var s pyrosymtab.Symbol
				i := 0
				for b.Loop() {
					s = t.Resolve(addrs[i&(nAddrs-1)])
					i++
				}
				sinkStr = s.Name
			})
			b.Run("impl=inspektor-gadget", func(b *testing.B) {
				k, err := buildIG(f.data)
				check(b, err)
				var s string
				i := 0
				for b.Loop() {
					s = k.LookupByInstructionPointer(addrs[i&(nAddrs-1)])
					i++
				}
				sinkStr = s
			})
			b.Run("impl=cloudflare", func(b *testing.B) {
				d, err := buildCloudflare(f.file)
				check(b, err)
				one := make([]uintptr, 1)
				var s string
				i := 0
				for b.Loop() {
					one[0] = uintptr(addrs[i&(nAddrs-1)])
					s = d.Stack(one)[0].Sym
					i++
				}
				sinkStr = s
			})
			b.Run("impl=tetragon", func(b *testing.B) {
				k, err := buildTetragon(f.procDir)
				check(b, err)
				var s string
				i := 0
				for b.Loop() {
					fo, err := k.GetFnOffset(addrs[i&(nAddrs-1)])
					if err == nil {
						s = fo.SymName
					}
					i++
				}
				sinkStr = s
			})
			b.Run("impl=otel", func(b *testing.B) {
				if !procFixture(b, f) {
					b.Skip("needs the fixture bind-mounted over /proc/kallsyms (run.sh)")
				}
				sym, err := buildOTel()
				check(b, err)
				snap := sym.Snapshot()
				var s string
				var off uint
				i := 0
				for b.Loop() {
					pc := libpf.Address(addrs[i&(nAddrs-1)])
					m, err := snap.GetModuleByAddress(pc)
					if err == nil {
						s, off, _ = m.LookupSymbolByAddress(pc)
					}
					i++
				}
				sinkStr, sinkU64 = s, uint64(off)
			})
		})
	}
}

// catProc reads /proc/kallsyms to its end in reads of len(buf), as cat does.
func catProc(b *testing.B, buf []byte) {
	fh, err := os.Open("/proc/kallsyms")
	check(b, err)
	defer fh.Close()
	for {
		if _, err = fh.Read(buf); err != nil {
			break
		}
	}
	if err != io.EOF {
		b.Fatal(err)
	}
}

// parseProc parses the live /proc/kallsyms, streamed.
func parseProc(b *testing.B) *kallsyms.Table {
	fh, err := os.Open("/proc/kallsyms")
	check(b, err)
	defer fh.Close()
	t, err := kallsyms.Parse(fh, kallsyms.Options{Source: "/proc/kallsyms"})
	check(b, err)
	return t
}

// BenchmarkLookupName times one name -> address lookup (ns/op per lookup) over
// 4096 random core text symbol names. Pyroscope and Cloudflare have no name
// lookup; OTel's and Tetragon's are linear scans; Inspektor Gadget's exported
// one (KernelSymbolAddress) re-reads /proc/kallsyms on every call.
func BenchmarkLookupName(b *testing.B) {
	for _, f := range tables(b) {
		b.Run("table="+f.name, func(b *testing.B) {
			names := f.names
			b.Run("impl=ksym", func(b *testing.B) {
				needKsym(b)
				t, err := buildKsym(f.data)
				check(b, err)
				t.AppendFind(nil, names[0]) // build any lazy index outside the timing
				dst := make([]int, 0, 16)
				i := 0
				for b.Loop() {
					dst = t.AppendFind(dst[:0], names[i&(nAddrs-1)])
					i++
				}
				sinkInts = dst
			})
			b.Run("impl=ksym-find", func(b *testing.B) {
				needKsym(b)
				t, err := buildKsym(f.data)
				check(b, err)
				t.Find(names[0])
				var r []int
				i := 0
				for b.Loop() {
					r = t.Find(names[i&(nAddrs-1)])
					i++
				}
				sinkInts = r
			})
			b.Run("impl=tetragon", func(b *testing.B) {
				k, err := buildTetragon(f.procDir)
				check(b, err)
				var ok bool
				i := 0
				for b.Loop() {
					ok = k.IsAvailable(names[i&(nAddrs-1)])
					i++
				}
				sinkBool = ok
			})
			b.Run("impl=otel", func(b *testing.B) {
				if !procFixture(b, f) {
					b.Skip("needs the fixture bind-mounted over /proc/kallsyms (run.sh)")
				}
				sym, err := buildOTel()
				check(b, err)
				m, err := sym.Snapshot().GetModuleByName(otelkallsyms.Kernel)
				check(b, err)
				var a libpf.Address
				i := 0
				for b.Loop() {
					a, _ = m.LookupSymbol(names[i&(nAddrs-1)])
					i++
				}
				sinkU64 = uint64(a)
			})
			b.Run("impl=inspektor-gadget", func(b *testing.B) {
				if !procFixture(b, f) {
					b.Skip("needs the fixture bind-mounted over /proc/kallsyms (run.sh)")
				}
				var a uint64
				i := 0
				for b.Loop() {
					a, _, _ = igkallsyms.KernelSymbolAddress(names[i&(nAddrs-1)])
					i++
				}
				sinkU64 = a
			})
		})
	}
}

// BenchmarkLive reads this machine's real /proc/kallsyms (no bind mount): the
// bare read ("readfile" = os.ReadFile, "cat" = read(2) into a reused 128 KiB
// buffer, as cat does) against ksym's live parse and each library's own loader.
func BenchmarkLive(b *testing.B) {
	if os.Getenv(envLive) != "1" {
		b.Skip("set " + envLive + "=1 (run.sh does) to read the live /proc/kallsyms")
	}
	if os.Getenv(envProc) != "" {
		b.Skip("/proc/kallsyms is a bind-mounted fixture here")
	}
	probe, err := os.ReadFile("/proc/kallsyms")
	check(b, err)
	b.Logf("live /proc/kallsyms: %d bytes, %d lines", len(probe), bytes.Count(probe, []byte{'\n'}))
	size := int64(len(probe))
	b.Run("impl=readfile", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			d, err := os.ReadFile("/proc/kallsyms")
			check(b, err)
			sinkAny = d
		}
	})
	buf := make([]byte, 128<<10)
	b.Run("impl=cat", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			catProc(b, buf)
		}
	})
	b.Run("impl=ksym-parse", func(b *testing.B) {
		needKsym(b)
		b.SetBytes(size)
		for b.Loop() {
			sinkAny = parseProc(b)
		}
	})
	// Each iteration reads the file as cat does and then parses it live, and
	// the metric is the median over iterations of parse time / read time: a
	// ratio of runs made milliseconds apart, which the VM's drift over
	// seconds does not reach. (ns/op counts both, and the collections.)
	b.Run("impl=ksym-parse-over-cat", func(b *testing.B) {
		needKsym(b)
		var ratios []float64
		for b.Loop() {
			// A collection before each, so that neither pays for the
			// garbage of the other.
			runtime.GC()
			t0 := time.Now()
			catProc(b, buf)
			read := time.Since(t0)
			runtime.GC()
			t1 := time.Now()
			sinkAny = parseProc(b)
			ratios = append(ratios, float64(time.Since(t1))/float64(read))
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
		b.ReportMetric(ratios[len(ratios)/4], "q1-ratio")
		b.ReportMetric(ratios[len(ratios)*3/4], "q3-ratio")
	})
	b.Run("impl=ksym-readfile-parsebytes", func(b *testing.B) {
		needKsym(b)
		b.SetBytes(size)
		for b.Loop() {
			d, err := os.ReadFile("/proc/kallsyms")
			check(b, err)
			t, err := kallsyms.ParseBytes(d, kallsyms.Options{Source: "/proc/kallsyms"})
			check(b, err)
			sinkAny = t
		}
	})
	b.Run("impl=otel", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			s, err := otelkallsyms.NewSymbolizer()
			check(b, err)
			sinkAny = s
		}
	})
	b.Run("impl=pyroscope", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			t, err := pyrosymtab.NewKallsyms()
			check(b, err)
			sinkAny = t
		}
	})
	b.Run("impl=inspektor-gadget", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			t, err := igkallsyms.NewKAllSyms()
			check(b, err)
			sinkAny = t
		}
	})
	b.Run("impl=cloudflare", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			t, err := buildCloudflare("/proc/kallsyms")
			check(b, err)
			sinkAny = t
		}
	})
	b.Run("impl=tetragon", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			t, err := buildTetragon("/proc")
			check(b, err)
			sinkAny = t
		}
	})
}
