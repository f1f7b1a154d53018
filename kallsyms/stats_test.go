package kallsyms

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const statsFixture = "../testdata/fixtures/debian-6.1.0-56-amd64/boots/run2-B/kallsyms.txt.gz"

// rawSym is one line of a kallsyms text, read by the test itself.
type rawSym struct {
	addr uint64
	typ  byte
	name string
	mod  string
}

// readRaw gunzips and splits a kallsyms file without the package.
func readRaw(t *testing.T, path string) ([]rawSym, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	var out []rawSym
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		s := rawSym{addr: a, typ: f[1][0], name: f[2]}
		if len(f) > 3 {
			s.mod = strings.Trim(f[3], "[]")
		}
		out = append(out, s)
	}
	return out, buf.Bytes()
}

func TestComputeStatsDebian(t *testing.T) {
	raw, data := readRaw(t, statsFixture)
	tab, err := ParseBytes(data, Options{Source: statsFixture})
	if err != nil {
		t.Fatal(err)
	}
	st := ComputeStats(tab, 1<<30)

	// Counts from the README and a plain scan of the text.
	wantTypes := map[string]int{"A": 383, "B": 719, "D": 3158, "R": 54, "T": 23838, "V": 1, "W": 171,
		"a": 1, "b": 2928, "d": 31249, "r": 14324, "t": 33428}
	if len(st.ByType) != len(wantTypes) {
		t.Errorf("ByType has %d letters, want %d: %v", len(st.ByType), len(wantTypes), st.ByType)
	}
	for k, v := range wantTypes {
		if st.ByType[k] != v {
			t.Errorf("ByType[%s] = %d, want %d", k, st.ByType[k], v)
		}
	}
	checkInt(t, "Symbols", st.Symbols, 110254)
	checkInt(t, "CoreSymbols", st.CoreSymbols, 94266)
	checkInt(t, "ModuleSymbols", st.ModuleSymbols, 15988)
	checkInt(t, "Modules", st.Modules, 24)
	if st.Hidden || !st.HasDataSymbols {
		t.Errorf("Hidden = %v, HasDataSymbols = %v", st.Hidden, st.HasDataSymbols)
	}

	// Per-module symbol and text-symbol counts, from the scan.
	count := map[string][2]int{}
	for _, s := range raw {
		m := s.mod
		if m == "" {
			m = CoreModuleName
		}
		c := count[m]
		c[0]++
		if strings.IndexByte("TtWw", s.typ) >= 0 {
			c[1]++
		}
		count[m] = c
	}
	if len(st.ByModule) != len(count) {
		t.Fatalf("ByModule has %d entries, want %d", len(st.ByModule), len(count))
	}
	if st.ByModule[0].Name != CoreModuleName || st.ByModule[0].Kind != "core" {
		t.Errorf("ByModule[0] = %+v, want the core kernel first", st.ByModule[0])
	}
	var sum uint64
	for _, m := range st.ByModule {
		if c := count[m.Name]; m.Symbols != c[0] || m.TextSymbols != c[1] {
			t.Errorf("module %s: %d symbols, %d text; want %d, %d", m.Name, m.Symbols, m.TextSymbols, c[0], c[1])
		}
		if m.Name != CoreModuleName && m.Kind != "module" {
			t.Errorf("module %s: kind %q", m.Name, m.Kind)
		}
		sum += m.TextBytes
	}
	if sum != st.TextBytes {
		t.Errorf("TextBytes = %d, sum over modules %d", st.TextBytes, sum)
	}

	// Core text: every symbol extends to the next higher core address.
	wantBytes, wantTop := coreText(raw)
	if got := st.ByModule[0].TextBytes; got != wantBytes {
		t.Errorf("core TextBytes = %d, want %d", got, wantBytes)
	}
	var gotTop []FunctionSize
	for _, f := range st.Largest {
		if f.Module == "" {
			gotTop = append(gotTop, f)
		}
	}
	for k := 0; k < 25; k++ {
		if gotTop[k] != wantTop[k] {
			t.Errorf("largest core function #%d = %+v, want %+v", k, gotTop[k], wantTop[k])
		}
	}
	// The kernel's own %pS output in this boot's logs gives these sizes.
	for name, size := range map[string]uint64{"vfs_write": 0x3f0, "do_syscall_64": 0xb0, "usercopy_abort": 0x77} {
		if !hasFunction(st.Largest, name, "", size) {
			t.Errorf("Largest has no %s of size %#x", name, size)
		}
	}
	if !hasFunction(st.Largest, "lkdtm_EXCEPTION", "lkdtm", 0x20) {
		t.Error("Largest has no lkdtm_EXCEPTION [lkdtm] of size 0x20")
	}
}

