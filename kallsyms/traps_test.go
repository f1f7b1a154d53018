package kallsyms_test

// One test per trap that symbol-table code commonly falls into. Real data
// (the Debian 6.1 and Firecracker 6.18 tables) is used wherever it shows the
// trap; small synthetic tables, marked as such, cover what it lacks.

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

// parseText parses an in-memory table, failing the test on error.
func parseText(tb testing.TB, text string) *kallsyms.Table {
	tb.Helper()
	tab, err := kallsyms.ParseBytes([]byte(text), kallsyms.Options{})
	if err != nil {
		tb.Fatalf("ParseBytes: %v\ninput:\n%s", err, text)
	}
	return tab
}

func wantLookup(tb testing.TB, tab *kallsyms.Table, addr uint64, want string) {
	tb.Helper()
	loc, err := tab.Lookup(addr)
	if got := format(tab, loc, err); got != want {
		tb.Errorf("Lookup(%#x) = %q, want %q", addr, got, want)
	}
}

func wantReturn(tb testing.TB, tab *kallsyms.Table, addr uint64, want string) {
	tb.Helper()
	loc, err := tab.LookupReturn(addr)
	if got := format(tab, loc, err); got != want {
		tb.Errorf("LookupReturn(%#x) = %q, want %q", addr, got, want)
	}
}

// wantLookupErr checks that Lookup(addr) and LookupReturn(addr) fail with
// target. Use it only where addr-1 is unresolved too; at the first address past
// a range, %pB (addr-1) still resolves: check that with wantEndErr.
func wantLookupErr(tb testing.TB, tab *kallsyms.Table, addr uint64, target error) {
	tb.Helper()
	loc, err := tab.Lookup(addr)
	if !errors.Is(err, target) {
		tb.Errorf("Lookup(%#x) = %q, want error %v", addr, format(tab, loc, err), target)
	}
	loc, err = tab.LookupReturn(addr)
	if !errors.Is(err, target) {
		tb.Errorf("LookupReturn(%#x) = %q, want error %v", addr, format(tab, loc, err), target)
	}
}

// wantEndErr checks an address just past the end of a resolvable range:
// Lookup fails with ErrNoSymbol, while LookupReturn (addr-1, as %pB) gives
// the last symbol with offset == size.
func wantEndErr(tb testing.TB, tab *kallsyms.Table, addr uint64, wantReturnText string) {
	tb.Helper()
	loc, err := tab.Lookup(addr)
	if !errors.Is(err, kallsyms.ErrNoSymbol) {
		tb.Errorf("Lookup(%#x) = %q, want error %v", addr, format(tab, loc, err), kallsyms.ErrNoSymbol)
	}
	wantReturn(tb, tab, addr, wantReturnText)
}

func wantFind(tb testing.TB, tab *kallsyms.Table, name string, want []int) {
	tb.Helper()
	got := tab.Find(name)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		tb.Errorf("Find(%q) = %v, want %v", name, got, want)
	}
}

// rawIndices returns, in index order, the indices (per sortedRaw) of the
// symbols for which keep is true.
func rawIndices(sorted []rawSym, keep func(rawSym) bool) []int {
	var out []int
	for i, s := range sorted {
		if keep(s) {
			out = append(out, i)
		}
	}
	return out
}

// Synthetic: a small core table. Lookup of an exact symbol start must give that
// symbol at +0x0, not the previous one; %pB of the same address gives the
// previous one with its full size as offset.
func TestTrapExactStart(t *testing.T) {
	tab := parseText(t, `ffffffff81000000 T _stext
ffffffff81000010 T foo
ffffffff81000020 T bar
ffffffff81000030 T _etext
`)
	wantLookup(t, tab, 0xffffffff81000010, "foo+0x0/0x10")
	wantLookup(t, tab, 0xffffffff81000020, "bar+0x0/0x10")
	wantLookup(t, tab, 0xffffffff8100001f, "foo+0xf/0x10")
	wantReturn(t, tab, 0xffffffff81000010, "_stext+0x10/0x10")
	wantReturn(t, tab, 0xffffffff81000011, "foo+0x1/0x10")
	// Location fields.
	loc, err := tab.Lookup(0xffffffff81000010)
	if err != nil || loc.Index != 1 || loc.Offset != 0 || loc.Size != 0x10 || !loc.SizeKnown {
		t.Errorf("Lookup(foo) = %+v, %v", loc, err)
	}
	loc, err = tab.LookupReturn(0xffffffff81000010)
	if err != nil || loc.Index != 0 || loc.Offset != 0x10 || loc.Size != 0x10 {
		t.Errorf("LookupReturn(foo) = %+v, %v (Offset must be the real one)", loc, err)
	}

	// Real: run2-B's kthread_complete_and_exit ends where kthread starts; the
	// kernel printed "? kthread_complete_and_exit+0x20/0x20" for that address.
	real := openTable(t, bootTable("run2-B"))
	wantLookup(t, real, 0xffffffff868cd340, "kthread+0x0/0x100")
	wantReturn(t, real, 0xffffffff868cd340, "kthread_complete_and_exit+0x20/0x20")
}

