package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/reportjson"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/srcline"
	"github.com/spf13/cobra"
)

const addrLong = `Resolve each address to the symbol it lies in and print one line per address:

  0xffffffffc09e64a5 lkdtm_EXCEPTION+0x5/0x20 [lkdtm]

exactly as the kernel prints %pS. With --return the address is taken as a
return address and resolved as %pB does (address-1), which names the calling
function correctly when a call is the last instruction of a function; the
offset printed is still from the address given.

Addresses are hexadecimal, with or without 0x; the [<...>] brackets of old
stack traces are accepted. With no ADDRESS arguments, addresses are read from
standard input one per line and each answer is printed and flushed as soon as
its line is read, so ksym addr works as a filter. Blank lines are skipped.

An address inside no symbol is printed as the kernel prints it (0x... with no
name) and reported on stderr; the exit status is then 1. An invalid address is
reported on stderr (no output line) and the exit status is 2.

With --json each answer is one JSON object per line (JSON Lines).

With --lines each answer is followed by its source chain from the DWARF
debug information, innermost first, one line each, inlined functions marked
[inline] and the real function last (as syzkaller prints them); in --json
it is the answer's "source" array. Files are relative to the kernel tree.
The debug files are looked for in each --debuginfo PATH (a vmlinux or .ko
with DWARF, or a directory searched by build ID under .build-id/, by module
name under lib/modules/<release>/, and in the distributions' layouts such as
usr/lib/debug/boot/vmlinux-<release>), then, for the running kernel, in the
same layouts under /, then on the debuginfod servers of DEBUGINFOD_URLS. A
debug file is used only if its build ID is the kernel's or module's, or,
when no build ID is known, if its symbol table agrees with the kallsyms
table; otherwise ksym says why on stderr and prints no lines for it.`

const addrExample = `  ksym addr ffffffffc09e64a5
  ksym addr 0xffffffff8a3c4e0d 0xffffffff8a2d15a3
  ksym addr --return ffffffff8a3c4e0d
  grep -o 'ffffffff[0-9a-f]\{8\}' stack.txt | ksym addr
  ksym --kallsyms saved/kallsyms.txt.gz addr --json ffffffffc09e64a5
  ksym addr --lines --return --debuginfo /usr/lib/debug ffffffff8a3c4e0d`

// addrOpts are the flags of ksym addr.
type addrOpts struct {
	ret       bool
	lines     bool
	debuginfo []string
	finder    *lineFinder // with lines
}

func (a *app) newAddrCmd() *cobra.Command {
	var o addrOpts
	c := &cobra.Command{
		Use:     "addr [ADDRESS...]",
		Aliases: []string{"a2s", "resolve"},
		Short:   "Resolve addresses to name+0xoff/0xsize [module] (%pS, %pB)",
		Long:    addrLong,
		Example: addrExample,
		RunE: func(c *cobra.Command, args []string) error {
			return a.runAddr(o, args)
		},
	}
	c.Flags().BoolVarP(&o.ret, "return", "r", false, "treat addresses as return addresses (%pB: resolve address-1)")
	c.Flags().BoolVarP(&o.lines, "lines", "l", false, "append the source chain (file:line, inlined functions) from DWARF")
	c.Flags().StringArrayVar(&o.debuginfo, "debuginfo", nil, "with --lines: a vmlinux or .ko with DWARF, or a directory of them (repeatable)")
	return c
}

// addrResult is the outcome for one address; the JSON form is documented in
// docs/cli.md.
type addrResult struct {
	Input   string `json:"input"`
	Address string `json:"address,omitempty"`
	Found   bool   `json:"found"`
	Symbol  string `json:"symbol,omitempty"`
	Module  string `json:"module,omitempty"`
	Type    string `json:"type,omitempty"`
	Offset  string `json:"offset,omitempty"`
	Size    string `json:"size,omitempty"`
	Text    string `json:"text,omitempty"`    // as the kernel prints it
	Section string `json:"section,omitempty"` // where the address lies
	Error   string `json:"error,omitempty"`
	// Source is the source chain, innermost first, with --lines.
	Source []reportjson.SourceLine `json:"source,omitempty"`

	addr   uint64 // parsed address
	index  int    // the symbol's index, when Found
	offset uint64 // the offset into the symbol, when Found
}

// addrState tracks the worst outcome over all addresses.
type addrState struct {
	notFound bool
	invalid  bool
}

