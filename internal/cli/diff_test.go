package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Real tables for ksym diff (testdata/fixtures/README.md).
const (
	debianDir  = "../../testdata/fixtures/debian-6.1.0-56-amd64/"
	diffRun1   = debianDir + "boots/run1-A/kallsyms.txt.gz"
	diffRun2   = debianDir + "boots/run2-B/kallsyms.txt.gz"
	diffSysMap = debianDir + "System.map.gz"
	diff618    = "../../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz"
	debianMods = "bridge crc16 crc32c_generic crc32c_intel dummy ext4 fat fuse jbd2 libcrc32c lkdtm llc loop mbcache nf_tables nfnetlink nls_ascii nls_cp437 overlay sha3_generic stp veth vfat xfs"
)

const diffDebianLine = "kallsyms, 110254 symbols (94266 core, 15988 in 24 modules)\n"

func TestDiffDebianBoots(t *testing.T) {
	// Two boots of one build. The bases are the kernel's KASLR offsets
	// (run1-A 0x18600000, run2-B 0x5800000 above 0xffffffff81000000).
	out, errs, code := run(t, "", "diff", diffRun1, diffRun2)
	want := "A         " + diffRun1 + ": " + diffDebianLine +
		"B         " + diffRun2 + ": " + diffDebianLine +
		"base      A _text 0xffffffff99600000, B _text 0xffffffff86800000 (moved by -0x12e00000)\n" +
		"modules   24 in both (24 loaded at other addresses)\n" +
		"equivalent: same symbols, types, sizes and positions relative to the kernel and module bases; " +
		"kernel base moved by -0x12e00000 (KASLR), 24 modules loaded at other addresses\n"
	if out != want || errs != "" || code != 0 {
		t.Errorf("got exit %d, stderr %q, output\n%s\nwant\n%s", code, errs, out, want)
	}
	// Details of equivalent tables: nothing after the blank line.
	out, _, code = run(t, "", "diff", "-v", diffRun1, diffRun2)
	if out != want+"\n" || code != 0 {
		t.Errorf("-v: exit %d, output\n%s", code, out)
	}
}

func TestDiffSystemMap(t *testing.T) {
	out, errs, code := run(t, "", "diff", diffSysMap, diffRun2)
	want := "A         " + diffSysMap + ": System.map, 94280 symbols\n" +
		"B         " + diffRun2 + ": " + diffDebianLine +
		"base      A _text 0xffffffff81000000, B _text 0xffffffff86800000 (moved by +0x5800000)\n" +
		"note      A is a System.map: 14 symbols /proc/kallsyms never lists (absolute symbols, the kallsyms tables) left out; its per-CPU symbols (d, D) match kallsyms' A\n" +
		"note      A is a System.map, which lists no modules: 24 modules only in B not compared\n" +
		"modules   0 in both\n" +
		"only in B 24 modules, 15988 symbols: " + debianMods + "\n" +
		"equivalent: same symbols, types, sizes and positions relative to the kernel and module bases; kernel base moved by +0x5800000 (KASLR)\n"
	if out != want || errs != "" || code != 0 {
		t.Errorf("got exit %d, stderr %q, output\n%s\nwant\n%s", code, errs, out, want)
	}
}

