package cli

import (
	"fmt"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/spf13/cobra"
)

const lookupLong = `Print every symbol with the given name, one per line:

  ADDRESS          TYPE SIZE NAME [MODULE]
  ffffffffc09e64a0 t 0x20 lkdtm_EXCEPTION [lkdtm]

SIZE is the kallsyms size (to the next symbol), "-" when unknown. A name can
occur several times (static functions in different files, or in several
modules). Restrict it to one module with MODULE:NAME, and to the core kernel
with vmlinux:NAME.

Works on a table with hidden addresses (they print as zeros, with a warning).
Exit status 1 if any name is not found.`

const lookupExample = `  ksym lookup vfs_read
  ksym lookup lkdtm:lkdtm_BUG vmlinux:_text
  ksym lookup --json do_sys_open`

func (a *app) newLookupCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "lookup NAME...",
		Aliases: []string{"s2a", "name"},
		Short:   "Print every symbol with the given name (MODULE:NAME accepted)",
		Long:    lookupLong,
		Example: lookupExample,
		Args:    argsAtLeast(1, "symbol NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runLookup(args)
		},
	}
}

// lookupResult is the JSON answer for one name.
type lookupResult struct {
	Query   string       `json:"query"`
	Found   bool         `json:"found"`
	Symbols []jsonSymbol `json:"symbols"`
}

func (a *app) runLookup(names []string) error {
	a.useCache = true
	t, err := a.tableForNames()
	if err != nil {
		return err
	}
	if a.lookupNeedsLive(t, names) {
		if live := a.recheckLive(); live != nil {
			t = live
		}
	}
	results := make([]lookupResult, 0, len(names))
	var rows []byte
	missing := false
	for _, name := range names {
		idx := t.Find(name)
		if len(idx) == 0 {
			missing = true
			fmt.Fprintf(a.stderr, "ksym: %s: no such symbol (try: ksym search '*%s*')\n", name, baseName(name))
		}
		results = append(results, lookupResult{Query: name, Found: len(idx) > 0, Symbols: symbolsJSON(t, idx)})
		for _, i := range idx {
			rows = appendSymbolRow(rows, t, i)
		}
	}
	if err := a.printRowsOrJSON(rows, map[string]any{"results": results}); err != nil {
		return err
	}
	if missing {
		return errNotFound
	}
	return nil
}

// lookupNeedsLive reports whether any name's answer from a cached table
// must be checked against the live one.
func (a *app) lookupNeedsLive(t *kallsyms.Table, names []string) bool {
	for _, name := range names {
		idx := t.Find(name)
		if len(idx) == 0 && a.needsLive(t, false, 0) {
			return true
		}
		for _, i := range idx {
			if a.needsLive(t, true, i) {
				return true
			}
		}
	}
	return false
}

// baseName strips a "module:" prefix.
func baseName(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == ':' {
			return name[i+1:]
		}
	}
	return name
}

// printRowsOrJSON writes rows, or v as JSON with --json.
func (a *app) printRowsOrJSON(rows []byte, v any) error {
	if a.json {
		return writeJSON(a.stdout, v)
	}
	_, err := a.stdout.Write(rows)
	return err
}
