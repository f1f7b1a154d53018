package decode

import (
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/klog"
)

// run2BReports is the number of reports in run2BLogs, counted by hand: one
// in each of oops-01..09 and the three dmesg-sysrq files (12), and seven in
// oops-10 (six "BUG: soft lockup" lines and the "rcu: INFO: rcu_preempt
// self-detected stall" between them).
const run2BReports = 19

// run2BLogs returns run2-B's oops-*.txt and dmesg-sysrq-*.txt,
// concatenated (each ends with a newline), but for the sysrq-c panic
// (oops-11): the kernel prints nothing after a panic, and a report that
// follows it in a concatenation is taken for its continuation.
func run2BLogs(tb testing.TB) string {
	tb.Helper()
	var b strings.Builder
	for _, f := range crashFiles(tb, "run2-B") {
		if !strings.HasSuffix(f, "oops-11-sysrq-c.txt") {
			b.Write(fixture.Read(tb, f))
		}
	}
	return b.String()
}

// repeated returns an io.Reader of text copies times, and the number of
// copies making at least size bytes; the copies share text.
func repeated(text string, size int) (io.Reader, int) {
	copies := (size + len(text) - 1) / len(text)
	rs := make([]io.Reader, copies)
	for i := range rs {
		rs[i] = strings.NewReader(text)
	}
	return io.MultiReader(rs...), copies
}

// heapInUse returns the bytes of heap spans in use.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestDecodeStreams100MB: 100 MB of real crash logs (run2-B's, repeated)
// stream through klog.Scan and Decode in constant memory: the heap in use
// stays within 64 MiB of what it was with the table loaded, and every
// report is decoded.
func TestDecodeStreams100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MB")
	}
	text := run2BLogs(t)
	if n := len(klog.Parse(text)); n != run2BReports {
		t.Fatalf("%d reports in one copy, want %d", n, run2BReports)
	}
	d := New(loadTable(t, filepath.Join(debian, "boots/run2-B/kallsyms.txt.gz")), Options{})
	r, copies := repeated(text, 100<<20)
	runtime.GC()
	base := heapInUse()
	peak, reports, frames := base, 0, 0
	err := klog.Scan(r, func(rep *klog.Report) error {
		frames += len(d.Decode(rep).Frames)
		if reports++; reports%20 == 0 {
			peak = max(peak, heapInUse())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if reports != run2BReports*copies {
		t.Errorf("%d reports, want %d", reports, run2BReports*copies)
	}
	t.Logf("%d MB, %d reports, %d frames; heap in use peaked %d KB above the start", len(text)*copies>>20, reports, frames, (peak-base)>>10)
	if peak > base+64<<20 {
		t.Errorf("heap in use grew by %d MB", (peak-base)>>20)
	}
}
