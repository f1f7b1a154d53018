package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/machine"
	"github.com/spf13/cobra"
)

const decodeLong = `Decode kernel crash reports (oops, BUG, WARNING, panic, soft lockup, hung
task, sysrq dumps...) found in kernel logs: dmesg, dmesg -r/-T, journalctl -k,
syslog, /dev/kmsg records, serial console captures.

Every frame the kernel printed as func+0xoff/0xsize [mod] is looked up by
name and checked against the table: the size the kernel printed must be the
table's, or the table is from another kernel (said once, loudly). Raw
addresses ([<ffffffff...>], RIP: 0010:0x...) are resolved exactly as the
kernel prints them (%pB for return addresses, %pS for the faulting PC);
register values that point into the kernel are annotated. Hashed %p values,
user space addresses and 0 are never resolved.

Symbol source, one of:
  --kallsyms FILE     a saved /proc/kallsyms of the crashed boot (exact)
  --system-map FILE   the kernel's System.map (link-time addresses): the
                      KASLR slide is found from the log ("Kernel Offset:"
                      line, frames with address and name, or register
                      values) and printed with how it was found
  (neither)           the running kernel's table; the log's release must be
                      the running one's

Output: the report lines with the decoded facts appended, then a summary of
each report (kind, title, guilty frame, task, taint in words, what is
uncertain). --summary prints one tab-separated line per report; --json one
JSON object per report (JSON Lines, schema in docs/decode.md). Reports are
printed as soon as they end, so ksym decode works as a filter.

Exit status: 0 decoded, 1 no report found or the table does not match the
log, 2 usage or input error.`

const decodeExample = `  ksym decode --kallsyms kallsyms.txt.gz oops.txt
  dmesg | ksym decode
  journalctl -k -b -1 | ksym decode --system-map /boot/System.map-$(uname -r)
  ksym decode --summary --kallsyms kallsyms.txt.gz logs/*.txt
  ksym decode --json --kallsyms kallsyms.txt.gz oops.txt | jq .summary.title`

// decodeOpts are the flags of ksym decode.
type decodeOpts struct {
	systemMap string
	summary   bool
}

func (a *app) newDecodeCmd() *cobra.Command {
	var o decodeOpts
	c := &cobra.Command{
		Use:     "decode [FILE...]",
		Short:   "Decode kernel crash reports in a log: exact frames, KASLR slide, guilty frame, summary",
		Long:    decodeLong,
		Example: decodeExample,
		RunE: func(c *cobra.Command, args []string) error {
			return a.runDecode(o, args)
		},
	}
	c.Flags().StringVar(&o.systemMap, "system-map", "", "read link-time addresses from the System.map `FILE` and find the KASLR slide from the log")
	c.Flags().BoolVar(&o.summary, "summary", false, "print one line per report")
	return c
}

// decodeRun is the state of one ksym decode invocation.
type decodeRun struct {
	a        *app
	o        decodeOpts
	dec      *decode.Decoder
	out      *bufio.Writer
	file     string // the input being read
	multi    bool   // more than one input: prefix summary lines with the file
	release  string // the live kernel's release, checked against the log
	reports  int
	mismatch bool
}

func (a *app) runDecode(o decodeOpts, args []string) error {
	if len(args) == 0 {
		args = []string{input.Stdin}
	}
	if err := a.checkDecodeArgs(o, args); err != nil {
		return err
	}
	t, opts, release, err := a.decodeTable(o)
	if err != nil {
		return err
	}
	run := &decodeRun{a: a, o: o, dec: decode.New(t, opts), out: newBuffered(a.stdout), multi: len(args) > 1, release: release}
	for _, path := range args {
		if err := run.file1(path); err != nil {
			run.out.Flush()
			return err
		}
	}
	if err := run.out.Flush(); err != nil {
		return err
	}
	return run.status()
}

