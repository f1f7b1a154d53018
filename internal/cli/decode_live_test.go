package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	fixtures "github.com/ksym-dev/ksym/internal/fixture"
)

// syncBuffer is a bytes.Buffer safe to write from ksym's goroutine while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls out until cond holds, for at most 10 s: far more than the
// 200 ms of silence after which ksym prints, so that a loaded machine does
// not fail the test; ksym without the flush waits for the end of input,
// which the test gives only afterwards.
func waitFor(out *syncBuffer, cond func(string) bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond(out.String()) {
			return true
		}
	}
	return cond(out.String())
}

// normalize joins the words of each line with one space: the column of
// the annotations depends on which lines are printed together.
func normalize(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// TestDecodeLiveFilter runs ksym decode behind a pipe that pauses, as
// dmesg -w | ksym decode: run2-B's oops-03 is written in three pieces. The
// plain line before the report is printed while the writer waits; so are
// the report's lines up to the pause, annotated, without a summary (the
// report has not ended); the summary comes when the rest arrives. In the
// end the output is the same as when the log is read from a file, up to
// the padding before the annotations.
func TestDecodeLiveFilter(t *testing.T) {
	log := string(readFile(t, oops03))
	lines := strings.SplitAfter(log, "\n")
	pieces := []string{lines[0], strings.Join(lines[1:24], ""), strings.Join(lines[24:], "")}
	if !strings.HasSuffix(pieces[1], " full_proxy_write+0x53/0x80\n") {
		t.Fatalf("piece 2 ends with %q", lines[23])
	}
	want, _, code := run(t, log, "--kallsyms", kallsymsGz, "decode")
	if code != ExitOK {
		t.Fatalf("from a file: status %d", code)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- Execute([]string{"--kallsyms", kallsymsGz, "decode"}, r, &out, &errs) }()

	io.WriteString(w, pieces[0])
	if !waitFor(&out, func(s string) bool { return s == pieces[0] }) {
		t.Fatalf("the first line was not printed while the writer waited: %q", out.String())
	}
	io.WriteString(w, pieces[1])
	annotated := func(s string) bool {
		return annotationOf(s, "RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]") == "ok 0xffffffffc09e64a5" &&
			annotationOf(s, " full_proxy_write+0x53/0x80") == "ok 0xffffffff86c26da3" // kallsyms: full_proxy_write at ffffffff86c26d50, + 0x53
	}
	if !waitFor(&out, annotated) {
		t.Fatalf("the open report was not printed as far as it goes:\n%s", out.String())
	}
	if s := out.String(); strings.Contains(s, "== ") || strings.Count(s, "\n") != 24 {
		t.Errorf("printed before the report ended: %d lines, a summary: %v", strings.Count(s, "\n"), strings.Contains(s, "== "))
	}
	io.WriteString(w, pieces[2])
	w.Close()
	select {
	case code := <-done:
		if code != ExitOK || errs.String() != "" {
			t.Errorf("status %d, stderr %q", code, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ksym did not end at the end of input")
	}
	if got := out.String(); normalize(got) != normalize(want) {
		t.Errorf("live output differs from the output from a file:\n%s\nwant\n%s", got, want)
	}
}

// zeros is an endless source of NUL bytes, as /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestDecodeZeros: 200 MB of NUL bytes on standard input (ksym decode <
// /dev/zero used to grow to 4.9 GB in 8 s) is one line, cut at 64 KiB:
// its start is passed through, a warning says it was cut, and the heap in
// use stays within 64 MiB of where it was.
func TestDecodeZeros(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200 MB")
	}
	in := fixtures.SampleHeap(io.LimitReader(zeros{}, 200<<20))
	var out, errs bytes.Buffer
	code := Execute([]string{"--kallsyms", kallsymsGz, "decode"}, in, &out, &errs)
	wantErr := "ksym: warning: standard input:1: a line longer than 64 KiB: only its start is read, the rest is dropped (a kernel log line is at most about 1 KiB: is this a kernel log?)\n" +
		"ksym: decode: no kernel report found\n"
	if code != ExitNotFound || errs.String() != wantErr {
		t.Errorf("status %d, stderr %q", code, errs.String())
	}
	if out.String() != strings.Repeat("\x00", 64<<10)+"\n" {
		t.Errorf("stdout: %d bytes", out.Len())
	}
	t.Logf("heap in use peaked %d KB above the start", (in.Peak-in.Start)>>10)
	if in.Peak > in.Start+64<<20 {
		t.Errorf("heap in use grew by %d MB", (in.Peak-in.Start)>>20)
	}
}

// TestDecodeInputErrors: every input that can be read is decoded even when
// others cannot (a missing file, a gzip file cut short), with the exit
// status 2; a directory stands for the files under it, hidden ones left
// out.
func TestDecodeInputErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.txt")
	logs := filepath.Join(dir, "logs")
	for _, d := range []string{logs + "/b", logs + "/.git"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	oops := readFile(t, oops03)
	gz := gzipBytes(t, oops)
	files := map[string][]byte{
		logs + "/a.txt":        oops,
		logs + "/b/c.txt.gz":   gz,
		logs + "/b/cut.txt.gz": gz[:len(gz)-20],
		logs + "/.git/x.txt":   oops,
		logs + "/.hidden.txt":  oops,
	}
	for name, data := range files {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// oops-03's report begins on line 2; each file gives the line of oops-03
	// alone, prefixed with its name and that line number. The cut file
	// gives the report that ended before the damage (in the gzip trailer).
	summary, _, _ := run(t, "", "--kallsyms", kallsymsGz, "decode", "--summary", oops03)
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "decode", "--summary", missing, logs, oops03)
	wantOut := ""
	for _, f := range []string{logs + "/a.txt", logs + "/b/c.txt.gz", logs + "/b/cut.txt.gz", oops03} {
		wantOut += f + ":2\t" + summary
	}
	wantErr := "ksym: open " + missing + ": no such file or directory (check the path; use - for standard input)\n" +
		"ksym: " + logs + "/b/cut.txt.gz: gzip stream truncated (the file was cut short: copy it again)\n"
	if code != ExitUsage || out != wantOut || errs != wantErr {
		t.Errorf("status %d, stdout\n%s\nstderr\n%s\nwant\n%s\n%s", code, out, errs, wantOut, wantErr)
	}
	// A directory of one file still names the file.
	out, _, code = run(t, "", "--kallsyms", kallsymsGz, "decode", "--summary", logs+"/.git")
	if want := logs + "/.git/x.txt:2\t" + summary; code != ExitOK || out != want {
		t.Errorf("a directory of one file: status %d, stdout\n%s\nwant\n%s", code, out, want)
	}
}

// TestDecodeCRLF: a CRLF log (a serial console capture; made here from
// oops-03) keeps its carriage returns on every line, annotated or not: the
// annotation goes before them. The summary block, ksym's own, ends in
// "\n". Apart from that the output is the LF log's.
func TestDecodeCRLF(t *testing.T) {
	log := string(readFile(t, oops03))
	lf, _, code := run(t, log, "--kallsyms", kallsymsGz, "decode")
	if code != ExitOK {
		t.Fatalf("status %d", code)
	}
	crlf, errs, code := run(t, strings.ReplaceAll(log, "\n", "\r\n"), "--kallsyms", kallsymsGz, "decode")
	if code != ExitOK || errs != "" {
		t.Fatalf("status %d, stderr %q", code, errs)
	}
	lines := strings.SplitAfter(lf, "\n")
	annotated := 0
	for i, l := range lines {
		if l != "" && !strings.HasPrefix(l, "== ") && !strings.HasPrefix(l, "   ") {
			lines[i] = strings.TrimSuffix(l, "\n") + "\r\n"
			if strings.Contains(l, "  # ") {
				annotated++
			}
		}
	}
	if want := strings.Join(lines, ""); crlf != want {
		t.Errorf("CRLF output:\n%q\nwant\n%q", crlf, want)
	}
	if annotated < 10 {
		t.Errorf("only %d annotated lines", annotated)
	}
}

// TestDecodeClipsEcho: a 70 KB malformed line is not echoed whole: the
// modules file's line in the error (cut by package machine), a 60 KB
// release of a log in the warning (cut by the command line, which cuts
// every word of a message longer than 100 bytes). Both synthetic: real
// files have no such lines.
func TestDecodeClipsEcho(t *testing.T) {
	dir := t.TempDir()
	mods := filepath.Join(dir, "modules.txt")
	if err := os.WriteFile(mods, []byte("lkdtm 65536 0 - Live 0x"+strings.Repeat("z", 70000)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "", "--kallsyms", kallsymsGz, "decode", "--modules", mods, oops03)
	want := "ksym: " + mods + `: modules line 1: address "0x` + strings.Repeat("z", 78) + `..." is not hexadecimal: ` +
		`"lkdtm 65536 0 - Live 0x` + strings.Repeat("z", 57) + "...\"\n"
	if code != ExitUsage || errs != want {
		t.Errorf("status %d, stderr\n%q\nwant\n%q", code, errs, want)
	}
	log := strings.Replace(string(readFile(t, oops03)), "6.1.0-56-amd64 #1", "6.1.0-"+strings.Repeat("z", 60000)+" #1", 1) // a line under 64 KiB
	// The running kernel (a fake /proc) is of another release: the
	// warning names the log's.
	_, errs, _ = run(t, log, "--root", fakeRoot(t, true, "0"), "decode", "--summary")
	want = " 6.1.0-" + strings.Repeat("z", 94) + "... (60007 bytes) " // the word ends with a comma
	if !strings.Contains(errs, want) || len(errs) > 500 {
		t.Errorf("stderr (%d bytes)\n%.300q\nwant it to hold\n%q", len(errs), errs, want)
	}
}
