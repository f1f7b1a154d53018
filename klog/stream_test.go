package klog

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// allLogs returns the console text of every crash log, concatenated.
func allLogs(tb testing.TB) string {
	tb.Helper()
	var b strings.Builder
	for _, c := range readCrashlogs(tb) {
		b.WriteString(c.text)
		if !strings.HasSuffix(c.text, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// repeatReader returns text n times without holding the copies in memory.
type repeatReader struct {
	text string
	n    int
	r    *strings.Reader
}

func (rr *repeatReader) Read(p []byte) (int, error) {
	for {
		if rr.r != nil && rr.r.Len() > 0 {
			return rr.r.Read(p)
		}
		if rr.n == 0 {
			return 0, io.EOF
		}
		rr.n--
		rr.r = strings.NewReader(rr.text)
	}
}

func TestScanBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams about 200 MB")
	}
	text := allLogs(t)
	const copies = 200
	perCopy := len(Parse(text))
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	reports := 0
	err := Scan(&repeatReader{text: text, n: copies}, func(r *Report) error {
		reports++
		if reports%500 == 0 {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak {
				peak = ms.HeapInuse
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if reports != perCopy*copies {
		t.Errorf("got %d reports, want %d", reports, perCopy*copies)
	}
	t.Logf("%d MB streamed, %d reports, heap in use peaked %d KB above the start", len(text)*copies>>20, reports, (peak-base)>>10)
	if peak > base+64<<20 {
		t.Errorf("heap in use grew by %d MB while streaming", (peak-base)>>20)
	}
}

// stallReader serves data, then, asked for more, calls stalled once (where
// dmesg -w would block until the kernel prints again) and ends.
type stallReader struct {
	data    string
	stalled func()
}

func (r *stallReader) Read(p []byte) (int, error) {
	if r.data == "" {
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

// TestScanEmitsBeforeEOF checks that Scan emits a report once a later line
// ends it, before it asks for input past that line: behind dmesg -w it must
// not wait for an end of input that never comes.
func TestScanEmitsBeforeEOF(t *testing.T) {
	oops := "[  1.0] ------------[ cut here ]------------\n" +
		"[  1.0] WARNING: CPU: 1 PID: 788 at drivers/misc/lkdtm/bugs.c:85 lkdtm_WARNING+0x13/0x20 [lkdtm]\n" +
		"[  1.0] Call Trace:\n[  1.0]  <TASK>\n[  1.0]  direct_entry.cold+0x18/0x24 [lkdtm]\n[  1.0]  </TASK>\n" +
		"[  1.0] ---[ end trace 0000000000000000 ]---\n[  2.0] lkdtm: Performing direct entry BUG\n"
	var got []*Report
	stalled := -1 // reports emitted when Scan asked for more input
	r := &stallReader{data: oops, stalled: func() { stalled = len(got) }}
	if err := Scan(r, func(r *Report) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if stalled != 1 {
		t.Fatalf("%d reports emitted when Scan asked for input past the report, want 1", stalled)
	}
	if r := got[0]; r.Kind != KindWarning || r.Func != "lkdtm_WARNING" || len(r.Frames) != 1 {
		t.Errorf("got %s %q with %d frames", r.Kind, r.Func, len(r.Frames))
	}
}

func TestScanLongLine(t *testing.T) {
	long := "[  1.0] BUG: KASAN: use-after-free in foo+0x1/0x2 " + strings.Repeat("x", 3*MaxLineLength) + "\n[  1.0]  foo+0x1/0x2\n"
	var reps []*Report
	if err := Scan(strings.NewReader(long), func(r *Report) error { reps = append(reps, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || len(reps[0].Lines[0].Raw) > MaxLineLength || reps[0].Func != "foo" || len(reps[0].Frames) != 1 {
		t.Errorf("got %d reports", len(reps))
	}
}

func TestMaxLines(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("sysrq: Show State\n")
	for i := 0; i < 50; i++ {
		b.WriteString(" schedule+0x5a/0xd0\n")
	}
	s := Splitter{MaxLines: 10}
	var reps []*Report
	for _, l := range strings.Split(b.String(), "\n") {
		if r := s.Push(ParseLine(l)); r != nil {
			reps = append(reps, r)
		}
	}
	if len(reps) != 1 || !reps[0].Truncated || len(reps[0].Lines) != 10 || s.Flush() != nil {
		t.Errorf("got %d reports", len(reps))
	}
}

func FuzzParse(f *testing.F) {
	f.Add("[  1.0] BUG: kernel NULL pointer dereference\n[  1.0] RIP: 0010:foo+0x1/0x2 [m]\n Call Trace:\n <IRQ>\n ? bar+0x1/0x2\n </IRQ>\n")
	f.Add("4,1,2,-;pc : [<c01751ac>]    lr : [<c025a42c>]\n[<8011218c>] (a) from [<8010e300>] (b+0x18/0x1c)\n")
	f.Add("\x1b[0m<12>[Mon Nov 26 07:55:13 2026] task:x state:R pid:1\n  [<000000005ec5fd9f>] 0x0\n=====================\n")
	f.Add("CPU: 0 UID: 0 PID: 1 Comm: init Tainted: G W 6.1 #1\nModules linked in: a(OE) [last unloaded: b]\nKernel Offset: 0x1 from 0x2\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range Parse(s) {
			for _, fr := range r.Frames {
				if fr.Line < 0 || fr.Line >= len(r.Lines) || fr.Trace >= len(r.Traces) {
					t.Fatalf("frame %+v out of range", fr)
				}
			}
		}
		ParseFrames(s, nil)
		ParseLine(s)
		parseRegisters(s, 0, nil)
	})
}

func BenchmarkScan(b *testing.B) {
	text := allLogs(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := Scan(strings.NewReader(text), func(*Report) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseLine(b *testing.B) {
	lines := strings.Split(allLogs(b), "\n")
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, l := range lines {
			ParseLine(l)
		}
	}
}

func BenchmarkScanDmesg(b *testing.B) {
	var sb strings.Builder
	for _, run := range []string{"run1-A", "run2-B", "run3-C"} {
		sb.Write(fixture.Read(b, fixture.Path("debian-6.1.0-56-amd64/boots/"+run+"/dmesg-raw.txt.gz")))
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Scan(strings.NewReader(text), func(*Report) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
