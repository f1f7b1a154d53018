package bench

import (
	"bytes"
	"os"

	tgksyms "github.com/cilium/tetragon/pkg/ksyms"
	cfkallsyms "github.com/cloudflare/ebpf_exporter/v2/kallsyms"
	pyrosymtab "github.com/grafana/pyroscope/ebpf/symtab"
	igkallsyms "github.com/inspektor-gadget/inspektor-gadget/pkg/kallsyms"
	"github.com/ksym-dev/ksym/kallsyms"
	otelkallsyms "go.opentelemetry.io/ebpf-profiler/kallsyms"
	"go.opentelemetry.io/ebpf-profiler/libpf"
)

// resolver is the uniform view the correctness tests use (the benchmarks call
// each library directly, without this indirection).
type resolver struct {
	name string
	// lookup returns the symbol name and offset for addr; ok=false when the
	// library says it has no symbol.
	lookup func(addr uint64) (name string, off uint64, offKnown, ok bool)
}

// Constructors, one per library, on a fixture. "proc" libraries read the live
// /proc/kallsyms and only work on a fixture inside run.sh's mount namespace.

func buildKsym(data []byte) (*kallsyms.Table, error) {
	return kallsyms.ParseBytes(data, kallsyms.Options{})
}

func buildPyroscope(data []byte) (*pyrosymtab.SymbolTab, error) {
	return pyrosymtab.NewKallsymsFromData(data)
}

func buildIG(data []byte) (*igkallsyms.KAllSyms, error) {
	return igkallsyms.NewKAllSymsFromReader(bytes.NewReader(data))
}

func buildCloudflare(path string) (*cfkallsyms.Decoder, error) {
	return cfkallsyms.NewDecoder(path)
}

func buildTetragon(procDir string) (*tgksyms.Ksyms, error) {
	return tgksyms.NewKsyms(procDir)
}

func buildOTel() (*otelkallsyms.Symbolizer, error) {
	return otelkallsyms.NewSymbolizer()
}

func pyroscopeResolver(t *pyrosymtab.SymbolTab) resolver {
	return resolver{"pyroscope", func(a uint64) (string, uint64, bool, bool) {
		s := t.Resolve(a)
		if s.Name == "" {
			return "", 0, false, false
		}
		return s.Name, a - s.Start, true, true
	}}
}

func igResolver(k *igkallsyms.KAllSyms) resolver {
	return resolver{"inspektor-gadget", func(a uint64) (string, uint64, bool, bool) {
		n := k.LookupByInstructionPointer(a)
		if n == "[unknown]" {
			return "", 0, false, false
		}
		return n, 0, false, true
	}}
}

func cloudflareResolver(d *cfkallsyms.Decoder) resolver {
	return resolver{"cloudflare", func(a uint64) (string, uint64, bool, bool) {
		s := d.Stack([]uintptr{uintptr(a)})
		if s[0].Sym == "" {
			return "", 0, false, false
		}
		return s[0].Sym, 0, false, true
	}}
}

func tetragonResolver(k *tgksyms.Ksyms) resolver {
	return resolver{"tetragon", func(a uint64) (string, uint64, bool, bool) {
		fo, err := k.GetFnOffset(a)
		if err != nil {
			return "", 0, false, false
		}
		return fo.SymName, fo.Offset, true, true
	}}
}

func otelResolver(s *otelkallsyms.Symbolizer) resolver {
	snap := s.Snapshot()
	return resolver{"otel", func(a uint64) (string, uint64, bool, bool) {
		m, err := snap.GetModuleByAddress(libpf.Address(a))
		if err != nil {
			return "", 0, false, false
		}
		n, off, err := m.LookupSymbolByAddress(libpf.Address(a))
		if err != nil {
			return "", 0, false, false
		}
		return n, uint64(off), true, true
	}}
}

// writeProcDir writes a table as <dir>/kallsyms for tetragon (and cloudflare,
// which takes the file path).
func writeProcDir(dir string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := dir + "/kallsyms"
	return p, os.WriteFile(p, data, 0o644)
}
