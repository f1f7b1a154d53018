package bench

// Correctness demonstrations: each trap is shown on real tables (or a real
// table with one line changed), the peers' observed behaviour is logged with
// t.Log (never a failure: it documents them), and ksym's is asserted.
//
//	go test -run 'Trap|Agreement' -v .        (as root, so OTel can be fed the fixture)

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

const debianBoot = "../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A/"

// peerSet is ksym plus every peer built on one table.
type peerSet struct {
	ksym  *kallsyms.Table
	peers []resolver // peers only, in a fixed order
}

// buildPeers builds ksym and every peer on data. Peers that refuse the table
// are logged and left out. mods feeds OTel's /sys/module when not nil.
func buildPeers(t *testing.T, data []byte, mods []sysModuleEntry) peerSet {
	t.Helper()
	var ps peerSet
	kt, err := kallsyms.ParseBytes(data, kallsyms.Options{})
	if err != nil {
		t.Fatalf("ksym: %v", err)
	}
	ps.ksym = kt

	if tab, err := buildPyroscope(data); err != nil {
		t.Logf("pyroscope: constructor error: %v", err)
	} else {
		ps.peers = append(ps.peers, pyroscopeResolver(tab))
	}
	if k, err := buildIG(data); err != nil {
		t.Logf("inspektor-gadget: constructor error: %v", err)
	} else {
		ps.peers = append(ps.peers, igResolver(k))
	}
	dir := t.TempDir()
	file, err := writeProcDir(dir, data)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := buildCloudflare(file); err != nil {
		t.Logf("cloudflare: constructor error: %v", err)
	} else {
		ps.peers = append(ps.peers, cloudflareResolver(d))
	}
	if k, err := buildTetragon(dir); err != nil {
		t.Logf("tetragon: constructor error: %v", err)
	} else {
		ps.peers = append(ps.peers, tetragonResolver(k))
	}
	var otelErr error
	nsErr := inProcNamespace(t, data, mods, func() {
		s, err := buildOTel()
		if err != nil {
			otelErr = err
			return
		}
		ps.peers = append(ps.peers, otelResolver(s))
	})
	switch {
	case nsErr != nil:
		t.Logf("otel: not run (%v)", nsErr)
	case otelErr != nil:
		t.Logf("otel: constructor error: %v", otelErr)
	}
	return ps
}

