package symdiff

import (
	"cmp"
	"slices"

	"github.com/ksym-dev/ksym/kallsyms"
)

// comparison holds the state of one Compare.
type comparison struct {
	a, b      *side
	opts      Options
	scope     Scope
	namesOnly bool
	// joint modules, by joint id: 0 is the core kernel, then the modules
	// present in both tables, by name
	joint        []string
	onlyA, onlyB []ModuleSummary
	recs         []moduleRecs // differences by joint module id
	// symbols without a partner of the same name, in each table
	leftA, leftB []int
	// scratch for pairing groups of equal names
	ka, kb []keyed
}

func newComparison(a, b *kallsyms.Table, opts Options) *comparison {
	c := &comparison{a: newSide(a), b: newSide(b), opts: opts, scope: ScopeAll}
	c.namesOnly = opts.NamesOnly || a.Hidden() || b.Hidden()
	if c.a.info.DataSymbols != c.b.info.DataSymbols {
		c.scope = ScopeText
	}
	ja, jb := c.joinModules()
	c.a.classify(filter{opts: &c.opts, text: c.scope == ScopeText,
		systemMap: c.a.info.Kind == KindSystemMap && c.b.info.Kind == KindKallsyms, jointOfMod: ja})
	c.b.classify(filter{opts: &c.opts, text: c.scope == ScopeText,
		systemMap: c.b.info.Kind == KindSystemMap && c.a.info.Kind == KindKallsyms, jointOfMod: jb})
	if !c.namesOnly {
		for _, s := range []*side{c.a, c.b} {
			s.positions()
			s.sizes(len(c.joint))
		}
	}
	c.recs = make([]moduleRecs, len(c.joint))
	return c
}

// joinModules numbers the modules present in both tables (the core kernel
// first, then by name) and lists the others. It returns, for each table's
// local modules, the joint id or -1.
func (c *comparison) joinModules() (ja, jb []int32) {
	inB := map[string]uint16{}
	for lm, name := range c.b.modNames {
		if c.b.modKind[lm] == kallsyms.KindModule {
			inB[name] = uint16(lm)
		}
	}
	c.joint = []string{""}
	for lm, name := range c.a.modNames[1:] {
		if c.a.modKind[lm+1] != kallsyms.KindModule || !c.opts.selected(name) {
			continue
		}
		if _, ok := inB[name]; ok {
			c.joint = append(c.joint, name)
		} else {
			c.onlyA = append(c.onlyA, ModuleSummary{name, c.a.modSyms[lm+1]})
		}
	}
	slices.Sort(c.joint[1:])
	for lm, name := range c.b.modNames[1:] {
		if c.b.modKind[lm+1] == kallsyms.KindModule && c.opts.selected(name) && !slices.Contains(c.joint, name) {
			c.onlyB = append(c.onlyB, ModuleSummary{name, c.b.modSyms[lm+1]})
		}
	}
	byName := func(x, y ModuleSummary) int { return cmp.Compare(x.Name, y.Name) }
	slices.SortFunc(c.onlyA, byName)
	slices.SortFunc(c.onlyB, byName)
	return c.jointIDs(c.a), c.jointIDs(c.b)
}

// jointIDs maps a table's local modules to joint ids.
func (c *comparison) jointIDs(s *side) []int32 {
	ids := make([]int32, len(s.modNames))
	for lm, name := range s.modNames {
		ids[lm] = -1
		if lm == 0 {
			ids[lm] = 0
			continue
		}
		if k, ok := slices.BinarySearch(c.joint[1:], name); ok && s.modKind[lm] == kallsyms.KindModule {
			ids[lm] = int32(k + 1)
		}
	}
	return ids
}

// match pairs the symbols of A with those of B of the same name and module,
// then pairs the rest by compiler clone suffixes.
func (c *comparison) match() {
	a, b := c.a, c.b
	doneA := make([]bool, len(a.syms))
	doneB := make([]bool, len(b.syms))
	var ga, gb []int
	for i := range a.syms {
		if a.syms[i].jmod < 0 || doneA[i] {
			continue
		}
		name := a.t.Name(i)
		ga = compared(a, a.t.AppendFind(ga[:0], name), doneA)
		gb = compared(b, b.t.AppendFind(gb[:0], name), doneB)
		c.pairName(ga, gb)
	}
	for j := range b.syms {
		if b.syms[j].jmod >= 0 && !doneB[j] {
			c.leftB = append(c.leftB, j)
		}
	}
	c.renames()
}

