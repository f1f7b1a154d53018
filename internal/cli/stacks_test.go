package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/pprof/profile"
)

const (
	liveTree    = "../../kstack/testdata/live-6.18.44" // seven real tasks of this machine, see its README
	bootsDir    = "../../testdata/fixtures/debian-6.1.0-56-amd64/boots/"
	sysrqT      = bootsDir + "run2-B/dmesg-sysrq-t.txt"
	firecracker = "../../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz"
)

// TestStacksTable: the table of the fixture tree, written by hand from its
// files.
func TestStacksTable(t *testing.T) {
	out, errs, code := run(t, "", "--root", liveTree, "stacks", "--top", "2")
	want := `7 task stacks of 7 tasks, 1 sample, all states; 6 distinct stacks

2 tasks (28.6%)  state S:2  comm worker 1, x) (y z
    hrtimer_nanosleep
    common_nsleep_timens
    __x64_sys_clock_nanosleep
    do_syscall_64
    entry_SYSCALL_64_after_hwframe

1 task (14.3%)  state R:1  comm bash
    [no kernel stack] (in user space, or running on a CPU)

... 4 more distinct stacks (--top 0 shows all)
`
	if out != want || errs != "" || code != 0 {
		t.Errorf("code %d stderr %q\n%s\nwant\n%s", code, errs, out, want)
	}
}

func TestStacksFolded(t *testing.T) {
	out, _, code := run(t, "", "--root", liveTree, "stacks", "--folded")
	want := `kthreadd;ret_from_fork_asm;ret_from_fork;kthreadd 1
kworker/R-rcu_gp;ret_from_fork_asm;ret_from_fork;kthread;rescuer_thread 1
ksoftirqd/0;ret_from_fork_asm;ret_from_fork;kthread;smpboot_thread_fn 1
rcu_preempt;ret_from_fork_asm;ret_from_fork;kthread;rcu_gp_kthread;rcu_gp_fqs_loop 1
x) (y z;entry_SYSCALL_64_after_hwframe;do_syscall_64;__x64_sys_clock_nanosleep;common_nsleep_timens;hrtimer_nanosleep 1
worker 1;entry_SYSCALL_64_after_hwframe;do_syscall_64;__x64_sys_clock_nanosleep;common_nsleep_timens;hrtimer_nanosleep 1
bash;[no kernel stack] 1
`
	if out != want || code != 0 {
		t.Errorf("code %d\n%s", code, out)
	}
	// Repeated sampling keeps D and R by default: bash alone, three times.
	out, _, code = run(t, "", "--root", liveTree, "stacks", "--duration", "150ms", "--interval", "50ms", "--folded")
	if out != "bash;[no kernel stack] 3\n" || code != 0 {
		t.Errorf("duration: code %d %q", code, out)
	}
	out, _, _ = run(t, "", "--root", liveTree, "stacks", "--state", "I", "--folded")
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "rcu_preempt;") || !strings.Contains(out, "kworker/R-rcu_gp;") {
		t.Errorf("--state I: %q", out)
	}
}

// awkGroups reads the groups of run2-B's sysrq-t dump made by
// kstack/testdata/groups.awk: count and functions, innermost first.
func awkGroups(t *testing.T) map[string]int {
	data, err := os.ReadFile("../../kstack/testdata/sysrq-t-run2-B.groups")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		p := strings.SplitN(line, "|", 3)
		n := 0
		for _, c := range p[0] {
			n = n*10 + int(c-'0')
		}
		out[p[2]] = n
	}
	return out
}

// TestStacksSysrqFolded: the folded lines of a real sysrq-t dump, merged
// over task names, are the groups the awk script found.
func TestStacksSysrqFolded(t *testing.T) {
	out, _, code := run(t, "", "stacks", "--from", sysrqT, "--folded")
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		sp := strings.LastIndexByte(line, ' ')
		path := strings.Split(line[:sp], ";")[1:]
		slices.Reverse(path)
		n := 0
		for _, c := range line[sp+1:] {
			n = n*10 + int(c-'0')
		}
		got[strings.Join(path, ";")] += n
	}
	want := awkGroups(t)
	if code != 0 || len(got) != len(want) {
		t.Fatalf("code %d, %d groups, want %d", code, len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d", k, got[k], v)
		}
	}
}

