package klog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// consoleText returns the console output of a syzkaller crash log, without
// its header, as lines.
func consoleText(tb testing.TB, name string) []string {
	tb.Helper()
	data := string(fixture.Read(tb, fixture.Path("crashlogs/syzkaller/linux/report/"+name)))
	_, text, _ := strings.Cut(data, "\n\n")
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// interleave merges a and b, taking lines alternately, each keeping its
// order.
func interleave(a, b []string) []string {
	var out []string
	for i := 0; i < max(len(a), len(b)); i++ {
		if i < len(a) {
			out = append(out, a[i])
		}
		if i < len(b) {
			out = append(out, b[i])
		}
	}
	return out
}

// TestInterleavedByCaller: two real reports printed by different tasks,
// interleaved line by line (synthetic: the interleaving is built here from
// report/453, a UBSAN report of task T6213, and report/642, a "scheduling
// while atomic" panic of task T12771), come out as two reports, each with
// exactly the lines of its task. The expected lines are the input lines
// holding each caller id, found by string search.
func TestInterleavedByCaller(t *testing.T) {
	a, b := consoleText(t, "453"), consoleText(t, "642")
	reps := Parse(strings.Join(interleave(a, b), "\n") + "\n")
	if len(reps) != 2 {
		t.Fatalf("%d reports, want 2", len(reps))
	}
	want := map[string]struct {
		kind   Kind
		lines  []string
		frames int
	}{
		// Frames: 13 trace lines plus "RIP: 0033:" in 453; the
		// "Preemption disabled at:" frame, 9 trace lines and "RIP: 0033:"
		// in 642 (counted by hand).
		"T6213":  {KindUBSAN, a, 14},
		"T12771": {KindAtomicSleep, b, 11},
	}
	for _, r := range reps {
		caller := r.Lines[0].Caller
		w, ok := want[caller]
		if !ok {
			t.Fatalf("report of caller %q", caller)
		}
		delete(want, caller)
		var got []string
		for _, l := range r.Lines {
			got = append(got, l.Raw)
		}
		if r.Kind != w.kind || len(r.Frames) != w.frames || strings.Join(got, "\n") != strings.Join(w.lines, "\n") {
			t.Errorf("%s: %s with %d frames, want %s with %d; lines equal: %v", caller, r.Kind, len(r.Frames), w.kind, w.frames,
				strings.Join(got, "\n") == strings.Join(w.lines, "\n"))
		}
	}
}

// TestInterleavedStart: a report of another task that begins while a
// report is open is its own report, not a part of the open one, and the
// open report does not lose its lines (report/680: two tasks of a real
// arm64 boot oops at once).
func TestInterleavedStart(t *testing.T) {
	lines := consoleText(t, "680")
	reps := Parse(strings.Join(lines, "\n") + "\n")
	byCaller := map[string]int{}
	for _, r := range reps {
		for _, l := range r.Lines {
			if l.Caller != r.Lines[0].Caller {
				t.Errorf("report of %s holds a line of %s: %q", r.Lines[0].Caller, l.Caller, l.Raw)
			}
		}
		byCaller[r.Lines[0].Caller]++
	}
	if fmt.Sprint(byCaller) != "map[T3080:1 T3083:1]" {
		t.Errorf("reports by caller %v, want one of T3083 and one of T3080", byCaller)
	}
}

// TestInterleavedEnded: without interleaving, a report of one task that
// printed its end marker is emitted as soon as another task begins a
// report, not at the end of input (streaming).
func TestInterleavedEnded(t *testing.T) {
	first := "[  1.000000][  T100] ------------[ cut here ]------------\n" +
		"[  1.000000][  T100] WARNING: CPU: 0 PID: 100 at kernel/foo.c:1 foo+0x1/0x2\n" +
		"[  1.000000][  T100] Call Trace:\n" +
		"[  1.000000][  T100]  foo+0x1/0x2\n" +
		"[  1.000000][  T100] ---[ end trace 0000000000000000 ]---\n"
	second := "[  2.000000][  T200] BUG: kernel NULL pointer dereference, address: 0000000000000000\n" +
		"[  2.000000][  T200] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
	var s Splitter
	var got []string
	for i, l := range strings.Split(first+second, "\n") {
		if r := s.Push(ParseLine(l)); r != nil {
			got = append(got, fmt.Sprintf("line %d: %s", i+1, r.Kind))
		}
	}
	for r := s.Flush(); r != nil; r = s.Flush() {
		got = append(got, "flush: "+string(r.Kind))
	}
	// Line 6 begins T200's report, which closes T100's ended report.
	if want := "[line 6: warning flush: null-deref]"; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

// TestInterleavedIdle: a report of a task that stopped printing is closed
// after IdleLines lines of another task's report, and beyond
// MaxInterleaved reports the oldest is closed.
func TestInterleavedIdle(t *testing.T) {
	var s Splitter
	emitted := 0
	push := func(l string) {
		if s.Push(ParseLine(l)) != nil {
			emitted++
		}
	}
	push("[  1.0][  T100] INFO: task sh:100 blocked for more than 120 seconds.")
	push("[  1.0][  T100] Call Trace:")
	push("[  1.0][  T100]  schedule+0x1/0x2")
	push("[  1.0][  T200] sysrq: Show State")
	for i := 0; i < IdleLines; i++ {
		push("[  1.0][  T200]  schedule+0x1/0x2")
	}
	if emitted != 1 {
		t.Errorf("%d reports emitted after %d idle lines, want T100's", emitted, IdleLines)
	}
	s = Splitter{}
	emitted = 0
	for i := 0; i < MaxInterleaved; i++ {
		push(fmt.Sprintf("[  1.0][  T%d] BUG: soft lockup - CPU#0 stuck for 22s! [sh:%d]", 100+i, 100+i))
	}
	if emitted != 0 {
		t.Errorf("%d reports emitted with %d open", emitted, MaxInterleaved)
	}
	push("[  1.0][  T999] BUG: soft lockup - CPU#1 stuck for 22s! [sh:999]")
	if emitted != 1 || len(s.streams) != MaxInterleaved || s.streams[0].caller != "T101" {
		t.Errorf("%d emitted, %d open, want T100's emitted and %d open", emitted, len(s.streams), MaxInterleaved)
	}
}

// TestScanWithOldest: while interleaved reports are emitted, Oldest tells
// the first line of the report still open (the interleaving of
// TestInterleavedByCaller: 642's report begins on line 2 and outlasts
// 453's, which ends at its closing "====" line).
func TestScanWithOldest(t *testing.T) {
	text := strings.Join(interleave(consoleText(t, "453"), consoleText(t, "642")), "\n") + "\n"
	var s Splitter
	var got []string
	err := ScanWith(strings.NewReader(text), &s, func(r *Report) error {
		got = append(got, fmt.Sprintf("%s %d-%d oldest %d", r.Lines[0].Caller, r.Lines[0].Num, r.Lines[len(r.Lines)-1].Num, s.Oldest()))
		return nil
	})
	// 453 and 642 have 28 lines each (wc -l): 453's last is line
	// 2*28-1 = 55, 642's line 56.
	if want := "[T6213 1-55 oldest 2 T12771 2-56 oldest 0]"; err != nil || fmt.Sprint(got) != want {
		t.Errorf("got %v (%v), want %s", got, err, want)
	}
}
