package kallsyms_test

// Acceptance tests against real kernel output: every frame the kernel printed
// in the Debian 6.1 crash logs (testdata/fixtures/debian-6.1.0-56-amd64) must
// be reproduced exactly from that boot's /proc/kallsyms. The expected strings
// are the kernel's own text, never something computed by this package.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"

	"github.com/ksym-dev/ksym/kallsyms"
)

const (
	debianDir        = "../testdata/fixtures/debian-6.1.0-56-amd64"
	bootsDir         = debianDir + "/boots"
	systemMapPath    = debianDir + "/System.map.gz"
	firecrackerTable = "../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz"
)

// boots lists the three real boots with their KASLR offsets as given in
// testdata/fixtures/README.md (kallsyms _text minus System.map _text, equal to
// the kernel's "Kernel Offset:" line).
var boots = []struct {
	name  string
	kaslr uint64
}{
	{"run1-A", 0x18600000},
	{"run2-B", 0x5800000},
	{"run3-C", 0x3e00000},
}

func bootTable(run string) string { return filepath.Join(bootsDir, run, "kallsyms.txt.gz") }

// Parsed tables are shared between tests: each fixture is parsed once.
type tableEntry struct {
	once sync.Once
	t    *kallsyms.Table
	err  error
}

var tables sync.Map // path -> *tableEntry

func openTable(tb testing.TB, path string) *kallsyms.Table {
	tb.Helper()
	e, _ := tables.LoadOrStore(path, &tableEntry{})
	ent := e.(*tableEntry)
	ent.once.Do(func() { ent.t, ent.err = kallsyms.Open(path) })
	if ent.err != nil {
		tb.Fatalf("kallsyms.Open(%s): %v", path, ent.err)
	}
	return ent.t
}

// rawSym is one line of a kallsyms/System.map fixture, split by the test itself
// (strings.Fields), independently of the package under test.
type rawSym struct {
	Addr   uint64
	Type   byte
	Name   string
	Module string // without brackets
	Line   int    // 1-based
}

type rawEntry struct {
	once sync.Once
	syms []rawSym
}

var raws sync.Map // path -> *rawEntry

// readRaw splits a well-formed fixture table into rawSyms, in file order.
func readRaw(tb testing.TB, path string) []rawSym {
	tb.Helper()
	e, _ := raws.LoadOrStore(path, &rawEntry{})
	ent := e.(*rawEntry)
	ent.once.Do(func() {
		sc := bufio.NewScanner(bytes.NewReader(fixture.Read(tb, path)))
		n := 0
		for sc.Scan() {
			n++
			f := strings.Fields(sc.Text())
			if len(f) < 3 || len(f) > 4 || len(f[1]) != 1 {
				panic(fmt.Sprintf("%s:%d: unexpected fixture line %q", path, n, sc.Text()))
			}
			a, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				panic(fmt.Sprintf("%s:%d: %v", path, n, err))
			}
			s := rawSym{Addr: a, Type: f[1][0], Name: f[2], Line: n}
			if len(f) == 4 {
				s.Module = strings.TrimSuffix(strings.TrimPrefix(f[3], "["), "]")
			}
			ent.syms = append(ent.syms, s)
		}
	})
	if ent.syms == nil {
		tb.Fatalf("%s: no symbols read", path)
	}
	return ent.syms
}

// sortedRaw returns the symbols in the order the package promises for Table
// indices: by address, file order among equal addresses.
func sortedRaw(raw []rawSym) []rawSym {
	s := append([]rawSym(nil), raw...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Addr < s[j].Addr })
	return s
}

