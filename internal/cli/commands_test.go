package cli

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

// row is the lookup/search line of a fixture symbol with the given size.
func row(s rawSym, size string) string {
	line := fmt.Sprintf("%016x %s %s %s", s.addr, s.typ, size, s.name)
	if s.mod != "" {
		line += " [" + s.mod + "]"
	}
	return line + "\n"
}

func TestLookup(t *testing.T) {
	vfsRead := only(t, "vfs_read", "")
	exc := only(t, "lkdtm_EXCEPTION", "lkdtm")
	bug := only(t, "lkdtm_BUG", "lkdtm")
	readRow := row(vfsRead, fmt.Sprintf("%#x", coreSize(t, vfsRead)))
	tests := []struct {
		args     []string
		want     string
		wantErr  string
		wantCode int
	}{
		{[]string{"vfs_read"}, readRow, "", 0},
		// Sizes as the kernel printed them in oops-03 and oops-02.
		{[]string{"lkdtm_EXCEPTION", "lkdtm:lkdtm_BUG"}, row(exc, "0x20") + row(bug, "0x10"), "", 0},
		{[]string{"vmlinux:vfs_read"}, readRow, "", 0},
		{[]string{"vmlinux:lkdtm_BUG"}, "", "ksym: vmlinux:lkdtm_BUG: no such symbol (try: ksym search '*lkdtm_BUG*')\n", 1},
		{[]string{"no_such_symbol_xyz", "vfs_read"}, readRow, "ksym: no_such_symbol_xyz: no such symbol", 1},
		{nil, "", "ksym: lookup: missing symbol NAME", 2},
	}
	for _, tt := range tests {
		args := append([]string{"--kallsyms", kallsymsGz, "lookup"}, tt.args...)
		out, errs, code := run(t, "", args...)
		if out != tt.want || code != tt.wantCode || !stderrMatches(errs, strings.TrimSuffix(tt.wantErr, "\n")) {
			t.Errorf("lookup %v:\n got %q, stderr %q, exit %d\nwant %q, stderr ~ %q, exit %d", tt.args, out, errs, code, tt.want, tt.wantErr, tt.wantCode)
		}
	}
}

func TestLookupDuplicates(t *testing.T) {
	// A static name defined in several places: every one is printed, in
	// address order.
	dups := map[string]int{}
	for _, s := range fixture(t) {
		if s.mod == "" && s.typ == "t" {
			dups[s.name]++
		}
	}
	name := ""
	for n, c := range dups {
		if c >= 3 && (name == "" || n < name) {
			name = n
		}
	}
	syms := symbolsNamed(t, name, "")
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "lookup", name)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != len(syms) {
		t.Fatalf("lookup %s: exit %d, %d lines, want %d", name, code, len(lines), len(syms))
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, fmt.Sprintf("%016x t 0x", syms[i].addr)) || !strings.HasSuffix(line, " "+name) {
			t.Errorf("line %d: %q, want address %016x", i, line, syms[i].addr)
		}
	}
}

