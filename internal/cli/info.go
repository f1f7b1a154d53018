package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/spf13/cobra"
)

const infoLong = `Explain one symbol: its address, size, module, type letter in plain words,
the section it lies in, whether it is exported to modules, other symbols at the
same address (aliases), its neighbours, and other symbols with the same name.

The argument is a name (MODULE:NAME and vmlinux:NAME accepted) or an address.
Something starting with 0x is always an address; anything else is a name if
the table has that name, else an address if it is hexadecimal. For an address,
the symbol containing it is explained and the %pS form is shown.

When a name occurs several times, the first in address order is explained and
the others are listed as duplicates. Export status comes from the kernel's
__ksymtab tables for core symbols (which needs CONFIG_KALLSYMS_ALL data symbols)
and from the letter's case for module symbols.`

const infoExample = `  ksym info vfs_write
  ksym info lkdtm:lkdtm_EXCEPTION
  ksym info 0xffffffffc09e64a5
  ksym info --json schedule`

func (a *app) newInfoCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "info NAME|ADDRESS",
		Aliases: []string{"explain"},
		Short:   "Explain everything the table knows about one symbol",
		Long:    infoLong,
		Example: infoExample,
		Args:    argsRange(1, 1, "one NAME or ADDRESS"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runInfo(args[0])
		},
	}
}

// infoResult is the JSON answer of ksym info.
type infoResult struct {
	Query           string       `json:"query"`
	Location        string       `json:"location,omitempty"` // for an address: as the kernel prints %pS
	Symbol          jsonSymbol   `json:"symbol"`
	TypeDescription string       `json:"type_description"`
	Section         string       `json:"section,omitempty"` // omitted when addresses are hidden
	Export          string       `json:"export"`            // exported, exported_gpl, not_exported, unknown, not_applicable
	ExportDetail    string       `json:"export_detail"`
	Aliases         []jsonSymbol `json:"aliases"`
	Previous        *jsonSymbol  `json:"previous"`
	Next            *jsonSymbol  `json:"next"`
	Duplicates      []jsonSymbol `json:"duplicates"`
}

