package klog

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// zeros is an endless source of NUL bytes, as /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestScanBoundedInput: input that is not a log (synthetic: real logs never
// have such lines) stays within bounded memory. 200 MB of NUL bytes (one
// endless line, as ksym decode < /dev/zero) give one line, cut at
// MaxLineLength; a report whose body never ends (a title, a frame, then
// 60 KB indented lines, 200 MB of them) is cut at MaxBytes and marked Truncated. The heap in
// use stays within 64 MiB of where it started (it used to grow with the
// input: 4.9 GB in 8 s behind ksym decode < /dev/zero).
func TestScanBoundedInput(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 400 MB")
	}
	head := []string{"[  1.0] BUG: kernel NULL pointer dereference, address: 0000000000000000", "[  1.0] Call Trace:", "[  1.0]  foo+0x1/0x2"}
	headSize := len(strings.Join(head, ""))
	body := "[  1.0]  " + strings.Repeat("x", 60000) + "\n"
	tests := []struct {
		name  string
		input io.Reader
		lines int // lines given to Line
		cut   int // of which cut
		check func(reps []*Report) string
	}{
		{"zeros", io.LimitReader(zeros{}, 200<<20), 1, 1, func(reps []*Report) string {
			if len(reps) != 0 {
				return "a report"
			}
			return ""
		}},
		{"endless report", io.MultiReader(
			strings.NewReader(strings.Join(head, "\n")+"\n"),
			&repeatReader{text: body, n: 200 << 20 / len(body)}), 3 + 200<<20/len(body), 0, func(reps []*Report) string {
			// The head, then body lines until DefaultMaxBytes is reached.
			b := len(body) - 1
			want := 3 + (DefaultMaxBytes-headSize+b-1)/b
			if len(reps) != 1 || !reps[0].Truncated || len(reps[0].Lines) != want || len(reps[0].Frames) != 1 {
				return fmt.Sprintf("%d reports, want one truncated report of %d lines", len(reps), want)
			}
			return ""
		}},
	}
	for _, tc := range tests {
		src := fixture.SampleHeap(tc.input)
		var reps []*Report
		lines, cut := 0, 0
		sc := Scanner{
			Report: func(r *Report) error { reps = append(reps, r); return nil },
			Line: func(l Line) error {
				lines++
				if l.Cut {
					cut++
					if len(l.Raw) != MaxLineLength {
						t.Errorf("%s: a cut line of %d bytes", tc.name, len(l.Raw))
					}
				}
				return nil
			},
		}
		if err := sc.Scan(src); err != nil {
			t.Fatal(err)
		}
		if lines != tc.lines || cut != tc.cut {
			t.Errorf("%s: %d lines, %d cut, want %d and %d", tc.name, lines, cut, tc.lines, tc.cut)
		}
		if msg := tc.check(reps); msg != "" {
			t.Errorf("%s: %s", tc.name, msg)
		}
		t.Logf("%s: heap in use peaked %d KB above the start", tc.name, (src.Peak-src.Start)>>10)
		if src.Peak > src.Start+64<<20 {
			t.Errorf("%s: heap in use grew by %d MB", tc.name, (src.Peak-src.Start)>>20)
		}
	}
}

// TestScanCutLines: a line longer than MaxLineLength is given at once, cut,
// and the rest of it dropped; the lines around it are whole (synthetic).
func TestScanCutLines(t *testing.T) {
	long := strings.Repeat("y", MaxLineLength+100)
	exact := strings.Repeat("z", MaxLineLength)
	in := "short\n" + long + "\nnext\n" + exact + "\nlast " + long
	type got struct {
		num  int
		size int
		cut  bool
	}
	want := []got{{1, 5, false}, {2, MaxLineLength, true}, {3, 4, false}, {4, MaxLineLength, false}, {5, MaxLineLength, true}}
	var lines []got
	sc := Scanner{Report: func(*Report) error { return nil }, Line: func(l Line) error {
		lines = append(lines, got{l.Num, len(l.Raw), l.Cut})
		return nil
	}}
	if err := sc.Scan(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got %v, want %v", lines, want)
	}
}

// TestPartial: Splitter.Partial gives copies of the open reports as far as
// they go, which do not change when the report goes on (lines from run2-B's
// oops-03, shortened).
func TestPartial(t *testing.T) {
	lines := []string{
		"[   71.380040] lkdtm: Performing direct entry EXCEPTION",
		"[   71.380212] BUG: kernel NULL pointer dereference, address: 0000000000000000",
		"[   71.388095] RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]",
		"[   71.397500] Call Trace:",
		"[   71.397642]  <TASK>",
		"[   71.397698]  direct_entry.cold+0x18/0x24 [lkdtm]",
		"[   71.397995]  full_proxy_write+0x5c/0x90",
	}
	var sp Splitter
	for i, l := range lines[:6] {
		line := ParseLine(l)
		line.Num = i + 1
		if r := sp.Push(line); r != nil {
			t.Fatalf("line %d ended a report", i+1)
		}
	}
	parts := sp.Partial()
	if len(parts) != 1 {
		t.Fatalf("%d partial reports, want 1", len(parts))
	}
	p := parts[0]
	if !p.Partial || p.Kind != KindNullDeref || len(p.Lines) != 5 || p.Lines[0].Num != 2 || len(p.Frames) != 2 || p.Func != "lkdtm_EXCEPTION" {
		t.Errorf("partial: %v %s, %d lines from %d, %d frames, func %q", p.Partial, p.Kind, len(p.Lines), p.Lines[0].Num, len(p.Frames), p.Func)
	}
	line := ParseLine(lines[6])
	line.Num = 7
	sp.Push(line)
	if len(p.Lines) != 5 || len(p.Frames) != 2 {
		t.Errorf("the copy changed: %d lines, %d frames", len(p.Lines), len(p.Frames))
	}
	r := sp.Flush()
	if r == nil || r.Partial || len(r.Lines) != 6 || len(r.Frames) != 3 {
		t.Errorf("the report at the end: %+v", r)
	}
}

