package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/klog"
)

// The reading side of ksym decode: inputs that fail, lines held until no
// report may still claim them, and the flush of a live input that falls
// silent.

// idleFlush is how long a live input (a pipe, a terminal, /dev/kmsg) may
// stay silent before what was read is printed: the lines so far, and the
// reports still open as far as they go.
const idleFlush = 200 * time.Millisecond

// inputError wraps the error of an input, as opposed to one of the output:
// the other inputs are still decoded.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }

// outputError wraps an error writing the output, which ends the run.
type outputError struct{ err error }

func (e *outputError) Error() string { return e.err.Error() }

// reportInputError reports an input that cannot be read; the others are still
// decoded, and the exit status is 2.
func (run *decodeRun) reportInputError(err error) {
	run.out.Flush()
	run.failed = true
	fmt.Fprintf(run.a.stderr, "ksym: %s\n", clipEcho(fileAdvice(err).Error()))
}

// flush writes the output out.
func (run *decodeRun) flush() error {
	if err := run.out.Flush(); err != nil {
		return &outputError{err}
	}
	return nil
}

// annotated reports whether the log is printed (not --summary, --json or
// --group).
func (run *decodeRun) annotated() bool { return !run.o.summary && !run.a.json && !run.o.group }

// line takes a line read, before the Splitter does: it prints the lines no
// report still open may hold, and holds this one.
func (run *decodeRun) line(l klog.Line) error {
	if l.Cut && !run.cutSaid {
		run.cutSaid = true
		fmt.Fprintf(run.a.stderr, "ksym: warning: %s:%d: a line longer than %d KiB: only its start is read, the rest is dropped (a kernel log line is at most about 1 KiB: is this a kernel log?)\n",
			run.file, l.Num, klog.MaxLineLength>>10)
	}
	if !run.annotated() {
		return nil
	}
	run.printUpTo(l.Num - 1)
	if spill := run.held.add(rawLine{l.Num, l.Raw}); spill > 0 {
		run.print.print(run.held.take(spill), spill)
	}
	return nil
}

// printUpTo prints the lines held up to num that no report still open may
// hold, with the summaries of the reports that ended there.
func (run *decodeRun) printUpTo(num int) {
	if oldest := run.split.Oldest(); oldest > 0 {
		num = min(num, oldest-1)
	}
	if lines := run.held.take(num); len(lines) > 0 || len(run.print.pending) > 0 {
		run.print.print(lines, num)
	}
}

// idle prints what was read of a live input that fell silent: the lines
// held, with the annotations of the reports still open as far as they go
// (their summaries come when they end), and flushes the output.
func (run *decodeRun) idle() error {
	if run.annotated() {
		for _, p := range run.split.Partial() {
			run.print.annotate(p, run.dec.Preview(p), false)
		}
		last := run.held.last()
		run.print.print(run.held.take(last), last)
	}
	return run.flush()
}

// rawLine is one line of input as read, with its number.
type rawLine struct {
	num  int
	text string
}

// Bounds of the lines held while reports are open: beyond them the oldest
// line is printed as it is. They are above what one report may hold
// (klog.DefaultMaxLines, klog.DefaultMaxBytes), so that they matter only
// when other tasks' lines interleave with a long report.
var (
	holdLines = 2 * klog.DefaultMaxLines
	holdBytes = 2 * klog.DefaultMaxBytes
)

// heldLines are the lines read and not printed yet, in order.
type heldLines struct {
	lines []rawLine
	bytes int
}

// add holds l, and returns the number of the last line to print now to
// stay within holdLines and holdBytes, 0 when none.
func (h *heldLines) add(l rawLine) int {
	h.lines = append(h.lines, l)
	h.bytes += len(l.text)
	spill, bytes := 0, h.bytes
	for i := 0; i < len(h.lines)-1 && (len(h.lines)-i > holdLines || bytes > holdBytes); i++ {
		spill, bytes = h.lines[i].num, bytes-len(h.lines[i].text)
	}
	return spill
}

// take removes and returns the lines held up to num (every one when num is
// -1).
func (h *heldLines) take(num int) []rawLine {
	n := len(h.lines)
	if num >= 0 {
		n = 0
		for n < len(h.lines) && h.lines[n].num <= num {
			n++
		}
	}
	out := h.lines[:n:n]
	for _, l := range out {
		h.bytes -= len(l.text)
	}
	h.lines = h.lines[n:]
	if len(h.lines) == 0 {
		h.lines = nil
	}
	return out
}

// last is the number of the last line held, 0 when none.
func (h *heldLines) last() int {
	if len(h.lines) == 0 {
		return 0
	}
	return h.lines[len(h.lines)-1].num
}

// inputFiles expands the arguments of decode: a directory stands for every
// file under it, in lexical order, except hidden ones (a name starting
// with "."); the other arguments are kept as given. It returns the errors
// of directories it could not read.
func inputFiles(args []string) ([]string, []error) {
	var files []string
	var errs []error
	for _, arg := range args {
		st, err := os.Stat(arg)
		if arg == input.Stdin || err != nil || !st.IsDir() {
			files = append(files, arg)
			continue
		}
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				errs = append(errs, err)
				return nil
			case path != arg && strings.HasPrefix(d.Name(), "."):
				if d.IsDir() {
					return filepath.SkipDir
				}
			case !d.IsDir():
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return files, errs
}
