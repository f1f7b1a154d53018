package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	oops03    = bootDir + "oops-03-lkdtm-EXCEPTION.txt"
	systemMap = "../../testdata/fixtures/debian-6.1.0-56-amd64/System.map.gz"
	sysrqCA   = "../../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A/oops-05-sysrq-c.txt"
)

// Addresses below are from run2-B's kallsyms.txt.gz: lkdtm_EXCEPTION is at
// ffffffffc09e64a0, direct_entry.cold at ffffffffc09e78e8, vfs_write at
// ffffffff86b67160.

func TestDecodeDefault(t *testing.T) {
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "decode", oops03)
	if code != ExitOK || errs != "" {
		t.Fatalf("status %d, stderr %q", code, errs)
	}
	log := readFile(t, oops03)
	// Every input line is printed, in order, as a prefix of an output line.
	in := strings.Split(strings.TrimSuffix(string(log), "\n"), "\n")
	outLines := strings.Split(out, "\n")
	k := 0
	for _, l := range outLines {
		if k < len(in) && strings.HasPrefix(l, strings.TrimRight(in[k], " ")) {
			k++
		}
	}
	if k != len(in) {
		t.Errorf("only %d of %d input lines found in order; line %d: %q", k, len(in), k+1, in[k])
	}
	for _, want := range []string{
		"RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]",
		"direct_entry.cold+0x18/0x24 [lkdtm]",
		"vfs_write+0xc7/0x3f0",
	} {
		if !hasAnnotated(outLines, want) {
			t.Errorf("no annotated line for %q", want)
		}
	}
	for _, want := range []string{
		"# ok 0xffffffffc09e64a5", "# ok 0xffffffffc09e7900", "# ok 0xffffffff86b67227",
		"# RAX=lkdtm_EXCEPTION+0x0/0x20 [lkdtm]", "# user: user space address",
		"== BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm] [null-deref]\n" +
			"   guilty:    lkdtm_EXCEPTION+0x5/0x20 [lkdtm] (module lkdtm, tainted OE)\n" +
			"   task:      CPU 1 PID 797 sh\n" +
			"   kernel:    6.1.0-56-amd64\n" +
			"   tainted:   G D OE (D: kernel died recently (oops or BUG); O: out-of-tree module loaded; E: unsigned module loaded)\n" +
			"   uncertain: 2 unreliable (?) frames\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The lines after the report are passed through.
	if !strings.HasSuffix(out, "[kdata-init] lkdtm EXCEPTION: writer exit status 137\n") {
		t.Errorf("output does not end with the log's last line:\n%s", out[max(0, len(out)-200):])
	}
}

// hasAnnotated reports whether a line holding text carries an annotation.
func hasAnnotated(lines []string, text string) bool {
	for _, l := range lines {
		if strings.Contains(l, text) && strings.Contains(l, "  # ") {
			return true
		}
	}
	return false
}

func TestDecodeSummary(t *testing.T) {
	want := "null-deref\tBUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]\tlkdtm_EXCEPTION+0x5/0x20 [lkdtm]\tCPU 1 PID 797 sh\t6.1.0-56-amd64\tG D OE\tuncertain: 2 unreliable (?) frames\n"
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "decode", "--summary", oops03)
	if code != ExitOK || errs != "" || out != want {
		t.Errorf("status %d, stderr %q\ngot  %q\nwant %q", code, errs, out, want)
	}
	// From standard input, the same.
	out, _, code = run(t, string(readFile(t, oops03)), "--kallsyms", kallsymsGz, "decode", "--summary")
	if code != ExitOK || out != want {
		t.Errorf("stdin: status %d\ngot  %q\nwant %q", code, out, want)
	}
	// Several files: each line starts with FILE:LINE.
	out, _, _ = run(t, "", "--kallsyms", kallsymsGz, "decode", "--summary", oops03, oops03)
	if want2 := oops03 + ":2\t" + want; out != want2+want2 {
		t.Errorf("two files:\ngot  %q\nwant %q", out, want2+want2)
	}
}

