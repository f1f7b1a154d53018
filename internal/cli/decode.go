package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

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
table's. Raw addresses ([<ffffffff...>], RIP: 0010:0x...) are resolved
exactly as the kernel prints them (%pB for return addresses, %pS for the
faulting PC); register values that point into the kernel are annotated.
Hashed %p values, user space addresses and 0 are never resolved.

A table that does not match the log (a printed name, size, address, kernel
offset, release or build ID disagrees) is not used for any answer: that is
said once per report, and the log is decoded from the log alone: frames as
printed (unchecked), nothing resolved, no register annotated.

Symbol source, one of:
  --kallsyms FILE     a saved /proc/kallsyms of the crashed boot (exact)
  --system-map FILE   the kernel's System.map (link-time addresses): the
                      KASLR slide is found from the log ("Kernel Offset:"
                      line, frames with address and name, or register
                      values; x86_64 and arm64) and printed with how it was
                      found
  (neither)           the running kernel's table, for a log of the running
                      kernel; a log that prints another release or build
                      ID (or disagrees with the table) is decoded from the
                      log alone, saying which table would make it exact;
                      so is every log when the table's addresses are
                      hidden from this reader
  --no-table          none: decode from the log alone
A snapshot or index given to --kallsyms is checked against the boot it was
saved in.
With --modules FILE (a saved /proc/modules of the crashed boot), raw module
addresses are attributed to their module with --system-map (module+offset
from its base: a System.map has no module symbols), and the modules of a
kallsyms table are checked against it (a warning if they are from another
boot).

Inputs: files (compressed or not), directories (every file under them, in
lexical order, hidden ones left out), or standard input.

Output: the report lines with the decoded facts appended, then a summary of
each report (kind, title, guilty frame, task, taint in words, what is
uncertain). On a terminal the annotations are coloured (--color, --no-color,
NO_COLOR). --summary prints one tab-separated line per report; --json one
JSON object per report (JSON Lines, schema in docs/decode.md). --group
counts the reports of all inputs by signature (kind and guilty function,
without offsets, addresses, PIDs or kernel versions): count, signature,
kernels, first and last FILE:LINE per bucket, the largest first (with
--json, one object per bucket).

ksym decode works as a filter (dmesg -w | ksym decode): lines outside
reports are printed as they come, each report as soon as it ends, and when
a pipe, a terminal or /dev/kmsg stays silent for 200 ms, what was read is
printed, a report whose end has not come yet as far as it goes (its summary
follows when it ends). Reports of different tasks printed at the same time
are told apart by printk caller id. Lines longer than 64 KiB are cut, and
reports longer than 100000 lines or 16 MiB, so memory stays bounded.

With --lines each frame the table confirmed gets its source chain from
DWARF (file:line, inlined functions marked [inline]) under its line, and
the summary the guilty frame's line; the debug files are looked for as
ksym addr --lines does (--debuginfo PATH, the distribution's layouts,
DEBUGINFOD_URLS) and used only when they match the table.