func (a *app) runInfo(arg string) error {
	a.useCache = true
	t, _, err := a.table()
	if err != nil {
		return err
	}
	if a.infoNeedsLive(t, arg) {
		if live := a.recheckLive(); live != nil {
			t = live
		}
	}
	idx, loc, byAddr, err := a.pickInfoSymbol(t, arg)
	if err != nil {
		return err
	}
	res := buildInfo(t, arg, idx)
	if byAddr {
		res.Location = t.FormatLocation(loc)
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	return renderInfo(a.stdout, res)
}

// infoNeedsLive reports whether the answer for arg from a cached table must
// be checked against the live one.
func (a *app) infoNeedsLive(t *kallsyms.Table, arg string) bool {
	if !a.loaded.fromCache {
		return false
	}
	if idx := t.Find(arg); len(idx) > 0 {
		return a.needsLive(t, true, idx[0])
	}
	addr, err := parseAddr(arg)
	if err != nil {
		return true // a name the cache lacks
	}
	loc, err := t.Lookup(addr)
	return a.needsLive(t, err == nil, loc.Index)
}

// pickInfoSymbol decides whether arg is a name or an address and finds the
// symbol to explain: its index, the location for an address, and whether arg
// was taken as an address.
func (a *app) pickInfoSymbol(t *kallsyms.Table, arg string) (int, kallsyms.Location, bool, error) {
	isHex := strings.HasPrefix(strings.ToLower(arg), "0x")
	if !isHex {
		if idx := t.Find(arg); len(idx) > 0 {
			if _, err := a.tableForNames(); err != nil {
				return 0, kallsyms.Location{}, false, err
			}
			return idx[0], kallsyms.Location{}, false, nil
		}
	}
	addr, perr := parseAddr(arg)
	if perr != nil {
		fmt.Fprintf(a.stderr, "ksym: %s: no such symbol (try: ksym search '*%s*')\n", arg, baseName(arg))
		return 0, kallsyms.Location{}, false, errNotFound
	}
	if _, err := a.tableWithAddresses(); err != nil {
		return 0, kallsyms.Location{}, false, err
	}
	loc, err := t.Lookup(addr)
	if err != nil {
		fmt.Fprintf(a.stderr, "ksym: %s: not inside any symbol (%s)\n", hex0x(addr), t.Section(addr))
		return 0, loc, true, errNotFound
	}
	return loc.Index, loc, true, nil
}

// buildInfo collects what the table knows about symbol i.
func buildInfo(t *kallsyms.Table, query string, i int) infoResult {
	mod := t.ModuleName(i)
	res := infoResult{
		Query:           query,
		Symbol:          symbolJSON(t, i),
		TypeDescription: kallsyms.DescribeType(t.Type(i), mod != ""),
		Aliases:         []jsonSymbol{},
		Duplicates:      []jsonSymbol{},
	}
	res.Export, res.ExportDetail = exportStatus(t, i)
	for _, j := range t.AppendFind(nil, t.Name(i)) {
		if j != i {
			res.Duplicates = append(res.Duplicates, symbolJSON(t, j))
		}
	}
	if t.Hidden() {
		return res
	}
	res.Section = string(t.Section(t.Addr(i)))
	res.Aliases = symbolsJSON(t, aliases(t, i))
	if p := neighbour(t, i, -1); p >= 0 {
		s := symbolJSON(t, p)
		res.Previous = &s
	}
	if n := neighbour(t, i, +1); n >= 0 {
		s := symbolJSON(t, n)
		res.Next = &s
	}
	return res
}

// aliases returns the other symbols at symbol i's address.
func aliases(t *kallsyms.Table, i int) []int {
	addr := t.Addr(i)
	lo, hi := i, i
	for lo > 0 && t.Addr(lo-1) == addr {
		lo--
	}
	for hi+1 < t.Len() && t.Addr(hi+1) == addr {
		hi++
	}
	out := []int{}
	for j := lo; j <= hi; j++ {
		if j != i {
			out = append(out, j)
		}
	}
	return out
}

// neighbour returns the nearest symbol in direction dir (-1 or +1) with a
// different address, or -1.
func neighbour(t *kallsyms.Table, i, dir int) int {
	addr := t.Addr(i)
	for j := i + dir; j >= 0 && j < t.Len(); j += dir {
		if t.Addr(j) != addr {
			return j
		}
	}
	return -1
}

// exportStatus says whether symbol i is exported (the library decides:
// kallsyms.Table.ExportOfSymbol), as a stable keyword and a sentence.
func exportStatus(t *kallsyms.Table, i int) (string, string) {
	exp, mod := t.ExportOfSymbol(i), t.ModuleName(i)
	switch {
	case mod != "" && isPseudoModule(t, mod):
		return "not_applicable", "generated code in the [" + mod + "] pseudo-module: never exported"
	case mod != "" && exp == kallsyms.Exported:
		return "exported", "exported by module " + mod + " (upper-case type letter)"
	case mod != "":
		return "not_exported", "not exported by module " + mod + " (lower-case type letter)"
	case exp == kallsyms.Exported:
		return "exported", "exported to all modules (EXPORT_SYMBOL)"
	case exp == kallsyms.ExportedGPL:
		return "exported_gpl", "exported to GPL-compatible modules only (EXPORT_SYMBOL_GPL)"
	case exp == kallsyms.NotExported:
		return "not_exported", "not exported to modules"
	}
	return "unknown", "cannot tell: the table has no data symbols (kernel built without CONFIG_KALLSYMS_ALL), so the __ksymtab entries are missing"
}

// isPseudoModule reports whether mod is [bpf], [__builtin__ftrace] or the like.
func isPseudoModule(t *kallsyms.Table, mod string) bool {
	for _, m := range t.Modules() {
		if m.Name == mod {
			return m.Kind != kallsyms.KindModule
		}
	}
	return false
}

// renderInfo prints res as aligned "label value" lines.
func renderInfo(w interface{ Write([]byte) (int, error) }, res infoResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(label, value string) { fmt.Fprintf(tw, "%s\t%s\n", label, value) }
	s := res.Symbol
	line("symbol", labelOf(s))
	if res.Location != "" {
		line("resolves", res.Query+" is "+res.Location)
	}
	line("address", s.Address)
	line("size", sizeText(s.Size))
	line("type", s.Type+": "+res.TypeDescription)
	line("module", moduleText(s.Module))
	if res.Section != "" {
		line("section", res.Section)
	}
	line("export", res.ExportDetail)
	listLines(line, "aliases", res.Aliases)
	line("previous", neighbourText(res.Previous))
	line("next", neighbourText(res.Next))
	listLines(line, "duplicates", res.Duplicates)
	return tw.Flush()
}

func labelOf(s jsonSymbol) string {
	if s.Module != "" {
		return s.Name + " [" + s.Module + "]"
	}
	return s.Name
}

func sizeText(size string) string {
	if size == "" {
		return "unknown"
	}
	var n uint64
	fmt.Sscanf(size, "0x%x", &n)
	if n >= 1<<63 {
		return size + " (wrapped, as the kernel prints it: a module data symbol is measured to the end of the module's text, which lies below it)"
	}
	return fmt.Sprintf("%s (%d bytes)", size, n)
}

func moduleText(m string) string {
	if m == "" {
		return "core kernel (vmlinux)"
	}
	return m
}

func neighbourText(s *jsonSymbol) string {
	if s == nil {
		return "-"
	}
	return s.Address + " " + labelOf(*s)
}

// listLines prints one line per symbol, the label on the first only, or "-".
func listLines(line func(string, string), label string, syms []jsonSymbol) {
	if len(syms) == 0 {
		line(label, "-")
		return
	}
	for k, s := range syms {
		if k > 0 {
			label = ""
		}
		line(label, s.Address+" "+s.Type+" "+labelOf(s))
	}
}
