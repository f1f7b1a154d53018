package decode

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/klog"
)

// TestWholeBootLogs decodes each boot's whole dmesg -r log with its own
// table: every named frame decodes exactly, without a warning.
func TestWholeBootLogs(t *testing.T) {
	for _, b := range boots {
		path := fixture.Path(filepath.Join(debian, "boots", b.name, "dmesg-raw.txt.gz"))
		d := New(bootTable(t, b.name), Options{})
		reports, n := 0, 0
		for _, r := range klog.Parse(string(fixture.Read(t, path))) {
			res := d.Decode(r)
			if len(res.Warnings) > 0 {
				t.Errorf("%s: warnings %q", b.name, res.Warnings)
			}
			n += checkNamed(t, path, r, res)
			reports++
		}
		t.Logf("%s/dmesg-raw.txt.gz: %d reports, %d named frames decoded exactly", b.name, reports, n)
		if n == 0 {
			t.Errorf("%s: no frame decoded", b.name)
		}
	}
}

// TestOtherBootTable decodes run1-A's panic, which prints its kernel offset,
// with run2-B's table: same build, so the names and sizes match, but the
// offset shows the table is from another boot.
func TestOtherBootTable(t *testing.T) {
	log := string(fixture.Read(t, fixture.Path(filepath.Join(debian, "boots/run1-A/oops-05-sysrq-c.txt"))))
	d := New(bootTable(t, "run2-B"), Options{})
	var warnings []string
	mismatch := false
	for _, r := range klog.Parse(log) {
		res := d.Decode(r)
		warnings = append(warnings, res.Warnings...)
		mismatch = mismatch || res.Mismatch
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "from another boot") || !mismatch {
		t.Errorf("warnings %q mismatch %v, want one 'from another boot'", warnings, mismatch)
	}
	// With its own table, no warning.
	d = New(bootTable(t, "run1-A"), Options{})
	for _, r := range klog.Parse(log) {
		if res := d.Decode(r); len(res.Warnings) > 0 || res.Mismatch {
			t.Errorf("own table: warnings %q", res.Warnings)
		}
	}
}

// TestSlideFromOldStyleFrames rewrites run1-A's panic in the old style,
// "[<address>] name+0xoff/0xsize", without its "Kernel Offset:" line: the
// slide comes from the frames.
func TestSlideFromOldStyleFrames(t *testing.T) {
	tab := bootTable(t, "run1-A")
	log := string(fixture.Read(t, fixture.Path(filepath.Join(debian, "boots/run1-A/oops-05-sysrq-c.txt"))))
	var b strings.Builder
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "Kernel Offset:") {
			continue
		}
		if m := printedFrame.FindStringIndex(line); m != nil && strings.Contains(line, "]  ") {
			addr, ok := addrOf(tab, line[m[0]:m[1]])
			if !ok {
				t.Fatalf("%q not in the table", line[m[0]:m[1]])
			}
			line = line[:m[0]] + fmt.Sprintf("[<%016x>] ", addr) + line[m[0]:]
		}
		b.WriteString(line + "\n")
	}
	reps := klog.Parse(b.String())
	if len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	res := New(systemMap(t), Options{SystemMap: true}).Decode(reps[0])
	if !res.Slide.Known || res.Slide.Value != 0x18600000 || res.Slide.Method != "frames" {
		t.Errorf("slide %+v, want 0x18600000 by frames", res.Slide)
	}
	ok := 0
	for _, f := range res.Frames {
		if f.Status == StatusOK && f.HasAddr {
			ok++
		} else if f.Status != StatusUser {
			t.Errorf("%s: %s %s", f.Printed, f.Status, f.Note)
		}
	}
	if ok != 21 {
		t.Errorf("%d frames checked by name and address, want 21", ok)
	}
}