Exit status: 0 decoded, 1 no report found or a table given with --kallsyms
or --system-map does not match the log (or --modules disagrees), 2 usage or
input error (an input that cannot be read is reported and the others are
still decoded).`

const decodeExample = `  ksym decode --kallsyms kallsyms.txt.gz oops.txt
  dmesg | ksym decode
  ksym decode --no-table foreign-console.log
  journalctl -k -b -1 | ksym decode --system-map /boot/System.map-$(uname -r)
  ksym decode --system-map System.map --modules modules.txt console.log
  ksym decode --summary --kallsyms kallsyms.txt.gz logs/*.txt
  ksym decode --group --kallsyms kallsyms.txt.gz crashes/
  ksym decode --json --kallsyms kallsyms.txt.gz oops.txt | jq .summary.title`

// decodeOpts are the flags of ksym decode.
type decodeOpts struct {
	systemMap string
	modules   string
	summary   bool
	group     bool
	color     string
	noColor   bool
	noTable   bool
	lines     bool
	debuginfo []string
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
	c.Flags().StringVar(&o.modules, "modules", "", "read the modules' places from `FILE`, a saved /proc/modules of the crashed boot")
	c.Flags().BoolVar(&o.summary, "summary", false, "print one line per report")
	c.Flags().BoolVar(&o.group, "group", false, "count the reports of all inputs by signature (kind and guilty function): one line per bucket, the largest first")
	c.Flags().StringVar(&o.color, "color", "auto", "colour the annotated log `WHEN`: auto (on a terminal, unless NO_COLOR is set), always, never")
	c.Flags().BoolVar(&o.noColor, "no-color", false, "do not colour the output")
	c.Flags().BoolVarP(&o.lines, "lines", "l", false, "append each checked frame's source chain (file:line, inlined functions) from DWARF")
	c.Flags().StringArrayVar(&o.debuginfo, "debuginfo", nil, "with --lines: a vmlinux or .ko with DWARF, or a directory of them (repeatable)")
	c.Flags().BoolVar(&o.noTable, "no-table", false, "use no symbol table: decode from the log alone (frames as printed, unchecked)")
	return c
}

// decodeRun is the state of one ksym decode invocation.
type decodeRun struct {
	a        *app
	o        decodeOpts
	dec      *decode.Decoder
	out      *bufio.Writer
	print    printer        // the annotated log
	split    *klog.Splitter // of the input being read
	file     string         // the input being read
	multi    bool           // more than one input: prefix summary lines with the file
	implicit bool           // the table is the running kernel's, not asked for
	said     bool           // the table's mismatch with the input being read was said
	reports  int
	mismatch bool
	read     int            // inputs read to their end
	failed   bool           // an input could not be read
	held     heldLines      // lines read and not printed yet
	groups   decode.Buckets // --group
	cutSaid  bool           // a cut line of this input was warned about
}

func (a *app) runDecode(o decodeOpts, args []string) error {
	if len(args) == 0 {
		args = []string{input.Stdin}
	}
	if err := a.checkDecodeArgs(o, args); err != nil {
		return err
	}
	color, err := colorOn(o.color, o.noColor, a.stdout)
	if err != nil {
		return err
	}
	t, opts, err := a.decodeTable(o)
	if err != nil {
		return err
	}
	if opts.Modules, err = a.loadModules(o.modules); err != nil {
		return err
	}
	if o.lines {
		f := a.newDecodeLineFinder(o, t)
		defer f.close()
		opts.Lines = f
	}
	paths, walkErrs := inputFiles(args)
	run := &decodeRun{a: a, o: o, dec: decode.New(t, opts), out: newBuffered(a.stdout),
		multi:    len(paths) != 1 || paths[0] != args[0] || len(walkErrs) > 0,
		implicit: t != nil && a.kallsymsPath == "" && o.systemMap == ""}
	run.print = printer{out: run.out, pal: palette{on: color}}
	for _, err := range walkErrs {
		run.reportInputError(err)
	}
	for _, path := range paths {
		if err := run.file1(path); err != nil {
			var ie *inputError
			if !errors.As(err, &ie) {
				run.out.Flush()
				return err
			}
			run.reportInputError(ie.err)
		}
	}
	if o.group {
		if err := run.printGroups(); err != nil {
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
	if len(o.debuginfo) > 0 && !o.lines {
		return usageErrorf("decode: --debuginfo is for --lines")
	}
	if o.noTable && (o.systemMap != "" || a.kallsymsPath != "" || o.modules != "") {
		return usageErrorf("decode: --no-table decodes from the log alone: it takes no --kallsyms, --system-map or --modules")
	}
	stdin := 0
	for _, p := range args {
		if p == input.Stdin {
			stdin++
		}
	}
	for _, p := range []string{a.kallsymsPath, o.systemMap, o.modules} {
		if p == input.Stdin {
			stdin++
		}
	}
	if stdin > 1 {
		return usageErrorf("decode: standard input (-) can be read only once")
	}
	return nil
}

// decodeTable loads the symbol source: the System.map, --kallsyms, the
// live table, or none (--no-table), and what is known of the kernel it is
// from (the running one, or a snapshot's boot), to be checked against the
// log.
func (a *app) decodeTable(o decodeOpts) (*kallsyms.Table, decode.Options, error) {
	switch {
	case o.noTable:
		return nil, decode.Options{}, nil
	case o.systemMap != "":
		t, err := a.loadSystemMap(o.systemMap)
		return t, decode.Options{SystemMap: true}, err
	}
	t, err := a.tableWithAddresses()
	if err != nil || a.kallsymsPath != "" {
		if a.kallsymsPath == "" && errors.Is(err, kallsyms.ErrAddressesHidden) {
			fmt.Fprintf(a.stderr, "ksym: warning: %v: decoding from the log alone (--no-table does so without this warning)\n", err)
			return nil, decode.Options{}, nil
		}
		return t, decode.Options{Kernel: a.snapshotKernel()}, err
	}
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return t, decode.Options{}, nil
	}
	return t, decode.Options{Kernel: liveKernel(fs)}, nil
}

// loadSystemMap reads a System.map (compressed or not) with
// input.OpenTable, refusing a snapshot or an index, whose addresses are
// not link-time ones.
func (a *app) loadSystemMap(path string) (*kallsyms.Table, error) {
	tab, err := a.openTable(path)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: fileAdvice(err)}
	}
	if tab.Kind != input.TableText {
		return nil, usageErrorf("%s: not a System.map (the file is a ksym %s)", tab.Source, tab.Kind)
	}
	return tab.Table, nil
}

// loadModules reads a saved /proc/modules (compressed or not; "-" for
// standard input): the module places for decode.Options.Modules.
func (a *app) loadModules(path string) ([]decode.Module, error) {
	if path == "" {
		return nil, nil
	}
	var r io.ReadCloser
	var err error
	if path == input.Stdin {
		r, err = input.NewReader(a.stdin)
	} else {
		r, err = input.Open(path)
	}
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: fileAdvice(err)}
	}
	defer r.Close()
	mods, err := machine.ParseModules(r)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: fileAdvice(fmt.Errorf("%s: %w", path, err))}
	}
	if machine.AddressesHidden(mods) {
		return nil, usageErrorf("%s: the module addresses are hidden (all zero): save /proc/modules as root", path)
	}
	out := make([]decode.Module, 0, len(mods))
	for _, m := range mods {
		out = append(out, decode.Module{Name: m.Name, Base: m.Addr, Size: m.Size})
	}
	return out, nil
}

// status is the exit status after every input was decoded.
func (run *decodeRun) status() error {
	switch {
	case run.failed && run.reports == 0 && run.read > 0:
		fmt.Fprintf(run.a.stderr, "ksym: decode: no kernel report found in the inputs that could be read\n")
		return &exitError{code: ExitUsage}
	case run.failed:
		return &exitError{code: ExitUsage}
	case run.reports == 0:
		return &exitError{code: ExitNotFound, err: fmt.Errorf("decode: no kernel report found")}
	case run.mismatch:
		return errNotFound
	}
	return nil
}

// file1 decodes one input, printing each report as it ends. Errors of the
// input are *inputError.
func (run *decodeRun) file1(path string) error {
	r, name, live, err := run.open(path)
	if err != nil {
		return &inputError{err}
	}
	defer r.Close()
	run.file, run.said, run.cutSaid = name, false, false
	run.dec.Reset()
	run.split = &klog.Splitter{}
	sc := &klog.Scanner{Splitter: run.split, Report: run.report, Line: run.line}
	if live {
		sc.IdleAfter, sc.Idle = idleFlush, run.idle
	}
	err = sc.Scan(r)
	if run.annotated() {
		run.print.print(run.held.take(-1), -1)
	}
	var oe *outputError
	switch {
	case errors.As(err, &oe):
		return oe.err
	case err != nil:
		return &inputError{fmt.Errorf("%s: %w", name, err)}
	}
	run.read++
	return nil
}

// open opens an input, "-" being this invocation's standard input, and
// tells whether it is live: not a regular file (a pipe, a terminal, a
// character device such as /dev/kmsg), so that it may pause.
func (run *decodeRun) open(path string) (io.ReadCloser, string, bool, error) {
	if path != input.Stdin {
		st, err := os.Stat(path)
		live := err == nil && !st.Mode().IsRegular()
		r, err := input.Open(path)
		return r, path, live, err
	}
	f, live := run.a.stdin.(*os.File)
	if live {
		st, err := f.Stat()
		live = err == nil && !st.Mode().IsRegular()
	}
	r, err := input.NewReader(run.a.stdin)
	if err != nil {
		return nil, "standard input", false, fmt.Errorf("standard input: %w", err)
	}
	return r, "standard input", live, nil
}

// report decodes and prints one report.
func (run *decodeRun) report(rep *klog.Report) error {
	res := run.dec.Decode(rep)
	run.reports++
	run.warn(res)
	switch {
	case run.o.group:
		run.groups.Add(res.Summary, decode.Place{File: run.file, Line: firstNum(rep)})
	case run.a.json:
		if err := writeJSONLine(run.out, reportJSON(run.file, firstNum(rep), lastNum(rep), res)); err != nil {
			return &outputError{err}
		}
	case run.o.summary:
		run.summaryLine(rep, res)
	default:
		run.print.add(rep, res)
		run.printUpTo(run.held.last())
	}
	return run.flush()
}

// exactAdvice says which tables make a foreign log's frames exact.
const exactAdvice = "for exact frames give that kernel's table: --kallsyms (its /proc/kallsyms, or a snapshot of its boot from 'ksym snapshot save') or --system-map (its System.map)"

// warn says the warnings of a report on stderr. The table's mismatch with
// the log, which every report of the log repeats, is said once per input:
// as a warning (exit status 1) when the table was given, as a note with
// what to give when it is the running kernel's (a log of another kernel is
// no error).
func (run *decodeRun) warn(res *decode.Result) {
	for _, w := range res.Warnings {
		switch {
		case !res.Mismatch || w != res.MismatchReason:
			run.mismatch = true
			fmt.Fprintf(run.a.stderr, "ksym: warning: %s: %s\n", run.file, clipEcho(w))
		case run.said:
		case run.implicit:
			fmt.Fprintf(run.a.stderr, "ksym: %s: %s: decoded from the log alone; %s\n", run.file, clipEcho(w), exactAdvice)
		default:
			run.mismatch = true
			fmt.Fprintf(run.a.stderr, "ksym: warning: %s: %s: decoded from the log alone\n", run.file, clipEcho(w))
		}
		if res.Mismatch && w == res.MismatchReason {
			run.said = true
		}
	}
}

// firstNum is the line number of a report's first line.
func firstNum(rep *klog.Report) int {
	if len(rep.Lines) == 0 {
		return 0
	}
	return rep.Lines[0].Num
}

// summaryLine prints the --summary line of a report.
func (run *decodeRun) summaryLine(rep *klog.Report, res *decode.Result) {
	if run.multi {
		fmt.Fprintf(run.out, "%s:%d\t", run.file, firstNum(rep))
	}
	run.out.WriteString(res.Summary.Line())
	run.out.WriteByte('\n')
}