// Module names must never leak into symbol names.
func TestTrapModuleNameNotInName(t *testing.T) {
	// Synthetic: tab-separated module tag as /proc/kallsyms prints it.
	tab := parseText(t, "ffffffff81000000 T _stext\nffffffff81001000 T _etext\nffffffffc0001000 t foo\t[mod]\nffffffffc0001010 t bar\t[mod]\n")
	i := tab.Find("foo")
	if len(i) != 1 {
		t.Fatalf("Find(foo) = %v", i)
	}
	if s := tab.Symbol(i[0]); s.Name != "foo" || s.Module != "mod" || tab.Name(i[0]) != "foo" || tab.ModuleName(i[0]) != "mod" {
		t.Errorf("symbol = %+v, want name foo module mod", s)
	}
	wantFind(t, tab, "foo\t[mod]", nil)
	wantFind(t, tab, "foo [mod]", nil)
	wantLookup(t, tab, 0xffffffffc0001004, "foo+0x4/0x10 [mod]")

	// Real: no name of run1-A holds a blank or bracket, no module a bracket.
	real := openTable(t, bootTable("run1-A"))
	for i := 0; i < real.Len(); i++ {
		if strings.ContainsAny(real.Name(i), " \t[]\r\n") || strings.ContainsAny(real.ModuleName(i), " \t[]\r\n") {
			t.Fatalf("symbol %d: name %q module %q", i, real.Name(i), real.ModuleName(i))
		}
	}
}

// Module symbols are printed in symtab order, not address order.
func TestTrapUnsortedModuleLines(t *testing.T) {
	// Real: in run1-A, lkdtm's "_note_10" (0xffffffffc085f024) is printed
	// before lkdtm_debugfs_open (0xffffffffc085b000); find_crashtype follows at
	// 0xffffffffc085b010.
	raw := readRaw(t, bootTable("run1-A"))
	if a, b := rawAddr(t, raw, "lkdtm", "_note_10"), rawAddr(t, raw, "lkdtm", "lkdtm_debugfs_open"); a < b {
		t.Fatalf("fixture changed: _note_10 %#x, lkdtm_debugfs_open %#x", a, b)
	}
	real := openTable(t, bootTable("run1-A"))
	wantLookup(t, real, 0xffffffffc085b004, "lkdtm_debugfs_open+0x4/0x10 [lkdtm]")
	wantLookup(t, real, 0xffffffffc085b000, "lkdtm_debugfs_open+0x0/0x10 [lkdtm]")

	// Synthetic: a module printed in reverse address order.
	tab := parseText(t, `ffffffff81000000 T _stext
ffffffff81001000 T _etext
ffffffffc0002000 r _note_9	[m]
ffffffffc0001080 t m_c	[m]
ffffffffc0001040 t m_b	[m]
ffffffffc0001000 t m_a	[m]
`)
	wantLookup(t, tab, 0xffffffffc0001000, "m_a+0x0/0x40 [m]")
	wantLookup(t, tab, 0xffffffffc0001050, "m_b+0x10/0x40 [m]")
	wantLookup(t, tab, 0xffffffffc0001090, "m_c+0x10/0xf80 [m]")
	wantReturn(t, tab, 0xffffffffc0001080, "m_b+0x40/0x40 [m]")
	for i := 1; i < tab.Len(); i++ {
		if tab.Addr(i) < tab.Addr(i-1) {
			t.Errorf("index %d: address %#x below index %d's %#x", i, tab.Addr(i), i-1, tab.Addr(i-1))
		}
	}
}

// A module symbol never extends past the end of the module's text: the kernel
// starts from that end (page-aligned in 6.1) and only lowers it. Real data,
// run1-A: lkdtm's .note.gnu.build-id (first section after text) is at
// 0xffffffffc085f000 (module-sections.txt); the next symbol after
// lkdtm_usercopy_exit (0xffffffffc085eead) is _note_10 at 0xffffffffc085f024.
// So the size is 0xc085f000-0xc085eead = 0x153, not 0x177. The same rule
// gives the genuine data_area+0x0/0xffffffffffff76e0 [lkdtm] of run2-B.
func TestTrapModuleTextEnd(t *testing.T) {
	real := openTable(t, bootTable("run1-A"))
	wantLookup(t, real, 0xffffffffc085eead, "lkdtm_usercopy_exit+0x0/0x153 [lkdtm]")
	wantLookup(t, real, 0xffffffffc085eead+0x152, "lkdtm_usercopy_exit+0x152/0x153 [lkdtm]")
	b := openTable(t, bootTable("run2-B"))
	wantLookup(t, b, 0xffffffffc09f2920, "data_area+0x0/0xffffffffffff76e0 [lkdtm]")
	for _, m := range real.Modules() {
		if m.Name == "lkdtm" {
			if m.Kind != kallsyms.KindModule || m.TextEnd != 0xffffffffc085f000 {
				t.Errorf("Modules(): lkdtm = %+v, want KindModule, TextEnd 0xffffffffc085f000", m)
			}
		}
	}
}

