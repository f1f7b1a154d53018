package cli

import (
	"bytes"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// summaryCounter counts the summary blocks ("== " at the start of a line)
// of the output written to it and samples the heap in use.
type summaryCounter struct {
	summaries int
	lines     int
	bytes     int
	writes    int
	atStart   bool   // the next byte starts a line
	partial   []byte // the start of a line, when a write ended within "== "
	peak      uint64
}

func (c *summaryCounter) Write(p []byte) (int, error) {
	c.bytes += len(p)
	if c.writes++; c.writes%16 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		c.peak = max(c.peak, ms.HeapInuse)
	}
	data := append(c.partial, p...)
	c.partial = nil
	for len(data) > 0 {
		if c.atStart {
			if len(data) < 3 && bytes.HasPrefix([]byte("== "), data) {
				c.partial = append([]byte(nil), data...)
				return len(p), nil
			}
			if bytes.HasPrefix(data, []byte("== ")) {
				c.summaries++
			}
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			c.atStart = false
			break
		}
		c.lines++
		c.atStart, data = true, data[i+1:]
	}
	return len(p), nil
}

// TestDecodeCLIStreams100MB: 100 MB of run2-B's crash logs (its oops-*.txt
// but the final panic, and its dmesg-sysrq-*.txt: 19 reports, counted by
// hand) repeated on standard input stream through ksym decode, annotated
// and with --summary, in constant memory: the heap in use stays within 64
// MiB of where it was before (the table, loaded during the run, included),
// and every report gets its summary (block or line).
func TestDecodeCLIStreams100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MB")
	}
	const perCopy = 19
	var b strings.Builder
	for _, pat := range []string{"oops-*.txt", "dmesg-sysrq-*.txt"} {
		files, _ := filepath.Glob(bootDir + pat)
		for _, f := range files {
			if !strings.HasSuffix(f, "oops-11-sysrq-c.txt") {
				b.Write(readFile(t, f))
			}
		}
	}
	text := b.String()
	copies := (100<<20 + len(text) - 1) / len(text)
	for _, summary := range []bool{false, true} {
		args := []string{"--kallsyms", kallsymsGz, "decode"}
		if summary {
			args = append(args, "--summary")
		}
		rs := make([]io.Reader, copies)
		for i := range rs {
			rs[i] = strings.NewReader(text)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		out := &summaryCounter{atStart: true, peak: ms.HeapInuse}
		var errs bytes.Buffer
		code := Execute(args, io.MultiReader(rs...), out, &errs)
		if code != ExitOK || errs.Len() > 0 {
			t.Fatalf("%v: status %d, stderr %q", args, code, errs.String())
		}
		got := out.summaries
		if summary {
			got = out.lines
		}
		if got != perCopy*copies {
			t.Errorf("%v: %d summaries, want %d", args, got, perCopy*copies)
		}
		t.Logf("%v: %d MB in, %d MB out, %d reports; heap in use peaked %d KB above the start", args[2:], len(text)*copies>>20, out.bytes>>20, got, (out.peak-ms.HeapInuse)>>10)
		if out.peak > ms.HeapInuse+64<<20 {
			t.Errorf("%v: heap in use grew by %d MB", args, (out.peak-ms.HeapInuse)>>20)
		}
	}
}