func TestStacksJSON(t *testing.T) {
	out, _, code := run(t, "", "--json", "stacks", "--from", sysrqT, "--top", "1")
	var j struct {
		Kind     string
		Stacks   int
		Tasks    int
		Distinct int
		Warnings []string
		Groups   []struct {
			Funcs  []string
			Count  int
			States map[string]int
		}
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 {
		t.Fatalf("%v %d %s", err, code, out)
	}
	g := j.Groups[0]
	// groups.awk: 59 tasks, 16 distinct stacks, the first 23 I tasks in
	// rescuer_thread.
	if j.Kind != "task" || j.Stacks != 59 || j.Tasks != 59 || j.Distinct != 16 || len(j.Groups) != 1 || len(j.Warnings) != 0 ||
		g.Count != 23 || g.States["I"] != 23 || strings.Join(g.Funcs, ";") != "__schedule;schedule;rescuer_thread;kthread;ret_from_fork" {
		t.Errorf("%+v", j)
	}
}

// TestStacksPprof: the profile parses back with pprof's own parser and holds
// the dump: 59 stacks in all, the D task's sample innermost first with its
// labels.
func TestStacksPprof(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.pb.gz")
	_, errs, code := run(t, "", "stacks", "--from", sysrqT, "--pprof", path)
	if code != 0 || errs != "" {
		t.Fatalf("code %d %s", code, errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	var dTask []string
	for _, s := range p.Sample {
		total += s.Value[0]
		if s.Label["state"][0] == "D" {
			for _, l := range s.Location {
				dTask = append(dTask, l.Line[0].Function.Name)
			}
			if f := s.Location[2].Line[0].Function; f.Filename != "lkdtm" || f.SystemName != "direct_entry.cold" {
				t.Errorf("module function %+v", f)
			}
			if s.Label["comm"][0] != "sh" || s.Value[0] != 1 {
				t.Errorf("D sample %+v", s)
			}
		}
	}
	want := "__schedule;schedule;direct_entry.cold [lkdtm];full_proxy_write;vfs_write;ksys_write;do_syscall_64;entry_SYSCALL_64_after_hwframe"
	if total != 59 || strings.Join(dTask, ";") != want || len(p.SampleType) != 1 || p.SampleType[0].Type != "stacks" {
		t.Errorf("total %d, D task %q", total, dTask)
	}
}

func TestStacksSVG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.svg")
	if _, errs, code := run(t, "", "stacks", "--from", sysrqT, "--svg", path); code != 0 {
		t.Fatalf("code %d %s", code, errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not XML: %v", err)
			}
			break
		}
	}
	for _, s := range []string{"<title>all (59 stacks, 100.00%)</title>", "59 task stacks of 59 tasks from ", "<title>direct_entry.cold [lkdtm] (1 stacks, 1.69%)</title>"} {
		if !strings.Contains(string(data), s) {
			t.Errorf("SVG lacks %q", s)
		}
	}
}

// TestStacksKmemleak: two real kmemleak reports, ranked by bytes.
func TestStacksKmemleak(t *testing.T) {
	dir := "../../testdata/fixtures/crashlogs/syzkaller/linux/report/"
	var all []byte
	for _, f := range []string{"51", "312"} {
		b, err := os.ReadFile(dir + f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	out, _, code := run(t, string(all), "stacks", "--from", "-", "--folded")
	want := "executor;SyS_setsockopt;sock_common_setsockopt;sctp_setsockopt;ipv6_setsockopt;do_ipv6_setsockopt.isra.7;sock_kmalloc 64\n" +
		"syz-executor0;entry_SYSCALL_64_after_hwframe;do_syscall_64;__x64_sys_bpf;map_create;htab_map_alloc;__alloc_percpu_gfp;pcpu_alloc;pcpu_create_chunk;pcpu_mem_zalloc;__kmalloc 2048\n"
	if out != want || code != 0 {
		t.Errorf("code %d\n%s\nwant\n%s", code, out, want)
	}
	out, _, _ = run(t, string(all), "stacks", "--from", "-", "--top", "1")
	if !strings.HasPrefix(out, "2 leaked objects, 2112 bytes, from standard input; 2 distinct stacks\n\n2048 bytes (97.0%) in 1 object  comm syz-executor0\n    __kmalloc\n") {
		t.Errorf("%s", out)
	}
}

// TestStacksOtherKernel: the Debian boot's /proc/1/stack with the table of
// another kernel: one warning, the frames as printed, status 0.
func TestStacksOtherKernel(t *testing.T) {
	out, errs, code := run(t, "", "--kallsyms", firecracker, "stacks", "--from", bootsDir+"run1-A/proc-1-stack.txt", "--folded")
	if out != "?;entry_SYSCALL_64_after_hwframe;do_syscall_64;__do_sys_wait4;kernel_wait4;do_wait 1\n" || code != 0 {
		t.Errorf("code %d %q", code, out)
	}
	want := "ksym: warning: " + firecracker + ": do_wait+0x114/0x320: the table's do_wait has size 0x120: the table is not from the kernel that printed these stacks; showing the frames as the kernel printed them\n"
	if errs != want {
		t.Errorf("stderr %q\nwant   %q", errs, want)
	}
	// The boot's own table agrees: nothing to say.
	if _, errs, _ := run(t, "", "--kallsyms", bootsDir+"run1-A/kallsyms.txt.gz", "stacks", "--from", bootsDir+"run1-A/proc-1-stack.txt"); errs != "" {
		t.Errorf("matching table: %q", errs)
	}
}

// TestStacksRawLog: run2-B's whole dmesg -r (gzip): 61 task: entries for
// 59 tasks (zcat | grep -c task:), sh (pid 780, D) three times: the hung
// task report, sysrq-w and sysrq-t.
func TestStacksRawLog(t *testing.T) {
	out, _, code := run(t, "", "stacks", "--from", bootsDir+"run2-B/dmesg-raw.txt.gz", "--top", "0")
	for _, s := range []string{
		"61 task stacks of 59 tasks from " + bootsDir + "run2-B/dmesg-raw.txt.gz, all states; 16 distinct stacks\n",
		"\n3 stacks of 1 task (4.9%)  state D:3  comm sh (x3)\n    __schedule\n    schedule\n    direct_entry.cold [lkdtm]\n",
	} {
		if !strings.Contains(out, s) || code != 0 {
			t.Errorf("code %d, no %q in\n%s", code, s, out)
		}
	}
}

func TestStacksBadInput(t *testing.T) {
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"stacks", "--from", "/nonexistent"}, 2, "ksym: open /nonexistent: no such file or directory (check the path; use - for standard input)\n"},
		{[]string{"stacks", "--state", "D!"}, 2, "ksym: stacks: --state \"D!\": give task state letters such as D,R (see ps(1) PROCESS STATE CODES)\n"},
		{[]string{"stacks", "--from", sysrqT, "--duration", "1s"}, 2, "ksym: stacks: --duration samples the live machine; it cannot be combined with --from\n"},
		{[]string{"--root", "/nonexistent", "stacks"}, 2, "ksym: machine root: stat /nonexistent: no such file or directory\n"},
		{[]string{"stacks", "extra"}, 2, "ksym: stacks: too many arguments: want no arguments (see 'ksym stacks --help')\n"},
		{[]string{"stacks", "--from", bootsDir + "run2-B/oops-02-lkdtm-BUG.txt"}, 1, "ksym: warning: " + bootsDir + "run2-B/oops-02-lkdtm-BUG.txt has no task stacks and no leaks: ksym stacks reads /proc/PID/stack captures, sysrq-t and sysrq-w dumps, hung task and kmemleak reports (it has other reports: 1 bug; 'ksym decode' reads them)\n"},
	}
	for _, tt := range tests {
		_, errs, code := run(t, "", tt.args...)
		if code != tt.code || errs != tt.err {
			t.Errorf("%v: code %d %q\nwant %d %q", tt.args, code, errs, tt.code, tt.err)
		}
	}
}