func TestDiffDebianVs618(t *testing.T) {
	out, _, code := run(t, "", "diff", diffRun1, diff618)
	want := "A         " + diffRun1 + ": " + diffDebianLine +
		"B         " + diff618 + ": kallsyms, 122165 symbols (122165 core, 0 in 0 modules), no data symbols\n" +
		"base      A _text 0xffffffff99600000, B _text 0xffffffff81000000 (moved by -0x18600000)\n" +
		"note      B has no data symbols (kernel built without CONFIG_KALLSYMS_ALL): compared only code symbols and section markers, as such a kernel lists them; 44643 symbols of A left out\n" +
		"modules   0 in both\n" +
		"only in A 24 modules, 15988 symbols: " + debianMods + "\n" +
		"module     added  removed  renamed     type  resized    moved\n" +
		"vmlinux    87794    15252      302      247    22806    34067\n" +
		"differ: 87794 added, 15252 removed, 302 renamed, 247 changed type, 22806 resized, 34067 moved, 24 modules only in A\n"
	if out != want || code != 1 {
		t.Errorf("got exit %d, output\n%s\nwant\n%s", code, out, want)
	}
	// Facts checked with zcat | awk '$3==NAME' on both tables; offsets from
	// _text (0xffffffff99600000 in run1-A, 0xffffffff81000000 in 6.18).
	out, _, code = run(t, "", "diff", "--only", "renamed,removed", diffRun1, diff618)
	details := strings.SplitN(out, "\n\n", 2)
	if code != 1 || len(details) != 2 {
		t.Fatalf("--only: exit %d, no details in\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSuffix(details[1], "\n"), "\n")
	for _, l := range []string{
		"renamed  vmlinux  t set_flags -> t set_flags.isra.0  +0x444a0 -> +0x317620",
		"renamed  vmlinux  t get_sigframe.constprop.0.isra.0.cold -> t get_sigframe.cold  +0x9fbbc6 -> +0x2026c0",
		"removed  vmlinux  T start_cpu0  +0x2c0 size 0xc",
	} {
		if !slices.Contains(lines, l) {
			t.Errorf("missing line %q", l)
		}
	}
	kinds := map[string]int{}
	for _, l := range lines {
		kinds[strings.Fields(l)[0]]++
	}
	if len(kinds) != 2 || kinds["renamed"] != 302 || kinds["removed"] != 15252 {
		t.Errorf("--only renamed,removed listed %v", kinds)
	}
}

func TestDiffJSON(t *testing.T) {
	out, _, code := run(t, "", "--json", "diff", "--details", "--module", "lkdtm", "--only", "moved", diffRun1, diffRun2)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got diffReport
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// lkdtm's .text: 0xffffffffc085b000 in run1-A and 0xffffffffc09e6000 in
	// run2-B (module-sections.txt); 232 symbols.
	if !got.Equivalent || got.Slide != "-0x12e00000" || len(got.Modules) != 1 || got.A.Filtered != 110254-232 {
		t.Fatalf("got %+v", got)
	}
	m := got.Modules[0]
	if m.Name != "lkdtm" || m.BaseA != "0xffffffffc085b000" || m.BaseB != "0xffffffffc09e6000" || m.Slide != "+0x18b000" ||
		m.SymbolsA != 232 || m.SymbolsB != 232 || m.Moved == nil || len(*m.Moved) != 0 || m.Added != nil {
		t.Errorf("module %+v", m)
	}
	// The field names are the documented schema (docs/cli.md).
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"a", "b", "counts", "equivalent", "modules", "modules_exempt", "modules_only_in_a", "modules_only_in_b", "names_only", "notes", "scope", "slide", "verdict"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
}

func TestDiffJSONDetails(t *testing.T) {
	out, _, code := run(t, "", "--json", "diff", "--only", "renamed", diffRun1, diff618)
	var got diffReport
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 1 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if got.Equivalent || got.Scope != "text" || got.Counts.Renamed != 302 || len(got.OnlyInA) != 24 {
		t.Fatalf("got %+v", got)
	}
	// zcat | grep -A1: the next symbols are putreg at 0xffffffff99644500 and
	// __pfx_putreg at 0xffffffff81317680.
	want := diffChange{
		A: diffSymbol{Name: "set_flags", Type: "t", Address: "0xffffffff996444a0", Offset: "0x444a0", Size: "0x60"},
		B: diffSymbol{Name: "set_flags.isra.0", Type: "t", Address: "0xffffffff81317620", Offset: "0x317620", Size: "0x60"},
	}
	core := got.Modules[0]
	if core.Renamed == nil || !slices.Contains(*core.Renamed, want) || core.Moved != nil {
		t.Errorf("vmlinux: renamed does not hold %+v, or moved listed", want)
	}
}

func TestDiffStdinAndLive(t *testing.T) {
	// A from standard input, B as the live table of a machine root whose
	// /proc/kallsyms is run1-A's.
	gz, err := os.ReadFile(diffRun2)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, "", "diff", diffRun1, "-")
	if code != 2 {
		t.Fatalf("empty stdin: exit %d, %s", code, out)
	}
	plain, _, _ := run(t, string(gz), "diff", diffRun1, "-") // gzip on stdin
	if !strings.Contains(plain, "B         standard input: "+diffDebianLine) || !strings.Contains(plain, "\nequivalent: ") {
		t.Errorf("stdin:\n%s", plain)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/kallsyms"), readGz(t, diffRun1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, string(gz), "--root", root, "diff", "live", "-")
	if code != 0 || !strings.HasPrefix(out, "A         "+filepath.Join(root, "proc/kallsyms")+": "+diffDebianLine) {
		t.Errorf("live: exit %d, stderr %q\n%s", code, errs, out)
	}
}

func readGz(t *testing.T, path string) []byte {
	t.Helper()
	data, err := gunzip(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDiffHidden(t *testing.T) {
	// The unprivileged view of two boots: names and types only, with a
	// warning for each table.
	a, b := debianDir+"boots/run2-B/kallsyms-nonroot-head.txt", debianDir+"boots/run1-A/kallsyms-nonroot-head.txt"
	out, errs, code := run(t, "", "diff", a, b)
	if code != 0 || !strings.HasSuffix(out, "equivalent: same symbol names and types (positions and sizes not compared)\n") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if strings.Count(errs, "ksym: warning: ") != 2 || !strings.Contains(errs, "comparing names and types only") {
		t.Errorf("stderr %q", errs)
	}
}

func TestDiffErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"diff", diffRun1}, "ksym: diff: missing tables A and B"},
		{[]string{"diff", diffRun1, diffRun2, diffRun2}, "ksym: diff: too many arguments"},
		{[]string{"diff", "-", "-"}, "ksym: diff: only one of A and B can be standard input"},
		{[]string{"diff", "--only", "moved,nope", diffRun1, diffRun2}, "ksym: diff: --only nope: want a comma-separated list of renamed, removed, added, type, resized, moved"},
		{[]string{"diff", "--module", "nosuch", diffRun1, diffRun2}, "ksym: diff: --module nosuch: no such module in either table"},
		{[]string{"--kallsyms", diffRun1, "diff", diffRun1, diffRun2}, "ksym: diff: the tables are its arguments A and B"},
		{[]string{"diff", diffRun1, "/nonexistent/kallsyms"}, "ksym: open /nonexistent/kallsyms: no such file or directory"},
		{[]string{"diff", "--nope", diffRun1, diffRun2}, "ksym: unknown flag: --nope"},
	}
	for _, tt := range tests {
		out, errs, code := run(t, "", tt.args...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, tt.wantErr) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errs, tt.wantErr)
		}
	}
}