// coreText computes, independently of the package, the core kernel's text
// bytes (each address once) and its text symbols by size.
func coreText(raw []rawSym) (uint64, []FunctionSize) {
	var addrs []uint64
	for _, s := range raw {
		if s.mod == "" {
			addrs = append(addrs, s.addr)
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	next := map[uint64]uint64{}
	for i := 0; i+1 < len(addrs); i++ {
		if addrs[i+1] != addrs[i] {
			next[addrs[i]] = addrs[i+1]
		}
	}
	var total uint64
	counted := map[uint64]bool{}
	var funcs []FunctionSize
	for _, s := range raw {
		n, ok := next[s.addr]
		if s.mod != "" || !ok || strings.IndexByte("TtWw", s.typ) < 0 {
			continue
		}
		funcs = append(funcs, FunctionSize{Name: s.name, Size: n - s.addr})
		if !counted[s.addr] {
			counted[s.addr] = true
			total += n - s.addr
		}
	}
	sort.Slice(funcs, func(i, j int) bool {
		if funcs[i].Size != funcs[j].Size {
			return funcs[i].Size > funcs[j].Size
		}
		return funcs[i].Name < funcs[j].Name
	})
	return total, funcs
}

func hasFunction(list []FunctionSize, name, mod string, size uint64) bool {
	for _, f := range list {
		if f.Name == name && f.Module == mod && f.Size == size {
			return true
		}
	}
	return false
}

func checkInt(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

func TestComputeStatsTop(t *testing.T) {
	_, data := readRaw(t, statsFixture)
	tab, err := ParseBytes(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ top, want int }{{-1, 0}, {0, 0}, {1, 1}, {3, 3}} {
		st := ComputeStats(tab, tt.top)
		if len(st.Largest) != tt.want || st.Largest == nil {
			t.Errorf("top %d: %d entries (nil %v), want %d", tt.top, len(st.Largest), st.Largest == nil, tt.want)
		}
	}
	// Ties are broken by name: both markers end the text at the same place.
	st := ComputeStats(tab, 2)
	want := []FunctionSize{{"__indirect_thunk_end", "", 2089678}, {"_etext", "", 2089678}}
	for k := range want {
		if st.Largest[k] != want[k] {
			t.Errorf("Largest[%d] = %+v, want %+v", k, st.Largest[k], want[k])
		}
	}
}

func TestComputeStatsHidden(t *testing.T) {
	// The first lines of /proc/kallsyms as an unprivileged user sees them.
	data, err := os.ReadFile("../testdata/fixtures/debian-6.1.0-56-amd64/boots/run2-B/kallsyms-nonroot-head.txt")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := ParseBytes(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := ComputeStats(tab, 5)
	lines := bytes.Count(data, []byte("\n"))
	if !st.Hidden || st.Symbols != lines || st.TextBytes != 0 || len(st.Largest) != 0 {
		t.Errorf("hidden: %+v, want %d symbols, no sizes", st, lines)
	}
	n := 0
	for _, v := range st.ByType {
		n += v
	}
	if n != lines {
		t.Errorf("ByType sums to %d, want %d", n, lines)
	}
}
