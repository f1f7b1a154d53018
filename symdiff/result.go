package symdiff

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
)

// result assembles the Result once the symbols are matched.
func (c *comparison) result() *Result {
	r := &Result{
		A: c.a.info, B: c.b.info, Scope: c.scope, NamesOnly: c.namesOnly,
		OnlyInA: c.onlyA, OnlyInB: c.onlyB,
		ModulesExempt: (c.a.info.Kind == KindSystemMap) != (c.b.info.Kind == KindSystemMap),
	}
	if c.namesOnly {
		r.A.Base, r.B.Base = 0, 0
	}
	counts := func(s *side) []int {
		n := make([]int, len(c.joint))
		for i := range s.syms {
			if m := s.syms[i].jmod; m >= 0 {
				n[m]++
			}
		}
		return n
	}
	na, nb := counts(c.a), counts(c.b)
	jointA, jointB := c.localOfJoint(c.a), c.localOfJoint(c.b)
	for id, name := range c.joint {
		if id == 0 && !c.opts.selected("") {
			continue
		}
		m := c.moduleDiff(id)
		m.Name = name
		m.SymbolsA, m.SymbolsB = na[id], nb[id]
		if !c.namesOnly {
			m.BaseA, m.BaseB = c.a.textBase(jointA[id]), c.b.textBase(jointB[id])
		}
		r.Modules = append(r.Modules, m)
	}
	r.Notes = c.notes(r)
	return r
}

// localOfJoint maps joint module ids to a table's local module ids.
func (c *comparison) localOfJoint(s *side) []uint16 {
	out := make([]uint16, len(c.joint))
	for lm, name := range s.modNames {
		if lm == 0 {
			continue
		}
		if k, ok := slices.BinarySearch(c.joint[1:], name); ok && s.modKind[lm] == kallsyms.KindModule {
			out[k+1] = uint16(lm)
		}
	}
	return out
}

// moduleDiff turns the records of joint module id into lists in address
// order (table order, so file order among equal addresses).
func (c *comparison) moduleDiff(id int) ModuleDiff {
	rc := &c.recs[id]
	var m ModuleDiff
	m.Added = symbols(c.b, rc.added)
	m.Removed = symbols(c.a, rc.removed)
	m.Renamed = c.changes(rc.renamed)
	m.TypeChanged = c.changes(rc.typeChanged)
	m.Resized = c.changes(rc.resized)
	m.Moved = c.changes(rc.moved)
	return m
}

func symbols(s *side, idx []int32) []Symbol {
	slices.Sort(idx)
	out := make([]Symbol, len(idx))
	for k, i := range idx {
		out[k] = s.symbol(int(i))
	}
	return out
}

func (c *comparison) changes(recs []pairRec) []Change {
	byA := func(x, y pairRec) int { return cmp.Compare(x.i, y.i) }
	if !slices.IsSortedFunc(recs, byA) {
		slices.SortFunc(recs, byA)
	}
	out := make([]Change, len(recs))
	for k, p := range recs {
		out[k] = Change{A: c.a.symbol(int(p.i)), B: c.b.symbol(int(p.j))}
	}
	return out
}

// notes explains how the comparison adapted to the tables.
func (c *comparison) notes(r *Result) []string {
	var notes []string
	a, b := &r.A, &r.B
	if c.scope == ScopeText {
		without, with := "A", "B"
		if a.DataSymbols {
			without, with = "B", "A"
		}
		notes = append(notes, fmt.Sprintf("%s has no data symbols (kernel built without CONFIG_KALLSYMS_ALL): "+
			"compared only code symbols and section markers, as such a kernel lists them; %d symbols of %s left out",
			without, a.OutOfScope+b.OutOfScope, with))
	}
	notes = append(notes, tableNotes("A", a)...)
	notes = append(notes, tableNotes("B", b)...)
	if c.opts.NamesOnly && !a.Hidden && !b.Hidden {
		notes = append(notes, "compared names and types only (positions and sizes not compared)")
	}
	if r.ModulesExempt && len(r.OnlyInA)+len(r.OnlyInB) > 0 {
		sm, other := "A", "B"
		if b.Kind == KindSystemMap {
			sm, other = "B", "A"
		}
		notes = append(notes, fmt.Sprintf("%s is a System.map, which lists no modules: %s only in %s not compared",
			sm, plural(len(r.OnlyInA)+len(r.OnlyInB), "module"), other))
	}
	return notes
}

// tableNotes explains what was left out of one table, and why.
func tableNotes(name string, t *TableInfo) []string {
	var notes []string
	if t.NotInKallsyms > 0 {
		notes = append(notes, fmt.Sprintf("%s is a System.map: %d symbols /proc/kallsyms never lists "+
			"(absolute symbols, the kallsyms tables) left out; its per-CPU symbols (d, D) match kallsyms' A",
			name, t.NotInKallsyms))
	}
	if t.Hidden {
		notes = append(notes, fmt.Sprintf("%s has hidden addresses (all zero): compared names and types only", name))
	}
	if t.Runtime > 0 {
		notes = append(notes, fmt.Sprintf("%s: %s of runtime pseudo-modules ([bpf], ftrace and kprobe trampolines) not compared",
			name, plural(t.Runtime, "symbol")))
	}
	return notes
}

// Verdict says in one sentence whether the tables are equivalent, and if
// not how they differ: "equivalent: ..." or "differ: ...".
func (r *Result) Verdict() string {
	if !r.Equivalent() {
		return "differ: " + r.differences()
	}
	what := "same symbols, types, sizes and positions relative to the kernel and module bases"
	if r.NamesOnly {
		what = "same symbol names and types (positions and sizes not compared)"
	}
	if r.Scope == ScopeText {
		what += ", code symbols only"
	}
	var moved []string
	if d := r.Slide(); d != 0 {
		moved = append(moved, "kernel base moved by "+signedHex(d)+" (KASLR)")
	}
	if n := r.modulesMoved(); n > 0 {
		moved = append(moved, plural(n, "module")+" loaded at other addresses")
	}
	if len(moved) > 0 {
		what += "; " + strings.Join(moved, ", ")
	}
	return "equivalent: " + what
}

// differences lists the non-zero counts in words.
func (r *Result) differences() string {
	c := r.Counts()
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{
		{c.Added, "added"}, {c.Removed, "removed"}, {c.Renamed, "renamed"},
		{c.TypeChanged, "changed type"}, {c.Resized, "resized"}, {c.Moved, "moved"},
	} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if !r.ModulesExempt {
		if n := len(r.OnlyInA); n > 0 {
			parts = append(parts, plural(n, "module")+" only in A")
		}
		if n := len(r.OnlyInB); n > 0 {
			parts = append(parts, plural(n, "module")+" only in B")
		}
	}
	return strings.Join(parts, ", ")
}

// modulesMoved counts the modules (not the core) at another base in B.
func (r *Result) modulesMoved() int {
	n := 0
	for i := range r.Modules {
		if m := &r.Modules[i]; m.Name != "" && m.BaseA != m.BaseB {
			n++
		}
	}
	return n
}

// signedHex formats d as +0x... or -0x....
func signedHex(d int64) string {
	if d < 0 {
		return "-0x" + strconv.FormatUint(uint64(-d), 16)
	}
	return "+0x" + strconv.FormatUint(uint64(d), 16)
}

// plural is "1 module", "2 modules".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