func TestLookupJSON(t *testing.T) {
	exc := only(t, "lkdtm_EXCEPTION", "lkdtm")
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "--json", "lookup", "lkdtm_EXCEPTION", "nope")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var got struct {
		Results []lookupResult `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := []lookupResult{
		{Query: "lkdtm_EXCEPTION", Found: true, Symbols: []jsonSymbol{{Name: "lkdtm_EXCEPTION", Module: "lkdtm", Address: fmt.Sprintf("0x%x", exc.addr), Type: "t", Size: "0x20"}}},
		{Query: "nope", Found: false, Symbols: []jsonSymbol{}},
	}
	if fmt.Sprint(got.Results) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", got.Results, want)
	}
	if !strings.Contains(out, `"symbols": []`) {
		t.Errorf("a name not found must have an empty symbols array: %s", out)
	}
}

func TestLookupHidden(t *testing.T) {
	// The unprivileged view: names and types work, addresses are zero.
	out, errs, code := run(t, "", "--kallsyms", nonroot, "lookup", "fixed_percpu_data", "cpu_tss_rw")
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	want := "0000000000000000 A - fixed_percpu_data\n0000000000000000 A - cpu_tss_rw\n"
	if out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "ksym: warning: ") || !strings.Contains(errs, "hidden") {
		t.Errorf("want a one-line warning, got %q", errs)
	}
}

func TestLookupTableFromStdin(t *testing.T) {
	gz, err := os.ReadFile(kallsymsGz)
	if err != nil {
		t.Fatal(err)
	}
	vfsRead := only(t, "vfs_read", "")
	out, errs, code := run(t, string(gz), "--kallsyms", "-", "lookup", "vfs_read")
	if want := row(vfsRead, fmt.Sprintf("%#x", coreSize(t, vfsRead))); out != want || errs != "" || code != 0 {
		t.Errorf("got %q, stderr %q, exit %d; want %q", out, errs, code, want)
	}
}

func TestSearch(t *testing.T) {
	var jbd2T, lkdtmAll int
	for _, s := range fixture(t) {
		if s.mod == "lkdtm" {
			lkdtmAll++
		}
		if s.mod == "jbd2" && s.typ == "T" {
			jbd2T++ // exported by jbd2
		}
	}
	exc := only(t, "lkdtm_EXCEPTION", "lkdtm")
	tests := []struct {
		args     []string
		want     string
		wantErr  string
		wantCode int
	}{
		{[]string{"lkdtm_EXCEP*"}, row(exc, "0x20"), "", 0},
		{[]string{"--regex", "^lkdtm_EXCEPTION$"}, row(exc, "0x20"), "", 0},
		{[]string{"-E", "EXCEPTIO"}, row(exc, "0x20"), "", 0},
		{[]string{"--module", "lkdtm", "--count"}, fmt.Sprintf("%d\n", lkdtmAll), "", 0},
		{[]string{"--module", "jbd2", "--type", "T", "--count"}, fmt.Sprintf("%d\n", jbd2T), "", 0},
		// lkdtm exports nothing: no upper-case letters.
		{[]string{"--module", "lkdtm", "--type", "T", "--count"}, "0\n", "ksym: no symbol matches the filters with type \"T\" in module lkdtm", 1},
		{[]string{"--core", "lkdtm_*"}, "", `ksym: no symbol matches "lkdtm_*" in the core kernel`, 1},
		{[]string{"--count", "no_such_*"}, "0\n", "no symbol matches", 1},
		{[]string{"--regex", "("}, "", "ksym: search: ", 2},
		{[]string{"--limit", "-1", "x"}, "", "--limit must be 0 or more", 2},
		{[]string{"a", "b"}, "", "too many arguments", 2},
	}
	for _, tt := range tests {
		args := append([]string{"--kallsyms", kallsymsGz, "search"}, tt.args...)
		out, errs, code := run(t, "", args...)
		if out != tt.want || code != tt.wantCode || !stderrMatches(errs, tt.wantErr) {
			t.Errorf("search %v:\n got %q, stderr %q, exit %d\nwant %q, stderr ~ %q, exit %d", tt.args, out, errs, code, tt.want, tt.wantErr, tt.wantCode)
		}
	}
}

func TestSearchLimitJSON(t *testing.T) {
	var want []rawSym
	for _, s := range fixture(t) {
		if s.mod == "lkdtm" && strings.HasPrefix(s.name, "lkdtm_") && s.typ == "t" {
			want = append(want, s)
		}
	}
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "--json", "search", "--module", "lkdtm", "-t", "t", "--limit", "2", "lkdtm_*")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		Count     int          `json:"count"`
		Truncated bool         `json:"truncated"`
		Symbols   []jsonSymbol `json:"symbols"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// The fixture lists a module's symbols in address order already? Sort to be sure.
	sortRaw(want)
	if got.Count != len(want) || !got.Truncated || len(got.Symbols) != 2 {
		t.Fatalf("count %d truncated %v symbols %d; want %d, true, 2", got.Count, got.Truncated, len(got.Symbols), len(want))
	}
	for i := range got.Symbols {
		if got.Symbols[i].Name != want[i].name || got.Symbols[i].Address != fmt.Sprintf("0x%x", want[i].addr) {
			t.Errorf("symbol %d: %+v, want %s at %x", i, got.Symbols[i], want[i].name, want[i].addr)
		}
	}
	out, _, _ = run(t, "", "--kallsyms", kallsymsGz, "--json", "search", "--count", "nothing_like_this*")
	if strings.TrimSpace(out) != "{\n  \"count\": 0\n}" {
		t.Errorf("--count --json with no match: %q", out)
	}
}