func TestDiffNamesOnly(t *testing.T) {
	// The same comparison as TestDiffDebianVs618 without positions and
	// sizes: the same names differ, nothing is resized or moved, no base.
	out, _, code := run(t, "", "diff", "--names-only", diffRun1, diff618)
	wantEnd := "note      compared names and types only (positions and sizes not compared)\n" +
		"modules   0 in both\n" +
		"only in A 24 modules, 15988 symbols: " + debianMods + "\n" +
		"module     added  removed  renamed     type  resized    moved\n" +
		"vmlinux    87794    15252      302      247        0        0\n" +
		"differ: 87794 added, 15252 removed, 302 renamed, 247 changed type, 24 modules only in A\n"
	if code != 1 || !strings.HasSuffix(out, wantEnd) || strings.Contains(out, "\nbase ") {
		t.Errorf("exit %d, output\n%s\nwant it to end with\n%s", code, out, wantEnd)
	}
}

func TestDiffIndex(t *testing.T) {
	// An index built from run1-A (mapped) and the same index on standard
	// input compare with run2-B as the text table does.
	idx := filepath.Join(t.TempDir(), "run1.ksymidx")
	if _, errs, code := run(t, "", "--kallsyms", diffRun1, "snapshot", "index", "-o", idx); code != 0 {
		t.Fatalf("snapshot index: exit %d, %s", code, errs)
	}
	out, errs, code := run(t, "", "diff", idx, diffRun2)
	if code != 0 || !strings.HasPrefix(out, "A         "+idx+": "+diffDebianLine) || !strings.Contains(out, "\nequivalent: ") {
		t.Errorf("index: exit %d, stderr %q\n%s", code, errs, out)
	}
	data, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code = run(t, string(data), "diff", diffRun2, "-")
	if code != 0 || !strings.Contains(out, "B         standard input: "+diffDebianLine) {
		t.Errorf("index on stdin: exit %d, stderr %q\n%s", code, errs, out)
	}
}
