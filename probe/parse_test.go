package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// Neither kernel the fixtures come from let its available_filter_functions
// be read (the Debian boots did not save it; the development VM refuses it
// even to root, see machine/testdata/fc-6.18.44-tracing.md), so these
// parser tests use lines written in the kernel's format
// (kernel/trace/ftrace.c t_show and print_rec: "%s" then " [%s]" for a
// module), with real function names of the Debian 6.1 table. The live test
// below reads the real file when the machine allows it.
func TestParseFilterFunctions(t *testing.T) {
	text := "vfs_read\n" +
		"type_show\n" +
		"type_show\n" +
		"lkdtm_do_action [lkdtm]\n" +
		"init_once [ext4]\n" +
		"__ftrace_invalid_address___620\n" +
		"init_once\n"
	ff, err := ParseFilterFunctions([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, module string
		want         int
	}{
		{"vfs_read", "", 1},
		{"type_show", "", 2},
		{"lkdtm_do_action", "lkdtm", 1},
		{"lkdtm_do_action", "", 0},
		{"init_once", "", 1},
		{"init_once", "ext4", 1},
		{"init_once", "fat", 0},
		{"__ftrace_invalid_address___620", "", 0},
	}
	for _, tt := range tests {
		if got := ff.Count(tt.name, tt.module); got != tt.want {
			t.Errorf("Count(%q, %q) = %d, want %d", tt.name, tt.module, got, tt.want)
		}
	}
	if ff.Len() != 6 || ff.Invalid() != 1 {
		t.Errorf("Len, Invalid = %d, %d; want 6, 1", ff.Len(), ff.Invalid())
	}
}

func TestParseFilterFunctionsErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"vfs_read\n\n", "line 2: \"\" is not a function name"},
		{"vfs_read\nfoo [bar\n", "line 2: \"foo [bar\" is not \"name\" or \"name [module]\""},
		{"foo bar\n", "line 1: \"foo bar\" is not \"name\" or \"name [module]\""},
		{" [lkdtm]\n", "line 1: \" [lkdtm]\" is not a function name"},
		{"foo [a b]\n", "is not \"name\" or \"name [module]\""},
		// A kallsyms table given by mistake.
		{"ffffffff99600000 T _stext\n", "line 1: \"ffffffff99600000 T _stext\" is not \"name\" or \"name [module]\""},
	}
	for _, tt := range tests {
		_, err := ParseFilterFunctions([]byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseFilterFunctions(%q) = %v, want an error with %q", tt.text, err, tt.want)
		}
	}
}

// The fixtures hold no real kprobe blacklist (the development VM has no
// kprobes; the Debian boots did not save it). These lines follow
// kprobe_blacklist_seq_show's "0x%px-0x%px\t%ps\n", with the addresses
// and sizes of real Debian 6.1 run1-A symbols (do_int3 at
// ffffffff99632980, 0x1a0 bytes to the next symbol), and the all-zero form
// an unprivileged reader sees.
func TestParseBlacklist(t *testing.T) {
	text := "0xffffffff99632980-0xffffffff99632b20\tdo_int3\n" +
		"0xffffffffc085b0b0-0xffffffffc085b170\tlkdtm_kprobe_handler [lkdtm]\n" +
		"0x0000000000000000-0x0000000000000000\texc_page_fault\n"
	bl, err := ParseBlacklist([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []BlacklistEntry{
		{0xffffffff99632980, 0xffffffff99632b20, "do_int3", ""},
		{0xffffffffc085b0b0, 0xffffffffc085b170, "lkdtm_kprobe_handler", "lkdtm"},
		{0, 0, "exc_page_fault", ""},
	}
	if len(bl.Entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(bl.Entries), len(want))
	}
	for i := range want {
		if bl.Entries[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, bl.Entries[i], want[i])
		}
	}
	tests := []struct {
		name, module string
		want         bool
	}{
		{"do_int3", "", true},
		{"lkdtm_kprobe_handler", "lkdtm", true},
		{"lkdtm_kprobe_handler", "", false},
		{"vfs_read", "", false},
	}
	for _, tt := range tests {
		if got := bl.Listed(tt.name, tt.module); got != tt.want {
			t.Errorf("Listed(%q, %q) = %v", tt.name, tt.module, got)
		}
	}
	if e, ok := bl.Covers(0xffffffff99632a00); !ok || e.Name != "do_int3" {
		t.Errorf("Covers(inside do_int3) = %+v, %v", e, ok)
	}
	if _, ok := bl.Covers(0); ok {
		t.Error("an entry with hidden addresses covers address 0")
	}
	if bl.AddressesHidden() {
		t.Error("AddressesHidden with real addresses")
	}
}

func TestParseBlacklistErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"0xffffffff99632980-0xffffffff99632b20 do_int3\n", "line 1: \"0xffffffff99632980-0xffffffff99632b20 do_int3\" has no tab"},
		{"0xffffffff99632b20-0xffffffff99632980\tdo_int3\n", "line 1: \"0xffffffff99632b20-0xffffffff99632980\" is not an address range"},
		{"ffffffff99632980-ffffffff99632b20\tdo_int3\n", "is not an address range"},
		{"0x1-0x2\t\n", "line 1: \"\" is not a function name"},
		{"0x1-0x2\tdo_int3\n\n", "line 2: \"\" has no tab"},
	}
	for _, tt := range tests {
		_, err := ParseBlacklist([]byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseBlacklist(%q) = %v, want an error with %q", tt.text, err, tt.want)
		}
	}
}

// The options are checked against the real configurations; the expected
// values were read with zcat | grep, not with ParseConfig.
func TestParseConfig(t *testing.T) {
	tests := []struct {
		path   string
		option string
		want   string
		found  bool
	}{
		{"../machine/testdata/fc-6.18.44-tracing/proc/config.gz", "CONFIG_KPROBES", "n", true},
		{"../machine/testdata/fc-6.18.44-tracing/proc/config.gz", "CONFIG_FUNCTION_TRACER", "y", true},
		{"../machine/testdata/fc-6.18.44-tracing/proc/config.gz", "CONFIG_FPROBE", "n", true},
		{"../machine/testdata/fc-6.18.44-tracing/proc/config.gz", "CONFIG_LSM", `"landlock,lockdown,loadpin,safesetid,integrity,smack,tomoyo,apparmor,bpf"`, true},
		{"../machine/testdata/fc-6.18.44-tracing/proc/config.gz", "CONFIG_NO_SUCH_OPTION", "", false},
		{fixture.Path("debian-6.1.0-56-amd64/config.gz"), "CONFIG_KPROBES", "y", true},
		{fixture.Path("debian-6.1.0-56-amd64/config.gz"), "CONFIG_DEBUG_INFO_BTF_MODULES", "y", true},
		{fixture.Path("debian-6.1.0-56-amd64/config.gz"), "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS", "y", true},
	}
	for _, tt := range tests {
		c, err := ParseConfig(fixture.Read(t, tt.path))
		if err != nil {
			t.Fatal(err)
		}
		got, found := c.Value(tt.option)
		if got != tt.want || found != tt.found {
			t.Errorf("%s: %s = %q, %v; want %q, %v", filepath.Base(filepath.Dir(tt.path)), tt.option, got, found, tt.want, tt.found)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"kallsyms", "ffffffff99600000 T _stext\n", "kernel config line 1: \"ffffffff99600000 T _stext\" is not CONFIG_NAME=value"},
		{"comments only", "#\n# Automatically generated file; DO NOT EDIT.\n", "kernel config: no CONFIG_ option"},
		{"empty", "", "kernel config: no CONFIG_ option"},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.text))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: ParseConfig = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestParseBTFLive reads this machine's /sys/kernel/btf/vmlinux when there
