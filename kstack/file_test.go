package kstack

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

const boots = "debian-6.1.0-56-amd64/boots/"

// readFixture runs ReadFile on files joined, named "in".
func readFixture(t *testing.T, paths ...string) *File {
	t.Helper()
	var all []byte
	for _, p := range paths {
		if !strings.HasPrefix(p, "testdata/") {
			p = fixture.Path(p)
		}
		all = append(all, fixture.Read(t, p)...)
	}
	f, err := ReadFile(bytes.NewReader(all), "in")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCaptureLayouts: the three layouts of saved /proc/PID/stack files, real
// captures from the Debian boot (run1-A's /proc/1/stack) and from this
// machine (grep -H and tail -n +1 over several files, see testdata/README.md).
func TestCaptureLayouts(t *testing.T) {
	tests := []struct {
		path string
		want []string // "pid/tid source: func;func..."
	}{
		{boots + "run1-A/proc-1-stack.txt", []string{
			"-1/-1 in:1: do_wait;kernel_wait4;__do_sys_wait4;do_syscall_64;entry_SYSCALL_64_after_hwframe",
		}},
		{"testdata/grep-H-stacks.txt", []string{
			"2/2 /proc/2/task/2/stack: kthreadd;ret_from_fork;ret_from_fork_asm",
			"14/14 /proc/14/task/14/stack: smpboot_thread_fn;kthread;ret_from_fork;ret_from_fork_asm",
			"15/15 /proc/15/task/15/stack: rcu_gp_fqs_loop;rcu_gp_kthread;kthread;ret_from_fork;ret_from_fork_asm",
		}},
		{"testdata/tail-stacks.txt", []string{
			"2/2 /proc/2/stack: kthreadd;ret_from_fork;ret_from_fork_asm",
			"4/4 /proc/4/stack: rescuer_thread;kthread;ret_from_fork;ret_from_fork_asm",
		}},
	}
	for _, tt := range tests {
		f := readFixture(t, tt.path)
		var got []string
		for _, s := range f.Stacks {
			got = append(got, fmt.Sprintf("%d/%d %s: %s", s.PID, s.TID, s.Source, strings.Join(s.Funcs(), ";")))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.path, got, tt.want)
		}
		if f.Used["capture"] != len(tt.want) || len(f.Ignored) != 0 {
			t.Errorf("%s: used %v ignored %v", tt.path, f.Used, f.Ignored)
		}
	}
	// The offsets and sizes are kept as printed.
	f := readFixture(t, boots+"run1-A/proc-1-stack.txt")
	if got := f.Stacks[0].Frames[0].String(); got != "do_wait+0x114/0x320" {
		t.Errorf("first frame %q", got)
	}
}

// groupLines formats groups as testdata/groups.awk does: "count|states|funcs"
// with the state letters sorted (the awk lists them in the order of the dump).
func groupLines(groups []Group) []string {
	var out []string
	for _, g := range groups {
		var states []byte
		for st, n := range g.States {
			for range n {
				states = append(states, st...)
			}
		}
		slices.Sort(states)
		out = append(out, fmt.Sprintf("%d|%s|%s", g.Count, states, strings.Join(g.Funcs, ";")))
	}
	sort.Strings(out)
	return out
}

// readGroups reads an awk-made groups file, sorting each line's state letters.
func readGroups(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		states := []byte(parts[1])
		slices.Sort(states)
		out = append(out, parts[0]+"|"+string(states)+"|"+parts[2])
	}
	sort.Strings(out)
	return out
}

// TestSysrqDumps: every task of the Debian boots' sysrq-t and sysrq-w dumps,
// grouped, equals what testdata/groups.awk computes from the dump's text.
func TestSysrqDumps(t *testing.T) {
	for _, tt := range []struct{ dump, groups string }{
		{"run1-A/dmesg-sysrq-t.txt", "sysrq-t-run1-A.groups"},
		{"run2-B/dmesg-sysrq-t.txt", "sysrq-t-run2-B.groups"},
		{"run3-C/dmesg-sysrq-t.txt", "sysrq-t-run3-C.groups"},
		{"run2-B/dmesg-sysrq-w.txt", "sysrq-w-run2-B.groups"},
	} {
		f := readFixture(t, boots+tt.dump)
		got := groupLines(Aggregate(f.Stacks))
		want := readGroups(t, "testdata/"+tt.groups)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.dump, got, want)
		}
		if f.Used["sysrq"] != 1 {
			t.Errorf("%s: used %v", tt.dump, f.Used)
		}
	}
	// The sysrq-l dump has CPU backtraces, no task stacks.
	f := readFixture(t, boots+"run1-A/dmesg-sysrq-l.txt")
	if len(f.Stacks) != 0 || f.Ignored["sysrq"] != 1 {
		t.Errorf("sysrq-l: %d stacks, ignored %v", len(f.Stacks), f.Ignored)
	}
}