// debianModules returns the modules of the Debian run1-A boot as OTel reads
// them from sysfs: .text from /sys/module/*/sections, size from /proc/modules.
func debianModules(t *testing.T) []sysModuleEntry {
	t.Helper()
	text := map[string]uint64{}
	sec, err := os.ReadFile(filepath.Join(debianBoot, "module-sections.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(sec), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[1] == ".text" {
			a, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			text[f[0]] = a
		}
	}
	pm, err := os.ReadFile(filepath.Join(debianBoot, "modules.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []sysModuleEntry
	for _, line := range strings.Split(string(pm), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		size, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := text[f[0]]; ok {
			out = append(out, sysModuleEntry{name: f[0], text: a, size: size})
		}
	}
	return out
}

func fixtureMods(t *testing.T, f *fixture) []sysModuleEntry {
	if f.name == "debian" {
		return debianModules(t)
	}
	return nil
}

// TestAgreement resolves the benchmark's 4096 random core-text addresses with
// every library and counts right answers (name among the aliases at the
// symbol's start; offset, where the library reports one).
func TestAgreement(t *testing.T) {
	for _, f := range tables(t) {
		t.Run(f.name, func(t *testing.T) {
			ps := buildPeers(t, f.data, fixtureMods(t, f))
			for i, a := range f.addrs {
				loc, err := ps.ksym.Lookup(a)
				if err != nil {
					t.Fatalf("ksym: Lookup(%#x): %v", a, err)
				}
				if n := ps.ksym.Name(loc.Index); !slices.Contains(f.want[i], n) || loc.Offset != f.wantOff[i] {
					t.Errorf("ksym: Lookup(%#x) = %s+%#x, want one of %v +%#x", a, n, loc.Offset, f.want[i], f.wantOff[i])
				}
			}
			t.Logf("%-17s %6s %6s %s", "library", "names", "offs", "first wrong answer")
			t.Logf("%-17s %6d %6d", "ksym", len(f.addrs), len(f.addrs))
			for _, p := range ps.peers {
				names, offs, offKnown := 0, 0, false
				firstBad := ""
				for i, a := range f.addrs {
					n, off, ok2, ok := p.lookup(a)
					offKnown = offKnown || ok2
					goodName := ok && slices.Contains(f.want[i], n)
					if goodName {
						names++
					}
					if ok2 && off == f.wantOff[i] && goodName {
						offs++
					}
					if !goodName && firstBad == "" {
						firstBad = fmt.Sprintf("%#x: got %q (ok=%v), want %v+%#x", a, n, ok, f.want[i], f.wantOff[i])
					}
				}
				offStr := "n/a"
				if offKnown {
					offStr = strconv.Itoa(offs)
				}
				t.Logf("%-17s %6d %6s %s", p.name, names, offStr, firstBad)
			}
		})
	}
}

// TestTrapExactStart: an address equal to a symbol's start must resolve to that
// symbol (offset 0), not to the previous one.
func TestTrapExactStart(t *testing.T) {
	for _, f := range tables(t) {
		t.Run(f.name, func(t *testing.T) {
			ps := buildPeers(t, f.data, fixtureMods(t, f))
			for _, s := range f.starts {
				loc, err := ps.ksym.Lookup(s.addr)
				if err != nil || loc.Offset != 0 || !slices.Contains(s.names, ps.ksym.Name(loc.Index)) {
					t.Fatalf("ksym: Lookup(%#x) = %+v, %v; want %v+0x0", s.addr, loc, err, s.names)
				}
			}
			t.Logf("ksym: all %d core text symbol starts resolve to themselves with offset 0", len(f.starts))
			for _, p := range ps.peers {
				bad := 0
				example := ""
				for _, s := range f.starts {
					n, off, offKnown, ok := p.lookup(s.addr)
					if !ok || !slices.Contains(s.names, n) || offKnown && off != 0 {
						bad++
						if example == "" {
							example = fmt.Sprintf("%#x (%s): got %q+%#x ok=%v", s.addr, s.names[0], n, off, ok)
						}
					}
				}
				t.Logf("%s: %d of %d symbol starts resolve to another symbol; e.g. %s", p.name, bad, len(f.starts), example)
			}
		})
	}
}

// modSym is a module text symbol whose size is certain: the next higher symbol
// of the same module is text too (so the module's text end does not matter).
type modSym struct {
	mod        string
	names      []string // aliases at addr
	addr, size uint64
}

func moduleTextSyms(t *testing.T, data []byte) []modSym {
	t.Helper()
	type line struct {
		addr uint64
		typ  byte
		name string
	}
	per := map[string][]line{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		s := sc.Text()
		tab := strings.IndexByte(s, '\t')
		if tab < 0 {
			continue
		}
		mod := strings.Trim(s[tab+1:], "[]")
		if mod == "bpf" || strings.HasPrefix(mod, "__builtin__") {
			continue
		}
		f := strings.Fields(s[:tab])
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		per[mod] = append(per[mod], line{a, f[1][0], f[2]})
	}
	var out []modSym
	for mod, ls := range per {
		sort.SliceStable(ls, func(i, j int) bool { return ls[i].addr < ls[j].addr })
		for i := 0; i < len(ls); i++ {
			if ls[i].typ != 't' && ls[i].typ != 'T' {
				continue
			}
			j := i + 1
			for j < len(ls) && ls[j].addr == ls[i].addr {
				j++
			}
			if i > 0 && ls[i-1].addr == ls[i].addr || j == len(ls) || ls[j].typ != 't' && ls[j].typ != 'T' {
				continue // later alias, or size not certain
			}
			var names []string
			for k := i; k < j; k++ {
				names = append(names, ls[k].name)
			}
			out = append(out, modSym{mod, names, ls[i].addr, ls[j].addr - ls[i].addr})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}

// TestTrapModules: module lines in /proc/kallsyms are grouped by module but not
// sorted by address inside a module, and carry "\t[module]". A reader must
// sort them before binary searching, and strip the module from the name.
func TestTrapModules(t *testing.T) {
	f := loadFixture(t, "debian")
	syms := moduleTextSyms(t, f.data)
	rng := rand.New(rand.NewPCG(seed1, seed2+1))
	addrs := make([]uint64, 2048)
	want := make([]modSym, len(addrs))
	for i := range addrs {
		s := syms[rng.IntN(len(syms))]
		addrs[i], want[i] = s.addr+rng.Uint64N(s.size), s
	}
	ps := buildPeers(t, f.data, debianModules(t))
	for i, a := range addrs {
		loc, err := ps.ksym.Lookup(a)
		if err != nil {
			t.Fatalf("ksym: Lookup(%#x): %v", a, err)
		}
		if n, m := ps.ksym.Name(loc.Index), ps.ksym.ModuleName(loc.Index); !slices.Contains(want[i].names, n) || m != want[i].mod || loc.Offset != a-want[i].addr {
			t.Errorf("ksym: Lookup(%#x) = %s+%#x [%s], want %v+%#x [%s]", a, n, loc.Offset, m, want[i].names, a-want[i].addr, want[i].mod)
		}
	}
	t.Logf("ksym: %d/%d module addresses right (name, offset, module); no name holds a tab", len(addrs), len(addrs))
	for _, p := range ps.peers {
		right, tabbed, none := 0, 0, 0
		var wrongEx, tabEx string
		for i, a := range addrs {
			n, off, offKnown, ok := p.lookup(a)
			switch {
			case !ok:
				none++
			case slices.Contains(want[i].names, n) && (!offKnown || off == a-want[i].addr):
				right++
			case strings.Contains(n, "\t"):
				tabbed++
				if slices.Contains(want[i].names, n[:strings.IndexByte(n, '\t')]) {
					right++ // right symbol, polluted name
				}
				if tabEx == "" {
					tabEx = fmt.Sprintf("%q", n)
				}
			default:
				if wrongEx == "" {
					wrongEx = fmt.Sprintf("%#x: got %q+%#x, want %v+%#x [%s]", a, n, off, want[i].names, a-want[i].addr, want[i].mod)
				}
			}
		}
		t.Logf("%s: %d/%d right symbol, %d names with \"\\t[module]\" inside (e.g. %s), %d unresolved; first wrong: %s",
			p.name, right, len(addrs), tabbed, tabEx, none, wrongEx)
	}
}

// TestTrapOutside: addresses the kernel itself would not resolve (past the end
// of the image, in the gap between text and init text of a table without
// data symbols, between the image and the modules, past the last module).
func TestTrapOutside(t *testing.T) {
	type probe struct {
		what string
		addr uint64
	}
	for _, f := range tables(t) {
		t.Run(f.name, func(t *testing.T) {
			probes := []probe{
				{"user-space address 0x400000", 0x400000},
				{"past the highest core symbol (+1 MiB)", f.last + 1<<20},
			}
			if f.end != 0 {
				probes = append(probes, probe{"_end + 0x1000", f.end + 0x1000})
			}
			var mods []sysModuleEntry
			if f.name == "debian" {
				mods = debianModules(t)
				var top uint64
				for _, m := range mods {
					top = max(top, m.text+m.size)
				}
				probes = append(probes,
					probe{"between the kernel image and the modules (0xffffffffc0000000 - 0x1000)", 0xffffffffc0000000 - 0x1000},
					probe{"past the end of the highest module (+0x1000)", top + 0x1000})
			} else {
				probes = append(probes,
					probe{"_etext + 0x1000 (not text; no CONFIG_KALLSYMS_ALL)", f.etext + 0x1000})
			}
			ps := buildPeers(t, f.data, mods)
			for _, pr := range probes {
				loc, err := ps.ksym.Lookup(pr.addr)
				if !errors.Is(err, kallsyms.ErrNoSymbol) {
					t.Errorf("ksym: %s %#x: got %+v, %v; want ErrNoSymbol", pr.what, pr.addr, loc, err)
				}
				line := fmt.Sprintf("%s %#x: ksym: %v", pr.what, pr.addr, err)
				for _, p := range ps.peers {
					n, off, offKnown, ok := p.lookup(pr.addr)
					switch {
					case !ok:
						line += fmt.Sprintf("; %s: none", p.name)
					case offKnown:
						line += fmt.Sprintf("; %s: %s+%#x", p.name, n, off)
					default:
						line += fmt.Sprintf("; %s: %q", p.name, n)
					}
				}
				t.Log(line)
			}
		})
	}
}

// TestTrapHidden: a table read without privilege has every address zero. It
// must be reported, not accepted as a table where everything is at 0.
func TestTrapHidden(t *testing.T) {
	head, err := os.ReadFile(filepath.Join(debianBoot, "kallsyms-nonroot-head.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The whole table as a non-root reader sees it: every address zero
	// (the real head above shows the format).
	f := loadFixture(t, "debian")
	zero := bytes.Repeat([]byte{'0'}, 16)
	var full bytes.Buffer
	for _, line := range bytes.SplitAfter(f.data, []byte{'\n'}) {
		if len(line) > 16 {
			full.Write(zero)
			full.Write(line[16:])
		}
	}
	for _, in := range []struct {
		what string
		data []byte
	}{
		{"real non-root read, first 200 lines", head},
		{"run1-A with every address zeroed (110,254 lines)", full.Bytes()},
	} {
		t.Run(strings.Fields(in.what)[0], func(t *testing.T) {
			t.Log(in.what)
			hiddenProbe(t, in.data)
		})
	}
}

func hiddenProbe(t *testing.T, data []byte) {
	kt, err := kallsyms.ParseBytes(data, kallsyms.Options{})
	switch {
	case errors.Is(err, kallsyms.ErrAddressesHidden):
		t.Logf("ksym: ParseBytes: %v", err)
	case err != nil:
		t.Fatalf("ksym: ParseBytes: %v", err)
	default:
		if !kt.Hidden() {
			t.Fatal("ksym: Hidden() = false on an all-zero table")
		}
		if _, err := kt.Lookup(0xffffffff81000000); !errors.Is(err, kallsyms.ErrAddressesHidden) {
			t.Fatalf("ksym: Lookup on a hidden table: %v, want ErrAddressesHidden", err)
		}
		t.Logf("ksym: parsed, Hidden()=true, Lookup returns %v", kallsyms.ErrAddressesHidden)
	}
	const probe = 0xffffffff99600000 // _text of that boot
	if tab, err := buildPyroscope(data); err != nil {
		t.Logf("pyroscope: error %v", err)
	} else {
		s := tab.Resolve(probe)
		t.Logf("pyroscope: accepted, no error; Resolve(%#x) = %+v (empty table, silently)", uint64(probe), s)
	}
	if k, err := buildIG(data); err != nil {
		t.Logf("inspektor-gadget: error %v", err)
	} else {
		t.Logf("inspektor-gadget: accepted, no error; LookupByInstructionPointer(%#x) = %q", uint64(probe), k.LookupByInstructionPointer(probe))
	}
	dir := t.TempDir()
	file, err := writeProcDir(dir, data)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := buildCloudflare(file); err != nil {
		t.Logf("cloudflare: error %v", err)
	} else {
		t.Logf("cloudflare: accepted, no error; Stack(%#x) = %q", uint64(probe), d.Stack([]uintptr{probe})[0].Sym)
	}
	// Tetragon consults <procfs>/sys/kernel/kptr_restrict: unreadable or 2
	// means it accepts the table and fails lookups; 0 or 1 means an error.
	for _, kr := range []string{"", "2", "0"} {
		d := t.TempDir()
		if _, err := writeProcDir(d, data); err != nil {
			t.Fatal(err)
		}
		label := "kptr_restrict unreadable"
		if kr != "" {
			label = "kptr_restrict=" + kr
			if err := os.MkdirAll(d+"/sys/kernel", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(d+"/sys/kernel/kptr_restrict", []byte(kr+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if k, err := buildTetragon(d); err != nil {
			t.Logf("tetragon (%s): error %v", label, err)
		} else {
			_, lerr := k.GetFnOffset(probe)
			t.Logf("tetragon (%s): accepted, no error; GetFnOffset: %v", label, lerr)
		}
	}
	var otelErr error
	if nsErr := inProcNamespace(t, data, nil, func() { _, otelErr = buildOTel() }); nsErr != nil {
		t.Logf("otel: not run (%v)", nsErr)
	} else {
		t.Logf("otel: NewSymbolizer error: %v", otelErr)
	}
}

// TestTrapLongName: since Linux 6.1 (Rust) KSYM_NAME_LEN is 512: names up to
// 511 bytes. The firecracker table with one text symbol renamed to 300 bytes.
func TestTrapLongName(t *testing.T) {
	f := loadFixture(t, "firecracker")
	s := f.starts[len(f.starts)/2]
	old := s.names[0]
	long := "_RNvMs_NtNtCs" + strings.Repeat("kernel_rust_module_path_", 12) + "long_symbol"
	long = long[:300]
	// Rename every line that has this name at this address.
	oldLine := fmt.Sprintf("%016x ", s.addr)
	var out bytes.Buffer
	renamed := 0
	for _, line := range strings.SplitAfter(string(f.data), "\n") {
		if strings.HasPrefix(line, oldLine) && strings.HasSuffix(strings.TrimSuffix(line, "\n"), " "+old) {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), old) + long + "\n"
			renamed++
		}
		out.WriteString(line)
	}
	if renamed != 1 {
		t.Fatalf("renamed %d lines", renamed)
	}
	data := out.Bytes()
	addr := s.addr + s.size/2
	ps := buildPeers(t, data, nil)
	loc, err := ps.ksym.Lookup(addr)
	if err != nil {
		t.Fatal(err)
	}
	// The symbol may have aliases; check the long one is among them.
	idx := ps.ksym.AppendFind(nil, long)
	if len(idx) != 1 || ps.ksym.Addr(idx[0]) != s.addr {
		t.Fatalf("ksym: Find(300-byte name) = %v", idx)
	}
	t.Logf("ksym: Lookup(%#x) = %s (%d bytes); Find(long name) -> %#x", addr, ps.ksym.FormatLocation(loc), len(ps.ksym.Name(loc.Index)), ps.ksym.Addr(idx[0]))
	for _, p := range ps.peers {
		n, _, _, ok := p.lookup(addr)
		if !ok {
			t.Logf("%s: unresolved", p.name)
			continue
		}
		if !slices.Contains(s.names[1:], n) {
			t.Logf("%s: name of %d bytes (the table has %d)%s", p.name, len(n), len(long), map[bool]string{true: "", false: ": TRUNCATED"}[n == long])
		} else {
			t.Logf("%s: returned alias %q", p.name, n)
		}
	}
}
