package kallsyms_test

import (
	"github.com/ksym-dev/ksym/internal/fixture"

	"bufio"
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

// fuzzSeeds returns seed inputs: slices of real fixture tables (core start,
// text end, module lines in symtab order, the unprivileged view) and synthetic
// edge cases (CRLF, pseudo-modules, garbage).
func fuzzSeeds(tb testing.TB) []string {
	lines := func(path string, from, to int) string {
		var b bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(fixture.Read(tb, path)))
		for n := 1; sc.Scan(); n++ {
			if n >= from && n <= to {
				b.WriteString(sc.Text())
				b.WriteByte('\n')
			}
		}
		return b.String()
	}
	a := bootTable("run1-A")
	return []string{
		lines(a, 380, 400),       // per-CPU end, startup_64/_stext/_text aliases
		lines(a, 47470, 47480),   // _etext, __start_rodata
		lines(a, 94250, 94300),   // end of core (_end, sme_workarea), lkdtm unsorted
		lines(a, 106650, 106670), // ext4 with its per-CPU "a" symbol
		lines(a, 110230, 110254), // last module lines
		lines(firecrackerTable, 1, 10),
		lines(firecrackerTable, 117280, 117350),
		lines(filepath.Join(bootsDir, "run1-A", "kallsyms-nonroot-head.txt"), 1, 20),
		lines(systemMapPath, 1, 10),
		"ffffffff81000000 T _stext\r\nffffffff81000010 T foo\r\nffffffff81000020 T _etext\r\n",
		"ffffffff81000000 T _stext\nffffffff81000010 T foo\nffffffff81000020 T _etext",
		"ffffffff81000000 T _stext\nffffffff81001000 T _etext\n" +
			"ffffffffc0201000 t bpf_prog_6deef7357e7b4530_sd_fw_egress\t[bpf]\n" +
			"ffffffffc0300000 t ftrace_trampoline\t[__builtin__ftrace]\n" +
			"ffffffffc0400000 t kprobe_insn_page\t[__builtin__kprobes]\n" +
			"ffffffffc0500000 t real_fn\t[realmod]\n",
		"0000000000000000 A fixed_percpu_data\n0000000000000000 t lkdtm_BUG\t[lkdtm]\n",
		"ffffffffffffffff T top\n0000000000000000 T bottom\n",
		"ffffffff81000000 T a\nffffffff81000000 T a\nffffffff81000000 t a\t[m]\n",
		"ffffffff8100zz20 T bar\n",
		"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\n",
		"",
		"\n\n",
		"ffffffff81000000 T foo\t[\n",
		"ffffffff81000000 T foo\t[]\n",
		"ffffffff81000000 T foo [mod] extra\n",
	}
}