func TestDecodeJSON(t *testing.T) {
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "--json", "decode", oops03)
	if code != ExitOK || errs != "" {
		t.Fatalf("status %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d JSON lines, want 1 per report", len(lines))
	}
	var got struct {
		File      string `json:"file"`
		FirstLine int    `json:"first_line"`
		Kind      string `json:"kind"`
		Title     string `json:"title"`
		Frames    []struct {
			Kind, Printed, Text, Address, Status, Module, Context string
			Reliable                                              bool
			Offset, Size                                          uint64
		} `json:"frames"`
		Registers []struct{ Name, Value, Text string } `json:"registers"`
		Summary   struct {
			Guilty      string `json:"guilty"`
			ModuleTaint string `json:"module_taint"`
			PID         int    `json:"pid"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.File != oops03 || got.FirstLine != 2 || got.Kind != "null-deref" || got.Title != "BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]" {
		t.Errorf("report fields: %+v", got)
	}
	if len(got.Frames) != 11 {
		t.Fatalf("%d frames, want 11 (RIP, 8 trace, user RIP, old RIP)", len(got.Frames))
	}
	f := got.Frames[0]
	if f.Kind != "pc" || f.Text != "lkdtm_EXCEPTION+0x5/0x20 [lkdtm]" || f.Address != "0xffffffffc09e64a5" || f.Offset != 5 || f.Size != 0x20 || f.Module != "lkdtm" || f.Status != "ok" {
		t.Errorf("RIP frame %+v", f)
	}
	if f := got.Frames[6]; f.Reliable || f.Context != "TASK" || f.Text != "do_user_addr_fault+0x1b0/0x570" {
		t.Errorf("? frame %+v", f)
	}
	if f := got.Frames[9]; f.Status != "user" || f.Address != "" {
		t.Errorf("user RIP frame %+v", f)
	}
	if got.Summary.Guilty != "lkdtm_EXCEPTION+0x5/0x20 [lkdtm]" || got.Summary.ModuleTaint != "OE" || got.Summary.PID != 797 {
		t.Errorf("summary %+v", got.Summary)
	}
	if len(got.Registers) == 0 || got.Registers[0].Name != "RAX" || got.Registers[0].Value != "0xffffffffc09e64a0" {
		t.Errorf("registers %+v", got.Registers)
	}
}

func TestDecodeSystemMap(t *testing.T) {
	out, errs, code := run(t, "", "decode", "--system-map", systemMap, sysrqCA)
	if code != ExitOK || errs != "" {
		t.Fatalf("status %d, stderr %q", code, errs)
	}
	// run1-A's own kallsyms has sysrq_handle_crash at ffffffff99c90910: the
	// System.map address plus the slide the log prints, 0x18600000.
	if !hasLine(strings.Split(out, "\n"), " sysrq_handle_crash+0x16/0x20", "  # ok 0xffffffff99c90926") {
		t.Errorf("sysrq_handle_crash not annotated with its runtime address")
	}
	for _, want := range []string{
		"   kaslr:     slide 0x18600000 (kernel-offset: from the \"Kernel Offset:\" line)\n",
		"   guilty:    sysrq_handle_crash+0x16/0x20\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestDecodeMismatch(t *testing.T) {
	table := t.TempDir() + "/other.txt"
	// vfs_write 0x100 long, where the log says 0x3f0: another kernel.
	if err := os.WriteFile(table, []byte("ffffffff81000000 T _text\nffffffff81200000 T vfs_write\nffffffff81200100 T ksys_write\nffffffff81200200 T _etext\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "", "--kallsyms", table, "decode", "--summary", oops03)
	if code != ExitNotFound {
		t.Errorf("status %d, want %d", code, ExitNotFound)
	}
	if strings.Count(errs, "ksym: warning: ") != 1 || !strings.Contains(errs, "not from the kernel that wrote this log") {
		t.Errorf("stderr %q, want one loud warning", errs)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{"both tables", []string{"--kallsyms", kallsymsGz, "decode", "--system-map", systemMap, oops03}, "", ExitUsage, "ksym: decode: --kallsyms and --system-map are exclusive"},
		{"missing log", []string{"--kallsyms", kallsymsGz, "decode", "/nonexistent/log"}, "", ExitUsage, "ksym: "},
		{"stdin twice", []string{"--kallsyms", "-", "decode", "-"}, "", ExitUsage, "ksym: decode: standard input (-) can be read only once"},
		{"no report", []string{"--kallsyms", kallsymsGz, "decode"}, "hello\nworld\n", ExitNotFound, "ksym: decode: no kernel report found"},
		{"bad system map", []string{"decode", "--system-map", "/nonexistent/System.map", oops03}, "", ExitUsage, "ksym: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := run(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.HasPrefix(errs, tc.stderr) {
				t.Errorf("status %d stderr %q, want %d %q", code, errs, tc.code, tc.stderr)
			}
		})
	}
}

// hasLine reports whether a line contains text and ends with suffix.
func hasLine(lines []string, text, suffix string) bool {
	for _, l := range lines {
		if strings.Contains(l, text) && strings.HasSuffix(l, suffix) {
			return true
		}
	}
	return false
}

// stallReader serves data, then, asked for more, calls stalled once (where
// dmesg -w would block until the kernel prints again) and ends.
type stallReader struct {
	data    []byte
	stalled func()
}

func (r *stallReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		if r.stalled != nil {
			r.stalled()
			r.stalled = nil
		}
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestDecodeStreams checks that a report is printed as soon as it ends,
// before ksym asks for input past it: ksym decode works behind dmesg -w.
func TestDecodeStreams(t *testing.T) {
	const want = "== BUG: kernel NULL pointer dereference"
	var out strings.Builder
	printed := false // when ksym asked for more input
	in := &stallReader{data: readFile(t, oops03), stalled: func() { printed = strings.Contains(out.String(), want) }}
	if code := Execute([]string{"--kallsyms", kallsymsGz, "decode"}, in, &out, io.Discard); code != ExitOK {
		t.Errorf("status %d", code)
	}
	if !printed {
		t.Errorf("%q not printed before ksym asked for input past the report", want)
	}
	if !strings.Contains(out.String(), want) {
		t.Errorf("%q never printed", want)
	}
}

// oops03LogOnly is oops03's summary decoded from the log alone, written
// from the log: the guilty frame as its RIP: line prints it, its 10 named
// frames, 2 of them "? ".
const oops03LogOnly = "null-deref\tBUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]\tlkdtm_EXCEPTION+0x5/0x20 [lkdtm]\t" +
	"CPU 1 PID 797 sh\t6.1.0-56-amd64\tG D OE\tuncertain: 2 unreliable (?) frames; %s: decoded from the log alone, 10 frames as printed\n"

// TestDecodeLiveRelease: a log of the running kernel is decoded against
// its table; a log of another release is decoded from the log alone, the
// running kernel's table used for nothing, with a note saying which table
// would make it exact, and exit status 0: the table was not asked for, and
// a log of another kernel is no error (issue 14: before, every frame was a
// MISMATCH and the exit status 1).
func TestDecodeLiveRelease(t *testing.T) {
	root := fakeRoot(t, true, "0")
	out, errs, code := run(t, "", "--root", root, "decode", "--summary", oops03)
	if code != ExitOK || errs != "" || !strings.HasPrefix(out, "null-deref\t") {
		t.Errorf("same release: status %d stderr %q out %q", code, errs, out)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/sys/kernel/osrelease"), []byte("6.12.0-1-amd64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = run(t, "", "--root", root, "decode", "--summary", oops03, oops03)
	note := "ksym: " + oops03 + ": the log is from kernel 6.1.0-56-amd64, the running kernel is 6.12.0-1-amd64: decoded from the log alone; " +
		"for exact frames give that kernel's table: --kallsyms (its /proc/kallsyms, or a snapshot of its boot from 'ksym snapshot save') or --system-map (its System.map)\n"
	line := oops03 + ":2\t" + fmt.Sprintf(oops03LogOnly, "the table does not match the kernel that wrote the log")
	if code != ExitOK || errs != note+note || out != line+line {
		t.Errorf("other release: status %d\nstderr %q\nwant   %q\nout  %q\nwant %q", code, errs, note+note, out, line+line)
	}
}

// TestDecodeEarlierBoot: a log of the running kernel's release whose
// timestamps (oops03: 102.7 s) go past the kernel's uptime is from an
// earlier boot (journalctl -k -b -1 after the crash and a reboot): same
// names and sizes, other addresses. It is decoded from the log alone, exit
// status 0; within the uptime it is decoded against the table.
func TestDecodeEarlierBoot(t *testing.T) {
	root := fakeRoot(t, true, "0")
	uptime := filepath.Join(root, "proc/uptime")
	if err := os.WriteFile(uptime, []byte("41.37 80.02\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "", "--root", root, "decode", "--summary", oops03)
	note := "ksym: " + oops03 + ": the log's timestamps reach 103 s, the running kernel has been up 41 s: the log is from an earlier boot, " +
		"where the kernel and its modules were placed elsewhere: decoded from the log alone; " + exactAdvice + "\n"
	if want := fmt.Sprintf(oops03LogOnly, "the table does not match the kernel that wrote the log"); code != ExitOK || errs != note || out != want {
		t.Errorf("earlier boot: status %d\nstderr %q\nwant   %q\nout  %q\nwant %q", code, errs, note, out, want)
	}
	if err := os.WriteFile(uptime, []byte("4137.20 8002.11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = run(t, "", "--root", root, "decode", "--summary", oops03)
	if code != ExitOK || errs != "" || strings.Contains(out, "decoded from the log alone") {
		t.Errorf("this boot: status %d stderr %q out %q", code, errs, out)
	}
}

// TestDecodeLiveHidden: with no table given and the running kernel's
// addresses hidden from this reader, the log is decoded alone, with a
// warning saying why and what to do, exit status 0 (before: exit 2 and no
// output).
func TestDecodeLiveHidden(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "proc/kallsyms"), string(readFile(t, nonroot)))
	out, errs, code := run(t, "", "--root", root, "decode", "--summary", oops03)
	want := "ksym: warning: " + filepath.Join(root, "proc/kallsyms") + ": addresses are hidden (all zero): " + hiddenAdvice +
		"; 'ksym check' tells why: decoding from the log alone (--no-table does so without this warning)\n"
	if code != ExitOK || errs != want || out != fmt.Sprintf(oops03LogOnly, "no table") {
		t.Errorf("status %d\nstderr %q\nwant   %q\nout %q", code, errs, want, out)
	}
}

// TestDecodeNoTable: --no-table decodes from the log alone, with nothing
// to warn about; it takes no table.
func TestDecodeNoTable(t *testing.T) {
	out, errs, code := run(t, "", "--root", "/nonexistent", "decode", "--no-table", "--summary", oops03)
	if want := fmt.Sprintf(oops03LogOnly, "no table"); code != ExitOK || errs != "" || out != want {
		t.Errorf("status %d stderr %q\nout  %q\nwant %q", code, errs, out, want)
	}
	for _, args := range [][]string{
		{"--kallsyms", kallsymsGz, "decode", "--no-table", oops03},
		{"decode", "--no-table", "--system-map", systemMap, oops03},
		{"decode", "--no-table", "--modules", bootDir + "modules.txt", oops03},
	} {
		_, errs, code := run(t, "", args...)
		if want := "ksym: decode: --no-table decodes from the log alone: it takes no --kallsyms, --system-map or --modules\n"; code != ExitUsage || errs != want {
			t.Errorf("%q: status %d stderr %q", args, code, errs)
		}
	}
}

// lineReader returns at most one line per Read, as a terminal or a pipe
// from dmesg -w does.
type lineReader struct{ s string }

func (r *lineReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := strings.IndexByte(r.s, '\n') + 1
	if n == 0 {
		n = len(r.s)
	}
	n = copy(p, r.s[:n])
	r.s = r.s[n:]
	return n, nil
}

// TestDecodeBoundedPassThrough runs a log whose report follows many other
// lines with a tee limit just above the report's length: the lines are
// passed through in order and the report is still annotated.
func TestDecodeBoundedPassThrough(t *testing.T) {
	defer func(n int) { holdLines = n }(holdLines)
	holdLines = 60 // the report has 54 lines
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "[    1.%06d] noise line %d\n", i, i)
	}
	b.Write(readFile(t, oops03))
	log := b.String()
	var outb bytes.Buffer
	code := Execute([]string{"--kallsyms", kallsymsGz, "decode"}, &lineReader{log}, &outb, io.Discard)
	out := outb.String()
	if code != ExitOK {
		t.Fatalf("status %d", code)
	}
	if !strings.HasPrefix(out, log[:strings.Index(log, "[  102.725341] lkdtm")]) {
		t.Errorf("noise lines not passed through in order")
	}
	if !hasLine(strings.Split(out, "\n"), "RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]", "# ok 0xffffffffc09e64a5") {
		t.Errorf("report not annotated:\n%s", out)
	}
}