// checkDecodeArgs rejects conflicting symbol sources and a standard input
// asked for twice.
func (a *app) checkDecodeArgs(o decodeOpts, args []string) error {
	if o.systemMap != "" && a.kallsymsPath != "" {
		return usageErrorf("decode: --kallsyms and --system-map are exclusive: give the one you have")
	}
	stdin := 0
	for _, p := range args {
		if p == input.Stdin {
			stdin++
		}
	}
	if a.kallsymsPath == input.Stdin || o.systemMap == input.Stdin {
		stdin++
	}
	if stdin > 1 {
		return usageErrorf("decode: standard input (-) can be read only once")
	}
	return nil
}

// decodeTable loads the symbol source: the System.map, --kallsyms, or the
// live table (whose release is returned to be checked against the log).
func (a *app) decodeTable(o decodeOpts) (*kallsyms.Table, decode.Options, string, error) {
	if o.systemMap != "" {
		t, err := a.loadSystemMap(o.systemMap)
		return t, decode.Options{SystemMap: true}, "", err
	}
	t, err := a.tableWithAddresses()
	if err != nil || a.kallsymsPath != "" {
		return t, decode.Options{}, "", err
	}
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return t, decode.Options{}, "", nil
	}
	release, _ := fs.Release()
	return t, decode.Options{}, release, nil
}

// loadSystemMap reads and parses a System.map (compressed or not).
func (a *app) loadSystemMap(path string) (*kallsyms.Table, error) {
	var data []byte
	var err error
	if path == input.Stdin {
		data, err = readAllStdin(a.stdin)
	} else {
		data, err = input.ReadAll(path)
	}
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	t, err := kallsyms.ParseBytes(data, kallsyms.Options{Source: path})
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	return t, nil
}

// readAllStdin reads and decompresses standard input.
func readAllStdin(stdin io.Reader) ([]byte, error) {
	r, err := input.NewReader(stdin)
	if err != nil {
		return nil, fmt.Errorf("standard input: %w", err)
	}
	defer r.Close()
	return io.ReadAll(r)
}

// status is the exit status after every input was decoded.
func (run *decodeRun) status() error {
	switch {
	case run.reports == 0:
		return &exitError{code: ExitNotFound, err: fmt.Errorf("decode: no kernel report found")}
	case run.mismatch:
		return errNotFound
	}
	return nil
}

// file1 decodes one input, printing each report as it ends.
func (run *decodeRun) file1(path string) error {
	r, name, err := run.open(path)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	defer r.Close()
	run.file = name
	tee := &lineTee{r: r}
	if !run.o.summary && !run.a.json {
		tee.spill = run.passThrough
	}
	err = klog.Scan(tee, func(rep *klog.Report) error {
		return run.report(rep, tee)
	})
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("%s: %w", name, err)}
	}
	for _, l := range tee.upTo(-1) {
		if tee.spill != nil {
			tee.spill(l)
		}
	}
	return nil
}

// passThrough prints a line that is in no report.
func (run *decodeRun) passThrough(l rawLine) {
	run.out.WriteString(l.text)
	run.out.WriteByte('\n')
}

// open opens an input, "-" being this invocation's standard input.
func (run *decodeRun) open(path string) (io.ReadCloser, string, error) {
	if path != input.Stdin {
		r, err := input.Open(path)
		return r, path, err
	}
	r, err := input.NewReader(run.a.stdin)
	if err != nil {
		return nil, "standard input", fmt.Errorf("standard input: %w", err)
	}
	return r, "standard input", nil
}