// TestTruncatedReport: a report cut at klog's line limit (here lowered to
// 300) keeps the tasks before the cut but the last, which may be cut short:
// head -300 dmesg-sysrq-t.txt | grep -c task: gives 25 (run2-B's dump
// begins at its first line).
func TestTruncatedReport(t *testing.T) {
	defer func(n int) { maxReportLines = n }(maxReportLines)
	maxReportLines = 300
	f := readFixture(t, boots+"run2-B/dmesg-sysrq-t.txt")
	if len(f.Stacks) != 24 || f.Truncated != 1 {
		t.Errorf("%d stacks, %d truncated", len(f.Stacks), f.Truncated)
	}
}

// TestHungTask: the hung task report of run2-B, by hand from the file: sh,
// pid 780, state D, the frames without the four "? " ones.
func TestHungTask(t *testing.T) {
	f := readFixture(t, boots+"run2-B/oops-01-lkdtm-HUNG_TASK.txt")
	if len(f.Stacks) != 1 {
		t.Fatalf("%d stacks", len(f.Stacks))
	}
	s := f.Stacks[0]
	want := "__schedule;schedule;direct_entry.cold [lkdtm];full_proxy_write;vfs_write;ksys_write;do_syscall_64;entry_SYSCALL_64_after_hwframe"
	if got := strings.Join(s.Funcs(), ";"); got != want || s.Comm != "sh" || s.PID != 780 || s.State != "D" || s.Kind != KindTask {
		t.Errorf("got %+v %s", s, got)
	}
	if s.Frames[2].String() != "direct_entry.cold+0x18/0x24 [lkdtm]" {
		t.Errorf("frame 2 = %s", s.Frames[2])
	}
}

// TestHungTaskLogs: real hung task reports of the syzkaller logs. 349 (4.20)
// prints its tasks the older way ("jbd2/sda-8      D22600  3563 ..."), four
// tasks, the whole report twice (console, then the log again): the tasks by
// grep -o 'INFO: task [^ ]*'. 385 (5.1): five tasks of syz-executor013, by
// grep -B1 'Call Trace:'. 550 is arm32 with a task: line: 23 frame lines
// and the caller of the last (ret_fast_syscall). 235 is corrupted (two CPUs
// interleaved, the task line after a "Call Trace:" of another task): no
// stack rather than another task's.
func TestHungTaskLogs(t *testing.T) {
	const dir = "crashlogs/syzkaller/linux/report/"
	var got []string
	for _, s := range readFixture(t, dir+"349").Stacks {
		got = append(got, fmt.Sprintf("%s:%d %s %s", s.Comm, s.PID, s.State, s.Frames[0].Name))
	}
	want := []string{"jbd2/sda-8:3563 D __schedule", "kworker/u12:5:1980 D __schedule", "syz-executor2:6677 D __schedule", "syz-executor2:6693 D __schedule"}
	if !slices.Equal(got, append(want, want...)) {
		t.Errorf("349: %q", got)
	}
	got = nil
	for _, s := range readFixture(t, dir+"385").Stacks {
		got = append(got, fmt.Sprintf("%s:%d %s", s.Comm, s.PID, s.State))
	}
	want = []string{"syz-executor013:7561 D", "syz-executor013:7563 D", "syz-executor013:7559 D", "syz-executor013:7565 D", "syz-executor013:7562 D"}
	if !slices.Equal(got, append(want, want...)) {
		t.Errorf("385: %q", got)
	}
	f := readFixture(t, dir+"550")
	if len(f.Stacks) != 1 {
		t.Fatalf("550: %d stacks", len(f.Stacks))
	}
	s := f.Stacks[0]
	fr := s.Frames
	if s.Comm != "syz-executor.0" || s.PID != 10324 || s.State != "D" || len(fr) != 24 || fr[0].Name != "__schedule" ||
		fr[22].Name != "sys_sendfile" || fr[23].String() != "ret_fast_syscall+0x0/0x54" {
		t.Errorf("550: %+v", s)
	}
	if f := readFixture(t, dir+"235"); len(f.Stacks) != 0 {
		t.Errorf("235: %+v", f.Stacks)
	}
}