// Addresses outside every range the kernel resolves must give ErrNoSymbol,
// never the last (or first) symbol.
func TestTrapOutside(t *testing.T) {
	// Real, run1-A (CONFIG_KALLSYMS_ALL): the image ends at _end
	// (0xffffffff9ca30000); __brk_early_pgt_alloc at 0xffffffff9ca20000 is the
	// last symbol below it. sme_workarea (0xffffffff9cc00000) is a real symbol
	// past _end, which the kernel does not resolve (is_kernel() stops at _end).
	a := openTable(t, bootTable("run1-A"))
	wantLookup(t, a, 0xffffffff9ca2ffff, "__brk_early_pgt_alloc+0xffff/0x10000")
	wantEndErr(t, a, 0xffffffff9ca30000, "__brk_early_pgt_alloc+0x10000/0x10000")
	wantLookupErr(t, a, 0xffffffff9ca30001, kallsyms.ErrNoSymbol)
	wantLookupErr(t, a, 0xffffffff9cc00000, kallsyms.ErrNoSymbol)
	wantLookupErr(t, a, 0xffffffff9cc00010, kallsyms.ErrNoSymbol)
	// Below _stext (startup_64 at 0xffffffff99600000).
	wantLookupErr(t, a, 0xffffffff995fffff, kallsyms.ErrNoSymbol)
	wantLookupErr(t, a, 0xffffffff80000000, kallsyms.ErrNoSymbol)
	// Module space: lowest module symbol is crc32c_intel_setkey at
	// 0xffffffffc03f9000; highest is lkdtm's fortify_scratch_space at
	// 0xffffffffc0867978.
	wantLookupErr(t, a, 0xffffffffc0000000, kallsyms.ErrNoSymbol)
	wantLookupErr(t, a, 0xffffffffc03f8fff, kallsyms.ErrNoSymbol)
	wantLookupErr(t, a, 0xffffffffc0a00000, kallsyms.ErrNoSymbol)
	wantLookupErr(t, a, 0xffffffffff600000, kallsyms.ErrNoSymbol)
	wantLookupErr(t, a, 0xffffffffffffffff, kallsyms.ErrNoSymbol)
	// User space (a real RSP from run1-A's panic).
	wantLookupErr(t, a, 0x00007fff92228cb8, kallsyms.ErrNoSymbol)

	// Real, Firecracker 6.18 (no CONFIG_KALLSYMS_ALL): only text and init text
	// resolve. _etext = 0xffffffff82276f48; the last text symbol
	// __SCT__tp_func_ma_write is at 0xffffffff82276f40. __start_rodata
	// (0xffffffff82400000) is a symbol, but not text. _sinittext
	// (0xffffffff83780000, first of three aliases) is followed by
	// set_reset_devices at 0xffffffff83780010.
	fc := openTable(t, firecrackerTable)
	wantLookup(t, fc, 0xffffffff82276f47, "__SCT__tp_func_ma_write+0x7/0x8")
	wantEndErr(t, fc, 0xffffffff82276f48, "__SCT__tp_func_ma_write+0x8/0x8")
	wantLookupErr(t, fc, 0xffffffff82400000, kallsyms.ErrNoSymbol)
	wantLookupErr(t, fc, 0xffffffff82400008, kallsyms.ErrNoSymbol)
	wantLookup(t, fc, 0xffffffff83780001, "_sinittext+0x1/0x10")
	wantLookupErr(t, fc, 0xffffffff80ffffff, kallsyms.ErrNoSymbol)
	wantLookupErr(t, fc, 0, kallsyms.ErrNoSymbol)

	// Synthetic: a table without data symbols whose last line is a function
	// followed by _etext; and a module with nothing after it.
	tab := parseText(t, `ffffffff81000000 T _stext
ffffffff81000100 T last_fn
ffffffff81000180 T _etext
ffffffffc0001000 t m_fn	[m]
ffffffffc0001100 t m_fn2	[m]
`)
	wantLookup(t, tab, 0xffffffff8100017f, "last_fn+0x7f/0x80")
	wantEndErr(t, tab, 0xffffffff81000180, "last_fn+0x80/0x80")
	wantLookupErr(t, tab, 0xffffffff81100000, kallsyms.ErrNoSymbol)
	wantLookupErr(t, tab, 0xffffffff80ffffff, kallsyms.ErrNoSymbol)
	wantLookupErr(t, tab, 0xffffffffc0000fff, kallsyms.ErrNoSymbol)
	wantLookupErr(t, tab, 0xffffffffc1000000, kallsyms.ErrNoSymbol)
}

