package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/symdiff"
	"github.com/spf13/cobra"
)

const diffLong = `Compare two kernel symbol tables, A (old) and B (new): symbols added,
removed, renamed by a compiler clone suffix (foo -> foo.isra.0, .constprop.0,
.part.0, .cold, .llvm.<hash>: what breaks kprobes and fentry programs after
an upgrade), whose type letter changed, resized, and moved.

A and B are files (a saved /proc/kallsyms, a System.map, a snapshot or an
index; gzip, xz and zstd accepted), "-" for standard input (one of them), or
"live" (also "/proc/kallsyms") for the running kernel under --root, read
directly rather than from the cache.

Positions are compared relative to the kernel base (_text) and to each
module's base, so two boots of one build with different KASLR offsets and
module addresses are equivalent, and the summary says by how much the bases
moved. A System.map compared with a kallsyms table of the same build is
equivalent: the symbols /proc/kallsyms never lists are left out, and the
modules only the kallsyms table has are named, not compared. When one table
has no data symbols (no CONFIG_KALLSYMS_ALL) only code symbols are compared.
When addresses are hidden (all zero) only names and types are compared, with
a warning.

The summary comes first: the tables, the bases, the modules only in one
table, a count per category and module, and the verdict. --details (-v) lists
every difference, one per line:

  renamed  vmlinux  t set_flags -> t set_flags.isra.0  +0x444a0 -> +0x317620
  removed  vmlinux  T start_cpu0  +0x2c0 size 0xc

Exit status: 0 equivalent, 1 different, 2 usage or input error.`

const diffExample = `  ksym diff run1/kallsyms.txt.gz run2/kallsyms.txt.gz
  ksym diff /boot/System.map-$(uname -r) live
  ksym diff -v --only renamed,removed old-kallsyms.txt live
  ksym diff --module ext4 --json a.txt b.txt`

// diffOptions are the flags of ksym diff.
type diffOptions struct {
	details   bool
	modules   []string
	only      string
	namesOnly bool
}

func (a *app) newDiffCmd() *cobra.Command {
	var o diffOptions
	c := &cobra.Command{
		Use:     "diff A B",
		Short:   "Compare two symbol tables (added, removed, renamed, retyped, resized, moved)",
		Long:    diffLong,
		Example: diffExample,
		Args:    argsRange(2, 2, "tables A and B"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runDiff(args[0], args[1], o)
		},
	}
	f := c.Flags()
	f.BoolVarP(&o.details, "details", "v", false, "list every difference after the summary")
	f.StringSliceVarP(&o.modules, "module", "m", nil, "compare only module `M` (vmlinux: the core kernel); repeatable, or comma-separated")
	f.StringVar(&o.only, "only", "", "list only these `KINDS` of differences: comma-separated added, removed, renamed, type, resized, moved (implies --details)")
	f.BoolVar(&o.namesOnly, "names-only", false, "compare names and types only, not positions and sizes")
	return c
}

// errDiffer is the exit status of tables that differ; the report said how.
var errDiffer = &exitError{code: ExitNotFound}

func (a *app) runDiff(argA, argB string, o diffOptions) error {
	kinds, err := parseDiffKinds(o.only)
	if err != nil {
		return err
	}
	o.details = o.details || o.only != ""
	if a.kallsymsPath != "" {
		return usageErrorf("diff: the tables are its arguments A and B; --kallsyms is not used")
	}
	if argA == input.Stdin && argB == input.Stdin {
		return usageErrorf("diff: only one of A and B can be standard input (-)")
	}
	ta, sourceA, err := a.loadDiffTable(argA)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	tb, sourceB, err := a.loadDiffTable(argB)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if err := checkDiffModules(o.modules, ta, tb); err != nil {
		return err
	}
	a.warnHiddenDiff(ta, sourceA)
	a.warnHiddenDiff(tb, sourceB)
	r, err := symdiff.Compare(ta, tb, symdiff.Options{NamesOnly: o.namesOnly, Modules: o.modules})
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	r.A.Source, r.B.Source = sourceA, sourceB
	if err := a.printDiff(r, o.details, kinds); err != nil {
		return err
	}
	if !r.Equivalent() {
		return errDiffer
	}
	return nil
}

// loadDiffTable loads one side of ksym diff with the helpers of load.go:
// "live" or "/proc/kallsyms" is the running kernel's table under --root (read
// live, not from the cache), "-" standard input, anything else a file that
// input.OpenTable reads: an index (mapped), a snapshot, a kallsyms table or a
// System.map, compressed or not. It returns the table and the name to show for it. It is the one place
// ksym diff loads a table.
func (a *app) loadDiffTable(arg string) (*kallsyms.Table, string, error) {
	if arg == "live" || arg == "/proc/kallsyms" {
		return a.loadLive()
	}
	tab, err := a.openTable(arg)
	if err != nil {
		return nil, arg, fileAdvice(err)
	}
	return tab.Table, tab.Source, nil
}

// checkDiffModules fails when a --module names a module in neither table.
func checkDiffModules(mods []string, ta, tb *kallsyms.Table) error {
	for _, m := range mods {
		if kallsyms.IsCoreName(m) || hasModule(ta, m) || hasModule(tb, m) {
			continue
		}
		return usageErrorf("diff: --module %s: no such module in either table (vmlinux is the core kernel)", m)
	}
	return nil
}

func hasModule(t *kallsyms.Table, name string) bool {
	return slices.ContainsFunc(t.Modules(), func(m kallsyms.Module) bool { return m.Name == name })
}

// warnHiddenDiff warns when a table's addresses are hidden.
func (a *app) warnHiddenDiff(t *kallsyms.Table, source string) {
	if t.Hidden() {
		fmt.Fprintf(a.stderr, "ksym: warning: %s: addresses are hidden (all zero), comparing names and types only; read the table as root for addresses\n", source)
	}
}

// diffKinds are the categories of differences, in the order they are
// listed.
var diffKinds = []string{"renamed", "removed", "added", "type", "resized", "moved"}

// parseDiffKinds parses --only; nil means all.
func parseDiffKinds(only string) (map[string]bool, error) {
	kinds := map[string]bool{}
	if only == "" {
		for _, k := range diffKinds {
			kinds[k] = true
		}
		return kinds, nil
	}
	for _, k := range strings.Split(only, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(diffKinds, k) {
			return nil, usageErrorf("diff: --only %s: want a comma-separated list of %s", k, strings.Join(diffKinds, ", "))
		}
		kinds[k] = true
	}
	return kinds, nil
}

// printDiff writes the report as text or JSON.
func (a *app) printDiff(r *symdiff.Result, details bool, kinds map[string]bool) error {
	if a.json {
		return writeJSON(a.stdout, diffJSON(r, details, kinds))
	}
	w := newBuffered(a.stdout)
	writeDiffSummary(w, r)
	if details {
		w.WriteString("\n")
		writeDiffDetails(w, r, kinds)
	}
	return w.Flush()
}

// moduleLabel names a module in the output: vmlinux for the core kernel.
func moduleLabel(name string) string {
	if name == "" {
		return "vmlinux"
	}
	return name
}

// signedHex formats d as +0x... or -0x....
func signedHex(d int64) string {
	if d < 0 {
		return "-" + hex0x(uint64(-d))
	}
	return "+" + hex0x(uint64(d))
}