// TestParseOldTask: task lines of kernels before 5.10. The first two are
// real (crashlogs report/349 and 385); the running-task and the 3.x layout
// with a PC are written from sched_show_task's format strings (no fixture
// has them).
func TestParseOldTask(t *testing.T) {
	for _, tt := range []struct {
		text string
		want string // "comm state pid", "" for not a task line
	}{
		{"jbd2/sda-8      D22600  3563      2 0x80000000", "jbd2/sda-8 D 3563"},
		{"syz-executor013 D29336  7561   7543 0x00000004", "syz-executor013 D 7561"},
		{"init            R  running task        0     1      0 0x00000000", "init R 1"},
		{"kworker/0:1     S ffff88003e263d88     0    12      2 0x00000000", "kworker/0:1 S 12"},
		{"kworker/0:3     D", ""},
		{"Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS", ""},
		{"jbd2/sda-8      D22600  3563      x 0x80000000", ""},
		{"               D22600  3563      2 0x80000000", ""},
	} {
		got := ""
		if task, ok := parseOldTask(tt.text); ok {
			got = fmt.Sprintf("%s %s %d", task.Comm, task.State, task.PID)
		}
		if got != tt.want {
			t.Errorf("parseOldTask(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestKmemleak: the seven real kmemleak reports of the syzkaller logs, one
// object each. Sizes, comms, pids and frame counts by grep (testdata/README.md).
func TestKmemleak(t *testing.T) {
	type leak struct {
		log         string
		bytes       int64
		comm        string
		pid         int
		frames      int
		first, last string
	}
	leaks := []leak{
		{"51", 64, "executor", 11746, 6, "sock_kmalloc", "SyS_setsockopt"},
		{"52", 1864, "a.out", 24109, 6, "kmemleak_alloc", "__sock_create"},
		{"55", 20, "swapper", 0, 5, "kmemleak_alloc", "i386_start_kernel"},
		{"309", 32, "swapper/0", 1, 16, "kmem_cache_alloc_node_trace", "do_one_initcall"},
		{"310", 576, "syz-executor1", 8262, 16, "kmem_cache_alloc", "tun_chr_ioctl"},
		{"312", 2048, "syz-executor0", 6839, 10, "__kmalloc", "entry_SYSCALL_64_after_hwframe"},
		{"752", 96, "syz.0.23", 5988, 10, "__kmalloc_cache_noprof", "entry_SYSCALL_64_after_hwframe"},
	}
	var paths []string
	for _, l := range leaks {
		paths = append(paths, "crashlogs/syzkaller/linux/report/"+l.log)
	}
	f := readFixture(t, paths...)
	if len(f.Stacks) != len(leaks) {
		t.Fatalf("%d stacks, want %d (used %v, ignored %v)", len(f.Stacks), len(leaks), f.Used, f.Ignored)
	}
	for i, l := range leaks {
		s := f.Stacks[i]
		n := len(s.Frames)
		if s.Kind != KindLeak || s.Bytes != l.bytes || s.Comm != l.comm || s.PID != l.pid || n != l.frames ||
			s.Frames[0].Name != l.first || s.Frames[n-1].Name != l.last {
			t.Errorf("report %s: got %s %d bytes %q pid %d, %d frames %s..%s", l.log, s.Kind, s.Bytes, s.Comm, s.PID, n, s.Frames[0].Name, s.Frames[n-1].Name)
		}
	}
	// Heaviest first: the sizes in decreasing order.
	var weights []string
	for _, g := range Aggregate(f.Stacks) {
		weights = append(weights, strconv.FormatInt(g.Weight, 10))
	}
	if got, want := strings.Join(weights, " "), "2048 1864 576 96 64 32 20"; got != want {
		t.Errorf("weights %s, want %s", got, want)
	}
	// The hashed addresses of report 310 are not addresses.
	for _, fr := range f.Stacks[4].Frames {
		if fr.HasAddr {
			t.Errorf("310: %+v has an address", fr)
		}
	}
}

// TestOtherReports: an oops is not a task stack; it is counted as ignored.
func TestOtherReports(t *testing.T) {
	f := readFixture(t, boots+"run2-B/oops-02-lkdtm-BUG.txt")
	if len(f.Stacks) != 0 || len(f.Ignored) == 0 {
		t.Errorf("%d stacks, ignored %v", len(f.Stacks), f.Ignored)
	}
}

// FuzzReadFile: no panic, and what comes out is well formed.
func FuzzReadFile(f *testing.F) {
	f.Add(fixture.Read(f, fixture.Path(boots+"run1-A/proc-1-stack.txt")))
	f.Add(fixture.Read(f, "testdata/grep-H-stacks.txt"))
	f.Add(fixture.Read(f, "testdata/tail-stacks.txt"))
	f.Add(fixture.Read(f, fixture.Path(boots+"run2-B/dmesg-sysrq-w.txt")))
	f.Add(fixture.Read(f, fixture.Path("crashlogs/syzkaller/linux/report/55")))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadFile(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range file.Stacks {
			if s.Kind != KindTask && s.Kind != KindLeak || s.Bytes < 0 || s.Frames == nil {
				t.Fatalf("bad stack %+v", s)
			}
		}
		_ = Aggregate(file.Stacks)
	})
}