// An all-zero table (unprivileged reader) must say so, not resolve everything
// to the first symbol. Synthetic, including module lines as they appear to
// an unprivileged reader; the real core case is in TestGroundTruthUnprivileged.
func TestTrapAllZero(t *testing.T) {
	tab := parseText(t, `0000000000000000 A fixed_percpu_data
0000000000000000 T _stext
0000000000000000 T vfs_read
0000000000000000 t lkdtm_BUG	[lkdtm]
`)
	if !tab.Hidden() {
		t.Errorf("Hidden() = false")
	}
	wantFind(t, tab, "vfs_read", []int{2})
	wantFind(t, tab, "lkdtm:lkdtm_BUG", []int{3})
	for _, a := range []uint64{0, 1, 0xffffffff81000000} {
		wantLookupErr(t, tab, a, kallsyms.ErrAddressesHidden)
	}
	if _, err := kallsyms.ParseBytes(nil, kallsyms.Options{}); !errors.Is(err, kallsyms.ErrEmpty) {
		t.Errorf("ParseBytes(empty) error = %v, want ErrEmpty", err)
	}
}

// KSYM_NAME_LEN is 512 since Linux 6.1: names up to 511 bytes are legal.
// Synthetic (no real symbol is that long).
func TestTrapLongNames(t *testing.T) {
	long := "rust_" + strings.Repeat("abcdefghij", 50) + "xyzxyz" // 511 bytes
	if len(long) != 511 {
		t.Fatalf("test bug: len %d", len(long))
	}
	long2 := strings.Replace(long, "rust_", "modf_", 1)
	tab := parseText(t, "ffffffff81000000 T _stext\nffffffff81000010 t "+long+"\nffffffff81000040 T _etext\n"+
		"ffffffffc0001000 t "+long2+"\t[m]\nffffffffc0001020 t m2\t[m]\n")
	wantFind(t, tab, long, []int{1})
	wantFind(t, tab, long2, []int{3})
	if got := tab.Name(1); got != long {
		t.Errorf("Name(1) has %d bytes, want the 511-byte name", len(got))
	}
	wantLookup(t, tab, 0xffffffff81000015, long+"+0x5/0x30")
	wantLookup(t, tab, 0xffffffffc0001001, long2+"+0x1/0x20 [m]")
}

// Several names at one address: the kernel prints the first in table order.
func TestTrapAliases(t *testing.T) {
	// Real, run1-A: startup_64, _stext, _text at 0xffffffff99600000 (in this
	// file order), then secondary_startup_64 at 0xffffffff99600070.
	a := openTable(t, bootTable("run1-A"))
	wantLookup(t, a, 0xffffffff99600000, "startup_64+0x0/0x70")
	wantLookup(t, a, 0xffffffff9960006f, "startup_64+0x6f/0x70")
	// _etext and __indirect_thunk_end at 0xffffffff9a401d32; next symbol
	// __start_rodata at 0xffffffff9a600000 (data symbols present, so the gap
	// resolves).
	wantLookup(t, a, 0xffffffff9a401d32, "_etext+0x0/0x1fe2ce")
	// Module aliases, real: lkdtm_module_exit then cleanup_module at
	// 0xffffffffc085ee4a; next lkdtm symbol lkdtm_heap_exit at 0xffffffffc085ee89.
	wantLookup(t, a, 0xffffffffc085ee4a, "lkdtm_module_exit+0x0/0x3f [lkdtm]")
	// Firecracker: srso_alias_untrain_ret, _stext, _text, __pi__text.
	fc := openTable(t, firecrackerTable)
	loc, err := fc.Lookup(0xffffffff81000000)
	if got := format(fc, loc, err); !strings.HasPrefix(got, "srso_alias_untrain_ret+0x0/") {
		t.Errorf("firecracker Lookup(_text) = %q, want srso_alias_untrain_ret+0x0/...", got)
	}
	// Synthetic: aliases where the name sorting first is not the first line.
	tab := parseText(t, "ffffffff81000000 T _stext\nffffffff81000010 T zzz\nffffffff81000010 T aaa\nffffffff81000010 T mmm\nffffffff81000018 T _etext\n"+
		"ffffffffc0001000 t zz_mod\t[m]\nffffffffc0001000 t aa_mod\t[m]\nffffffffc0001010 t next\t[m]\n")
	wantLookup(t, tab, 0xffffffff81000011, "zzz+0x1/0x8")
	wantLookup(t, tab, 0xffffffffc0001001, "zz_mod+0x1/0x10 [m]")
	wantFind(t, tab, "aaa", []int{2})
	wantFind(t, tab, "aa_mod", []int{6})
}

