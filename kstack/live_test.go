package kstack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
)

// liveTree is a copy of seven tasks of this machine (testdata/README.md).
const liveTree = "testdata/live-6.18.44"

func sampleTree(t *testing.T, root string, opts SampleOptions) *Sampling {
	t.Helper()
	fsys, err := machine.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Sample(context.Background(), fsys, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The groups of the tree, by hand from its files: the two threads of the
// python process sleep in the same functions; bash was running in user
// space (an empty stack).
var liveGroups = []string{
	"2 S worker 1,x) (y z: hrtimer_nanosleep;common_nsleep_timens;__x64_sys_clock_nanosleep;do_syscall_64;entry_SYSCALL_64_after_hwframe",
	"1 R bash: ",
	"1 S kthreadd: kthreadd;ret_from_fork;ret_from_fork_asm",
	"1 I rcu_preempt: rcu_gp_fqs_loop;rcu_gp_kthread;kthread;ret_from_fork;ret_from_fork_asm",
	"1 I kworker/R-rcu_gp: rescuer_thread;kthread;ret_from_fork;ret_from_fork_asm",
	"1 S ksoftirqd/0: smpboot_thread_fn;kthread;ret_from_fork;ret_from_fork_asm",
}

// describe formats a group as in liveGroups, counts divided by rounds.
func describe(g Group, rounds int) string {
	var states, comms []string
	for _, c := range Ranked(g.States) {
		states = append(states, c.Name)
	}
	for _, c := range Ranked(g.Comms) {
		comms = append(comms, c.Name)
	}
	return fmt.Sprintf("%d %s %s: %s", g.Count/rounds, strings.Join(states, ","), strings.Join(comms, ","), strings.Join(g.Funcs, ";"))
}

func TestSampleTree(t *testing.T) {
	for _, rounds := range []int{1, 3} {
		res := sampleTree(t, liveTree, SampleOptions{Rounds: rounds, SkipPID: 1})
		var got []string
		for _, g := range Aggregate(res.Stacks) {
			got = append(got, describe(g, rounds))
			if g.Count != rounds*g.Tasks {
				t.Errorf("%v: %d stacks of %d tasks in %d rounds", g.Funcs, g.Count, g.Tasks, rounds)
			}
		}
		if !slices.Equal(got, liveGroups) || res.Rounds != rounds || res.Denied != 0 || res.Filtered != 0 {
			t.Errorf("%d rounds (%d done, %d denied):\n got %q\nwant %q", rounds, res.Rounds, res.Denied, got, liveGroups)
		}
	}
	// The stat line's name holds spaces and parentheses.
	res := sampleTree(t, liveTree, SampleOptions{})
	var comms []string
	for _, s := range res.Stacks {
		comms = append(comms, fmt.Sprintf("%d/%d %s %s", s.PID, s.TID, s.Comm, s.State))
	}
	want := []string{"2/2 kthreadd S", "4/4 kworker/R-rcu_gp I", "14/14 ksoftirqd/0 S", "15/15 rcu_preempt I",
		"22237/22237 x) (y z S", "22237/22309 worker 1 S", "22939/22939 bash R"}
	if !slices.Equal(comms, want) {
		t.Errorf("tasks\n got %q\nwant %q", comms, want)
	}
}

func TestSampleStates(t *testing.T) {
	for _, tt := range []struct {
		states   string
		kept     int
		filtered int
	}{{"", 7, 0}, {"D", 0, 7}, {"DR", 1, 6}, {"SI", 6, 1}} {
		res := sampleTree(t, liveTree, SampleOptions{States: tt.states})
		if len(res.Stacks) != tt.kept || res.Filtered != tt.filtered {
			t.Errorf("states %q: kept %d filtered %d, want %d %d", tt.states, len(res.Stacks), res.Filtered, tt.kept, tt.filtered)
		}
	}
}

// TestSampleGone: a task whose stack file is gone (it exited between the
// two reads) and a process without task directory are skipped silently.
// Synthetic: the race cannot be caught in a copy of a real tree.
func TestSampleGone(t *testing.T) {
	res := sampleTree(t, "testdata/gone", SampleOptions{})
	if len(res.Stacks) != 0 || res.Denied != 0 {
		t.Errorf("got %d stacks, %d denied", len(res.Stacks), res.Denied)
	}
}

func TestSampleCancelled(t *testing.T) {
	fsys, _ := machine.NewFS(liveTree)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Sample(ctx, fsys, SampleOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if _, err := Sample(context.Background(), machine.FS{}, SampleOptions{}); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Logf("live: %v", err)
	}
}

func TestParseStat(t *testing.T) {
	for _, tt := range []struct {
		line, comm, state string
		ok                bool
	}{
		{"22237 (x) (y z) S 22234 22232", "x) (y z", "S", true},
		{"2 (kthreadd) S 0 0", "kthreadd", "S", true},
		{"1 () R 0", "", "R", true},
		{"1 (a) ", "", "", false},
		{"1 a S", "", "", false},
		{"1 (a)S", "", "", false},
		{"", "", "", false},
	} {
		comm, state, err := ParseStat(tt.line)
		if (err == nil) != tt.ok || comm != tt.comm || state != tt.state {
			t.Errorf("ParseStat(%q) = %q, %q, %v", tt.line, comm, state, err)
		}
	}
}

// TestLiveMachine reads this machine's /proc as it is, when the stacks are
// readable (root), and checks every frame the kernel printed against the
// live table: the name is there with the printed size. It is not the only
// source of truth: the fixture tree above is.
func TestLiveMachine(t *testing.T) {
	if _, err := os.ReadFile("/proc/self/stack"); err != nil {
		t.Skipf("stacks not readable here: %v", err)
	}
	res := sampleTree(t, "/", SampleOptions{})
	if len(res.Stacks) == 0 {
		t.Fatal("no stacks")
	}
	self := false
	for _, s := range res.Stacks {
		self = self || s.PID == os.Getpid()
	}
	if !self {
		t.Errorf("this test's own process is not among the %d stacks", len(res.Stacks))
	}
	for _, s := range sampleTree(t, "/", SampleOptions{SkipPID: os.Getpid()}).Stacks {
		if s.PID == os.Getpid() {
			t.Errorf("SkipPID: %+v", s)
		}
	}
	if res.Denied > 0 {
		t.Logf("%d stacks denied: %v", res.Denied, res.DeniedErr)
		if !errors.Is(res.DeniedErr, fs.ErrPermission) {
			t.Errorf("denied error %v is not a permission error", res.DeniedErr)
		}
	}
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	tab, err := kallsyms.Parse(f, kallsyms.Options{Source: "/proc/kallsyms"})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Hidden() {
		t.Skip("kallsyms addresses hidden")
	}
	r := Resolve(res.Stacks, tab)
	if r.Mismatch != "" || r.Checked == 0 {
		t.Errorf("the live table disagrees with the live stacks: %+v", r)
	}
	t.Logf("%d stacks, %d frames checked against /proc/kallsyms", len(res.Stacks), r.Checked)
}
