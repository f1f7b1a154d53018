package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

const (
	modulesB = bootDir + "modules.txt"
	modulesA = "../../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A/modules.txt"
)

// annotationOf returns the annotation of the first output line holding
// text, "" when there is none.
func annotationOf(out, text string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, text) {
			_, note, _ := strings.Cut(l, "  # ")
			return note
		}
	}
	return "(no line)"
}

// oops03Raw is run2-B's oops-03 with its direct_entry.cold frame printed
// as a raw address, 0xffffffffc09e7900 (the address its named frame
// decodes to: kallsyms direct_entry.cold 0xffffffffc09e78e8 + 0x18).
func oops03Raw(t *testing.T) string {
	t.Helper()
	log := string(readFile(t, oops03))
	raw := strings.Replace(log, " direct_entry.cold+0x18/0x24 [lkdtm]", " [<ffffffffc09e7900>]", 1)
	if raw == log {
		t.Fatal("oops-03 has no direct_entry.cold frame")
	}
	return raw
}

// TestDecodeModulesFlag: --modules (run2-B's /proc/modules: lkdtm at
// 0xffffffffc09e6000) attributes raw module addresses with a System.map;
// with a kallsyms table it checks the table's modules. Offsets by hand:
// 0xffffffffc09e7900 - 0xffffffffc09e6000 = 0x1900; RAX ffffffffc09e64a0 is
// 0x4a0 into lkdtm.
func TestDecodeModulesFlag(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		notes map[string]string // line text -> annotation
		code  int
	}{
		{"system-map with modules", []string{"decode", "--system-map", systemMap, "--modules", modulesB, "-"}, map[string]string{
			"[<ffffffffc09e7900>]":      "unchecked: module lkdtm+0x1900 (base 0xffffffffc09e6000): a System.map has no module symbols",
			"RAX: ffffffffc09e64a0":     "RAX=module lkdtm+0x4a0 (base 0xffffffffc09e6000)",
			"RIP: 0010:lkdtm_EXCEPTION": "unchecked: a System.map has no module symbols",
		}, ExitOK},
		{"system-map without modules", []string{"decode", "--system-map", systemMap, "-"}, map[string]string{
			"[<ffffffffc09e7900>]":  "unchecked: a module address: a System.map has no module symbols, and the kernel slide does not apply",
			"RAX: ffffffffc09e64a0": "",
		}, ExitOK},
		{"kallsyms with its modules", []string{"--kallsyms", kallsymsGz, "decode", "--modules", modulesB, "-"}, map[string]string{
			"[<ffffffffc09e7900>]":  "direct_entry.cold+0x18/0x24 [lkdtm]",
			"RAX: ffffffffc09e64a0": "RAX=lkdtm_EXCEPTION+0x0/0x20 [lkdtm]",
		}, ExitOK},
	}
	for _, tc := range tests {
		out, errs, code := run(t, oops03Raw(t), tc.args...)
		if code != tc.code || errs != "" {
			t.Errorf("%s: status %d, stderr %q", tc.name, code, errs)
		}
		for line, want := range tc.notes {
			if got := annotationOf(out, line); got != want {
				t.Errorf("%s: line %q annotated %q, want %q", tc.name, line, got, want)
			}
		}
	}
}

// TestDecodeModulesMismatch: a modules file of another boot (run1-A) with
// run2-B's kallsyms: one loud warning, exit status 1. The warning was read
// from the files: run1-A's lowest module is crc32c_intel at
// 0xffffffffc03f9000 (24576 bytes); run2-B has its text at
// 0xffffffffc056d000-0xffffffffc056e4d5.
func TestDecodeModulesMismatch(t *testing.T) {
	want := "ksym: warning: " + oops03 + ": module crc32c_intel: the table has its text at 0xffffffffc056d000-0xffffffffc056e4d5, the modules file puts it at 0xffffffffc03f9000-0xffffffffc03ff000, and 23 more modules disagree: the modules file is not from the boot of the table\n"
	_, errs, code := run(t, "", "--kallsyms", kallsymsGz, "decode", "--summary", "--modules", modulesA, oops03)
	if code != ExitNotFound || errs != want {
		t.Errorf("status %d, stderr\n%q\nwant\n%q", code, errs, want)
	}
}