// Static functions with the same name: Find returns all of them.
func TestTrapDuplicateNames(t *testing.T) {
	raw := readRaw(t, bootTable("run1-A"))
	sorted := sortedRaw(raw)
	a := openTable(t, bootTable("run1-A"))
	for _, name := range []string{"do_fault", "put_page", "watchdog", "__key.0", "_note_10", "cleanup_module"} {
		want := rawIndices(sorted, func(s rawSym) bool { return s.Name == name })
		if len(want) < 2 {
			t.Fatalf("fixture: %q is not duplicated", name)
		}
		wantFind(t, a, name, want)
		// AppendFind gives the same, appended.
		got := a.AppendFind([]int{-1}, name)
		if fmt.Sprint(got) != fmt.Sprint(append([]int{-1}, want...)) {
			t.Errorf("AppendFind([-1], %q) = %v, want -1 then %v", name, got, want)
		}
	}
	// do_fault: two static functions in the core, at different addresses.
	if got := a.Find("vmlinux:do_fault"); len(got) != 2 || a.Addr(got[0]) == a.Addr(got[1]) {
		t.Errorf("Find(vmlinux:do_fault) = %v", got)
	}
	wantFind(t, a, "no_such_symbol_anywhere", nil)
}

// Compiler-suffixed names are distinct symbols, found by their exact name only.
func TestTrapSuffixedNames(t *testing.T) {
	sorted := sortedRaw(readRaw(t, bootTable("run1-A")))
	a := openTable(t, bootTable("run1-A"))
	for _, name := range []string{
		"__handle_sysrq.cold", "direct_entry.cold", "set_bringup_idt_handler.constprop.0",
		"intel_pmu_save_and_restart_reload.isra.0", "perf_iommu_stop.part.0", "__key.0",
	} {
		want := rawIndices(sorted, func(s rawSym) bool { return s.Name == name })
		if len(want) == 0 {
			t.Fatalf("fixture has no %q", name)
		}
		wantFind(t, a, name, want)
		base := name[:strings.IndexByte(name, '.')]
		wantBase := rawIndices(sorted, func(s rawSym) bool { return s.Name == base })
		wantFind(t, a, base, wantBase)
	}
	wantFind(t, a, "lkdtm:direct_entry.cold", rawIndices(sorted, func(s rawSym) bool { return s.Name == "direct_entry.cold" }))
}

// Synthetic: CRLF line endings and no final newline.
func TestTrapLineEndings(t *testing.T) {
	for name, text := range map[string]string{
		"crlf":              "ffffffff81000000 T _stext\r\nffffffff81000010 T foo\r\nffffffff81000020 T _etext\r\nffffffffc0001000 t bar\t[mod]\r\nffffffffc0001010 t baz\t[mod]\r\n",
		"no final newline":  "ffffffff81000000 T _stext\nffffffff81000010 T foo\nffffffff81000020 T _etext\nffffffffc0001000 t bar\t[mod]\nffffffffc0001010 t baz\t[mod]",
		"crlf, no final nl": "ffffffff81000000 T _stext\r\nffffffff81000010 T foo\r\nffffffff81000020 T _etext\r\nffffffffc0001000 t bar\t[mod]\r\nffffffffc0001010 t baz\t[mod]",
	} {
		t.Run(name, func(t *testing.T) {
			for _, parse := range []func() (*kallsyms.Table, error){
				func() (*kallsyms.Table, error) { return kallsyms.ParseBytes([]byte(text), kallsyms.Options{}) },
				func() (*kallsyms.Table, error) { return kallsyms.Parse(strings.NewReader(text), kallsyms.Options{}) },
			} {
				tab, err := parse()
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				if tab.Len() != 5 {
					t.Errorf("Len() = %d, want 5", tab.Len())
				}
				wantFind(t, tab, "foo", []int{1})
				wantFind(t, tab, "baz", []int{4})
				wantFind(t, tab, "mod:baz", []int{4})
				if tab.ModuleName(4) != "mod" || tab.Name(4) != "baz" {
					t.Errorf("symbol 4 = %+v", tab.Symbol(4))
				}
				wantLookup(t, tab, 0xffffffff81000015, "foo+0x5/0x10")
				wantLookup(t, tab, 0xffffffffc0001001, "bar+0x1/0x10 [mod]")
			}
		})
	}
}

