package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

// TestAddrOops03 is the frame of the brief: run2-B's oops-03 prints
// "RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]".
func TestAddrOops03(t *testing.T) {
	s := only(t, "lkdtm_EXCEPTION", "lkdtm")
	addr := s.addr + 5
	want := fmt.Sprintf("0x%016x lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n", addr)
	for _, arg := range []string{fmt.Sprintf("%x", addr), fmt.Sprintf("0x%x", addr), fmt.Sprintf("0X%X", addr), fmt.Sprintf("[<%016x>]", addr)} {
		out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "addr", arg)
		if out != want || errs != "" || code != 0 {
			t.Errorf("addr %s:\n got %q, stderr %q, exit %d\nwant %q, exit 0", arg, out, errs, code, want)
		}
	}
}

// TestAddrLogFrames resolves every frame the kernel printed in run2-B's
// oopses and sysrq dumps (RIP lines with %pS, call traces with %pB) from the
// address computed out of the kallsyms text, through the stdin filter, and
// expects the kernel's own text back.
func TestAddrLogFrames(t *testing.T) {
	frames := logFrames(t)
	var inS, inB strings.Builder
	var wantS, wantB strings.Builder
	n := 0
	for _, f := range frames {
		syms := symbolsNamed(t, f.name, f.mod)
		if len(syms) != 1 {
			continue // a name printed for several symbols: ambiguous
		}
		addr := syms[0].addr + f.offset
		in, want := &inS, &wantS
		if f.ret {
			in, want = &inB, &wantB
		}
		fmt.Fprintf(in, "%x\n", addr)
		fmt.Fprintf(want, "0x%016x %s\n", addr, f.text)
		n++
	}
	if n < 80 {
		t.Fatalf("only %d frames found in the logs", n)
	}
	for _, tc := range []struct {
		name, in, want string
		args           []string
	}{
		{"%pS", inS.String(), wantS.String(), nil},
		{"%pB", inB.String(), wantB.String(), []string{"--return"}},
	} {
		args := append([]string{"--kallsyms", kallsymsGz, "addr"}, tc.args...)
		out, errs, code := run(t, tc.in, args...)
		if code != 0 || errs != "" {
			t.Errorf("%s: exit %d, stderr %q", tc.name, code, errs)
		}
		diffLines(t, tc.name, out, tc.want)
	}
}

func diffLines(t *testing.T, what, got, want string) {
	t.Helper()
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(g) != len(w) {
		t.Errorf("%s: %d lines, want %d", what, len(g), len(w))
	}
	bad := 0
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			t.Errorf("%s line %d:\n got %q\nwant %q", what, i+1, g[i], w[i])
			if bad++; bad > 10 {
				return
			}
		}
	}
}

func TestAddrExitStatus(t *testing.T) {
	exc := only(t, "lkdtm_EXCEPTION", "lkdtm").addr + 5
	good := fmt.Sprintf("%x", exc)
	tests := []struct {
		name      string
		args      []string
		wantOut   string
		wantErr   string // substring of stderr; "" means empty stderr
		wantCode  int
		stdinText string
	}{
		{"found", []string{good}, fmt.Sprintf("0x%016x lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n", exc), "", 0, ""},
		{"not found: printed as the kernel prints it", []string{"1234"},
			"0x0000000000001234 0x1234\n", "ksym: 0x1234: not inside any symbol", 1, ""},
		{"user-space address", []string{"0x47b7a0"}, "0x000000000047b7a0 0x47b7a0\n", "not inside any symbol", 1, ""},
		{"one found, one not", []string{good, "0x10"},
			fmt.Sprintf("0x%016x lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n0x0000000000000010 0x10\n", exc), "0x10: not inside any symbol", 1, ""},
		{"invalid", []string{"zz"}, "", `ksym: "zz": not a hexadecimal address`, 2, ""},
		{"invalid wins over not found", []string{"0x10", "ffff_ffff"}, "0x0000000000000010 0x10\n", "not a hexadecimal address", 2, ""},
		{"too long", []string{"0x1ffffffffffffffff"}, "", "longer than 64 bits", 2, ""},
		{"empty 0x", []string{"0x"}, "", "not a hexadecimal address", 2, ""},
		{"stdin filter, blank lines skipped", nil,
			fmt.Sprintf("0x%016x lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n0x0000000000000010 0x10\n", exc), "not inside any symbol", 1,
			"\n  " + good + "  \n\n0x10\n"},
		{"empty stdin", nil, "", "", 0, ""},
	}
	for _, tt := range tests {
		args := append([]string{"--kallsyms", kallsymsGz, "addr"}, tt.args...)
		out, errs, code := run(t, tt.stdinText, args...)
		if out != tt.wantOut || code != tt.wantCode || !stderrMatches(errs, tt.wantErr) {
			t.Errorf("%s: got %q, stderr %q, exit %d\nwant %q, stderr ~ %q, exit %d",
				tt.name, out, errs, code, tt.wantOut, tt.wantErr, tt.wantCode)
		}
	}
}