// rawAddr returns the address of the only core symbol called name.
func rawAddr(tb testing.TB, raw []rawSym, module, name string) uint64 {
	tb.Helper()
	var found []uint64
	for _, s := range raw {
		if s.Name == name && s.Module == module {
			found = append(found, s.Addr)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("fixture has %d symbols %q in module %q, want 1", len(found), name, module)
	}
	return found[0]
}

// frame is one "name+0xOFF/0xSIZE [module]" printed by the kernel.
type frame struct {
	Text   string // canonical: "name+0xoff/0xsize" plus " [module]"
	Name   string
	Module string
	Off    uint64
	Size   uint64
	Where  string // file:line of the first occurrence
}

// frameRE matches %pS/%pB output: after start of line, blank, '(' or ':'
// (as in "RIP: 0010:func+0x5/0x20"), a symbol name, +0xOFF/0xSIZE, and an
// optional " [module]" or " [module buildid]".
var frameRE = regexp.MustCompile(`(?:^|[\s(:])([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([A-Za-z0-9_-]+)(?: [0-9a-f]{40})?\])?`)

// extractFrames returns every distinct frame printed in a boot's logs, sorted
// by text.
func extractFrames(tb testing.TB, run string) []frame {
	tb.Helper()
	dir := filepath.Join(bootsDir, run)
	var files []string
	for _, pat := range []string{"oops-*.txt", "dmesg-sysrq-*.txt", "dmesg-raw.txt.gz"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 3 {
		tb.Fatalf("%s: only %d log files found", dir, len(files))
	}
	seen := map[string]bool{}
	var out []frame
	for _, file := range files {
		sc := bufio.NewScanner(bytes.NewReader(fixture.Read(tb, file)))
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			for _, m := range frameRE.FindAllStringSubmatch(sc.Text(), -1) {
				off, err1 := strconv.ParseUint(m[2], 16, 64)
				size, err2 := strconv.ParseUint(m[3], 16, 64)
				if err1 != nil || err2 != nil {
					tb.Fatalf("%s:%d: bad frame %q", file, n, m[0])
				}
				text := m[1] + "+0x" + m[2] + "/0x" + m[3]
				if m[4] != "" {
					text += " [" + m[4] + "]"
				}
				if seen[text] {
					continue
				}
				seen[text] = true
				out = append(out, frame{Text: text, Name: m[1], Module: m[4], Off: off, Size: size,
					Where: fmt.Sprintf("%s:%d", filepath.Base(file), n)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Text < out[j].Text })
	return out
}

func format(t *kallsyms.Table, loc kallsyms.Location, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return t.FormatLocation(loc)
}

// TestGroundTruthFrames is the acceptance test: every frame of every crash log
// of the three Debian boots is resolved from the address the kernel had and
// must come out exactly as the kernel printed it.
func TestGroundTruthFrames(t *testing.T) {
	total, dupFrames, endFrames, returnChecks := 0, 0, 0, 0
	sawDataArea := false
	for _, b := range boots {
		t.Run(b.name, func(t *testing.T) {
			tab := openTable(t, bootTable(b.name))
			raw := readRaw(t, bootTable(b.name))
			type key struct{ mod, name string }
			byName := map[key][]rawSym{}
			for _, s := range raw {
				byName[key{s.Module, s.Name}] = append(byName[key{s.Module, s.Name}], s)
			}
			frames := extractFrames(t, b.name)
			total += len(frames)
			t.Logf("%s: %d distinct frames in the logs", b.name, len(frames))
			for _, f := range frames {
				if f.Text == "data_area+0x0/0xffffffffffff76e0 [lkdtm]" {
					sawDataArea = true
				}
				cands := byName[key{f.Module, f.Name}]
				if len(cands) == 0 {
					t.Errorf("%s (%s): fixture table has no symbol %q in module %q", f.Text, f.Where, f.Name, f.Module)
					continue
				}
				// Find must list exactly the same addresses as the fixture.
				var want, got []uint64
				for _, c := range cands {
					want = append(want, c.Addr)
				}
				for _, i := range tab.Find(f.Name) {
					if tab.ModuleName(i) == f.Module {
						got = append(got, tab.Addr(i))
					}
				}
				sortU64(want)
				sortU64(got)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("Find(%q) in module %q: addresses %#x, fixture has %#x", f.Name, f.Module, got, want)
				}

				var matched []string
				var report []string
				for _, c := range cands {
					addr := c.Addr + f.Off
					ok, why := checkFrame(tab, f, c, addr)
					if ok {
						matched = append(matched, fmt.Sprintf("%#x (kallsyms line %d)", c.Addr, c.Line))
					} else {
						report = append(report, fmt.Sprintf("candidate %#x (line %d), addr %#x: %s", c.Addr, c.Line, addr, why))
					}
				}
				if f.Off == f.Size {
					endFrames++
				}
				if f.Off > 0 {
					returnChecks++
				}
				switch {
				case len(matched) == 0:
					t.Errorf("%s (%s) not reproduced:\n\t%s", f.Text, f.Where, strings.Join(report, "\n\t"))
				case len(cands) > 1:
					dupFrames++
					t.Logf("%s: name has %d symbols; reproduced by %s", f.Text, len(cands), strings.Join(matched, ", "))
				}
			}
		})
	}
	t.Logf("%d distinct frames checked (%d with duplicated names, %d func+0xN/0xN frames at a function end, %d LookupReturn checks)",
		total, dupFrames, endFrames, returnChecks)
	if total < 200 {
		t.Errorf("only %d frames extracted from the logs, want at least 200: extraction is broken", total)
	}
	if endFrames == 0 {
		t.Errorf("no func+0xN/0xN frame found: extraction is broken")
	}
	if !sawDataArea {
		t.Errorf("the genuine frame data_area+0x0/0xffffffffffff76e0 [lkdtm] of run2-B was not extracted")
	}
}

// checkFrame checks that candidate symbol c reproduces frame f at addr, the way
// the kernel printed it (%pS for OFF < SIZE, %pB for return addresses).
func checkFrame(tab *kallsyms.Table, f frame, c rawSym, addr uint64) (bool, string) {
	var problems []string
	check := func(what string, loc kallsyms.Location, err error) {
		got := format(tab, loc, err)
		if got != f.Text {
			problems = append(problems, fmt.Sprintf("%s = %q", what, got))
			return
		}
		if loc.Offset != f.Off || loc.Size != f.Size || !loc.SizeKnown || tab.Addr(loc.Index) != c.Addr {
			problems = append(problems, fmt.Sprintf("%s Location = %+v (symbol addr %#x), want Offset %#x Size %#x SizeKnown, symbol at %#x",
				what, loc, tab.Addr(loc.Index), f.Off, f.Size, c.Addr))
		}
	}
	if f.Off > f.Size {
		return false, "the kernel never prints an offset larger than the size"
	}
	if f.Off < f.Size { // includes data_area+0x0/0xffffffffffff76e0, a wrapped size
		loc, err := tab.Lookup(addr)
		check("Lookup", loc, err)
	}
	if f.Off > 0 {
		// %pB looks up addr-1 but prints the real offset.
		loc, err := tab.LookupReturn(addr)
		check("LookupReturn", loc, err)
	}
	if f.Off == f.Size && f.Off > 0 {
		// A call to a noreturn function as the last instruction: the return
		// address is the first byte of the next symbol.
		loc, err := tab.Lookup(addr)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("Lookup at function end: %v, want the next symbol", err))
		case loc.Offset != 0 || tab.Addr(loc.Index) != addr || strings.HasPrefix(tab.FormatLocation(loc), f.Name+"+"):
			problems = append(problems, fmt.Sprintf("Lookup at function end = %q, want the next symbol at +0x0", tab.FormatLocation(loc)))
		}
	}
	if len(problems) > 0 {
		return false, strings.Join(problems, "; ")
	}
	return true, ""
}

func sortU64(s []uint64) { sort.Slice(s, func(i, j int) bool { return s[i] < s[j] }) }

// TestGroundTruthTableOrder checks the index order promised by the package
// (address order, file order among equal addresses) and every field against
// the test's own split of the file.
func TestGroundTruthTableOrder(t *testing.T) {
	for _, path := range []string{bootTable("run1-A"), firecrackerTable, systemMapPath} {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			tab := openTable(t, path)
			checkOrder(t, tab, sortedRaw(readRaw(t, path)))
			if tab.Hidden() {
				t.Errorf("Hidden() = true for a table with real addresses")
			}
		})
	}
}