// Per-CPU symbols are offsets, not addresses; zero addresses at the start do
// not make the table hidden.
func TestTrapPerCPU(t *testing.T) {
	// Real, run1-A: lines 1-383 are per-CPU "A" symbols from 0 to
	// __per_cpu_end 0x35000; ext4 has a per-CPU "a" symbol discard_pa_seq at
	// 0x35000 too.
	a := openTable(t, bootTable("run1-A"))
	if a.Hidden() {
		t.Errorf("run1-A Hidden() = true")
	}
	for _, addr := range []uint64{0, 0x10, 0x1000, 0x34fff, 0x35000, 0x40000, 0x1000000} {
		wantLookupErr(t, a, addr, kallsyms.ErrNoSymbol)
	}
	// Synthetic: first line zero, the rest not.
	tab := parseText(t, `0000000000000000 A fixed_percpu_data
0000000000001000 A cpu_debug_store
ffffffff81000000 T _stext
ffffffff81000010 T foo
ffffffff81000020 T _etext
`)
	if tab.Hidden() {
		t.Errorf("Hidden() = true for a table with one zero line")
	}
	wantLookupErr(t, tab, 0x10, kallsyms.ErrNoSymbol)
	wantLookupErr(t, tab, 0x1000, kallsyms.ErrNoSymbol)
	wantLookup(t, tab, 0xffffffff81000011, "foo+0x1/0x10")
}

// Synthetic (the Debian boots ran no BPF, ftrace trampolines or optimised
// kprobes): the kernel's pseudo-modules, with names as real kernels print them.
func TestTrapPseudoModules(t *testing.T) {
	tab := parseText(t, `ffffffff81000000 T _stext
ffffffff81001000 T _etext
ffffffffc0201000 t bpf_prog_6deef7357e7b4530_sd_fw_egress	[bpf]
ffffffffc0203000 t bpf_trampoline_6442506293	[bpf]
ffffffffc0300000 t ftrace_trampoline	[__builtin__ftrace]
ffffffffc0400000 t kprobe_insn_page	[__builtin__kprobes]
ffffffffc0500000 t real_fn	[realmod]
ffffffffc0500040 t real_fn2	[realmod]
`)
	want := map[string]kallsyms.ModuleKind{
		"bpf":                kallsyms.KindBPF,
		"__builtin__ftrace":  kallsyms.KindFtrace,
		"__builtin__kprobes": kallsyms.KindKprobes,
		"realmod":            kallsyms.KindModule,
	}
	wantCount := map[string]int{"bpf": 2, "__builtin__ftrace": 1, "__builtin__kprobes": 1, "realmod": 2}
	mods := tab.Modules()
	if len(mods) != len(want) {
		t.Errorf("Modules() = %+v, want %d modules", mods, len(want))
	}
	for i, m := range mods {
		if k, ok := want[m.Name]; !ok || k != m.Kind || m.Symbols != wantCount[m.Name] {
			t.Errorf("module %+v: want kind %v, %d symbols", m, k, wantCount[m.Name])
		}
		if i > 0 && m.Start < mods[i-1].Start {
			t.Errorf("Modules() not in address order: %+v", mods)
		}
	}
	if tab.ModuleName(2) != "bpf" || tab.Name(2) != "bpf_prog_6deef7357e7b4530_sd_fw_egress" {
		t.Errorf("symbol 2 = %+v", tab.Symbol(2))
	}
	for addr, sec := range map[uint64]kallsyms.Section{
		0xffffffffc0201004: kallsyms.SectionBPF,
		0xffffffffc0300004: kallsyms.SectionFtrace,
		0xffffffffc0400004: kallsyms.SectionKprobes,
		0xffffffffc0500004: kallsyms.SectionModule,
	} {
		if got := tab.Section(addr); got != sec {
			t.Errorf("Section(%#x) = %q, want %q", addr, got, sec)
		}
	}
	// The kernel prints BPF symbols without a module tag: bpf_address_lookup()
	// clears modname (include/linux/filter.h), e.g. real traces show
	// "bpf_prog_bd94480187a43af0_test_prog1+0x42/0x5b" and
	// "bpf_trampoline_6442506293_0+0x55/0x1000". The size (the JIT image
	// length) is not in /proc/kallsyms, so it may be left out.
	loc, err := tab.Lookup(0xffffffffc0201004)
	if got := format(tab, loc, err); !strings.HasPrefix(got, "bpf_prog_6deef7357e7b4530_sd_fw_egress+0x4") || strings.Contains(got, "[") {
		t.Errorf("Lookup(bpf prog+4) = %q, want bpf_prog_6deef7357e7b4530_sd_fw_egress+0x4 (/0xsize) without [bpf]", got)
	}
}

