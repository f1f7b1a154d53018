package kallsyms

import (
	"strings"
	"testing"
)

func TestTypeLettersComplete(t *testing.T) {
	// Every letter nm(1) can print for an ELF kernel image or module.
	const want = "AaBbCDdGgiNnpRrSsTtUuVvWw?"
	got := TypeLetters()
	if len(got) != len(want) {
		t.Fatalf("TypeLetters() has %d entries, want %d", len(got), len(want))
	}
	seen := map[byte]bool{}
	for i, ti := range got {
		if ti.Letter != want[i] {
			t.Errorf("entry %d: letter %q, want %q", i, ti.Letter, want[i])
		}
		if seen[ti.Letter] {
			t.Errorf("letter %q listed twice", ti.Letter)
		}
		seen[ti.Letter] = true
		if ti.Meaning == "" {
			t.Errorf("letter %q has no meaning", ti.Letter)
		}
		if ti.Upper != (ti.Letter >= 'A' && ti.Letter <= 'Z') {
			t.Errorf("letter %q: Upper = %v", ti.Letter, ti.Upper)
		}
		if ti.Meaning == "function" || ti.Meaning == "variable" {
			t.Errorf("letter %q: the type column is not f/v", ti.Letter)
		}
	}
	// The caller owns the copy.
	got[0].Meaning = "changed"
	if TypeLetters()[0].Meaning == "changed" {
		t.Error("TypeLetters returned the package's own slice")
	}
}

func TestTypeLettersInKallsyms(t *testing.T) {
	// Letters the kernel prints in /proc/kallsyms: those of the real Debian
	// 6.1 table (A B D R T V W a b d r t) must be among them; those it drops
	// (U, N, C, u) must not.
	for _, c := range []byte("ABDRTVWabdrt") {
		ti, ok := LookupType(c)
		if !ok || !ti.InKallsyms {
			t.Errorf("%q: InKallsyms = false, ok = %v", c, ok)
		}
	}
	for _, c := range []byte("UNCu") {
		if ti, _ := LookupType(c); ti.InKallsyms {
			t.Errorf("%q: InKallsyms = true", c)
		}
	}
	if _, ok := LookupType('f'); ok {
		t.Error("f is not an nm type letter")
	}
}

func TestDescribeType(t *testing.T) {
	tests := []struct {
		letter   byte
		inModule bool
		want     string
	}{
		// vfs_read: T, global, and not exported.
		{'T', false, "code (text), global (external linkage; not necessarily exported to modules)"},
		{'t', false, "code (text), static (local to its source file)"},
		{'D', false, "initialized data, global (external linkage; not necessarily exported to modules)"},
		{'d', false, "initialized data, static (local to its source file)"},
		{'R', false, "read-only data, global (external linkage; not necessarily exported to modules)"},
		{'r', false, "read-only data, static (local to its source file)"},
		{'B', false, "zero-initialized data (bss), global (external linkage; not necessarily exported to modules)"},
		{'b', false, "zero-initialized data (bss), static (local to its source file)"},
		{'A', false, "absolute value (not an address that moves with the kernel), global; on x86_64 most A symbols are per-CPU variables whose value is an offset into each CPU's per-CPU area, not an address"},
		{'W', false, "weak symbol (usually a function), defined: a __weak default nobody overrode (global linkage, not necessarily exported)"},
		{'V', false, "weak variable, defined (global linkage, not necessarily exported)"},
		{'U', false, "undefined (defined elsewhere); never in /proc/kallsyms"},
		{'N', false, "debugging symbol"},
		{'i', false, "indirect function (GNU ifunc)"},
		{'?', false, "unknown type (the section could not be classified)"},
		{'f', false, "unknown type letter 'f'"},
		{0, false, "unknown type letter 0x00"},
		// lkdtm_EXCEPTION is t in [lkdtm]; module symbols are upper case
		// exactly when exported.
		{'t', true, "code (text), not exported by the module"},
		{'T', true, "code (text), exported by the module (upper case in a module means exported)"},
		{'d', true, "initialized data, not exported by the module"},
		{'D', true, "initialized data, exported by the module (upper case in a module means exported)"},
		{'r', true, "read-only data, not exported by the module"},
		{'b', true, "zero-initialized data (bss), not exported by the module"},
		{'w', true, "weak symbol (usually a function), not exported by the module"},
		{'v', true, "weak variable, not exported by the module"},
		// ext4's discard_pa_seq is a per-CPU variable: a.
		{'a', true, "absolute value (not an address that moves with the kernel), not exported by the module (a module's per-CPU variables show as a: the value is an offset, not an address)"},
		{'?', true, "unknown type (the section could not be classified)"},
	}
	for _, tt := range tests {
		if got := DescribeType(tt.letter, tt.inModule); got != tt.want {
			t.Errorf("DescribeType(%q, %v) =\n  %q\nwant\n  %q", tt.letter, tt.inModule, got, tt.want)
		}
	}
}

func TestDescribeTypeCaseRules(t *testing.T) {
	for _, ti := range TypeLetters() {
		core := DescribeType(ti.Letter, false)
		mod := DescribeType(ti.Letter, true)
		if core == "" || mod == "" {
			t.Errorf("%q: empty description", ti.Letter)
		}
		// Upper case never means exported for the core kernel.
		if strings.Contains(core, "exported by") {
			t.Errorf("core %q claims export: %q", ti.Letter, core)
		}
		// For modules, the case is the export status (for letters the
		// module loader produces).
		if !strings.ContainsAny(string(ti.Letter), "BDRTVWbdrtvwAa") {
			continue
		}
		exported := strings.Contains(mod, "exported by the module") && !strings.Contains(mod, "not exported")
		if exported != isUpper(ti.Letter) {
			t.Errorf("module %q: %q (exported = %v)", ti.Letter, mod, exported)
		}
	}
}

func TestIsText(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := strings.ContainsRune("TtWw", rune(c))
		if IsText(byte(c)) != want {
			t.Errorf("IsText(%q) = %v", byte(c), !want)
		}
	}
}