// TestTableOrderShuffled parses the lines of a real table in orders the
// kernel never prints (the sorting code has a fast path for the kernel's own
// order: a sorted core, then modules): module lines shuffled, modules before
// the core, every line shuffled. Indices must follow address order, file
// order among equal addresses, whatever the file order.
func TestTableOrderShuffled(t *testing.T) {
	raw := readRaw(t, bootTable("run1-A"))
	firstMod := slices.IndexFunc(raw, func(s rawSym) bool { return s.Module != "" })
	core, mods := raw[:firstMod], raw[firstMod:]
	shuffled := func(seed uint64, s []rawSym) []rawSym {
		out := slices.Clone(s)
		rand.New(rand.NewPCG(seed, 7)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	cases := []struct {
		name  string
		lines []rawSym
	}{
		{"modules shuffled", slices.Concat(core, shuffled(1, mods))},
		{"modules shuffled again", slices.Concat(core, shuffled(2, mods))},
		{"modules first", slices.Concat(mods, core)},
		{"core reversed", slices.Concat(reversed(core), mods)},
		{"all shuffled", shuffled(3, raw)},
		{"aliases swapped", slices.Concat(shuffled(4, core[:len(core)/2]), core[len(core)/2:], mods)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := kallsyms.ParseBytes(rawText(c.lines), kallsyms.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkOrder(t, tab, sortedRaw(c.lines))
		})
	}
}

// TestTableOrderPerCPUModuleSymbols adds per-CPU module symbols (small offsets
// in a module's lines, like discard_pa_seq [ext4], the one the Debian table
// has) to the Debian table, in the numbers, places and name lengths the real
// tables lack: at the addresses of the core's own per-CPU symbols and between
// them, more of them, or with longer names, than the room the parser keeps
// before its columns for them. (Synthetic lines added to a real table.)
func TestTableOrderPerCPUModuleSymbols(t *testing.T) {
	raw := readRaw(t, bootTable("run1-A"))
	firstMod := slices.IndexFunc(raw, func(s rawSym) bool { return s.Module != "" })
	core, mods := raw[:firstMod], raw[firstMod:]
	var perCPU []uint64 // the core's per-CPU offsets
	for _, s := range core {
		if s.Addr < 1<<20 {
			perCPU = append(perCPU, s.Addr)
		}
	}
	if len(perCPU) < 100 {
		t.Fatalf("%d core per-CPU symbols, want at least 100", len(perCPU))
	}
	lowSyms := func(n, nameLen int) []rawSym {
		out := make([]rawSym, n)
		for k := range out {
			addr := perCPU[k*37%len(perCPU)] + uint64(k%2)*4 // at a core one's address, or just past it
			mod := []string{"ext4", "kvm", "xfs"}[k%3]
			out[k] = rawSym{Addr: addr, Type: 'b', Name: fmt.Sprintf("pcpu_%d_%s", k, strings.Repeat("x", nameLen)), Module: mod}
		}
		return out
	}
	cases := []struct {
		name string
		low  []rawSym
	}{
		{"one", lowSyms(1, 8)},
		{"at zero", []rawSym{{Addr: 0, Type: 'd', Name: "pcpu_zero", Module: "kvm"}}},
		{"31", lowSyms(31, 8)},
		{"32", lowSyms(32, 8)},
		{"33", lowSyms(33, 8)},
		{"200", lowSyms(200, 8)},
		{"long names", lowSyms(5, 500)},
		{"one name longer than the room", lowSyms(1, 3000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			half := len(mods) / 2
			lines := slices.Concat(core, mods[:half], c.low, mods[half:])
			text := rawText(lines)
			want := sortedRaw(lines)
			tab, err := kallsyms.ParseBytes(text, kallsyms.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkOrder(t, tab, want)
			streamed, err := kallsyms.Parse(struct{ io.Reader }{bytes.NewReader(text)}, kallsyms.Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkOrder(t, streamed, want)
		})
	}
}

// rawText writes lines as a kallsyms file.
func rawText(lines []rawSym) []byte {
	var text bytes.Buffer
	for _, s := range lines {
		fmt.Fprintf(&text, "%016x %c %s", s.Addr, s.Type, s.Name)
		if s.Module != "" {
			fmt.Fprintf(&text, "\t[%s]", s.Module)
		}
		text.WriteByte('\n')
	}
	return text.Bytes()
}

func reversed(s []rawSym) []rawSym {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// checkOrder checks that symbol i of tab is want[i], for every i.
func checkOrder(t *testing.T, tab *kallsyms.Table, want []rawSym) {
	t.Helper()
	if tab.Len() != len(want) {
		t.Fatalf("Len() = %d, file has %d lines", tab.Len(), len(want))
	}
	bad := 0
	for i, w := range want {
		s := tab.Symbol(i)
		if s.Name != w.Name || s.Addr != w.Addr || s.Type != w.Type || s.Module != w.Module ||
			tab.Name(i) != w.Name || tab.Addr(i) != w.Addr || tab.Type(i) != w.Type || tab.ModuleName(i) != w.Module {
			if bad++; bad <= 10 {
				t.Errorf("index %d = %+v, want %q %c %#x [%s] (line %d)", i, s, w.Name, w.Type, w.Addr, w.Module, w.Line)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d mismatching indices in all", bad)
	}
}

// TestGroundTruthSystemMap checks that the System.map of the build parses and
// agrees with the three boots' kallsyms, slid by the KASLR offset.
func TestGroundTruthSystemMap(t *testing.T) {
	// The kernel's own statement of the slide, in run1-A's sysrq-c panic.
	oops := string(fixture.Read(t, filepath.Join(bootsDir, "run1-A", "oops-05-sysrq-c.txt")))
	m := regexp.MustCompile(`Kernel Offset: 0x([0-9a-f]+) from 0x([0-9a-f]+)`).FindStringSubmatch(oops)
	if m == nil {
		t.Fatal("no Kernel Offset line in run1-A/oops-05-sysrq-c.txt")
	}
	off, _ := strconv.ParseUint(m[1], 16, 64)
	if off != boots[0].kaslr {
		t.Fatalf("Kernel Offset %#x, README says %#x", off, boots[0].kaslr)
	}

	sm := openTable(t, systemMapPath)
	if sm.Hidden() {
		t.Errorf("System.map: Hidden() = true")
	}
	smText := sm.Find("_text")
	if len(smText) != 1 || sm.Addr(smText[0]) != 0xffffffff81000000 {
		t.Fatalf("System.map Find(_text) = %v", smText)
	}

	coreAddrs := func(tab *kallsyms.Table, name string) []uint64 {
		var a []uint64
		for _, i := range tab.Find(name) {
			if tab.ModuleName(i) == "" {
				a = append(a, tab.Addr(i))
			}
		}
		sortU64(a)
		return a
	}
	checked := 0
	for _, b := range boots {
		tab := openTable(t, bootTable(b.name))
		names := map[string]bool{"_text": true, "_stext": true, "_etext": true, "_end": true}
		for _, f := range extractFrames(t, b.name) {
			if f.Module == "" {
				names[f.Name] = true
			}
		}
		for name := range names {
			want := coreAddrs(sm, name)
			if len(want) == 0 {
				t.Errorf("%s: System.map has no %q", b.name, name)
				continue
			}
			for i := range want {
				want[i] += b.kaslr
			}
			got := coreAddrs(tab, name)
			if fmt.Sprintf("%#x", got) != fmt.Sprintf("%#x", want) {
				t.Errorf("%s: %q at %#x in kallsyms, System.map+KASLR says %#x", b.name, name, got, want)
			}
			checked++
		}
	}
	t.Logf("%d core names checked against System.map", checked)
}

// TestGroundTruthUnprivileged: what a user without CAP_SYSLOG reads.
func TestGroundTruthUnprivileged(t *testing.T) {
	for _, b := range boots {
		t.Run(b.name, func(t *testing.T) {
			path := filepath.Join(bootsDir, b.name, "kallsyms-nonroot-head.txt")
			raw := readRaw(t, path)
			for _, s := range raw {
				if s.Addr != 0 {
					t.Fatalf("fixture line %d has a non-zero address", s.Line)
				}
			}
			tab, err := kallsyms.Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			data := fixture.Read(t, path)
			tab2, err := kallsyms.Parse(bytes.NewReader(data), kallsyms.Options{Source: path})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for _, tb := range []*kallsyms.Table{tab, tab2} {
				if !tb.Hidden() {
					t.Errorf("Hidden() = false")
				}
				if tb.Len() != len(raw) {
					t.Errorf("Len() = %d, want %d", tb.Len(), len(raw))
				}
			}
			// Hidden tables keep file order: the expected indices of a name are
			// its 0-based line numbers.
			for _, name := range []string{"fixed_percpu_data", "cpu_number", "this_cpu_off", raw[len(raw)-1].Name} {
				var want []int
				for i, s := range raw {
					if s.Name == name {
						want = append(want, i)
					}
				}
				if got := tab.Find(name); fmt.Sprint(got) != fmt.Sprint(want) || len(want) == 0 {
					t.Errorf("Find(%q) = %v, want %v", name, got, want)
				}
			}
			for _, addr := range []uint64{0, 0x10, 0xffffffff81000000, 0xffffffffc0000000 + 0x1234} {
				if _, err := tab.Lookup(addr); !errors.Is(err, kallsyms.ErrAddressesHidden) {
					t.Errorf("Lookup(%#x) error = %v, want ErrAddressesHidden", addr, err)
				}
				if _, err := tab.LookupReturn(addr); !errors.Is(err, kallsyms.ErrAddressesHidden) {
					t.Errorf("LookupReturn(%#x) error = %v, want ErrAddressesHidden", addr, err)
				}
			}
		})
	}
}

// TestGroundTruthExports: run1-A has CONFIG_KALLSYMS_ALL, hence __ksymtab_*
// entries in the __ksymtab (kernel_read) and __ksymtab_gpl (register_kprobe)
// ranges; vfs_read has no __ksymtab_ entry. Firecracker has no data symbols.
func TestGroundTruthExports(t *testing.T) {
	tab := openTable(t, bootTable("run1-A"))
	if !tab.HasDataSymbols() {
		t.Errorf("run1-A: HasDataSymbols() = false")
	}
	for _, tc := range []struct {
		name string
		want kallsyms.Export
	}{
		{"kernel_read", kallsyms.Exported},
		{"register_kprobe", kallsyms.ExportedGPL},
		{"vfs_read", kallsyms.NotExported},
		{"_printk", kallsyms.Exported},
	} {
		if got := tab.ExportOf(tc.name); got != tc.want {
			t.Errorf("run1-A ExportOf(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	fc := openTable(t, firecrackerTable)
	if fc.HasDataSymbols() {
		t.Errorf("firecracker: HasDataSymbols() = true")
	}
	for _, name := range []string{"kernel_read", "register_kprobe", "vfs_read"} {
		if got := fc.ExportOf(name); got != kallsyms.ExportUnknown {
			t.Errorf("firecracker ExportOf(%q) = %v, want ExportUnknown", name, got)
		}
	}
}

// TestGroundTruthSections derives the expected section of real symbols from
// the marker symbols of run1-A, checked here by the test itself.
func TestGroundTruthSections(t *testing.T) {
	tab := openTable(t, bootTable("run1-A"))
	raw := readRaw(t, bootTable("run1-A"))
	mark := func(name string) uint64 { return rawAddr(t, raw, "", name) }
	type rng struct{ lo, hi uint64 }
	ranges := map[kallsyms.Section]rng{
		kallsyms.SectionText:     {mark("_stext"), mark("_etext")},
		kallsyms.SectionRodata:   {mark("__start_rodata"), mark("__end_rodata")},
		kallsyms.SectionROAfter:  {mark("__start_ro_after_init"), mark("__end_ro_after_init")},
		kallsyms.SectionData:     {mark("_sdata"), mark("_edata")},
		kallsyms.SectionBSS:      {mark("__bss_start"), mark("__bss_stop")},
		kallsyms.SectionInitText: {mark("_sinittext"), mark("_einittext")},
	}
	end := mark("_end")
	for _, tc := range []struct {
		name string
		typ  byte
		want kallsyms.Section
	}{
		{"vfs_read", 'T', kallsyms.SectionText},
		{"ksys_write", 'T', kallsyms.SectionText},
		{"__x86_return_thunk", 'T', kallsyms.SectionText},
		{"x86_64_start_kernel", 'T', kallsyms.SectionInitText},
		{"use_tpause_delay", 'T', kallsyms.SectionInitText},
		{"__ksymtab_kernel_read", 'r', kallsyms.SectionRodata},
		{"btf_fib6_info_id", 'r', kallsyms.SectionRodata},
		{"vmalloc_base", 'D', kallsyms.SectionROAfter},
		{"kptr_restrict", 'D', kallsyms.SectionData},
		{"filled_random_ptr_key", 'd', kallsyms.SectionData},
		{"idt_table", 'b', kallsyms.SectionBSS},
		{"pc_conf_lock", 'B', kallsyms.SectionBSS},
	} {
		var addr uint64
		n := 0
		for _, s := range raw {
			if s.Name == tc.name && s.Module == "" && s.Type == tc.typ {
				addr = s.Addr
				n++
			}
		}
		if n != 1 {
			t.Fatalf("fixture: %d core symbols %q of type %c", n, tc.name, tc.typ)
		}
		r := ranges[tc.want]
		if addr < r.lo || addr >= r.hi {
			t.Fatalf("test bug: %s %#x not in [%#x,%#x)", tc.name, addr, r.lo, r.hi)
		}
		if tc.want == kallsyms.SectionRodata {
			if ra := ranges[kallsyms.SectionROAfter]; addr >= ra.lo && addr < ra.hi {
				t.Fatalf("test bug: %s is in ro_after_init", tc.name)
			}
		}
		for _, a := range []uint64{addr, addr + 1} {
			if got := tab.Section(a); got != tc.want {
				t.Errorf("Section(%#x) (%s+%d) = %q, want %q", a, tc.name, a-addr, got, tc.want)
			}
		}
	}
	// Module addresses: a function of lkdtm and its data_area-like bss.
	for _, name := range []string{"lkdtm_BUG", "called_count", "lkdtm_debugfs_open"} {
		a := rawAddr(t, raw, "lkdtm", name)
		if got := tab.Section(a); got != kallsyms.SectionModule {
			t.Errorf("Section(%#x) (%s [lkdtm]) = %q, want %q", a, name, got, kallsyms.SectionModule)
		}
	}
	// Outside: just past _end, and a real user-space RSP from run1-A's panic.
	for _, a := range []uint64{end, end + 0x1000, 0x00007fff92228cb8} {
		if got := tab.Section(a); got != kallsyms.SectionNotKernel {
			t.Errorf("Section(%#x) = %q, want %q", a, got, kallsyms.SectionNotKernel)
		}
	}
}

// TestLiveProcKallsyms checks invariants on this machine's table, when it can
// be read with real addresses.
func TestLiveProcKallsyms(t *testing.T) {
	data, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Skipf("/proc/kallsyms not readable: %v", err)
	}
	tab, err := kallsyms.ParseBytes(data, kallsyms.Options{Source: "/proc/kallsyms"})
	if err != nil {
		t.Fatalf("ParseBytes(/proc/kallsyms): %v", err)
	}
	if tab.Hidden() {
		t.Skip("/proc/kallsyms addresses are hidden (not root or kptr_restrict)")
	}
	if _, err := kallsyms.Open("/proc/kallsyms"); err != nil {
		t.Errorf("Open(/proc/kallsyms): %v", err)
	}
	checkSizeInvariants(t, tab, "/proc/kallsyms")
}

// TestSizeInvariants runs the live-table invariants on the fixture tables.
func TestSizeInvariants(t *testing.T) {
	for _, path := range []string{bootTable("run1-A"), bootTable("run2-B"), firecrackerTable} {
		checkSizeInvariants(t, openTable(t, path), path)
	}
}

// checkSizeInvariants: every symbol with a known, non-zero size resolves at its
// start to itself or an alias, and at its last byte to the same symbol.
func checkSizeInvariants(t *testing.T, tab *kallsyms.Table, label string) {
	t.Helper()
	checked, bad := 0, 0
	for i := 0; i < tab.Len(); i++ {
		size, ok := tab.Size(i)
		if !ok || size == 0 {
			continue
		}
		addr := tab.Addr(i)
		loc, err := tab.Lookup(addr)
		if err != nil || tab.Addr(loc.Index) != addr || loc.Offset != 0 || tab.ModuleName(loc.Index) != tab.ModuleName(i) {
			if bad++; bad <= 10 {
				t.Errorf("%s: symbol %d %c %s [%s] at %#x has known size %#x, but Lookup = %+v, %v", label, i, tab.Type(i), tab.Name(i), tab.ModuleName(i), addr, size, loc, err)
			}
			continue
		}
		if last := addr + size - 1; last >= addr { // skip wrapped module data sizes
			loc2, err := tab.Lookup(last)
			if err != nil || loc2.Index != loc.Index || loc2.Offset != size-1 || loc2.Size != loc.Size {
				if bad++; bad <= 10 {
					t.Errorf("%s: symbol %d %s at %#x size %#x: Lookup(last byte) = %+v, %v; Lookup(start) = %+v", label, i, tab.Name(i), addr, size, loc2, err, loc)
				}
				continue
			}
		}
		checked++
	}
	t.Logf("%s: %d of %d symbols checked, %d inconsistent", label, checked, tab.Len(), bad)
	if checked == 0 {
		t.Errorf("%s: no symbol with a known size", label)
	}
}

// TestParseEntryPoints parses a real table through every entry point: in
// memory, streamed from a reader without a size (as /proc/kallsyms is), from
// a regular file (read whole and parsed in parallel), and from a file already
// partly read. Each must give the table the file's lines say.
func TestParseEntryPoints(t *testing.T) {
	path := bootTable("run1-A")
	want := sortedRaw(readRaw(t, path))
	data := fixture.Read(t, path)
	file := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T, skip int) *os.File {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if _, err := f.Seek(int64(skip), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		return f
	}
	firstLine := bytes.IndexByte(data, '\n') + 1
	cases := []struct {
		name  string
		parse func(t *testing.T) (*kallsyms.Table, error)
		want  []rawSym
	}{
		{"ParseBytes", func(*testing.T) (*kallsyms.Table, error) { return kallsyms.ParseBytes(data, kallsyms.Options{}) }, want},
		{"Parse stream", func(*testing.T) (*kallsyms.Table, error) {
			return kallsyms.Parse(bytes.NewReader(data), kallsyms.Options{})
		}, want},
		{"Parse regular file", func(t *testing.T) (*kallsyms.Table, error) {
			return kallsyms.Parse(open(t, 0), kallsyms.Options{})
		}, want},
		{"Parse file after its first line", func(t *testing.T) (*kallsyms.Table, error) {
			return kallsyms.Parse(open(t, firstLine), kallsyms.Options{})
		}, sortedRaw(readRaw(t, path)[1:])},
		{"Open", func(*testing.T) (*kallsyms.Table, error) { return kallsyms.Open(file) }, want},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := c.parse(t)
			if err != nil {
				t.Fatal(err)
			}
			checkOrder(t, tab, c.want)
		})
	}
}
