package bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

// Environment knobs (set by run.sh):
//
//	KSYM_BENCH_TABLES  comma-separated fixture names to benchmark (default: all)
//	KSYM_BENCH_PROC    name of the fixture bind-mounted over /proc/kallsyms in
//	                   a private mount namespace; enables the OTel benchmarks
//	KSYM_BENCH_LIVE    "1": run the live /proc/kallsyms benchmarks
const (
	envTables = "KSYM_BENCH_TABLES"
	envProc   = "KSYM_BENCH_PROC"
	envLive   = "KSYM_BENCH_LIVE"
)

const (
	nAddrs = 4096 // size of the address and name sets (power of two)
	seed1  = 0x6b73796d
	seed2  = 0x62656e6368
)

// fixture is one real kallsyms table, decompressed once.
type fixture struct {
	name    string
	gz      string   // path of the gzip fixture
	data    []byte   // decompressed text
	file    string   // the text written to a temp file
	procDir string   // temp dir holding "kallsyms" (tetragon reads <procfs>/kallsyms)
	lines   int      // number of lines
	addrs   []uint64 // nAddrs addresses inside core kernel text
	want    [][]string
	wantOff []uint64  // offset of addrs[i] from its symbol start
	names   []string  // nAddrs core text symbol names, for name lookups
	starts  []textSym // every core text symbol start in [_stext, _etext), aliases grouped
	stext   uint64
	etext   uint64
	end     uint64 // _end, 0 if absent
	last    uint64 // highest address in the table
}

// textSym is one address of core kernel text with all the names at it and
// the distance to the next higher core symbol.
type textSym struct {
	addr, size uint64
	names      []string
}

var fixtureGz = []struct{ name, path string }{
	{"firecracker", "../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz"},
	{"debian", "../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz"},
}

var (
	tmpRoot     string
	fixturesMu  sync.Mutex
	fixturesMap = map[string]*fixture{}
)

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "ksym-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// tables returns the fixtures selected by KSYM_BENCH_TABLES.
func tables(tb testing.TB) []*fixture {
	sel := os.Getenv(envTables)
	var out []*fixture
	for _, g := range fixtureGz {
		if sel != "" && !containsWord(sel, g.name) {
			continue
		}
		out = append(out, loadFixture(tb, g.name))
	}
	return out
}

func containsWord(list, w string) bool {
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == w {
			return true
		}
	}
	return false
}

func loadFixture(tb testing.TB, name string) *fixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixturesMap[name]; ok {
		return f
	}
	var gzPath string
	for _, g := range fixtureGz {
		if g.name == name {
			gzPath = g.path
		}
	}
	if gzPath == "" {
		tb.Fatalf("unknown fixture %q", name)
	}
	data, err := readGz(gzPath)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{name: name, gz: gzPath, data: data}
	f.procDir = filepath.Join(tmpRoot, name)
	if err := os.MkdirAll(f.procDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	f.file = filepath.Join(f.procDir, "kallsyms")
	if err := os.WriteFile(f.file, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	f.lines = bytes.Count(data, []byte{'\n'})
	if err := f.buildSets(); err != nil {
		tb.Fatal(err)
	}
	fixturesMap[name] = f
	runtime.GC()
	return f
}

func readGz(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// rawSym is one line of a table, parsed by the benchmark itself (no library).
type rawSym struct {
	addr uint64
	typ  byte
	name string
}

// buildSets draws the address and name sets from the table text itself,
// independently of every library under test: core-kernel text symbols between
// _stext and _etext, each symbol's size being the distance to the next core
// symbol with a higher address (the kernel's rule), an address being a symbol
// start plus a uniformly random offset inside that size.
func (f *fixture) buildSets() error {
	var core []rawSym
	sc := bufio.NewScanner(bytes.NewReader(f.data))
	for sc.Scan() {
		line := sc.Text()
		if strings.IndexByte(line, '\t') >= 0 {
			continue // module symbol
		}
		fs := strings.Fields(line)
		if len(fs) != 3 {
			continue
		}
		a, err := strconv.ParseUint(fs[0], 16, 64)
		if err != nil {
			return err
		}
		core = append(core, rawSym{a, fs[1][0], fs[2]})
	}
	sort.SliceStable(core, func(i, j int) bool { return core[i].addr < core[j].addr })
	var stext, etext uint64
	for _, s := range core {
		switch s.name {
		case "_stext":
			stext = s.addr
		case "_etext":
			etext = s.addr
		case "_end":
			f.end = s.addr
		}
		f.last = max(f.last, s.addr)
	}
	if stext == 0 || etext <= stext {
		return fmt.Errorf("%s: no _stext/_etext", f.name)
	}
	// Group aliases and compute sizes.
	var cands []textSym
	for i := 0; i < len(core); {
		j := i
		var names []string
		for j < len(core) && core[j].addr == core[i].addr {
			names = append(names, core[j].name)
			j++
		}
		if j < len(core) && core[i].addr >= stext && core[i].addr < etext {
			isText := false
			for k := i; k < j; k++ {
				switch core[k].typ {
				case 't', 'T', 'w', 'W':
					isText = true
				}
			}
			if isText {
				cands = append(cands, textSym{core[i].addr, core[j].addr - core[i].addr, names})
			}
		}
		i = j
	}
	f.starts, f.stext, f.etext = cands, stext, etext
	rng := rand.New(rand.NewPCG(seed1, seed2))
	f.addrs = make([]uint64, nAddrs)
	f.want = make([][]string, nAddrs)
	f.wantOff = make([]uint64, nAddrs)
	f.names = make([]string, nAddrs)
	for i := range nAddrs {
		c := cands[rng.IntN(len(cands))]
		off := rng.Uint64N(c.size)
		f.addrs[i] = c.addr + off
		f.want[i] = c.names
		f.wantOff[i] = off
		// Names: the names of another random text symbol (any alias).
		n := cands[rng.IntN(len(cands))].names
		f.names[i] = n[rng.IntN(len(n))]
	}
	return nil
}

// ksymReady reports whether kallsyms parses a two-line table without an
// error or a panic. When it does not (a stub of the package, whose
// functions panic), needKsym skips ksym's benchmarks and the peers' run.
var ksymReady = sync.OnceValue(func() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := kallsyms.ParseBytes([]byte("ffffffff81000000 T _stext\nffffffff81000010 T _etext\n"), kallsyms.Options{})
	return err == nil
})

func needKsym(tb testing.TB) {
	tb.Helper()
	if !ksymReady() {
		tb.Skip("kallsyms does not parse a two-line table (a stub of the package?)")
	}
}

// procFixture returns the fixture bind-mounted over /proc/kallsyms, after
// checking that /proc/kallsyms really holds it, or nil.
func procFixture(tb testing.TB, f *fixture) bool {
	tb.Helper()
	if os.Getenv(envProc) != f.name {
		return false
	}
	got, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(got, f.data) {
		tb.Fatalf("%s=%s but /proc/kallsyms does not hold that fixture (run inside run.sh's private mount namespace)", envProc, f.name)
	}
	return true
}

// retainedMiB returns how much live heap build's result keeps, after GC.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mib(after, before uint64) float64 {
	return float64(int64(after)-int64(before)) / (1 << 20)
}
