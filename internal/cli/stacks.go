package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/kstack"
	"github.com/ksym-dev/ksym/machine"
	"github.com/spf13/cobra"
)

const stacksLong = `Show where the tasks of a machine are in the kernel: read every task's
kernel stack (/proc/PID/task/TID/stack, with its name and state from stat),
group identical stacks and rank them, most frequent first.

Live (the default; root only, the kernel shows stacks to nobody else):
  one sample of every task but ksym itself, all states, unless --state
  says which;
  --duration D --interval I samples repeatedly (for example 5s at 50ms,
  20 Hz) and keeps the tasks in state D or R unless --state says otherwise:
  those that load the machine (the load average counts them).
From a file (--from FILE, - for standard input, compressed or not):
  /proc/PID/stack captures (cat, grep -H or tail -n +1 of several), sysrq-t
  and sysrq-w dumps and hung task reports in kernel logs, and kmemleak
  reports (cat /sys/kernel/debug/kmemleak, or a log): leaks are ranked by
  bytes, to find the allocation stack that leaks.

Stacks are identical when their functions are: offsets are dropped, so that
tasks waiting in the same functions count together. "? " frames of logs are
left out (stale return addresses). Frames the kernel printed by name are
shown as printed. Frames printed as a bare address are named only from a
table that agrees with every frame printed by name (--kallsyms, or the live
table for a live machine): a table of another kernel is refused, with a
warning, and the addresses stay as printed.

Output: a table for people (--top groups); --folded prints
"comm;root;...;leaf count" lines (flamegraph.pl, speedscope, inferno);
--pprof FILE writes a pprof profile (go tool pprof -http=: FILE shows a flame
graph, with comm and state labels); --svg FILE writes a flame graph that
opens in any browser, merged by functions alone (the task names are in
--folded and the pprof labels); --json prints the groups as one JSON object.

Exit status: 0 stacks found, 1 none found, 2 usage or input error.`

const stacksExample = `  sudo ksym stacks
  sudo ksym stacks --duration 5s --interval 50ms --svg stuck.svg
  sudo ksym stacks --state D --folded | flamegraph.pl > d.svg
  ksym stacks --from sysrq-t.txt --pprof sysrq.pb.gz
  ksym stacks --from /sys/kernel/debug/kmemleak
  ksym --kallsyms kallsyms.txt.gz stacks --from old-kernel-stacks.txt`

// stacksOpts are the flags of ksym stacks.
type stacksOpts struct {
	from     string
	duration time.Duration
	interval time.Duration
	states   string
	top      int
	folded   bool
	pprof    string
	svg      string
	leaks    bool
}

