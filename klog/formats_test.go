package klog

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// splitStamp splits "[  102.725341] text" into "102.725341" and "text".
func splitStamp(tb testing.TB, line string) (string, string) {
	tb.Helper()
	end := strings.Index(line, "] ")
	if !strings.HasPrefix(line, "[") || end < 0 {
		tb.Fatalf("line without timestamp: %q", line)
	}
	return strings.TrimSpace(line[1:end]), line[end+2:]
}

// reformat rewrites every line of a dmesg capture in another log format.
func reformat(tb testing.TB, text string, f func(i int, stamp, msg string) string) string {
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if !strings.HasPrefix(l, "[  ") { // console lines of the capture tool
			b.WriteString(l + "\n")
			continue
		}
		stamp, msg := splitStamp(tb, l)
		b.WriteString(f(i, stamp, msg))
		b.WriteByte('\n')
	}
	return b.String()
}

// usec converts "102.725341" to microseconds.
func usec(tb testing.TB, stamp string) int {
	var s, us int
	if _, err := fmt.Sscanf(stamp, "%d.%d", &s, &us); err != nil {
		tb.Fatal(err)
	}
	return s*1e6 + us
}

// comparable drops what depends on the format (the lines themselves).
func comparable(reps []*Report) []Report {
	var out []Report
	for _, r := range reps {
		c := *r
		c.Lines = nil
		out = append(out, c)
	}
	return out
}

// TestFormats checks that the same oops read through every log format
// gives the same reports, frames, headers and registers.
func TestFormats(t *testing.T) {
	text := string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run2-B/oops-03-lkdtm-EXCEPTION.txt")))
	want := comparable(Parse(text))
	if len(want) != 1 || len(want[0].Frames) != 11 {
		t.Fatalf("reference parse: %d reports", len(want))
	}
	formats := map[string]func(i int, stamp, msg string) string{
		"dmesg -r": func(_ int, stamp, msg string) string { return "<4>[" + stamp + "] " + msg },
		"kmsg": func(i int, stamp, msg string) string {
			return fmt.Sprintf("4,%d,%d,-;%s", 1000+i, usec(t, stamp), msg)
		},
		"syslog": func(_ int, stamp, msg string) string {
			return "Nov 26 07:55:13 debian kernel: [" + stamp + "] " + msg
		},
		"journalctl -k": func(_ int, _, msg string) string { return "Nov 26 07:55:13 debian kernel: " + msg },
		"short-monotonic": func(_ int, stamp, msg string) string {
			return "[" + stamp + "] debian kernel: " + msg
		},
		"dmesg -T": func(_ int, _, msg string) string { return "[Thu Nov 26 07:55:13 2026] " + msg },
		"caller id": func(_ int, stamp, msg string) string {
			return "[" + stamp + "][  T797] " + msg
		},
		"spaced caller id": func(_ int, stamp, msg string) string {
			return "[" + stamp + "] [  T797] " + msg
		},
		"serial": func(_ int, stamp, msg string) string {
			return "\x1b[0m[" + stamp + "] " + msg + "\r"
		},
	}
	for name, f := range formats {
		got := comparable(Parse(reformat(t, text, f)))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: reports differ\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// TestDmesgRawReports checks the reports found in whole boot logs read
// with dmesg -r, listed from the logs.
func TestDmesgRawReports(t *testing.T) {
	tests := []struct {
		run    string
		titles []string
	}{
		{"run1-A", []string{
			"sysrq: Show State",
			"sysrq: Show backtrace of all active CPUs",
			"sysrq: Show Blocked State",
			"WARNING: CPU: 1 PID: 788 at drivers/misc/lkdtm/bugs.c:85 lkdtm_WARNING+0x13/0x20 [lkdtm]",
			"WARNING: CPU: 0 PID: 792 at drivers/misc/lkdtm/bugs.c:90 lkdtm_WARNING_MESSAGE+0x20/0x30 [lkdtm]",
			"refcount_t: saturated; leaking memory.",
			"refcount_t: decrement hit 0; leaking memory.",
		}},
		{"run3-C", []string{
			"sysrq: Show State",
			"sysrq: Show backtrace of all active CPUs",
			"sysrq: Show Blocked State",
			"BUG: kernel NULL pointer dereference, address: 0000000000000000",
			"detected buffer overflow in memcpy",
			"list_del corruption. next->prev should be ff5d331d41013d70, but was 0000000000000000. (next=ff5d331d41013d98)",
			"BUG kmalloc-1k (Tainted: G      D    OE     ): Poison overwritten",
			"BUG kmalloc-1k (Tainted: G    B D    OE     ): Right Redzone overwritten",
			"BUG lkdtm-heap-double_free (Tainted: G    B D    OE     ): Slab has 0 allocated objects but 1 are to be freed",
		}},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range Parse(string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/"+tt.run+"/dmesg-raw.txt.gz")))) {
			got = append(got, r.Title)
			if r.Lines[0].Level < 0 {
				t.Errorf("%s: %q: no level read", tt.run, r.Title)
			}
		}
		if !reflect.DeepEqual(got, tt.titles) {
			t.Errorf("%s: titles\n got %q\nwant %q", tt.run, got, tt.titles)
		}
	}
}