// TestDecodeModulesErrors: unusable modules files are usage errors.
func TestDecodeModulesErrors(t *testing.T) {
	dir := t.TempDir()
	hidden := dir + "/hidden.txt"
	bad := dir + "/bad.txt"
	if err := os.WriteFile(hidden, []byte("lkdtm 65536 0 - Live 0x0000000000000000 (OE)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("lkdtm 65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		stdin string
		errs  string
	}{
		{[]string{"--kallsyms", kallsymsGz, "decode", "--modules", hidden, oops03}, "",
			"ksym: " + hidden + ": the module addresses are hidden (all zero): save /proc/modules as root\n"},
		{[]string{"--kallsyms", kallsymsGz, "decode", "--modules", bad, oops03}, "",
			"ksym: " + bad + ": modules line 1: want 6 or 7 fields, found 2: \"lkdtm 65536\"\n"},
		{[]string{"--kallsyms", kallsymsGz, "decode", "--modules", "-", "-"}, "x",
			"ksym: decode: standard input (-) can be read only once\n"},
	}
	for _, tc := range tests {
		_, errs, code := run(t, tc.stdin, tc.args...)
		if code != ExitUsage || errs != tc.errs {
			t.Errorf("%v: status %d, stderr %q, want 2 and %q", tc.args, code, errs, tc.errs)
		}
	}
	// The modules file from standard input.
	out, errs, code := run(t, string(readFile(t, modulesB)), "--system-map", systemMap, "decode", "--modules", "-", oops03)
	if code != ExitOK || errs != "" || !strings.Contains(out, "RAX=module lkdtm+0x4a0 (base 0xffffffffc09e6000)") {
		t.Errorf("modules from stdin: status %d, stderr %q", code, errs)
	}
}

// TestDecodeSystemMapInputs: --system-map reads standard input like any
// table, and refuses an index or a snapshot (their addresses are runtime
// ones).
func TestDecodeSystemMapInputs(t *testing.T) {
	want, _, wantCode := run(t, "", "decode", "--summary", "--system-map", systemMap, oops03)
	out, errs, code := run(t, string(readFile(t, systemMap)), "decode", "--summary", "--system-map", "-", oops03)
	if out != want || code != wantCode || errs != "" {
		t.Errorf("System.map from standard input: %d %q %q, want %d %q", code, out, errs, wantCode, want)
	}
	idx := t.TempDir() + "/k.ksymidx"
	if _, errs, code := run(t, "", "--kallsyms", kallsymsGz, "snapshot", "index", "-o", idx); code != 0 {
		t.Fatal(errs)
	}
	out, errs, code = run(t, "", "decode", "--system-map", idx, oops03)
	if code != ExitUsage || out != "" || errs != "ksym: "+idx+": not a System.map (the file is a ksym index)\n" {
		t.Errorf("an index as --system-map: %d %q %q", code, out, errs)
	}
}

// escapes matches the SGR sequences of coloured output.
var escapes = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestDecodeColor: colour only when asked or on a terminal; NO_COLOR and
// --no-color turn it off; the coloured output is the plain one plus
// escapes. The styles: the guilty frame (lkdtm_EXCEPTION, the RIP) bold
// magenta, checked frames dim, registers cyan, the title bold, uncertain
// yellow.
func TestDecodeColor(t *testing.T) {
	plain, _, _ := run(t, "", "--kallsyms", kallsymsGz, "decode", oops03)
	tests := []struct {
		name     string
		noColor  string
		args     []string
		coloured bool
	}{
		{"default, not a terminal", "", nil, false},
		{"always", "", []string{"--color=always"}, true},
		{"never", "", []string{"--color=never"}, false},
		{"no-color wins over always", "", []string{"--color=always", "--no-color"}, false},
		{"NO_COLOR, auto", "1", []string{"--color=auto"}, false},
		{"always wins over NO_COLOR", "1", []string{"--color=always"}, true},
	}
	for _, tc := range tests {
		t.Setenv("NO_COLOR", tc.noColor)
		args := append([]string{"--kallsyms", kallsymsGz, "decode"}, tc.args...)
		out, errs, code := run(t, "", append(args, oops03)...)
		if code != ExitOK || errs != "" {
			t.Fatalf("%s: status %d, stderr %q", tc.name, code, errs)
		}
		if got := strings.Contains(out, "\x1b["); got != tc.coloured {
			t.Errorf("%s: coloured %v, want %v", tc.name, got, tc.coloured)
		}
		if stripped := escapes.ReplaceAllString(out, ""); stripped != plain {
			t.Errorf("%s: output without escapes differs from the plain output", tc.name)
		}
	}
	t.Setenv("NO_COLOR", "")
	out, _, _ := run(t, "", "--kallsyms", kallsymsGz, "decode", "--color=always", oops03)
	for _, want := range []string{
		"[lkdtm]                         # \x1b[1;35mok 0xffffffffc09e64a5\x1b[0m\n",
		"# \x1b[2mok 0xffffffffc09e7900\x1b[0m\n",
		"# \x1b[36mRAX=lkdtm_EXCEPTION+0x0/0x20 [lkdtm]\x1b[0m\n",
		"# \x1b[2muser: user space address\x1b[0m\n",
		"\x1b[1m== BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm] [null-deref]\x1b[0m\n",
		"   guilty:    \x1b[1;35mlkdtm_EXCEPTION+0x5/0x20 [lkdtm]\x1b[0m (module lkdtm, tainted OE)\n",
		"   uncertain: \x1b[33m2 unreliable (?) frames\x1b[0m\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("coloured output lacks %q", want)
		}
	}
	if _, errs, code := run(t, "", "--kallsyms", kallsymsGz, "decode", "--color=sometimes", oops03); code != ExitUsage ||
		errs != "ksym: decode: --color is auto, always or never, not \"sometimes\"\n" {
		t.Errorf("bad --color: status %d, stderr %q", code, errs)
	}
}