func sortRaw(s []rawSym) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (s[j].addr < s[j-1].addr || s[j].addr == s[j-1].addr && s[j].line < s[j-1].line); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// neighbours returns the fixture symbols just below and above s's address,
// failing if either address holds more than one symbol.
func neighbours(t *testing.T, s rawSym) (rawSym, rawSym) {
	t.Helper()
	var prev, next []rawSym
	for _, o := range fixture(t) {
		switch {
		case o.addr < s.addr && (len(prev) == 0 || o.addr > prev[0].addr):
			prev = []rawSym{o}
		case o.addr < s.addr && o.addr == prev[0].addr:
			prev = append(prev, o)
		case o.addr > s.addr && (len(next) == 0 || o.addr < next[0].addr):
			next = []rawSym{o}
		case o.addr > s.addr && o.addr == next[0].addr:
			next = append(next, o)
		}
	}
	if len(prev) != 1 || len(next) != 1 {
		t.Fatalf("neighbours of %s are ambiguous", s.name)
	}
	return prev[0], next[0]
}

func TestInfoModuleSymbol(t *testing.T) {
	exc := only(t, "lkdtm_EXCEPTION", "lkdtm")
	prev, next := neighbours(t, exc)
	want := strings.Join([]string{
		"symbol      lkdtm_EXCEPTION [lkdtm]",
		fmt.Sprintf("address     0x%x", exc.addr),
		"size        0x20 (32 bytes)",
		"type        t: code (text), not exported by the module",
		"module      lkdtm",
		"section     module",
		"export      not exported by module lkdtm (lower-case type letter)",
		"aliases     -",
		fmt.Sprintf("previous    0x%x %s [lkdtm]", prev.addr, prev.name),
		fmt.Sprintf("next        0x%x %s [lkdtm]", next.addr, next.name),
		"duplicates  -",
	}, "\n") + "\n"
	for _, arg := range []string{"lkdtm_EXCEPTION", "lkdtm:lkdtm_EXCEPTION"} {
		out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "info", arg)
		if out != want || errs != "" || code != 0 {
			t.Errorf("info %s:\n%s\nstderr %q exit %d\nwant\n%s", arg, out, errs, code, want)
		}
	}
	// By address: the same, with the %pS form first.
	addr := fmt.Sprintf("0x%x", exc.addr+5)
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "info", addr)
	wantAddr := strings.Replace(want, "\n", "\nresolves    "+addr+" is lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n", 1)
	if out != wantAddr || code != 0 {
		t.Errorf("info %s:\n%s\nwant\n%s", addr, out, wantAddr)
	}
}

// exportOf decides from the fixture text alone whether a core symbol is
// exported: a __ksymtab_NAME entry, inside the GPL range or not.
func exportOf(t *testing.T, name string) string {
	var ks, gplStart, gplStop uint64
	for _, s := range fixture(t) {
		switch {
		case s.mod != "":
		case s.name == "__ksymtab_"+name:
			ks = s.addr
		case s.name == "__start___ksymtab_gpl":
			gplStart = s.addr
		case s.name == "__stop___ksymtab_gpl":
			gplStop = s.addr
		}
	}
	switch {
	case ks == 0:
		return "not_exported"
	case ks >= gplStart && ks < gplStop:
		return "exported_gpl"
	}
	return "exported"
}

func TestInfoWrappedSize(t *testing.T) {
	// oops-07 printed data_area+0x0/0xffffffffffff76e0 [lkdtm].
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "info", "lkdtm:data_area")
	want := "size        0xffffffffffff76e0 (wrapped, as the kernel prints it: a module data symbol is measured to the end of the module's text, which lies below it)\n"
	if !strings.Contains(out, want) || code != 0 {
		t.Errorf("exit %d:\n%s\nwant line %q", code, out, want)
	}
}