// report decodes and prints one report.
func (run *decodeRun) report(rep *klog.Report, tee *lineTee) error {
	res := run.dec.Decode(rep)
	run.reports++
	run.mismatch = run.mismatch || res.Mismatch
	for _, w := range res.Warnings {
		fmt.Fprintf(run.a.stderr, "ksym: warning: %s: %s\n", run.file, w)
	}
	if w := run.releaseWarning(rep); w != "" {
		fmt.Fprintf(run.a.stderr, "ksym: warning: %s: %s\n", run.file, w)
	}
	last := 0
	if n := len(rep.Lines); n > 0 {
		last = rep.Lines[n-1].Num
	}
	lines := tee.upTo(last)
	switch {
	case run.a.json:
		return writeJSONLine(run.out, decodeJSON{File: run.file, FirstLine: firstNum(rep), LastLine: last, Kind: res.Summary.Kind, Title: res.Summary.Title, Result: res})
	case run.o.summary:
		run.summaryLine(rep, res)
	default:
		writeAnnotated(run.out, lines, annotations(rep, res))
		writeSummary(run.out, res)
	}
	return run.out.Flush()
}

// releaseWarning checks the log's release against the live kernel's, once.
func (run *decodeRun) releaseWarning(rep *klog.Report) string {
	got := rep.Header.Release
	if run.release == "" || got == "" || got == run.release {
		return ""
	}
	live := run.release
	run.release = "" // say it once
	run.mismatch = true
	return fmt.Sprintf("the log is from kernel %s, the running kernel is %s: give the crashed kernel's table with --kallsyms or --system-map", got, live)
}

// firstNum is the line number of a report's first line.
func firstNum(rep *klog.Report) int {
	if len(rep.Lines) == 0 {
		return 0
	}
	return rep.Lines[0].Num
}

// decodeJSON is one report in --json output (see docs/decode.md).
type decodeJSON struct {
	File      string `json:"file"`
	FirstLine int    `json:"first_line"`
	LastLine  int    `json:"last_line"`
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	*decode.Result
}

// summaryLine prints the --summary line of a report.
func (run *decodeRun) summaryLine(rep *klog.Report, res *decode.Result) {
	if run.multi {
		fmt.Fprintf(run.out, "%s:%d\t", run.file, firstNum(rep))
	}
	run.out.WriteString(res.Summary.Line())
	run.out.WriteByte('\n')
}

// rawLine is one line of input as read, with its number.
type rawLine struct {
	num  int
	text string
}

// teeLimit is the number of unprinted lines lineTee keeps. A line further
// back than a report's maximum length (klog.DefaultMaxLines) plus what
// klog.Scan may have read ahead (64 KiB, so at most 64 Ki lines) cannot be
// part of a report still open: it is printed as it is (or dropped, for
// --json and --summary), which bounds memory on logs without reports.
var teeLimit = klog.DefaultMaxLines + 64<<10

// lineTee passes reads through and keeps the lines read but not yet
// printed, so that the report lines can be printed with their
// annotations and the lines between reports as they are.
type lineTee struct {
	r       io.Reader
	pending []byte // bytes read and not yet handed out
	lines   int    // complete lines in pending
	next    int    // number of the first line in pending, minus 1
	spill   func(rawLine)
}

func (t *lineTee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.pending = append(t.pending, p[:n]...)
	t.lines += bytes.Count(p[:n], []byte{'\n'})
	for t.lines > teeLimit {
		l, _ := t.pop()
		if t.spill != nil {
			t.spill(l)
		}
	}
	return n, err
}

// pop removes the first complete line of pending.
func (t *lineTee) pop() (rawLine, bool) {
	i := bytes.IndexByte(t.pending, '\n')
	if i < 0 {
		return rawLine{}, false
	}
	t.next++
	t.lines--
	l := rawLine{t.next, string(t.pending[:i])}
	t.pending = t.pending[i+1:]
	return l, true
}

// upTo returns the pending lines numbered up to last (every complete or
// final line when last is -1) and forgets them.
func (t *lineTee) upTo(last int) []rawLine {
	var out []rawLine
	for last < 0 || t.next < last {
		l, ok := t.pop()
		if !ok {
			if last < 0 && len(t.pending) > 0 {
				t.next++
				out = append(out, rawLine{t.next, string(t.pending)})
				t.pending = t.pending[:0]
			}
			break
		}
		out = append(out, l)
	}
	return out
}

