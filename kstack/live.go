package kstack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ksym-dev/ksym/machine"
)

// SampleOptions say how to sample a live machine's tasks.
type SampleOptions struct {
	// Rounds is how many times every task is read; 1 when zero.
	Rounds int
	// Interval is the time between the starts of two rounds. A round that
	// takes longer delays the next one; no round is skipped.
	Interval time.Duration
	// States are the task state letters to keep ("DR"); empty keeps all.
	States string
	// SkipPID is a process to leave out, such as the sampler itself (whose
	// reading thread would always be seen reading a stack); 0 for none.
	SkipPID int
}

// Sampling is the result of Sample.
type Sampling struct {
	// Stacks are the stacks read, one per task and round.
	Stacks []Stack
	// Rounds is the number of rounds done (fewer than asked when the
	// context was cancelled).
	Rounds int
	// Elapsed is the time from the first round's start to the last one's
	// end.
	Elapsed time.Duration
	// Filtered counts the task reads skipped for their state.
	Filtered int
	// Denied counts the tasks whose stack could not be read for lack of
	// permission (each task once, whatever the rounds); DeniedErr is the
	// first such error.
	Denied    int
	DeniedErr error

	denied map[int]bool // the tasks counted in Denied
}

// Sample reads the kernel stack of every task of the machine under fsys,
// opts.Rounds times: /proc/PID/task/TID/stat for the task's name and state,
// then /proc/PID/task/TID/stack. Tasks that exit while being read are
// skipped. A stack that may not be read (the kernel shows them to root
// only, and refuses some tasks even then) is counted in Denied. It fails
// when /proc cannot be listed, or ctx is cancelled before the first round.
func Sample(ctx context.Context, fsys machine.FS, opts SampleOptions) (*Sampling, error) {
	rounds := max(opts.Rounds, 1)
	res := &Sampling{}
	start := time.Now()
	for r := 0; r < rounds; r++ {
		if r > 0 {
			if !sleepUntil(ctx, start.Add(time.Duration(r)*opts.Interval)) {
				break
			}
		} else if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := sampleRound(fsys, opts, res); err != nil {
			return nil, err
		}
		res.Rounds++
		res.Elapsed = time.Since(start)
	}
	return res, nil
}

// sleepUntil waits until t, reporting false when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// sampleRound reads every task once.
func sampleRound(fsys machine.FS, opts SampleOptions, res *Sampling) error {
	procDir := fsys.Path("/proc")
	pids, err := numericDirs(procDir)
	if err != nil {
		return fmt.Errorf("listing tasks: %w", err)
	}
	for _, pid := range pids {
		if pid == opts.SkipPID {
			continue
		}
		tids, err := numericDirs(filepath.Join(procDir, strconv.Itoa(pid), "task"))
		if err != nil {
			continue // the process exited, or is not readable at all
		}
		for _, tid := range tids {
			dir := filepath.Join(procDir, strconv.Itoa(pid), "task", strconv.Itoa(tid))
			s, err := readTask(dir, pid, tid, opts.States)
			switch {
			case errors.Is(err, errFiltered):
				res.Filtered++
			case gone(err):
			case errors.Is(err, fs.ErrPermission):
				res.deny(tid, err)
			case err != nil:
				return err
			default:
				res.Stacks = append(res.Stacks, s)
			}
		}
	}
	return nil
}

// deny counts a task whose stack may not be read.
func (res *Sampling) deny(tid int, err error) {
	if res.denied == nil {
		res.denied = map[int]bool{}
	}
	if !res.denied[tid] {
		res.denied[tid] = true
		res.Denied++
	}
	if res.DeniedErr == nil {
		res.DeniedErr = err
	}
}

// errFiltered says a task was left out for its state.
var errFiltered = errors.New("state filtered out")

// gone reports an error of a task that exited while being read.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// readTask reads one task's stat and stack.
func readTask(dir string, pid, tid int, states string) (Stack, error) {
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return Stack{}, err
	}
	comm, state, err := ParseStat(string(stat))
	if err != nil {
		return Stack{}, fmt.Errorf("%s: %w", filepath.Join(dir, "stat"), err)
	}
	if states != "" && !strings.Contains(states, state) {
		return Stack{}, errFiltered
	}
	path := filepath.Join(dir, "stack")
	data, err := os.ReadFile(path)
	if err != nil {
		return Stack{}, err
	}
	s := Stack{Kind: KindTask, PID: pid, TID: tid, Comm: comm, State: state, Frames: []Frame{}, Source: path}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f, end, ok := ParseFrameLine(sc.Text())
		if !ok {
			return Stack{}, fmt.Errorf("%s: not a stack line: %q", path, sc.Text())
		}
		if !end {
			s.Frames = append(s.Frames, f)
		}
	}
	return s, nil
}

// ParseStat reads the task name and state letter of a /proc/PID/stat line:
// "1234 (comm) S 1 ...". The name may hold spaces and parentheses: it ends
// at the last ')'.
func ParseStat(line string) (comm, state string, err error) {
	open := strings.IndexByte(line, '(')
	end := strings.LastIndexByte(line, ')')
	if open < 0 || end < open || end+3 > len(line) || line[end+1] != ' ' {
		return "", "", fmt.Errorf("not a stat line: %q", clip(line))
	}
	state = line[end+2 : end+3]
	if state < "A" || state > "z" {
		return "", "", fmt.Errorf("no state letter in stat line: %q", clip(line))
	}
	return line[open+1 : end], state, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// numericDirs lists the decimal names in dir, in numeric order.
func numericDirs(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		if n, ok := atoi(e.Name()); ok {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}