// TestStacksLive runs on this machine's /proc when its stacks are readable.
func TestStacksLive(t *testing.T) {
	if _, err := os.ReadFile("/proc/self/stack"); err != nil {
		t.Skipf("stacks not readable: %v", err)
	}
	out, errs, code := run(t, "", "stacks", "--folded")
	if code != 0 || !strings.Contains(out, "\n") {
		t.Fatalf("code %d %q %q", code, out, errs)
	}
	if n := strings.Count(errs, "\n"); n > 1 {
		t.Errorf("more than one warning: %q", errs)
	}
	// A task the kernel refuses even to root (here /proc/1 of the sandbox,
	// when it is so): said once, with the reason.
	if _, err := os.ReadFile("/proc/1/task/1/stack"); errors.Is(err, fs.ErrPermission) {
		if !strings.HasPrefix(errs, "ksym: warning: the stacks of ") || !strings.Contains(errs, "the kernel's ptrace access check refused them even to root") {
			t.Errorf("stderr %q", errs)
		}
	}
}

// TestStacksNotRoot runs ksym as nobody on this machine: the kernel shows
// stacks to root only, which ksym says once, with what to do.
func TestStacksNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to become nobody")
	}
	if _, err := os.ReadFile("/proc/self/stack"); err != nil {
		t.Skipf("stacks not readable even as root: %v", err)
	}
	bin := buildKsym(t)
	for dir := filepath.Dir(bin); dir != os.TempDir() && dir != "/"; dir = filepath.Dir(dir) { // t.TempDir's are 0700
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "stacks")
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, stdout %q stderr %q", err, out.String(), errb.String())
	}
	e := errb.String()
	if out.Len() != 0 || strings.Count(e, "\n") != 1 || !strings.HasPrefix(e, "ksym: no task stack could be read: open /proc/") ||
		!strings.HasSuffix(e, "/stack: permission denied: the kernel shows task stacks to root only: run as root (sudo)\n") {
		t.Errorf("stderr %q", e)
	}
}