func (a *app) newStacksCmd() *cobra.Command {
	var o stacksOpts
	c := &cobra.Command{
		Use:     "stacks",
		Short:   "Where the tasks are stuck in the kernel: grouped kernel stacks, as a table, folded stacks, pprof or a flame graph",
		Long:    stacksLong,
		Example: stacksExample,
		Args:    argsRange(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runStacks(c, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.from, "from", "", "read stacks from `FILE` (- for standard input) instead of the live machine")
	f.DurationVar(&o.duration, "duration", 0, "sample the live machine repeatedly for `D` (e.g. 5s)")
	f.DurationVar(&o.interval, "interval", 50*time.Millisecond, "time `I` between two samples with --duration")
	f.StringVar(&o.states, "state", "", "keep tasks in these `STATES` (e.g. D,R); default all for one sample, D,R with --duration")
	f.IntVar(&o.top, "top", 20, "show the `N` most frequent stacks in the table and JSON (0: all)")
	f.BoolVar(&o.folded, "folded", false, "print folded stacks (comm;root;...;leaf count) instead of the table")
	f.StringVar(&o.pprof, "pprof", "", "also write a pprof profile to `FILE`")
	f.StringVar(&o.svg, "svg", "", "also write a flame graph to `FILE` (SVG)")
	f.BoolVar(&o.leaks, "leaks", false, "rank the kmemleak objects of --from FILE even when it also has task stacks")
	return c
}

// stackSet is what ksym stacks shows: stacks of one kind, where they came
// from and what was said about them.
type stackSet struct {
	kind     kstack.Kind
	source   string // "live" or the file
	stacks   []kstack.Stack
	rounds   int // samples of a live machine, 0 for a file
	elapsed  time.Duration
	states   string // the state filter applied, "" for all
	warnings []string
}

func (a *app) runStacks(c *cobra.Command, o stacksOpts) error {
	states, err := parseStates(o.states)
	if err != nil {
		return err
	}
	if o.top < 0 || o.interval <= 0 || o.duration < 0 {
		return usageErrorf("stacks: --top and --duration cannot be negative, and --interval must be more than 0")
	}
	var set *stackSet
	if o.from != "" {
		if o.duration > 0 {
			return usageErrorf("stacks: --duration samples the live machine; it cannot be combined with --from")
		}
		set, err = a.stacksFromFile(o, states)
	} else {
		if o.leaks {
			return usageErrorf("stacks: --leaks ranks the kmemleak objects of a file: give it with --from")
		}
		set, err = a.stacksLive(c.Context(), o, states)
	}
	if err != nil {
		return err
	}
	if err := a.resolveStacks(set); err != nil {
		return err
	}
	for _, w := range set.warnings {
		fmt.Fprintf(a.stderr, "ksym: warning: %s\n", w)
	}
	return a.printStacks(set, o)
}

// parseStates turns "D,R" or "DR" into "DR".
func parseStates(s string) (string, error) {
	var out strings.Builder
	for _, r := range s {
		switch {
		case r == ',' || r == ' ':
		case r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z':
			out.WriteRune(r)
		default:
			return "", usageErrorf("stacks: --state %q: give task state letters such as D,R (see ps(1) PROCESS STATE CODES)", s)
		}
	}
	return out.String(), nil
}

// stacksFromFile reads --from.
func (a *app) stacksFromFile(o stacksOpts, states string) (*stackSet, error) {
	r, name := a.stdin, "standard input"
	if o.from != input.Stdin {
		f, err := input.Open(o.from)
		if err != nil {
			return nil, &exitError{code: ExitUsage, err: fileAdvice(err)}
		}
		defer f.Close()
		r, name = f, o.from
	} else if a.kallsymsPath == input.Stdin {
		return nil, usageErrorf("stacks: --from - and --kallsyms - cannot both read standard input")
	}
	file, err := kstack.ReadFile(r, name)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: fmt.Errorf("%s: %w", name, err)}
	}
	set := &stackSet{source: name, states: states}
	var tasks, leaks []kstack.Stack
	for _, s := range file.Stacks {
		if s.Kind == kstack.KindLeak {
			leaks = append(leaks, s)
		} else if states == "" || s.State != "" && strings.Contains(states, s.State) {
			tasks = append(tasks, s)
		}
	}
	set.kind, set.stacks = kstack.KindTask, tasks
	if o.leaks || len(tasks) == 0 && len(leaks) > 0 {
		set.kind, set.stacks = kstack.KindLeak, leaks
	} else if len(leaks) > 0 {
		set.warnings = append(set.warnings, fmt.Sprintf("%s also has %d kmemleak objects: --leaks ranks them", name, len(leaks)))
	}
	if file.Truncated > 0 {
		set.warnings = append(set.warnings, fmt.Sprintf("%s: %s longer than %d lines cut there: the stacks printed after the cut are not counted", name, plural(file.Truncated, "report"), klog.DefaultMaxLines))
	}
	if len(file.Stacks) == 0 {
		set.warnings = append(set.warnings, fmt.Sprintf("%s has no task stacks and no leaks: ksym stacks reads /proc/PID/stack captures, sysrq-t and sysrq-w dumps, hung task and kmemleak reports%s", name, ignored(file.Ignored)))
	}
	return set, nil
}

// ignored says which reports a file had instead, "" when none.
func ignored(kinds map[string]int) string {
	if len(kinds) == 0 {
		return ""
	}
	var parts []string
	for _, c := range kstack.Ranked(kinds) {
		name := c.Name
		if name == "" {
			name = "unknown"
		}
		parts = append(parts, fmt.Sprintf("%d %s", c.Count, name))
	}
	return " (it has other reports: " + strings.Join(parts, ", ") + "; 'ksym decode' reads them)"
}

// stacksLive samples the machine under --root.
func (a *app) stacksLive(ctx context.Context, o stacksOpts, states string) (*stackSet, error) {
	fsys, err := machine.NewFS(a.root)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	rounds := 1
	if o.duration > 0 {
		rounds = max(int(o.duration/o.interval), 1)
		if o.states == "" {
			states = "DR"
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	opts := kstack.SampleOptions{Rounds: rounds, Interval: o.interval, States: states}
	if fsys.Root() == "/" {
		opts.SkipPID = os.Getpid() // ksym itself, always seen reading a stack
	}
	res, err := kstack.Sample(ctx, fsys, opts)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: machineAdvice(err)}
	}
	set := &stackSet{kind: kstack.KindTask, source: "live", stacks: res.Stacks, rounds: res.Rounds, elapsed: res.Elapsed, states: states}
	if res.Denied > 0 {
		msg := deniedAdvice(res.DeniedErr)
		if len(res.Stacks) == 0 { // every stack it tried to read was refused
			return nil, &exitError{code: ExitUsage, err: fmt.Errorf("no task stack could be read: %s", msg)}
		}
		set.warnings = append(set.warnings, fmt.Sprintf("the stacks of %s could not be read and are left out: %s", plural(res.Denied, "task"), msg))
	}
	return set, nil
}

// deniedAdvice says why a stack could not be read and what to do.
func deniedAdvice(err error) string {
	if errors.Is(err, fs.ErrPermission) && os.Geteuid() != 0 {
		return fmt.Sprintf("%v: the kernel shows task stacks to root only: run as root (sudo)", err)
	}
	return fmt.Sprintf("%v: the kernel's ptrace access check refused them even to root (a task of another user namespace, a task that is not dumpable, or a security module such as Yama or SELinux)", err)
}