// FuzzParse: Parse never panics, and a table it accepts is self-consistent.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := kallsyms.ParseBytes(data, kallsyms.Options{})
		tab2, err2 := kallsyms.Parse(bytes.NewReader(data), kallsyms.Options{})
		if (err == nil) != (err2 == nil) {
			t.Fatalf("ParseBytes error %v, Parse error %v", err, err2)
		}
		if err != nil {
			var pe *kallsyms.ParseError
			if !errors.As(err, &pe) && !errors.Is(err, kallsyms.ErrEmpty) {
				t.Fatalf("error %v (%T) is neither a *ParseError nor ErrEmpty", err, err)
			}
			_ = err.Error()
			return
		}
		if tab.Len() == 0 || tab.Len() != tab2.Len() {
			t.Fatalf("Len() = %d (Parse: %d)", tab.Len(), tab2.Len())
		}
		hidden := tab.Hidden()
		for i := 0; i < tab.Len(); i++ {
			s := tab.Symbol(i)
			if s.Name != tab.Name(i) || s.Addr != tab.Addr(i) || s.Type != tab.Type(i) || s.Module != tab.ModuleName(i) {
				t.Fatalf("Symbol(%d) = %+v disagrees with the accessors", i, s)
			}
			if s2 := tab2.Symbol(i); s2 != s {
				t.Fatalf("Symbol(%d): ParseBytes %+v, Parse %+v", i, s, s2)
			}
			if hidden && s.Addr != 0 {
				t.Fatalf("Hidden() but symbol %d at %#x", i, s.Addr)
			}
			if !hidden && i > 0 && s.Addr < tab.Addr(i-1) {
				t.Fatalf("symbol %d at %#x below symbol %d at %#x", i, s.Addr, i-1, tab.Addr(i-1))
			}
			if !slices.Contains(tab.Find(s.Name), i) {
				t.Fatalf("Find(%q) = %v, missing %d", s.Name, tab.Find(s.Name), i)
			}
			if !slices.Contains(tab.AppendFind(nil, s.Name), i) {
				t.Fatalf("AppendFind(%q) missing %d", s.Name, i)
			}
			if s.Module != "" && !slices.Contains(tab.Find(s.Module+":"+s.Name), i) {
				t.Fatalf("Find(%q) missing %d", s.Module+":"+s.Name, i)
			}
			for _, addr := range []uint64{s.Addr, s.Addr + 1, s.Addr - 1} {
				checkLookup(t, tab, addr, false)
				checkLookup(t, tab, addr, true)
			}
			_ = tab.Section(s.Addr)
			_ = tab.ExportOf(s.Name)
			_, _ = tab.Size(i)
		}
		for _, addr := range []uint64{0, 1, 0xffffffff81000000, 0xffffffffc0000000, ^uint64(0)} {
			checkLookup(t, tab, addr, false)
			checkLookup(t, tab, addr, true)
			_ = tab.Section(addr)
		}
		n := 0
		for _, m := range tab.Modules() {
			n += m.Symbols
			if m.Start > m.End {
				t.Fatalf("module %+v: Start > End", m)
			}
		}
		if all, err := tab.Search(kallsyms.Query{}); err != nil || len(all) != tab.Len() {
			t.Fatalf("Search({}) = %d, %v; Len %d", len(all), err, tab.Len())
		}
		_, _ = tab.Search(kallsyms.Query{Pattern: "*a*", CoreOnly: true, Types: "Tt"})
		_, _ = tab.Search(kallsyms.Query{Pattern: "a|b", Regexp: true, Module: "m"})
		_ = tab.HasDataSymbols()
	})
}

// checkLookup: a lookup either fails with one of the package's errors or
// returns a location consistent with the table.
func checkLookup(t *testing.T, tab *kallsyms.Table, addr uint64, ret bool) {
	t.Helper()
	var loc kallsyms.Location
	var err error
	if ret {
		loc, err = tab.LookupReturn(addr)
	} else {
		loc, err = tab.Lookup(addr)
	}
	if err != nil {
		if !errors.Is(err, kallsyms.ErrNoSymbol) && !errors.Is(err, kallsyms.ErrAddressesHidden) {
			t.Fatalf("Lookup(%#x, return=%v): unexpected error %v", addr, ret, err)
		}
		if tab.Hidden() != errors.Is(err, kallsyms.ErrAddressesHidden) {
			t.Fatalf("Lookup(%#x): error %v, Hidden() = %v", addr, err, tab.Hidden())
		}
		return
	}
	if loc.Index < 0 || loc.Index >= tab.Len() {
		t.Fatalf("Lookup(%#x) index %d out of range", addr, loc.Index)
	}
	if loc.Offset != addr-tab.Addr(loc.Index) {
		t.Fatalf("Lookup(%#x, return=%v) = %+v, symbol at %#x", addr, ret, loc, tab.Addr(loc.Index))
	}
	if !ret && tab.Addr(loc.Index) > addr {
		t.Fatalf("Lookup(%#x) gave symbol %d at %#x above it", addr, loc.Index, tab.Addr(loc.Index))
	}
	if tab.FormatLocation(loc) != string(tab.AppendLocation(nil, loc)) {
		t.Fatalf("FormatLocation and AppendLocation differ for %+v", loc)
	}
}