// TestScannerIdle feeds a log through a pipe with pauses, as dmesg -w
// would: a plain line, then a report whose end does not come. Idle must
// be called while the writer waits, after Line took the plain line, and
// Splitter.Partial must then hold the report as far as it goes; the report
// itself comes at the end of input. The timing bounds are generous (Idle
// after 50 ms, up to 10 s allowed): the test checks what has happened when
// Idle is called, not how fast.
func TestScannerIdle(t *testing.T) {
	pieces := []string{
		"[   71.380040] lkdtm: Performing direct entry EXCEPTION\n",
		"[   71.380212] BUG: kernel NULL pointer dereference, address: 0000000000000000\n" +
			"[   71.388095] RIP: 0010:lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n[   71.397500] Call Trace:\n" +
			"[   71.397698]  direct_entry.cold+0x18/0x24 [lkdtm]\n[   71.397995]  full_", // a line not ended yet
	}
	pr, pw := io.Pipe()
	idle := make(chan string)
	next := make(chan struct{})
	var lines []string
	var reps []*Report
	sc := Scanner{
		Report:    func(r *Report) error { reps = append(reps, r); return nil },
		Line:      func(l Line) error { lines = append(lines, l.Text); return nil },
		IdleAfter: 50 * time.Millisecond,
	}
	seen := 0 // lines when Idle was last called
	sc.Idle = func() error {
		if len(lines) == seen {
			return nil // a silence before the test wrote (a loaded machine)
		}
		seen = len(lines)
		var b strings.Builder
		fmt.Fprintf(&b, "%d lines", len(lines))
		for _, p := range sc.Splitter.Partial() {
			fmt.Fprintf(&b, "; partial %s, %d lines, %d frames", p.Kind, len(p.Lines), len(p.Frames))
		}
		idle <- b.String()
		<-next
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- sc.Scan(pr) }()
	want := []string{"1 lines", "5 lines; partial null-deref, 4 lines, 2 frames"}
	for i, p := range pieces {
		if _, err := io.WriteString(pw, p); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-idle:
			if got != want[i] {
				t.Errorf("idle after piece %d: %s, want %s", i+1, got, want[i])
			}
			next <- struct{}{}
		case <-time.After(10 * time.Second):
			t.Fatalf("no idle call 10 s after piece %d", i+1)
		}
	}
	io.WriteString(pw, "proxy_write+0x5c/0x90\n")
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(lines) != 6 || lines[5] != " full_proxy_write+0x5c/0x90" || len(reps) != 1 || len(reps[0].Frames) != 3 || reps[0].Partial {
		t.Errorf("at the end: %d lines (%q), %d reports", len(lines), lines[len(lines)-1], len(reps))
	}
}

// gateReader returns one line, then blocks its next Read until gate is
// closed, and ends.
type gateReader struct {
	line    string
	gate    chan struct{}
	blocked atomic.Bool // a Read waits at the gate
}

func (r *gateReader) Read(p []byte) (int, error) {
	if r.line != "" {
		n := copy(p, r.line)
		r.line = r.line[n:]
		return n, nil
	}
	r.blocked.Store(true)
	<-r.gate
	r.blocked.Store(false)
	return 0, io.EOF
}

// TestScannerIdleLeavesNoGoroutine: when Idle fails while a read is in
// progress, Scan returns its error only once that read has returned, so
// that no goroutine of its own is left running; the goroutines are as many
// as before. (The count is polled for up to 10 s: the reading goroutine
// exits just after handing over its result.)
func TestScannerIdleLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	r := &gateReader{line: "a line\n", gate: make(chan struct{})}
	errStop := fmt.Errorf("stop")
	failed := make(chan struct{})
	sc := Scanner{Report: func(*Report) error { return nil }, IdleAfter: 20 * time.Millisecond,
		Idle: func() error {
			if !r.blocked.Load() {
				return nil // a silence before the first line (a loaded machine)
			}
			close(failed)
			return errStop
		}}
	done := make(chan error, 1)
	go func() { done <- sc.Scan(r) }()
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("Idle not called while the read waited")
	}
	select {
	case err := <-done:
		t.Fatalf("Scan returned %v while its read was in progress", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(r.gate)
	if err := <-done; err != errStop {
		t.Fatalf("Scan returned %v, want %v", err, errStop)
	}
	if r.blocked.Load() {
		t.Error("Scan returned while its read was in progress")
	}
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Scan, %d before", n, before)
	}
}