func stderrMatches(got, want string) bool {
	if want == "" {
		return got == ""
	}
	return strings.Contains(got, want) && strings.HasPrefix(got, "ksym: ")
}

func TestAddrReturn(t *testing.T) {
	// A return address just past the end of a function belongs, for %pB, to
	// that function: usercopy_abort+0x77/0x77 would be printed, not the next
	// symbol+0x0. The kernel printed usercopy_abort+0x75/0x77 in oops-04.
	s := only(t, "usercopy_abort", "")
	size := coreSize(t, s)
	if size != 0x77 {
		t.Fatalf("usercopy_abort size %#x, want 0x77 as the kernel printed", size)
	}
	end := fmt.Sprintf("%x", s.addr+size)
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "addr", "--return", end)
	want := fmt.Sprintf("0x%016x usercopy_abort+0x77/0x77\n", s.addr+size)
	if out != want || code != 0 {
		t.Errorf("--return end of function: got %q exit %d, want %q", out, code, want)
	}
	out, _, _ = run(t, "", "--kallsyms", kallsymsGz, "addr", end)
	if strings.Contains(out, "usercopy_abort") {
		t.Errorf("without --return the end address must not resolve to usercopy_abort: %q", out)
	}
}

func TestAddrJSON(t *testing.T) {
	exc := only(t, "lkdtm_EXCEPTION", "lkdtm").addr + 5
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "--json", "addr", fmt.Sprintf("%x", exc), "0x10", "nothex")
	if code != 2 {
		t.Errorf("exit %d, want 2 (an invalid address)", code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 JSON lines, got %q", out)
	}
	want := []addrResult{
		{Input: fmt.Sprintf("%x", exc), Address: fmt.Sprintf("0x%x", exc), Found: true, Symbol: "lkdtm_EXCEPTION",
			Module: "lkdtm", Type: "t", Offset: "0x5", Size: "0x20", Text: "lkdtm_EXCEPTION+0x5/0x20 [lkdtm]", Section: "module"},
		{Input: "0x10", Address: "0x10", Text: "0x10", Section: string(kallsyms.SectionPerCPU)},
		{Input: "nothex", Error: `"nothex": not a hexadecimal address (want e.g. ffffffff81000000 or 0xffffffff81000000)`},
	}
	for i, line := range lines {
		var got addrResult
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, line)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

func TestAddrDataAreaWrappedSize(t *testing.T) {
	// oops-07 (EXEC_DATA) printed "RIP: 0010:data_area+0x0/0xffffffffffff76e0
	// [lkdtm]": the kernel's own wrapped size for module data.
	s := only(t, "data_area", "lkdtm")
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "addr", fmt.Sprintf("%x", s.addr))
	want := fmt.Sprintf("0x%016x data_area+0x0/0xffffffffffff76e0 [lkdtm]\n", s.addr)
	if out != want || code != 0 {
		t.Errorf("got %q exit %d, want %q", out, code, want)
	}
}

func TestAddrHidden(t *testing.T) {
	out, errs, code := run(t, "", "--kallsyms", nonroot, "addr", "ffffffff81000000")
	want := "ksym: " + nonroot + ": " + hiddenSentence + "\n"
	if out != "" || errs != want || code != 2 {
		t.Errorf("got %q, stderr %q, exit %d; want stderr %q, exit 2", out, errs, code, want)
	}
}

func TestAddrStdinConflict(t *testing.T) {
	_, errs, code := run(t, "ffffffff81000000\n", "--kallsyms", "-", "addr")
	if code != 2 || !strings.Contains(errs, "cannot read both") {
		t.Errorf("stderr %q, exit %d", errs, code)
	}
}

// TestAddrUncompressedCopy: an uncompressed copy of the table (parsed by
// kallsyms.Open, mapped) answers as the gzip-compressed one (read,
// decompressed, parsed), for a plain and a return-address lookup and a
// name lookup.
func TestAddrUncompressedCopy(t *testing.T) {
	data, err := gunzip(kallsymsGz)
	if err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(plain, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := only(t, "lkdtm_EXCEPTION", "lkdtm")
	for _, args := range [][]string{
		{"addr", fmt.Sprintf("%x", s.addr+5)},
		{"addr", "--return", fmt.Sprintf("%x", s.addr+5)},
		{"lookup", "lkdtm:lkdtm_EXCEPTION"},
	} {
		want, _, wantCode := run(t, "", append([]string{"--kallsyms", kallsymsGz}, args...)...)
		got, errs, code := run(t, "", append([]string{"--kallsyms", plain}, args...)...)
		if got != want || code != wantCode || errs != "" {
			t.Errorf("%v: uncompressed copy gives %q (stderr %q, exit %d), compressed %q (exit %d)", args, got, errs, code, want, wantCode)
		}
	}
}