// annotations collects the decoded facts by input line number.
func annotations(rep *klog.Report, res *decode.Result) map[int][]string {
	out := map[int][]string{}
	for i := range res.Frames {
		f := &res.Frames[i]
		if s := frameNote(f); s != "" && f.Line < len(rep.Lines) {
			num := rep.Lines[f.Line].Num
			out[num] = append(out[num], s)
		}
	}
	for _, r := range res.Registers {
		if r.Line < len(rep.Lines) {
			num := rep.Lines[r.Line].Num
			out[num] = append(out[num], r.Name+"="+r.Text)
		}
	}
	return out
}

// frameNote is the annotation of one frame.
func frameNote(f *decode.Frame) string {
	switch f.Status {
	case decode.StatusOK:
		if f.Address != "" {
			return "ok " + f.Address
		}
		return "ok"
	case decode.StatusResolved:
		return f.Text
	case decode.StatusSizeMismatch:
		return "MISMATCH: " + f.Note
	}
	return string(f.Status) + ": " + f.Note
}

// maxAnnotColumn caps the column where annotations start.
const maxAnnotColumn = 100

// writeAnnotated prints lines with their annotations aligned in one column.
func writeAnnotated(w *bufio.Writer, lines []rawLine, notes map[int][]string) {
	col := 0
	for _, l := range lines {
		if _, ok := notes[l.num]; ok {
			col = max(col, min(len(strings.TrimRight(l.text, "\r")), maxAnnotColumn))
		}
	}
	for _, l := range lines {
		n, ok := notes[l.num]
		if !ok {
			w.WriteString(l.text)
			w.WriteByte('\n')
			continue
		}
		text := strings.TrimRight(l.text, "\r")
		w.WriteString(text)
		w.WriteString(strings.Repeat(" ", max(col-len(text), 0)))
		w.WriteString("  # ")
		w.WriteString(strings.Join(n, ", "))
		w.WriteByte('\n')
	}
}

// writeSummary prints the summary block of a report.
func writeSummary(w *bufio.Writer, res *decode.Result) {
	s := &res.Summary
	fmt.Fprintf(w, "== %s [%s]\n", s.Title, s.Kind)
	if s.Guilty != "" {
		fmt.Fprintf(w, "   guilty:    %s%s\n", s.Guilty, moduleNote(s))
	}
	if s.PID >= 0 || s.Comm != "" {
		task := fmt.Sprintf("PID %d %s", s.PID, s.Comm)
		if s.CPU >= 0 {
			task = fmt.Sprintf("CPU %d %s", s.CPU, task)
		}
		fmt.Fprintf(w, "   task:      %s\n", task)
	}
	if s.Release != "" {
		fmt.Fprintf(w, "   kernel:    %s\n", s.Release)
	}
	if s.Taint != "" {
		fmt.Fprintf(w, "   tainted:   %s (%s)\n", decode.CompactTaint(s.Taint), strings.Join(s.TaintWords, "; "))
	}
	if res.Slide.Method != "" || res.Slide.Detail != "" {
		fmt.Fprintf(w, "   kaslr:     %s\n", slideText(res.Slide))
	}
	for _, u := range s.Uncertain {
		fmt.Fprintf(w, "   uncertain: %s\n", u)
	}
	for _, m := range res.Warnings {
		fmt.Fprintf(w, "   WARNING:   %s\n", m)
	}
}

// moduleNote says the guilty frame's module and its taint.
func moduleNote(s *decode.Summary) string {
	if s.Module == "" {
		return ""
	}
	if s.ModuleTaint != "" {
		return fmt.Sprintf(" (module %s, tainted %s)", s.Module, s.ModuleTaint)
	}
	return fmt.Sprintf(" (module %s)", s.Module)
}

// slideText describes the KASLR slide.
func slideText(s decode.Slide) string {
	if !s.Known {
		return "slide " + s.Detail
	}
	return fmt.Sprintf("slide %s (%s: %s)", s.Hex, s.Method, s.Detail)
}