// is one: pahole writes a FUNC entry for functions with an address only,
// so every FUNC name must be a text symbol of the live /proc/kallsyms (read
// here line by line, without package kallsyms).
func TestParseBTFLive(t *testing.T) {
	data, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		t.Skipf("no kernel BTF here: %v", err)
	}
	ksyms, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Skipf("no /proc/kallsyms: %v", err)
	}
	text := map[string]bool{}
	for _, line := range strings.Split(string(ksyms), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && (f[1] == "t" || f[1] == "T") {
			text[f[2]] = true
			if i := strings.IndexByte(f[2], '.'); i > 0 {
				text[f[2][:i]] = true // a clone: pahole names the function it was made from
			}
		}
	}
	b, err := ParseBTF(data)
	if err != nil {
		t.Fatal(err)
	}
	if b.Funcs() < 1000 || !b.HasFunc("vfs_read") || b.HasFunc("__pfx_vfs_read") {
		t.Errorf("BTF: %d functions, vfs_read %v, __pfx_vfs_read %v", b.Funcs(), b.HasFunc("vfs_read"), b.HasFunc("__pfx_vfs_read"))
	}
	// Not every FUNC has a symbol: pahole also describes functions the
	// linker dropped (__exit functions of built-in code, overridden weak
	// functions). On this 6.18 kernel 55,346 of 55,846 have one.
	found := 0
	for name := range b.funcs {
		if text[name] {
			found++
		}
		if strings.ContainsAny(name, ". ") {
			t.Errorf("BTF FUNC %q is not a C identifier", name)
		}
	}
	if found*100 < b.Funcs()*90 {
		t.Errorf("only %d of %d BTF FUNC names are text symbols of /proc/kallsyms", found, b.Funcs())
	}
	t.Logf("%d of %d BTF FUNC names are text symbols", found, b.Funcs())
	for _, cut := range []int{len(data) - 1, len(data) / 2, 30} {
		if _, err := ParseBTF(data[:cut]); err == nil {
			t.Errorf("BTF cut to %d bytes parsed without error", cut)
		}
	}
}

func TestParseBTFErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not BTF data (no 0xeB9F magic)"},
		{"kallsyms", []byte("ffffffff99600000 T _stext\nffffffff99600000 T _text\n"), "not BTF data (no 0xeB9F magic)"},
		// A header (little-endian) whose type section runs past the data.
		{"short", []byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0}, "run past the 24 bytes"},
	}
	for _, tt := range tests {
		_, err := ParseBTF(tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ParseBTF = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

// available_filter_functions_addrs lines as t_show prints them with
// FTRACE_ITER_ADDRS ("%lx " before the name), with the addresses of the
// real Debian run1-A type_show functions (two of its 17), and their patch
// sites at the first instruction (6.1 has no endbr64 before __fentry__).
func TestParseFilterFunctionsAddrs(t *testing.T) {
	ff, err := ParseFilterFunctionsAddrs([]byte("ffffffff99639ea0 type_show\nffffffff996d47e0 type_show\nffffffffc085b090 lkdtm_do_action [lkdtm]\n"))
	if err != nil {
		t.Fatal(err)
	}
	sites, ok := ff.Sites("type_show", "")
	if !ok || len(sites) != 2 || sites[0] != 0xffffffff99639ea0 || sites[1] != 0xffffffff996d47e0 || ff.Count("type_show", "") != 2 {
		t.Errorf("type_show sites %x, %v", sites, ok)
	}
	if sites, ok := ff.Sites("lkdtm_do_action", "lkdtm"); !ok || len(sites) != 1 || sites[0] != 0xffffffffc085b090 {
		t.Errorf("lkdtm_do_action sites %x, %v", sites, ok)
	}
	plain, _ := ParseFilterFunctions([]byte("type_show\n"))
	if _, ok := plain.Sites("type_show", ""); ok {
		t.Error("available_filter_functions has no addresses")
	}
	for _, bad := range []string{"type_show\n", "xyz type_show\n", "ffffffff99639ea0\n", "1ffffffff99639ea00 type_show\n"} {
		if _, err := ParseFilterFunctionsAddrs([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