// TestColorOn: the decision table; /dev/null is a character device but
// not a terminal.
func TestColorOn(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	tests := []struct {
		mode, noColorEnv, term string
		noColor, want          bool
	}{
		{"auto", "", "xterm", false, false},
		{"always", "", "xterm", false, true},
		{"always", "", "dumb", false, true},
		{"always", "1", "xterm", false, true},
		{"always", "", "xterm", true, false},
		{"never", "", "xterm", false, false},
	}
	for _, tc := range tests {
		t.Setenv("NO_COLOR", tc.noColorEnv)
		t.Setenv("TERM", tc.term)
		if got, err := colorOn(tc.mode, tc.noColor, null); got != tc.want || err != nil {
			t.Errorf("%+v: %v %v", tc, got, err)
		}
	}
}

// TestDecodeInterleaved: two real reports of different tasks interleaved
// line by line (synthetic interleaving of syzkaller's report/453, task
// T6213, and report/642, task T12771, 28 lines each) are both annotated,
// and each summary follows its report's last line: 453's is line 55
// (2*28-1), 642's line 56, the end.
func TestDecodeInterleaved(t *testing.T) {
	a := syzLines(t, "453")
	b := syzLines(t, "642")
	var in []string
	for i := range a {
		in = append(in, a[i], b[i])
	}
	out, _, code := run(t, strings.Join(in, "\n")+"\n", "--kallsyms", kallsymsGz, "decode")
	if code != ExitNotFound { // the table is not these kernels'
		t.Errorf("status %d", code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	frame := regexp.MustCompile(`\+0x[0-9a-f]+/0x[0-9a-f]+|RIP: 0033:`)
	k := 0
	var summaries []int
	for _, l := range lines {
		if strings.HasPrefix(l, "== ") {
			summaries = append(summaries, k)
		}
		if k < len(in) && strings.HasPrefix(l, in[k]) {
			if frame.MatchString(in[k]) && !strings.Contains(l, "  # ") {
				t.Errorf("input line %d not annotated: %q", k+1, l)
			}
			k++
		}
	}
	if k != len(in) {
		t.Errorf("%d of %d input lines in order", k, len(in))
	}
	if len(summaries) != 2 || summaries[0] != 55 || summaries[1] != 56 {
		t.Errorf("summaries after input lines %v, want [55 56]", summaries)
	}
	if !strings.Contains(out, "== UBSAN: Undefined behaviour") || !strings.Contains(out, "== BUG: scheduling while atomic") {
		t.Errorf("summaries missing")
	}
}

// syzLines returns the console lines of a syzkaller crash log.
func syzLines(t *testing.T, name string) []string {
	t.Helper()
	data := string(readFile(t, "../../testdata/fixtures/crashlogs/syzkaller/linux/report/"+name))
	_, text, _ := strings.Cut(data, "\n\n")
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}
