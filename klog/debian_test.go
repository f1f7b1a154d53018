package klog

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// debianFiles returns the crash and sysrq logs of the three Debian boots.
func debianFiles(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, pat := range []string{"oops-*.txt", "dmesg-sysrq-*.txt"} {
		m, err := filepath.Glob(fixture.Path("debian-6.1.0-56-amd64/boots/run*/" + pat))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) < 25 {
		tb.Fatalf("found %d Debian logs", len(out))
	}
	return out
}

// frameRE matches an x86 call trace entry or RIP line, independently of the
// code under test.
var frameRE = regexp.MustCompile(`^\[ *[0-9.]+\] (?:( (\? )?)|RIP: 0010:)([A-Za-z0-9_.]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[(\w+)\])?$`)

// wantFrame is a frame as the independent regexp reads it.
type wantFrame struct {
	name, module string
	off, size    uint64
	reliable, pc bool
}

// TestDebianFrames checks that every named frame each Debian log prints is
// found, in order, with exactly its name, offset, size, module, reliability
// and kind, in the reports the log splits into.
func TestDebianFrames(t *testing.T) {
	for _, path := range debianFiles(t) {
		text := string(fixture.Read(t, path))
		var want []wantFrame
		for _, l := range strings.Split(text, "\n") {
			m := frameRE.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			off, _ := strconv.ParseUint(m[4], 16, 64)
			size, _ := strconv.ParseUint(m[5], 16, 64)
			want = append(want, wantFrame{m[3], m[6], off, size, m[2] == "", m[1] == ""})
		}
		var got []wantFrame
		for _, r := range Parse(text) {
			for _, f := range r.Frames {
				if f.HasOffset && !f.HasAddr {
					got = append(got, wantFrame{f.Name, f.Module, f.Offset, f.Size, f.Reliable, f.Kind == FramePC})
				}
			}
		}
		name := strings.TrimPrefix(path, fixture.Dir())
		if len(want) == 0 && strings.Contains(path, "lkdtm") {
			t.Errorf("%s: the regexp found no frames", name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %d frames, want %d\n got %v\nwant %v", name, len(got), len(want), got, want)
		}
	}
}

func TestDebianWarning(t *testing.T) {
	text := string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/oops-01-lkdtm-WARNING.txt")))
	reps := Parse(text)
	if len(reps) != 1 {
		t.Fatalf("got %d reports, want 1", len(reps))
	}
	r := reps[0]
	if r.Kind != KindWarning || r.Func != "lkdtm_WARNING" ||
		r.Title != "WARNING: CPU: 1 PID: 788 at drivers/misc/lkdtm/bugs.c:85 lkdtm_WARNING+0x13/0x20 [lkdtm]" {
		t.Errorf("kind %q func %q title %q", r.Kind, r.Func, r.Title)
	}
	h := r.Header
	if h.CPU != 1 || h.UID != -1 || h.PID != 788 || h.Comm != "sh" || h.Taint != "G           OE" || h.Taints() != "GOE" ||
		h.Release != "6.1.0-56-amd64" || h.Version != "#1  Debian 6.1.192-2" ||
		h.Hardware != "QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014" {
		t.Errorf("header %+v", h)
	}
	if len(h.Modules) != 24 || h.Modules[0] != (Module{"lkdtm", "OE"}) || h.Modules[23] != (Module{"crc32c_intel", ""}) {
		t.Errorf("modules %+v", h.Modules)
	}
	if len(r.Traces) != 1 || r.Traces[0].Label != "Call Trace:" {
		t.Errorf("traces %+v", r.Traces)
	}
	// RIP (no trace), 13 trace frames in <TASK>, then the user RIP.
	if len(r.Frames) != 15 {
		t.Fatalf("got %d frames", len(r.Frames))
	}
	first, second, last := r.Frames[0], r.Frames[1], r.Frames[14]
	if first.Kind != FramePC || first.Trace != -1 || first.Context != "" || first.Name != "lkdtm_WARNING" {
		t.Errorf("first frame %+v", first)
	}
	if second.Name != "direct_entry.cold" || second.Context != "TASK" || second.Trace != 0 || r.Lines[second.Line].Text != " direct_entry.cold+0x18/0x24 [lkdtm]" {
		t.Errorf("second frame %+v", second)
	}
	if !last.User || last.Addr != 0x47b7a0 || last.Context != "TASK" {
		t.Errorf("last frame %+v", last)
	}
	if r.Registers[0] != (Register{"RSP", 0xff6d3dd3011a3c40, "0018:ff6d3dd3011a3c40", 7}) {
		t.Errorf("first register %+v", r.Registers[0])
	}
}

func TestDebianKinds(t *testing.T) {
	tests := []struct {
		file  string
		kinds []Kind
		funcs []string
	}{
		{"run1-A/oops-03-lkdtm-REFCOUNT_INC_OVERFLOW.txt", []Kind{KindRefcount}, []string{"refcount_warn_saturate"}},
		{"run2-B/oops-01-lkdtm-HUNG_TASK.txt", []Kind{KindHungTask}, []string{""}},
		{"run2-B/oops-02-lkdtm-BUG.txt", []Kind{KindBUG}, []string{"lkdtm_BUG"}},
		{"run2-B/oops-03-lkdtm-EXCEPTION.txt", []Kind{KindNullDeref}, []string{"lkdtm_EXCEPTION"}},
		{"run2-B/oops-04-lkdtm-USERCOPY_SLAB_SIZE_TO.txt", []Kind{KindUsercopy}, []string{"usercopy_abort"}},
		{"run2-B/oops-08-lkdtm-CORRUPT_LIST_ADD.txt", []Kind{KindListCorruption}, []string{"__list_add_valid.cold"}},
		{"run1-A/oops-05-sysrq-c.txt", []Kind{KindPanic}, []string{""}},
		{"run1-A/dmesg-sysrq-w.txt", []Kind{KindSysrq}, []string{""}},
	}
	for _, tt := range tests {
		reps := Parse(string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/"+tt.file))))
		var kinds []Kind
		var funcs []string
		for _, r := range reps {
			kinds, funcs = append(kinds, r.Kind), append(funcs, r.Func)
		}
		if !reflect.DeepEqual(kinds, tt.kinds) || !reflect.DeepEqual(funcs, tt.funcs) {
			t.Errorf("%s: kinds %v funcs %q, want %v %q", tt.file, kinds, funcs, tt.kinds, tt.funcs)
		}
	}
}

func TestDebianSysrqTasks(t *testing.T) {
	taskRE := regexp.MustCompile(`\] task:(\S+) +state:(\S+) .* pid:(\d+)`)
	for _, run := range []string{"run1-A", "run2-B", "run3-C"} {
		text := string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/"+run+"/dmesg-sysrq-t.txt")))
		var want []Task
		for _, m := range taskRE.FindAllStringSubmatch(text, -1) {
			pid, _ := strconv.Atoi(m[3])
			want = append(want, Task{m[1], m[2], pid})
		}
		var got []Task
		reps := Parse(text)
		for _, r := range reps {
			for _, tr := range r.Traces {
				if tr.Task != nil {
					got = append(got, *tr.Task)
				}
			}
		}
		if len(reps) == 0 || reps[0].Kind != KindSysrq || reps[0].Title != "sysrq: Show State" {
			t.Errorf("%s: first report %+v", run, reps)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %d tasks, want %d\n got %v\nwant %v", run, len(got), len(want), got, want)
		}
	}
}

func TestDebianKernelOffset(t *testing.T) {
	reps := Parse(string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/oops-05-sysrq-c.txt"))))
	if len(reps) != 1 {
		t.Fatalf("got %d reports", len(reps))
	}
	h := reps[0].Header
	if !h.HasKernelOffset || h.KernelOffset != 0x18600000 || h.KernelBase != 0xffffffff81000000 || h.Panic != "sysrq triggered crash" {
		t.Errorf("header %+v", h)
	}
}

func TestDebianHungTaskHeader(t *testing.T) {
	reps := Parse(string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run2-B/oops-01-lkdtm-HUNG_TASK.txt"))))
	if len(reps) != 1 {
		t.Fatalf("got %d reports", len(reps))
	}
	r := reps[0]
	// "      Tainted: G           OE      6.1.0-56-amd64 #1 Debian 6.1.192-2"
	h := r.Header
	if h.Taint != "G           OE" || h.Release != "6.1.0-56-amd64" || h.Version != "#1 Debian 6.1.192-2" {
		t.Errorf("header %+v", h)
	}
	// "task:sh              state:D stack:0     pid:780   ppid:1      flags:0x00000002"
	if len(r.Traces) != 1 || *r.Traces[0].Task != (Task{"sh", "D", 780}) {
		t.Errorf("traces %+v", r.Traces)
	}
}