// compared keeps the compared symbols of idx and marks them done.
func compared(s *side, idx []int, done []bool) []int {
	out := idx[:0]
	for _, i := range idx {
		if s.syms[i].jmod >= 0 {
			done[i] = true
			out = append(out, i)
		}
	}
	return out
}

// pairName pairs the symbols of one name (in address order) module by
// module.
func (c *comparison) pairName(ga, gb []int) {
	if len(ga) == 1 && len(gb) == 1 && c.a.syms[ga[0]].jmod == c.b.syms[gb[0]].jmod {
		c.compare(ga[0], gb[0])
		return
	}
	byMod := func(s *side) func(x, y int) int {
		return func(x, y int) int { return cmp.Compare(s.syms[x].jmod, s.syms[y].jmod) }
	}
	slices.SortStableFunc(ga, byMod(c.a))
	slices.SortStableFunc(gb, byMod(c.b))
	for len(ga) > 0 || len(gb) > 0 {
		m := int32(1 << 30)
		if len(ga) > 0 {
			m = c.a.syms[ga[0]].jmod
		}
		if len(gb) > 0 {
			m = min(m, c.b.syms[gb[0]].jmod)
		}
		na := runLen(c.a, ga, m)
		nb := runLen(c.b, gb, m)
		c.pairGroup(ga[:na], gb[:nb])
		ga, gb = ga[na:], gb[nb:]
	}
}

// runLen counts the leading symbols of g in joint module m.
func runLen(s *side, g []int, m int32) int {
	n := 0
	for n < len(g) && s.syms[g[n]].jmod == m {
		n++
	}
	return n
}

// keyed is a symbol of a group with its position, for pairing equal
// positions first.
type keyed struct {
	pos, region uint8
	off         uint64
	idx         int
	paired      bool
}

func cmpKeyed(x, y keyed) int {
	return cmp.Or(cmp.Compare(x.pos, y.pos), cmp.Compare(x.region, y.region),
		cmp.Compare(x.off, y.off), cmp.Compare(x.idx, y.idx))
}

// pairGroup pairs symbols of one name in one module: first those at the
// same position, then the rest in address order. The others are left for
// renames.
func (c *comparison) pairGroup(xa, xb []int) {
	if len(xa) == 1 && len(xb) == 1 {
		c.compare(xa[0], xb[0])
		return
	}
	c.ka, c.kb = keys(c.ka[:0], c.a, xa), keys(c.kb[:0], c.b, xb)
	if !c.namesOnly {
		c.pairSamePosition()
	}
	i, j := 0, 0
	for {
		for i < len(c.ka) && c.ka[i].paired {
			i++
		}
		for j < len(c.kb) && c.kb[j].paired {
			j++
		}
		if i == len(c.ka) || j == len(c.kb) {
			break
		}
		c.compare(c.ka[i].idx, c.kb[j].idx)
		i++
		j++
	}
	c.leftA = appendUnpaired(c.leftA, c.ka[i:])
	c.leftB = appendUnpaired(c.leftB, c.kb[j:])
}

// pairSamePosition pairs the symbols of c.ka and c.kb at the same relative
// position and leaves both in address order.
func (c *comparison) pairSamePosition() {
	slices.SortFunc(c.ka, cmpKeyed)
	slices.SortFunc(c.kb, cmpKeyed)
	for i, j := 0, 0; i < len(c.ka) && j < len(c.kb); {
		x, y := &c.ka[i], &c.kb[j]
		switch d := cmp.Or(cmp.Compare(x.pos, y.pos), cmp.Compare(x.region, y.region), cmp.Compare(x.off, y.off)); {
		case d < 0:
			i++
		case d > 0:
			j++
		default:
			if x.pos != posNone {
				x.paired, y.paired = true, true
				c.compare(x.idx, y.idx)
			}
			i++
			j++
		}
	}
	byIdx := func(x, y keyed) int { return cmp.Compare(x.idx, y.idx) }
	slices.SortFunc(c.ka, byIdx)
	slices.SortFunc(c.kb, byIdx)
}

