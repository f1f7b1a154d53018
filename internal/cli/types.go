package cli

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/spf13/cobra"
)

const typesLong = `Print the nm type letters of kernel symbol tables, what each means, and how
many symbols of the current table have it.

The letter is not "f" for function and "v" for variable: functions are T, t
or W; variables D, d, R, r, B or b. For core kernel symbols upper case means
global (external) linkage and lower case static; upper case does NOT mean
exported (vfs_read is T and not exported). For module symbols the kernel
prints upper case exactly when the module exports the symbol. On x86_64
kernels before 6.15, per-CPU variables are A and their values are offsets, not
addresses.

If no table can be read, the letters are printed without counts and a warning.`

const typesExample = `  ksym types
  ksym --kallsyms System.map types
  ksym types --json`

func (a *app) newTypesCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "types",
		Short:   "Explain the type letters, with their counts in the table",
		Long:    typesLong,
		Example: typesExample,
		Args:    argsRange(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runTypes()
		},
	}
}

// typeRow is one letter in the JSON answer of ksym types.
type typeRow struct {
	Letter     string `json:"letter"`
	Count      *int   `json:"count"` // null when no table could be read
	Meaning    string `json:"meaning"`
	InKallsyms bool   `json:"in_kallsyms"`
	Note       string `json:"note,omitempty"`
}

// typesResult is the JSON answer of ksym types.
type typesResult struct {
	TableRead bool      `json:"table_read"`
	Types     []typeRow `json:"types"`
}

func (a *app) runTypes() error {
	counts, err := a.typeCounts()
	if err != nil {
		fmt.Fprintf(a.stderr, "ksym: warning: %v; showing the letters without counts\n", err)
	}
	res := typesResult{TableRead: counts != nil, Types: typeRows(counts)}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tCOUNT\tMEANING")
	for _, r := range res.Types {
		n := "-"
		if r.Count != nil {
			n = fmt.Sprint(*r.Count)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Letter, n, r.Meaning)
	}
	return tw.Flush()
}

// typeCounts counts the letters of the table; nil when none could be read.
func (a *app) typeCounts() (map[byte]int, error) {
	t, err := a.tableForNames()
	if err != nil {
		return nil, err
	}
	counts := map[byte]int{}
	for i := 0; i < t.Len(); i++ {
		counts[t.Type(i)]++
	}
	return counts, nil
}

// typeRows lists every known letter, then letters of the table nm does not
// define, sorted.
func typeRows(counts map[byte]int) []typeRow {
	var rows []typeRow
	known := map[byte]bool{}
	for _, ti := range kallsyms.TypeLetters() {
		known[ti.Letter] = true
		rows = append(rows, typeRow{Letter: string([]byte{ti.Letter}), Count: countOf(counts, ti.Letter),
			Meaning: ti.Meaning, InKallsyms: ti.InKallsyms, Note: ti.Note})
	}
	var extra []byte
	for c := range counts {
		if !known[c] {
			extra = append(extra, c)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	for _, c := range extra {
		rows = append(rows, typeRow{Letter: string([]byte{c}), Count: countOf(counts, c),
			Meaning: kallsyms.DescribeType(c, false), InKallsyms: true})
	}
	return rows
}

func countOf(counts map[byte]int, c byte) *int {
	if counts == nil {
		return nil
	}
	n := counts[c]
	return &n
}
