package symdiff_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/symdiff"
)

// Real tables (testdata/fixtures/README.md).
const (
	debianDir = "debian-6.1.0-56-amd64/"
	run1A     = debianDir + "boots/run1-A/kallsyms.txt.gz"
	run2B     = debianDir + "boots/run2-B/kallsyms.txt.gz"
	run3C     = debianDir + "boots/run3-C/kallsyms.txt.gz"
	systemMap = debianDir + "System.map.gz"
	fc618     = "firecracker-6.18.44/kallsyms.txt.gz"
)

// load parses a fixture table.
func load(tb testing.TB, rel string) *kallsyms.Table {
	tb.Helper()
	t, err := kallsyms.ParseBytes(fixture.Read(tb, fixture.Path(rel)), kallsyms.Options{Source: rel})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// kaslr holds each boot's KASLR offset: its kallsyms _text minus System.map's
// _text, equal to the kernel's own "Kernel Offset:" line (fixtures README).
var kaslr = map[string]uint64{run1A: 0x18600000, run2B: 0x5800000, run3C: 0x3e00000}

// moduleText reads a boot's module-sections.txt: each module's .text
// address as /sys/module/*/sections/.text showed it.
func moduleText(t *testing.T, table string) map[string]uint64 {
	t.Helper()
	dir := strings.TrimSuffix(table, "kallsyms.txt.gz")
	out := map[string]uint64{}
	for _, line := range strings.Split(string(fixture.Read(t, fixture.Path(dir+"module-sections.txt"))), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[1] == ".text" {
			v, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			out[f[0]] = v
		}
	}
	return out
}

func TestDebianBootsEquivalent(t *testing.T) {
	// Three boots of one build: equal apart from the KASLR offset and the
	// module load addresses, which must be exactly those the kernel reported.
	boots := []string{run1A, run2B, run3C}
	tables := map[string]*kallsyms.Table{}
	for _, b := range boots {
		tables[b] = load(t, b)
	}
	for _, pa := range boots {
		for _, pb := range boots {
			if pa == pb {
				continue
			}
			r, err := symdiff.Compare(tables[pa], tables[pb], symdiff.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Equivalent() || r.Counts() != (symdiff.Counts{}) {
				t.Errorf("%s vs %s: %s", pa, pb, r.Verdict())
			}
			if want := int64(kaslr[pb] - kaslr[pa]); r.Slide() != want {
				t.Errorf("%s vs %s: slide %#x, want %#x", pa, pb, r.Slide(), want)
			}
			if r.A.Compared != 110254 || r.B.Compared != 110254 || len(r.Modules) != 25 || r.Scope != symdiff.ScopeAll {
				t.Errorf("%s vs %s: compared %d and %d symbols in %d modules, scope %s", pa, pb, r.A.Compared, r.B.Compared, len(r.Modules), r.Scope)
			}
			textA, textB := moduleText(t, pa), moduleText(t, pb)
			for _, m := range r.Modules[1:] {
				if m.BaseA != textA[m.Name] || m.BaseB != textB[m.Name] {
					t.Errorf("%s vs %s: module %s bases %#x, %#x; .text at %#x, %#x", pa, pb, m.Name, m.BaseA, m.BaseB, textA[m.Name], textB[m.Name])
				}
			}
		}
	}
}

func TestSystemMapVsKallsyms(t *testing.T) {
	// The build's System.map against each boot: equivalent for the core
	// kernel. Checked with zcat, grep and diff: System.map has 14 names
	// /proc/kallsyms lacks (8 kallsyms_* tables, 3 init_per_cpu__*, and the
	// absolute kexec_control_code_size, text_size, phys_startup_64), and
	// kallsyms has 94,266 core lines; the 24 modules are only in kallsyms.
	sm := load(t, systemMap)
	for _, boot := range []string{run1A, run2B, run3C} {
		r, err := symdiff.Compare(sm, load(t, boot), symdiff.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Equivalent() || !r.ModulesExempt || r.Counts() != (symdiff.Counts{}) {
			t.Errorf("%s: %s", boot, r.Verdict())
		}
		if r.A.Kind != symdiff.KindSystemMap || r.B.Kind != symdiff.KindKallsyms {
			t.Errorf("%s: kinds %s, %s", boot, r.A.Kind, r.B.Kind)
		}
		if r.Slide() != int64(kaslr[boot]) || r.A.Base != 0xffffffff81000000 {
			t.Errorf("%s: slide %#x from %#x, want %#x", boot, r.Slide(), r.A.Base, kaslr[boot])
		}
		if r.A.NotInKallsyms != 14 || r.A.Compared != 94266 || r.B.Compared != 94266 {
			t.Errorf("%s: %d left out, compared %d and %d", boot, r.A.NotInKallsyms, r.A.Compared, r.B.Compared)
		}
		if len(r.OnlyInB) != 24 || len(r.OnlyInA) != 0 || len(r.Modules) != 1 {
			t.Errorf("%s: %d modules only in B, %d in both", boot, len(r.OnlyInB), len(r.Modules))
		}
	}
}

func TestDebianVs618(t *testing.T) {
	r, err := symdiff.Compare(load(t, run1A), load(t, fc618), symdiff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Equivalent() || r.Scope != symdiff.ScopeText || len(r.OnlyInA) != 24 || r.ModulesExempt {
		t.Fatalf("verdict %q, scope %s, %d modules only in A", r.Verdict(), r.Scope, len(r.OnlyInA))
	}
	// The 6.18 table has no data symbols, so Debian's core is cut to what
	// such a kernel lists. awk over run1-A: core symbols in [_stext, _etext]
	// or [_sinittext, _einittext] or named __start_* / __stop_*: 49,623.
	if r.A.Compared != 49623 || r.B.Compared != 122165 {
		t.Errorf("compared %d and %d symbols, want 49623 and 122165", r.A.Compared, r.B.Compared)
	}
	core := r.Core()
	// Each fact checked with zcat | awk '$3==NAME' on both tables (core
	// symbols; _text at 0xffffffff99600000 in run1-A, 0xffffffff81000000 in
	// 6.18).
	facts := []struct {
		what string
		ok   bool
	}{
		// set_flags (t, 0xffffffff996444a0) became set_flags.isra.0 (t,
		// 0xffffffff81317620); neither table has the other name.
		{"renamed set_flags -> set_flags.isra.0 +0x444a0 -> +0x317620", hasChange(core.Renamed, "set_flags", "set_flags.isra.0", 0x444a0, 0x317620)},
		{"renamed __intel_pmu_enable_all.constprop.0 -> __intel_pmu_enable_all.isra.0",
			hasChange(core.Renamed, "__intel_pmu_enable_all.constprop.0", "__intel_pmu_enable_all.isra.0", 0x12d80, 0x25bf70)},
		// The cold part follows: 0xffffffff99ffbbc6 -> 0xffffffff812026c0.
		{"renamed get_sigframe.constprop.0.isra.0.cold -> get_sigframe.cold",
			hasChange(core.Renamed, "get_sigframe.constprop.0.isra.0.cold", "get_sigframe.cold", 0x9fbbc6, 0x2026c0)},
		{"removed start_cpu0 (T 0xffffffff996002c0)", hasSymbol(core.Removed, "start_cpu0", 'T', 0x2c0)},
		{"added pvm_error_entry (T 0xffffffff81000230)", hasSymbol(core.Added, "pvm_error_entry", 'T', 0x230)},
		{"pvh_start_xen t -> T", hasType(core.TypeChanged, "pvh_start_xen", 't', 'T')},
		// vfs_read: 0xffffffff999669e0 and 0xffffffff816d5b70.
		{"moved vfs_read +0x3669e0 -> +0x6d5b70", hasChange(core.Moved, "vfs_read", "vfs_read", 0x3669e0, 0x6d5b70)},
	}
	for _, f := range facts {
		if !f.ok {
			t.Errorf("missing: %s", f.what)
		}
	}
	for _, c := range core.Renamed {
		if c.A.Name == "set_flags" && c.B.Name != "set_flags.isra.0" {
			t.Errorf("set_flags renamed to %s", c.B.Name)
		}
	}
	if s := symNamed(core.Removed, "set_flags"); s != nil {
		t.Errorf("set_flags reported removed as well as renamed")
	}
}

func hasChange(l []symdiff.Change, a, b string, offA, offB uint64) bool {
	for _, c := range l {
		if c.A.Name == a && c.B.Name == b && c.A.Relative && c.B.Relative && c.A.Offset == offA && c.B.Offset == offB {
			return true
		}
	}
	return false
}

func hasSymbol(l []symdiff.Symbol, name string, typ byte, off uint64) bool {
	s := symNamed(l, name)
	return s != nil && s.Type == typ && s.Relative && s.Offset == off
}

func symNamed(l []symdiff.Symbol, name string) *symdiff.Symbol {
	for i := range l {
		if l[i].Name == name {
			return &l[i]
		}
	}
	return nil
}

func hasType(l []symdiff.Change, name string, ta, tb byte) bool {
	for _, c := range l {
		if c.A.Name == name && c.A.Type == ta && c.B.Type == tb {
			return true
		}
	}
	return false
}
