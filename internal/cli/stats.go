package cli

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/spf13/cobra"
)

const statsLong = `Summarise the table: symbol counts (core, modules), counts per type letter,
symbols and text bytes per module, and the largest functions.

Text bytes sum the kallsyms sizes of the T, t, W and w symbols, counting each
address once. Sizes are kallsyms extents (up to the next symbol), so linker
markers such as _etext and functions followed by alignment gaps can be large.
With hidden addresses the counts still work but sizes are unknown (zero).`

const statsExample = `  ksym stats
  ksym stats --top 20
  ksym --kallsyms kallsyms.txt.gz stats --json`

func (a *app) newStatsCmd() *cobra.Command {
	var top int
	c := &cobra.Command{
		Use:     "stats",
		Short:   "Count symbols by type and module; list the largest functions",
		Long:    statsLong,
		Example: statsExample,
		Args:    argsRange(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runStats(top)
		},
	}
	c.Flags().IntVarP(&top, "top", "n", 10, "list the `N` largest functions (0: none)")
	return c
}

func (a *app) runStats(top int) error {
	if top < 0 {
		return usageErrorf("stats: --top must be 0 or more, not %d", top)
	}
	t, err := a.tableForNames()
	if err != nil {
		return err
	}
	st := kallsyms.ComputeStats(t, top)
	if a.json {
		return writeJSON(a.stdout, st)
	}
	return renderStats(a.stdout, st)
}

func renderStats(w io.Writer, st kallsyms.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "symbols\t%d\n", st.Symbols)
	fmt.Fprintf(tw, "core symbols\t%d\n", st.CoreSymbols)
	fmt.Fprintf(tw, "module symbols\t%d (%d modules)\n", st.ModuleSymbols, st.Modules)
	fmt.Fprintf(tw, "text bytes\t%d\n", st.TextBytes)
	fmt.Fprintf(tw, "data symbols\t%s\n", yesNo(st.HasDataSymbols, "yes (CONFIG_KALLSYMS_ALL)", "no (text only)"))
	if st.Hidden {
		fmt.Fprintf(tw, "addresses\thidden (all zero): sizes unknown\n")
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "TYPE\tCOUNT")
	for _, k := range sortedKeys(st.ByType) {
		fmt.Fprintf(tw, "%s\t%d\n", k, st.ByType[k])
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "MODULE\tSYMBOLS\tTEXT SYMBOLS\tTEXT BYTES")
	for _, m := range st.ByModule {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", m.Name, m.Symbols, m.TextSymbols, m.TextBytes)
	}
	if len(st.Largest) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "SIZE\tFUNCTION")
		for _, f := range st.Largest {
			name := f.Name
			if f.Module != "" {
				name += " [" + f.Module + "]"
			}
			fmt.Fprintf(tw, "%d\t%s\n", f.Size, name)
		}
	}
	return tw.Flush()
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
