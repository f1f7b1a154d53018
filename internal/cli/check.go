package cli

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/ksym-dev/ksym/machine"
	"github.com/spf13/cobra"
)

const checkLong = `Check whether this process can read kernel addresses, and why not: the kernel
decides at open(2) of /proc/kallsyms from kernel.kptr_restrict,
kernel.perf_event_paranoid and the reader's CAP_SYSLOG (in the initial user
namespace). Also prints the kernel release and build ID, the number of loaded
modules, and the symbol table's counts and whether it has data symbols
(CONFIG_KALLSYMS_ALL, needed to tell exported symbols).

The machine is the one under --root. The table is the live one, or --kallsyms.

Exit status 0 when addresses are visible, 1 when they are hidden or the table
cannot be read, 2 when the machine root has no /proc.`

const checkExample = `  ksym check
  sudo ksym check
  ksym --root /host check --json`

func (a *app) newCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "check",
		Aliases: []string{"doctor"},
		Short:   "Can this process read kernel addresses? Kernel release, build ID, counts",
		Long:    checkLong,
		Example: checkExample,
		Args:    argsRange(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runCheck()
		},
	}
}

// checkResult is the JSON answer of ksym check: machine.Report's fields plus
// the table's.
type checkResult struct {
	machine.Report
	Kallsyms      string `json:"kallsyms"`                 // where the table was read
	TableError    string `json:"kallsyms_error,omitempty"` // why it could not be read
	Symbols       *int   `json:"symbols"`                  // null when unread
	CoreSymbols   *int   `json:"core_symbols"`
	ModuleSymbols *int   `json:"module_symbols"`
	TableModules  *int   `json:"table_modules"`    // modules with symbols in the table
	DataSymbols   *bool  `json:"data_symbols"`     // CONFIG_KALLSYMS_ALL
	TableHidden   *bool  `json:"table_hidden"`     // the table's addresses are all zero
	OK            bool   `json:"addresses_usable"` // addresses can be resolved with this table
}

func (a *app) runCheck() error {
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return usageErrorf("%v", err)
	}
	rep, err := fs.Check()
	if err != nil {
		return usageErrorf("%v", err)
	}
	res := checkResult{Report: rep}
	a.addTableFacts(&res)
	if a.json {
		err = writeJSON(a.stdout, res)
	} else {
		err = renderCheck(a.stdout, res)
	}
	if err != nil {
		return err
	}
	if !res.OK {
		return errNotFound
	}
	return nil
}

// addTableFacts fills the table's part of res.
func (a *app) addTableFacts(res *checkResult) {
	t, source, err := a.table()
	res.Kallsyms = source
	if err != nil {
		res.TableError = err.Error()
		return
	}
	st := tableCounts(t)
	res.Symbols, res.CoreSymbols, res.ModuleSymbols, res.TableModules = &st[0], &st[1], &st[2], &st[3]
	data, hidden := t.HasDataSymbols(), t.Hidden()
	res.DataSymbols, res.TableHidden = &data, &hidden
	res.OK = !hidden
}

// tableCounts returns symbols, core symbols, module symbols and modules.
func tableCounts(t interface {
	Len() int
	ModuleName(int) string
}) [4]int {
	var c [4]int
	c[0] = t.Len()
	mods := map[string]bool{}
	for i := 0; i < t.Len(); i++ {
		if m := t.ModuleName(i); m != "" {
			c[2]++
			mods[m] = true
		}
	}
	c[1], c[3] = c[0]-c[2], len(mods)
	return c
}

func renderCheck(w io.Writer, r checkResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	line("addresses", addressesText(r))
	line("reason", r.Reason)
	for _, adv := range r.Advice {
		line("advice", adv)
	}
	line("kallsyms", tableText(r))
	line("release", orUnknown(r.Release))
	line("version", orUnknown(r.Version))
	line("build id", orUnknown(r.BuildID))
	line("boot id", orUnknown(r.BootID))
	line("modules loaded", intText(r.Modules))
	line("uid", intText(r.UID))
	line("cap_syslog", yesNo(r.CapSyslog, "yes", "no")+userNSText(r.UserNamespace))
	kptr := intText(r.KptrRestrict)
	if r.KptrRestrictMeaning != "" {
		kptr += " (" + r.KptrRestrictMeaning + ")"
	}
	line("kptr_restrict", kptr)
	line("perf_event_paranoid", intText(r.PerfEventParanoid))
	for _, p := range r.Problems {
		line("problem", p)
	}
	return tw.Flush()
}

func addressesText(r checkResult) string {
	switch {
	case r.TableHidden != nil && !*r.TableHidden:
		return "visible"
	case r.TableHidden != nil:
		return "hidden (all zero)"
	case r.KallsymsReadable:
		return yesNo(r.AddressesVisible, "visible", "hidden (all zero)")
	}
	return "unknown: the table cannot be read"
}

func tableText(r checkResult) string {
	if r.Symbols == nil {
		return r.Kallsyms + ": " + r.TableError
	}
	s := fmt.Sprintf("%s: %d symbols (%d core, %d in %d modules)", r.Kallsyms, *r.Symbols, *r.CoreSymbols, *r.ModuleSymbols, *r.TableModules)
	return s + yesNo(*r.DataSymbols, ", data symbols (CONFIG_KALLSYMS_ALL)", ", text only (no CONFIG_KALLSYMS_ALL: export status unknown)")
}

func userNSText(ns string) string {
	switch ns {
	case "initial":
		return " (initial user namespace)"
	case "child":
		return " (child user namespace: CAP_SYSLOG does not count)"
	}
	return ""
}

func intText(p *int) string {
	if p == nil {
		return "unknown"
	}
	return strconv.Itoa(*p)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
