package cli

import (
	"fmt"
	"strconv"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/spf13/cobra"
)

const searchLong = `Print the symbols whose name matches PATTERN, in address order, in the same
format as lookup. PATTERN is a glob (* ? [a-z], matched against the whole name)
unless --regex is given (Go regexp syntax, unanchored). Without PATTERN every
symbol passing the filters is printed.

Works on a table with hidden addresses (with a warning). Exit status 1 if
nothing matches.`

const searchExample = `  ksym search 'tcp_v4_*'
  ksym search --regex '^__x64_sys_(read|write)$'
  ksym search --module lkdtm --type T
  ksym search --core --type Dd --count 'jiffies*'
  ksym search --limit 5 --json '*_init'`

// searchOpts are the flags of ksym search.
type searchOpts struct {
	regex  bool
	types  string
	module string
	core   bool
	count  bool
	limit  int
}

func (a *app) newSearchCmd() *cobra.Command {
	var o searchOpts
	c := &cobra.Command{
		Use:     "search [PATTERN]",
		Aliases: []string{"grep", "find"},
		Short:   "List symbols matching a glob or regular expression",
		Long:    searchLong,
		Example: searchExample,
		Args:    argsRange(0, 1, "at most one PATTERN"),
		RunE: func(c *cobra.Command, args []string) error {
			pattern := ""
			if len(args) == 1 {
				pattern = args[0]
			}
			return a.runSearch(o, pattern)
		},
	}
	f := c.Flags()
	f.BoolVarP(&o.regex, "regex", "E", false, "PATTERN is a regular expression (Go syntax, unanchored)")
	f.StringVarP(&o.types, "type", "t", "", "keep only these type `LETTERS` (e.g. Tt)")
	f.StringVarP(&o.module, "module", "m", "", "keep only symbols of `MODULE` (vmlinux for the core kernel)")
	f.BoolVar(&o.core, "core", false, "keep only core kernel symbols")
	f.BoolVarP(&o.count, "count", "c", false, "print only the number of matches")
	f.IntVarP(&o.limit, "limit", "n", 0, "print at most `N` symbols (0: no limit)")
	return c
}

// searchResult is the JSON answer of ksym search.
type searchResult struct {
	Count     int           `json:"count"`               // all matches, before --limit
	Truncated bool          `json:"truncated,omitempty"` // --limit cut the list
	Symbols   *[]jsonSymbol `json:"symbols,omitempty"`   // absent with --count
}

func (a *app) runSearch(o searchOpts, pattern string) error {
	if o.limit < 0 {
		return usageErrorf("search: --limit must be 0 or more, not %d", o.limit)
	}
	t, err := a.tableForNames()
	if err != nil {
		return err
	}
	q := kallsyms.Query{Pattern: pattern, Regexp: o.regex, Types: o.types, Module: o.module, CoreOnly: o.core}
	idx, err := t.Search(q)
	if err != nil {
		return usageErrorf("search: %v", err)
	}
	res := searchResult{Count: len(idx)}
	shown := idx
	if o.limit > 0 && len(shown) > o.limit {
		shown, res.Truncated = shown[:o.limit], true
	}
	if err := a.printSearch(t, o, res, shown); err != nil {
		return err
	}
	if len(idx) == 0 {
		fmt.Fprintf(a.stderr, "ksym: no symbol matches %s\n", describeQuery(q))
		return errNotFound
	}
	return nil
}

func (a *app) printSearch(t *kallsyms.Table, o searchOpts, res searchResult, shown []int) error {
	if a.json {
		if !o.count {
			syms := symbolsJSON(t, shown)
			res.Symbols = &syms
		}
		return writeJSON(a.stdout, res)
	}
	w := newBuffered(a.stdout)
	if o.count {
		w.WriteString(strconv.Itoa(res.Count) + "\n")
		return w.Flush()
	}
	var row []byte
	for _, i := range shown {
		row = appendSymbolRow(row[:0], t, i)
		w.Write(row)
	}
	return w.Flush()
}

// describeQuery renders q for the "no match" message.
func describeQuery(q kallsyms.Query) string {
	s := "the filters"
	if q.Pattern != "" {
		s = strconv.Quote(q.Pattern)
	}
	if q.Types != "" {
		s += " with type " + strconv.Quote(q.Types)
	}
	if q.Module != "" {
		s += " in module " + q.Module
	}
	if q.CoreOnly {
		s += " in the core kernel"
	}
	return s
}