func (a *app) runAddr(o addrOpts, args []string) error {
	if len(args) == 0 && a.kallsymsPath == input.Stdin {
		return usageErrorf("addr: cannot read both the symbol table (--kallsyms -) and the addresses from standard input: give the addresses as arguments")
	}
	if len(o.debuginfo) > 0 && !o.lines {
		return usageErrorf("addr: --debuginfo is for --lines")
	}
	a.useCache = true
	tab, err := a.tableWithAddresses()
	if err != nil {
		return err
	}
	if o.lines {
		o.finder = a.newLineFinder(o.debuginfo, tab, a.identity())
		defer o.finder.close()
	}
	w := newBuffered(a.stdout)
	var st addrState
	if len(args) > 0 {
		for _, arg := range args {
			a.resolveOne(o, arg, w, &st)
		}
	} else if err := a.resolveStream(o, w, &st); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	switch {
	case st.invalid:
		return &exitError{code: ExitUsage}
	case st.notFound:
		return errNotFound
	}
	return nil
}

// resolveStream reads addresses from stdin, one per line, flushing each answer.
func (a *app) resolveStream(o addrOpts, w *bufio.Writer, st *addrState) error {
	if isTerminal(a.stdin) {
		fmt.Fprintln(a.stderr, "ksym: reading addresses from standard input, one per line (end with Ctrl-D)")
	}
	sc := bufio.NewScanner(a.stdin)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		a.resolveOne(o, line, w, st)
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading addresses from standard input: %w", err)
	}
	return nil
}

// resolveOne resolves one address and writes its line. An answer from the
// cache that may be stale is re-checked against the live table.
func (a *app) resolveOne(o addrOpts, arg string, w *bufio.Writer, st *addrState) {
	t := a.loaded.table
	r := resolve(t, o, arg)
	if r.Error == "" && a.needsLive(t, r.Found, r.index) {
		if live := a.recheckLive(); live != nil {
			r = resolve(live, o, arg)
		}
	}
	switch {
	case r.Error != "":
		st.invalid = true
		fmt.Fprintf(a.stderr, "ksym: %s\n", r.Error)
	case !r.Found:
		st.notFound = true
		fmt.Fprintf(a.stderr, "ksym: %s: not inside any symbol (%s)\n", r.Address, r.Section)
	}
	var chain []srcline.Frame
	if o.finder != nil && r.Found {
		chain = o.finder.source(r, o.ret, r.offset)
		r.Source = reportjson.Chain(chain)
	}
	if a.json {
		writeJSONLine(w, r) // cannot fail: strings and bools into a bufio.Writer
		return
	}
	if r.Error != "" {
		return
	}
	fmt.Fprintf(w, "0x%016x %s\n", r.addr, r.Text)
	writeChain(w, chain)
}

// resolve turns one argument into an addrResult.
func resolve(t *kallsyms.Table, o addrOpts, arg string) addrResult {
	r := addrResult{Input: arg}
	addr, err := parseAddr(arg)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.addr = addr
	r.Address = hex0x(addr)
	var loc kallsyms.Location
	if o.ret {
		loc, err = t.LookupReturn(addr)
	} else {
		loc, err = t.Lookup(addr)
	}
	if err != nil {
		// The kernel prints an unresolved %pS/%pB as 0x%lx of the value given.
		r.Text = r.Address
		r.Section = string(t.Section(addr))
		return r
	}
	r.Found, r.index, r.offset = true, loc.Index, loc.Offset
	r.Symbol = t.Name(loc.Index)
	r.Module = t.ModuleName(loc.Index)
	r.Type = string([]byte{t.Type(loc.Index)})
	r.Offset = hex0x(loc.Offset)
	if loc.SizeKnown {
		r.Size = hex0x(loc.Size)
	}
	r.Text = t.FormatLocation(loc)
	r.Section = string(t.Section(addr))
	return r
}

// isTerminal reports whether r is a character device other than /dev/null:
// most likely a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// errBadAddr explains the accepted address syntax.
var errBadAddr = errors.New("not a hexadecimal address (want e.g. ffffffff81000000 or 0xffffffff81000000)")

// parseAddr parses a hexadecimal address, with or without 0x, optionally in
// the [<...>] brackets of old kernel stack traces.
func parseAddr(s string) (uint64, error) {
	h := strings.TrimSpace(s)
	if strings.HasPrefix(h, "[<") && strings.HasSuffix(h, ">]") {
		h = h[2 : len(h)-2]
	}
	if len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		h = h[2:]
	}
	if h == "" || strings.ContainsAny(h, "+-_") {
		return 0, fmt.Errorf("%q: %w", s, errBadAddr)
	}
	v, err := strconv.ParseUint(h, 16, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%q: address is longer than 64 bits", s)
		}
		return 0, fmt.Errorf("%q: %w", s, errBadAddr)
	}
	return v, nil
}