// Malformed input gives a *ParseError with the line number, never a panic.
func TestTrapMalformed(t *testing.T) {
	good := "ffffffff81000000 T _stext\nffffffff81000010 T foo\n"
	for _, tc := range []struct {
		name string
		text string
		line int
	}{
		{"bad hex", good + "ffffffff8100zz20 T bar\n", 3},
		{"hex overflow", "ffffffffffffffff0 T bar\n", 1},
		{"missing name", good + "ffffffff81000020 T\n", 3},
		{"missing type and name", "ffffffff81000020\n" + good, 1},
		{"two-letter type", good + "ffffffff81000020 TT bar\n", 3},
		{"100 KB name", good + "ffffffff81000020 T " + strings.Repeat("x", 100<<10) + "\n", 3},
		{"100 KB line", good + good + strings.Repeat("ffff", 25<<10) + "\n", 5},
		{"binary", good + "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00\xff\xfe\n", 3},
		{"NUL bytes", "\x00\x00\x00\x00\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, src := range []string{"", "saved-kallsyms.txt"} {
				for _, viaReader := range []bool{false, true} {
					var err error
					func() {
						defer func() {
							if r := recover(); r != nil {
								t.Fatalf("panic: %v", r)
							}
						}()
						opts := kallsyms.Options{Source: src}
						if viaReader {
							_, err = kallsyms.Parse(bytes.NewReader([]byte(tc.text)), opts)
						} else {
							_, err = kallsyms.ParseBytes([]byte(tc.text), opts)
						}
					}()
					var pe *kallsyms.ParseError
					if !errors.As(err, &pe) {
						t.Fatalf("error = %v (%T), want *ParseError", err, err)
					}
					msg := err.Error()
					if pe.Line != tc.line || pe.File != src || !strings.Contains(msg, strconv.Itoa(tc.line)) ||
						(src != "" && !strings.Contains(msg, src)) || len(msg) > 1000 {
						t.Errorf("ParseError = %+v, message %.200q: want line %d, file %q, both in the message (kept short)", *pe, msg, tc.line, src)
					}
				}
			}
		})
	}
}

// "mod:name" restricts Find to a module; "vmlinux:" and "kernel:" to the core.
func TestTrapQualifiedFind(t *testing.T) {
	sorted := sortedRaw(readRaw(t, bootTable("run2-B")))
	b := openTable(t, bootTable("run2-B"))
	idx := func(mod, name string) []int {
		return rawIndices(sorted, func(s rawSym) bool { return s.Module == mod && s.Name == name })
	}
	wantFind(t, b, "lkdtm:lkdtm_BUG", idx("lkdtm", "lkdtm_BUG"))
	wantFind(t, b, "lkdtm_BUG", idx("lkdtm", "lkdtm_BUG"))
	wantFind(t, b, "vmlinux:vfs_read", idx("", "vfs_read"))
	wantFind(t, b, "kernel:vfs_read", idx("", "vfs_read"))
	wantFind(t, b, "ext4:vfs_read", nil)
	wantFind(t, b, "vmlinux:lkdtm_BUG", nil)
	wantFind(t, b, "ext4:lkdtm_BUG", nil)
	wantFind(t, b, "nosuchmodule:vfs_read", nil)
	// _note_10 exists in every module: qualification picks one.
	wantFind(t, b, "xfs:_note_10", idx("xfs", "_note_10"))
	if len(idx("xfs", "_note_10")) != 1 {
		t.Fatalf("fixture: xfs:_note_10")
	}
	if got := b.Find("lkdtm:lkdtm_BUG"); len(got) == 1 {
		wantLookup(t, b, b.Addr(got[0])+5, "lkdtm_BUG+0x5/0x10 [lkdtm]") // run2-B oops-02
	}
}