func TestInfoExportJSON(t *testing.T) {
	// vfs_read is T and not exported; filp_open is EXPORT_SYMBOL;
	// synchronize_rcu is EXPORT_SYMBOL_GPL.
	for _, tt := range []struct{ name, want string }{
		{"vfs_read", "not_exported"}, {"filp_open", "exported"}, {"synchronize_rcu", "exported_gpl"},
		{"kallsyms_lookup_name", "not_exported"},
	} {
		if got := exportOf(t, tt.name); got != tt.want {
			t.Fatalf("fixture: %s is %s, test expects %s", tt.name, got, tt.want)
		}
		out, _, code := run(t, "", "--kallsyms", kallsymsGz, "--json", "info", tt.name)
		var got infoResult
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
			t.Fatalf("info %s: exit %d, %v: %s", tt.name, code, err, out)
		}
		s := only(t, tt.name, "")
		if got.Export != tt.want || got.Symbol.Address != fmt.Sprintf("0x%x", s.addr) || got.Section != "text" ||
			got.TypeDescription != kallsyms.DescribeType(s.typ[0], false) || got.Symbol.Module != "" {
			t.Errorf("info %s: %+v, want export %s", tt.name, got, tt.want)
		}
	}
}

func TestInfoAliases(t *testing.T) {
	// __do_softirq starts the softirq entry text: both names share an address.
	s := only(t, "__do_softirq", "")
	var same []rawSym
	for _, o := range fixture(t) {
		if o.addr == s.addr && o.name != s.name {
			same = append(same, o)
		}
	}
	if len(same) == 0 {
		t.Fatal("fixture: __do_softirq has no alias")
	}
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "--json", "info", "__do_softirq")
	var got infoResult
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if len(got.Aliases) != len(same) {
		t.Fatalf("aliases %+v, want %d", got.Aliases, len(same))
	}
	for i := range same {
		if got.Aliases[i].Name != same[i].name {
			t.Errorf("alias %d = %s, want %s", i, got.Aliases[i].Name, same[i].name)
		}
	}
}

func TestInfoNotFound(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
		code    int
	}{
		{[]string{"no_such_symbol_xyz"}, "ksym: no_such_symbol_xyz: no such symbol", 1},
		{[]string{"0x10"}, "ksym: 0x10: not inside any symbol", 1},
		{[]string{}, "ksym: info: missing one NAME or ADDRESS", 2},
		{[]string{"a", "b"}, "too many arguments", 2},
	} {
		args := append([]string{"--kallsyms", kallsymsGz, "info"}, tt.args...)
		out, errs, code := run(t, "", args...)
		if out != "" || code != tt.code || !stderrMatches(errs, tt.wantErr) {
			t.Errorf("info %v: %q, stderr %q, exit %d", tt.args, out, errs, code)
		}
	}
}

func TestInfoHidden(t *testing.T) {
	out, errs, code := run(t, "", "--kallsyms", nonroot, "info", "cpu_tss_rw")
	if code != 0 || !strings.Contains(errs, "warning") || !strings.Contains(out, "type        A: absolute value") {
		t.Errorf("got %q, stderr %q, exit %d", out, errs, code)
	}
	_, errs, code = run(t, "", "--kallsyms", nonroot, "info", "0xffffffff81000000")
	if code != 2 || errs != "ksym: "+nonroot+": "+hiddenSentence+"\n" {
		t.Errorf("by address: stderr %q, exit %d", errs, code)
	}
}