// appendUnpaired appends the symbols of ks not yet paired.
func appendUnpaired(dst []int, ks []keyed) []int {
	for _, k := range ks {
		if !k.paired {
			dst = append(dst, k.idx)
		}
	}
	return dst
}

func keys(dst []keyed, s *side, idx []int) []keyed {
	for _, i := range idx {
		p := &s.syms[i]
		dst = append(dst, keyed{pos: p.pos, region: p.region, off: p.off, idx: i})
	}
	return dst
}

// moduleRecs records the differences of one module as symbol indices,
// turned into a ModuleDiff at the end.
type moduleRecs struct {
	added, removed                       []int32 // in B, in A
	renamed, typeChanged, resized, moved []pairRec
}

// pairRec is a symbol of A and its partner in B.
type pairRec struct{ i, j int32 }

// compare records how symbol i of A and symbol j of B, of the same name,
// differ.
func (c *comparison) compare(i, j int) {
	pa, pb := &c.a.syms[i], &c.b.syms[j]
	ta, tb := c.a.t.Type(i), c.b.t.Type(j)
	m := &c.recs[pa.jmod]
	p := pairRec{int32(i), int32(j)}
	if !sameType(ta, tb, pa.pos == posAbs || pb.pos == posAbs) {
		m.typeChanged = append(m.typeChanged, p)
	}
	if c.namesOnly {
		return
	}
	if pa.sizeKnown && pb.sizeKnown && pa.size != pb.size {
		m.resized = append(m.resized, p)
	}
	if moved(pa, pb) {
		m.moved = append(m.moved, p)
	}
}

// sameType compares type letters. A per-CPU symbol is A in a kallsyms table
// of x86_64 (the kernel makes them absolute) and d or D in a System.map.
func sameType(ta, tb byte, perCPU bool) bool {
	return ta == tb || perCPU && (ta == 'A' || tb == 'A')
}

func moved(pa, pb *sym) bool {
	if pa.pos != pb.pos {
		return true
	}
	return pa.pos != posNone && (pa.region != pb.region || pa.off != pb.off)
}

// symbol describes symbol i for the result.
func (s *side) symbol(i int) Symbol {
	p := &s.syms[i]
	return Symbol{
		Name: s.t.Name(i), Type: s.t.Type(i), Addr: s.t.Addr(i),
		Offset: p.off, Relative: p.pos == posRel, Size: p.size, SizeKnown: p.sizeKnown,
	}
}

// renames pairs the symbols left without a partner whose names differ only
// by compiler clone suffixes, in address order; the rest are removed (A) or
// added (B).
func (c *comparison) renames() {
	slices.Sort(c.leftA)
	cand := map[renameKey][]int{}
	for _, i := range c.leftA {
		if k, ok := c.a.renameKey(i); ok {
			cand[k] = append(cand[k], i)
		}
	}
	renamed := map[int]bool{}
	for _, j := range c.leftB {
		m := &c.recs[c.b.syms[j].jmod]
		k, ok := c.b.renameKey(j)
		if list := cand[k]; ok && len(list) > 0 {
			cand[k] = list[1:]
			renamed[list[0]] = true
			m.renamed = append(m.renamed, pairRec{int32(list[0]), int32(j)})
			continue
		}
		m.added = append(m.added, int32(j))
	}
	for _, i := range c.leftA {
		if !renamed[i] {
			m := &c.recs[c.a.syms[i].jmod]
			m.removed = append(m.removed, int32(i))
		}
	}
}

// renameKey returns the key under which symbol i may be paired as a rename.
func (s *side) renameKey(i int) (renameKey, bool) {
	base, suffix, ok := renameBase(s.t.Name(i))
	if !ok {
		return renameKey{}, false
	}
	return renameKey{mod: s.syms[i].jmod, base: base, cold: isCold(suffix), text: kallsyms.IsText(s.t.Type(i))}, true
}