// Search filters, each checked against index sets the test computes from its
// own split of the fixture.
func TestSearch(t *testing.T) {
	sorted := sortedRaw(readRaw(t, bootTable("run1-A")))
	a := openTable(t, bootTable("run1-A"))
	hasType := func(types string) func(rawSym) bool {
		return func(s rawSym) bool { return strings.IndexByte(types, s.Type) >= 0 }
	}
	for _, tc := range []struct {
		name string
		q    kallsyms.Query
		keep func(rawSym) bool
	}{
		{"glob prefix", kallsyms.Query{Pattern: "lkdtm_*"},
			func(s rawSym) bool { return strings.HasPrefix(s.Name, "lkdtm_") }},
		{"glob inner", kallsyms.Query{Pattern: "vfs_*write*"},
			func(s rawSym) bool {
				return strings.HasPrefix(s.Name, "vfs_") && strings.Contains(s.Name[4:], "write")
			}},
		{"glob ?", kallsyms.Query{Pattern: "?fs_read"},
			func(s rawSym) bool { return len(s.Name) == 8 && strings.HasSuffix(s.Name, "fs_read") }},
		{"glob class", kallsyms.Query{Pattern: "__x64_sys_[rw]ead"},
			func(s rawSym) bool { return s.Name == "__x64_sys_read" || s.Name == "__x64_sys_wead" }},
		{"glob exact", kallsyms.Query{Pattern: "do_fault"},
			func(s rawSym) bool { return s.Name == "do_fault" }},
		{"regexp anchored", kallsyms.Query{Pattern: `^vfs_(read|write)$`, Regexp: true},
			func(s rawSym) bool { return s.Name == "vfs_read" || s.Name == "vfs_write" }},
		{"regexp unanchored", kallsyms.Query{Pattern: `complete_and_ex`, Regexp: true},
			func(s rawSym) bool { return strings.Contains(s.Name, "complete_and_ex") }},
		{"regexp suffix", kallsyms.Query{Pattern: `\.cold$`, Regexp: true},
			func(s rawSym) bool { return strings.HasSuffix(s.Name, ".cold") }},
		{"types", kallsyms.Query{Pattern: "vfs_*", Types: "Tt"},
			func(s rawSym) bool { return strings.HasPrefix(s.Name, "vfs_") && hasType("Tt")(s) }},
		{"types only", kallsyms.Query{Types: "V"}, hasType("V")},
		{"types b", kallsyms.Query{Types: "b", Module: "lkdtm"},
			func(s rawSym) bool { return s.Type == 'b' && s.Module == "lkdtm" }},
		{"module", kallsyms.Query{Module: "crc16"},
			func(s rawSym) bool { return s.Module == "crc16" }},
		{"module+glob", kallsyms.Query{Module: "lkdtm", Pattern: "*.cold"},
			func(s rawSym) bool { return s.Module == "lkdtm" && strings.HasSuffix(s.Name, ".cold") }},
		{"module vmlinux", kallsyms.Query{Module: "vmlinux", Pattern: "_note_*"},
			func(s rawSym) bool { return s.Module == "" && strings.HasPrefix(s.Name, "_note_") }},
		{"module kernel", kallsyms.Query{Module: "kernel", Pattern: "do_fault"},
			func(s rawSym) bool { return s.Module == "" && s.Name == "do_fault" }},
		{"core only", kallsyms.Query{CoreOnly: true, Pattern: "*_exit"},
			func(s rawSym) bool { return s.Module == "" && strings.HasSuffix(s.Name, "_exit") }},
		{"core only regexp types", kallsyms.Query{CoreOnly: true, Pattern: `^__ksymtab_k`, Regexp: true, Types: "r"},
			func(s rawSym) bool {
				return s.Module == "" && s.Type == 'r' && strings.HasPrefix(s.Name, "__ksymtab_k")
			}},
		{"no match", kallsyms.Query{Pattern: "no_such_symbol_*"}, func(rawSym) bool { return false }},
		{"module no match", kallsyms.Query{Module: "nosuchmod"}, func(rawSym) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := rawIndices(sorted, tc.keep)
			got, err := a.Search(tc.q)
			if err != nil {
				t.Fatalf("Search(%+v): %v", tc.q, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Search(%+v) = %d indices %v, want %d %v", tc.q, len(got), trunc(got), len(want), trunc(want))
			}
		})
	}
	// The empty query matches everything.
	all, err := a.Search(kallsyms.Query{})
	if err != nil || len(all) != a.Len() {
		t.Errorf("Search({}) = %d indices, %v; want %d", len(all), err, a.Len())
	}
	// Bad patterns are errors, not empty results.
	for _, q := range []kallsyms.Query{{Pattern: "(", Regexp: true}, {Pattern: "[", Regexp: false}, {Pattern: "a[", Regexp: false}} {
		if got, err := a.Search(q); err == nil {
			t.Errorf("Search(%+v) = %d indices, nil error; want an error", q, len(got))
		}
	}
	// Sanity of the test itself: the regexp case agrees with Go's regexp.
	re := regexp.MustCompile(`\.cold$`)
	if n := len(rawIndices(sorted, func(s rawSym) bool { return re.MatchString(s.Name) })); n < 10 {
		t.Fatalf("fixture: only %d .cold symbols", n)
	}
}

func trunc(s []int) []int {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

// A Table is documented as safe for concurrent use: run under -race.
func TestConcurrentUse(t *testing.T) {
	b := openTable(t, bootTable("run2-B"))
	want := "lkdtm_EXCEPTION+0x5/0x20 [lkdtm]" // run2-B oops-03
	done := make(chan string)
	for g := 0; g < 8; g++ {
		go func() {
			var bad string
			for k := 0; k < 200; k++ {
				loc, err := b.Lookup(0xffffffffc09e64a5)
				if got := format(b, loc, err); got != want && bad == "" {
					bad = got
				}
				_ = b.Find("do_fault")
				_, _ = b.LookupReturn(0xffffffff868cd340)
				_ = b.Section(0xffffffffc09e64a5)
				if k%50 == 0 {
					_, _ = b.Search(kallsyms.Query{Pattern: "lkdtm_*", Module: "lkdtm"})
					_ = b.Modules()
				}
			}
			done <- bad
		}()
	}
	for g := 0; g < 8; g++ {
		if bad := <-done; bad != "" {
			t.Errorf("concurrent Lookup = %q, want %q", bad, want)
		}
	}
}
