package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/ksym-dev/ksym/symdiff"
)

// writeDiffSummary writes the tables, bases, notes, modules, counts per
// module and the verdict.
func writeDiffSummary(w *bufio.Writer, r *symdiff.Result) {
	summaryLine(w, "A", describeDiffTable(&r.A))
	summaryLine(w, "B", describeDiffTable(&r.B))
	if !r.NamesOnly {
		summaryLine(w, "base", fmt.Sprintf("A %s, B %s (%s)", baseText(&r.A), baseText(&r.B), movedBy(r.Slide())))
	}
	for _, n := range r.Notes {
		summaryLine(w, "note", n)
	}
	writeDiffModules(w, r)
	writeDiffCounts(w, r)
	fmt.Fprintf(w, "%s\n", r.Verdict())
}

// summaryLine writes one labelled line of the summary.
func summaryLine(w *bufio.Writer, label, text string) {
	fmt.Fprintf(w, "%-9s %s\n", label, text)
}

// describeDiffTable says what a table is: source, kind, counts.
func describeDiffTable(t *symdiff.TableInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", t.Source)
	if t.Kind == symdiff.KindSystemMap {
		fmt.Fprintf(&b, "System.map, %d symbols", t.Symbols)
	} else {
		fmt.Fprintf(&b, "kallsyms, %d symbols (%d core, %d in %d modules)", t.Symbols, t.CoreSymbols, t.Symbols-t.CoreSymbols, t.Modules)
	}
	if !t.DataSymbols {
		b.WriteString(", no data symbols")
	}
	if t.Hidden {
		b.WriteString(", addresses hidden")
	}
	return b.String()
}

// baseText is "_text 0xffffffff81000000", or "none" without core code.
func baseText(t *symdiff.TableInfo) string {
	if t.BaseSymbol == "" {
		return "none"
	}
	return t.BaseSymbol + " " + hex0x(t.Base)
}

func movedBy(d int64) string {
	if d == 0 {
		return "same"
	}
	return "moved by " + signedHex(d)
}

// writeDiffModules writes how many modules both tables have and which are
// in one only.
func writeDiffModules(w *bufio.Writer, r *symdiff.Result) {
	both, moved := 0, 0
	for i := range r.Modules {
		if m := &r.Modules[i]; m.Name != "" {
			both++
			if m.BaseA != m.BaseB {
				moved++
			}
		}
	}
	line := fmt.Sprintf("%d in both", both)
	if moved > 0 {
		line += fmt.Sprintf(" (%d loaded at other addresses)", moved)
	}
	summaryLine(w, "modules", line)
	for _, side := range []struct {
		name string
		mods []symdiff.ModuleSummary
	}{{"A", r.OnlyInA}, {"B", r.OnlyInB}} {
		if len(side.mods) == 0 {
			continue
		}
		names, syms := make([]string, 0, len(side.mods)), 0
		for _, m := range side.mods {
			names = append(names, m.Name)
			syms += m.Symbols
		}
		summaryLine(w, "only in "+side.name, fmt.Sprintf("%d %s, %d symbols: %s", len(side.mods), pluralWord(len(side.mods), "module"), syms, strings.Join(names, " ")))
	}
}

// writeDiffCounts writes a table of counts for every module with
// differences, and a total when there are several.
func writeDiffCounts(w *bufio.Writer, r *symdiff.Result) {
	total := r.Counts()
	if total.Total() == 0 {
		return
	}
	type row struct {
		name string
		c    symdiff.Counts
	}
	var rows []row
	width := len("module")
	for i := range r.Modules {
		if c := r.Modules[i].Counts(); c.Total() > 0 {
			rows = append(rows, row{moduleLabel(r.Modules[i].Name), c})
			width = max(width, len(rows[len(rows)-1].name))
		}
	}
	if len(rows) > 1 {
		rows = append(rows, row{"total", total})
	}
	fmt.Fprintf(w, "%-*s %8s %8s %8s %8s %8s %8s\n", width, "module", "added", "removed", "renamed", "type", "resized", "moved")
	for _, r := range rows {
		c := r.c
		fmt.Fprintf(w, "%-*s %8d %8d %8d %8d %8d %8d\n", width, r.name, c.Added, c.Removed, c.Renamed, c.TypeChanged, c.Resized, c.Moved)
	}
}

// writeDiffDetails lists every difference of the selected kinds, module by
// module, one per line.
func writeDiffDetails(w *bufio.Writer, r *symdiff.Result, kinds map[string]bool) {
	for i := range r.Modules {
		m := &r.Modules[i]
		mod := moduleLabel(m.Name)
		line := func(kind, text string) { fmt.Fprintf(w, "%-8s %s  %s\n", kind, mod, text) }
		if kinds["renamed"] {
			for _, c := range m.Renamed {
				line("renamed", fmt.Sprintf("%c %s -> %c %s  %s -> %s", c.A.Type, c.A.Name, c.B.Type, c.B.Name, position(c.A, r), position(c.B, r)))
			}
		}
		if kinds["removed"] {
			for _, s := range m.Removed {
				line("removed", fmt.Sprintf("%c %s%s", s.Type, s.Name, placeAndSize(s, r)))
			}
		}
		if kinds["added"] {
			for _, s := range m.Added {
				line("added", fmt.Sprintf("%c %s%s", s.Type, s.Name, placeAndSize(s, r)))
			}
		}
		writeChangeLines(line, m, r, kinds)
	}
}

// writeChangeLines lists the type changes, resizes and moves of a module.
func writeChangeLines(line func(kind, text string), m *symdiff.ModuleDiff, r *symdiff.Result, kinds map[string]bool) {
	if kinds["type"] {
		for _, c := range m.TypeChanged {
			line("type", fmt.Sprintf("%s  %c -> %c", c.A.Name, c.A.Type, c.B.Type))
		}
	}
	if kinds["resized"] {
		for _, c := range m.Resized {
			line("resized", fmt.Sprintf("%s  %s -> %s", c.A.Name, hex0x(c.A.Size), hex0x(c.B.Size)))
		}
	}
	if kinds["moved"] {
		for _, c := range m.Moved {
			line("moved", fmt.Sprintf("%s  %s -> %s", c.A.Name, position(c.A, r), position(c.B, r)))
		}
	}
}

// position prints where a symbol is: +0xOFFSET from its base, its value
// (0x...) for a per-CPU symbol, "-" when positions are not compared.
func position(s symdiff.Symbol, r *symdiff.Result) string {
	switch {
	case r.NamesOnly:
		return "-"
	case s.Relative:
		return "+" + hex0x(s.Offset)
	}
	return hex0x(s.Addr)
}

// placeAndSize is "  +0xOFFSET size 0xSIZE" for an added or removed symbol.
func placeAndSize(s symdiff.Symbol, r *symdiff.Result) string {
	if r.NamesOnly {
		return ""
	}
	out := "  " + position(s, r)
	if s.SizeKnown {
		out += " size " + hex0x(s.Size)
	}
	return out
}

// pluralWord is noun, with an s unless n is 1.
func pluralWord(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