func TestTypes(t *testing.T) {
	counts := map[string]int{}
	for _, s := range fixture(t) {
		counts[s.typ]++
	}
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "types")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	letters := kallsyms.TypeLetters()
	if len(lines) != 1+len(letters) || !strings.HasPrefix(lines[0], "TYPE") {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	for i, ti := range letters {
		f := strings.Fields(lines[i+1])
		if f[0] != string([]byte{ti.Letter}) || f[1] != fmt.Sprint(counts[f[0]]) {
			t.Errorf("line %q: want %c with count %d", lines[i+1], ti.Letter, counts[f[0]])
		}
	}
	// README counts for run2-B.
	for _, want := range []string{"T     23838  text (code), global", "a     1      absolute value, local"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestTypesWithoutTable(t *testing.T) {
	out, errs, code := run(t, "", "--kallsyms", bootDir+"does-not-exist", "--json", "types")
	if code != 0 || !strings.HasPrefix(errs, "ksym: warning: ") || !strings.Contains(errs, "does-not-exist") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	var got typesResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.TableRead || len(got.Types) != len(kallsyms.TypeLetters()) || got.Types[0].Count != nil {
		t.Errorf("got %+v", got)
	}
}

func TestStatsJSON(t *testing.T) {
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "--json", "stats", "--top", "3")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var st kallsyms.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	mods := map[string]bool{}
	for _, s := range fixture(t) {
		types[s.typ]++
		if s.mod != "" {
			mods[s.mod] = true
		}
	}
	if fmt.Sprint(st.ByType) != fmt.Sprint(types) || st.Symbols != len(fixture(t)) || st.ModuleSymbols != 15988 ||
		st.Modules != len(mods) || len(st.Largest) != 3 {
		t.Errorf("got %+v", st)
	}
	for _, key := range []string{`"by_type"`, `"by_module"`, `"largest_functions"`, `"text_bytes"`, `"module_symbols"`, `"addresses_hidden"`} {
		if !strings.Contains(out, key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestStatsText(t *testing.T) {
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "stats", "--top", "2")
	for _, want := range []string{
		"symbols         110254\n", "core symbols    94266\n", "module symbols  15988 (24 modules)\n",
		"data symbols    yes (CONFIG_KALLSYMS_ALL)\n", "\nT     23838\n",
		"\nSIZE     FUNCTION\n2089678  __indirect_thunk_end\n2089678  _etext\n",
	} {
		if !strings.Contains(out, want) || code != 0 {
			t.Errorf("stats output lacks %q:\n%s", want, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"frobnicate"}, `ksym: unknown command "frobnicate" for "ksym"`},
		{[]string{"addr", "--bogus"}, "ksym: unknown flag: --bogus (see 'ksym addr --help')"},
		{[]string{"stats", "--top", "x"}, `ksym: invalid argument "x" for "-n, --top" flag`},
		{[]string{"stats", "--top", "-2"}, "ksym: stats: --top must be 0 or more, not -2"},
		{[]string{"types", "extra"}, "ksym: types: too many arguments"},
		{[]string{"--kallsyms", bootDir + "nope.txt", "lookup", "x"}, "ksym: open " + bootDir + "nope.txt: no such file"},
		{[]string{"--kallsyms", bootDir + "oops-03-lkdtm-EXCEPTION.txt", "lookup", "x"}, "ksym: "},
	} {
		out, errs, code := run(t, "", tt.args...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, tt.wantErr) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: out %q, stderr %q, exit %d; want stderr %q..., exit 2", tt.args, out, errs, code, tt.wantErr)
		}
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, cmd := range []string{"addr", "lookup", "search", "info", "types", "stats", "check", "version"} {
		out, _, code := run(t, "", cmd, "--help")
		if code != 0 || !strings.Contains(out, "Examples:\n  ksym "+cmd) || !strings.Contains(out, "--json") {
			t.Errorf("%s --help lacks examples or --json (exit %d):\n%s", cmd, code, out)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "ksym ") {
		t.Errorf("%q exit %d", out, code)
	}
	out, _, _ = run(t, "", "version", "--json")
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.GoVersion == "" || v.Version == "" {
		t.Errorf("%q: %v", out, err)
	}
}

// TestLiveKernel reads this machine's /proc/kallsyms when it can.
func TestLiveKernel(t *testing.T) {
	if _, err := os.Stat("/proc/kallsyms"); err != nil {
		t.Skip("no /proc/kallsyms")
	}
	out, errs, code := run(t, "", "lookup", "_text")
	if code != 0 || !strings.HasSuffix(out, " _text\n") {
		t.Errorf("lookup _text on the live kernel: %q, stderr %q, exit %d", out, errs, code)
	}
}

// TestStaticBinary builds ksym with CGO_ENABLED=0 and checks the result has
// no program interpreter: one static binary. It runs go build, which takes
// seconds with a cold build cache: -short skips it.
func TestStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	bin := buildKsym(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Skipf("not an ELF platform: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has %v: not static", p.Type)
		}
	}
	exc := only(t, "lkdtm_EXCEPTION", "lkdtm")
	var stdout, stderr bytes.Buffer
	code := runBinary(t, bin, &stdout, &stderr, "--kallsyms", kallsymsGz, "addr", fmt.Sprintf("%x", exc.addr+5))
	if want := fmt.Sprintf("0x%016x lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n", exc.addr+5); stdout.String() != want || code != 0 {
		t.Errorf("binary: %q (stderr %q, exit %d), want %q", stdout.String(), stderr.String(), code, want)
	}
	stdout.Reset()
	if code := runBinary(t, bin, &stdout, &stderr, "--kallsyms", kallsymsGz, "addr", "0x10"); code != 1 {
		t.Errorf("binary: not found exits %d, want 1", code)
	}
	if code := runBinary(t, bin, &stdout, &stderr, "--nope"); code != 2 {
		t.Errorf("binary: bad flag exits %d, want 2", code)
	}
}

func TestOtherInputs(t *testing.T) {
	const (
		systemMap   = fixtureDir + "System.map.gz"
		firecracker = "../../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz"
		xzHead      = "../../input/testdata/kallsyms-run1-A-head200.txt.xz"
	)
	// System.map: link-time addresses (no KASLR slide); run2-B's vfs_read is
	// 0x5800000 higher, the README's KASLR offset.
	out, _, code := run(t, "", "--kallsyms", systemMap, "lookup", "vfs_read")
	vfsRead := only(t, "vfs_read", "")
	if want := fmt.Sprintf("%016x T %#x vfs_read\n", vfsRead.addr-0x5800000, coreSize(t, vfsRead)); out != want || code != 0 {
		t.Errorf("System.map: %q exit %d, want %q", out, code, want)
	}
	// 6.18 without CONFIG_KALLSYMS_ALL: export status cannot be told.
	out, _, code = run(t, "", "--kallsyms", firecracker, "--json", "info", "vfs_read")
	var info infoResult
	if err := json.Unmarshal([]byte(out), &info); err != nil || code != 0 {
		t.Fatalf("firecracker info: %v exit %d", err, code)
	}
	if info.Export != "unknown" || info.Symbol.Address != "0xffffffff816d5b70" || info.Previous == nil || info.Previous.Name != "__pfx_vfs_read" {
		t.Errorf("firecracker info vfs_read: %+v", info)
	}
	// xz-compressed input (the input package's test file).
	out, _, code = run(t, "", "--kallsyms", xzHead, "lookup", "trace_taskinfo_save")
	if out != "000000000002ba80 A - trace_taskinfo_save\n" || code != 0 {
		t.Errorf("xz: %q exit %d", out, code)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.txt", "")
	garbage := write("garbage.txt", "garbage line\n")
	badGz := write("bad.gz", "\x1f\x8b\x08\x00garbage")
	for _, tt := range []struct {
		path, stdin, wantErr string
	}{
		{empty, "", "ksym: " + empty + ": " + kallsyms.ErrEmpty.Error() + "\n"},
		{garbage, "", "ksym: " + garbage + ":1: "},
		{badGz, "", "ksym: " + badGz + ": gzip"},
		{dir, "", "ksym: open " + dir + ": is a directory"},
		{"-", "", "ksym: standard input: " + kallsyms.ErrEmpty.Error() + "\n"},
		{"-", "not a table\n", "ksym: standard input:1: "},
	} {
		for _, cmd := range [][]string{{"lookup", "x"}, {"addr", "0x1"}, {"stats"}} {
			args := append([]string{"--kallsyms", tt.path}, cmd...)
			out, errs, code := run(t, tt.stdin, args...)
			if out != "" || code != 2 || !strings.HasPrefix(errs, tt.wantErr) || strings.Count(errs, "\n") != 1 {
				t.Errorf("%v: out %q, stderr %q, exit %d; want stderr %q..., exit 2", args, out, errs, code, tt.wantErr)
			}
		}
	}
}
