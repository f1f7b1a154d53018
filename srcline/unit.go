package srcline

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// unit is one compilation unit, parsed as far as lookups have needed.
type unit struct {
	obj     *object
	off     uint64 // header offset in .debug_info
	d       *dwarf.Data
	base    dwarf.Offset // the unit's header in d
	cu      *dwarf.Entry
	compDir string
	root    string // the source tree, see treePath

	funcs    []funcRange // top-level subprograms with code, by address
	funcsErr error
	haveFunc bool

	lines    []lineSeq
	lr       *dwarf.LineReader
	files    []*dwarf.LineFile
	linesErr error
	haveLine bool

	names map[dwarf.Offset]string
}

// funcRange is one address range of a subprogram.
type funcRange struct {
	lo, hi uint64
	off    dwarf.Offset
}

// lineSeq is one sequence of the line table: rows by increasing address,
// marked every markEvery rows.
type lineSeq struct {
	lo, hi uint64
	marks  []lineMark
}

// lineMark is where to resume decoding the line table to reach addr.
type lineMark struct {
	addr uint64
	pos  dwarf.LineReaderPos
}

// lineRow is one row of the line table.
type lineRow struct {
	addr      uint64
	file      *dwarf.LineFile
	line, col int32
}

// openUnit opens the unit at off and reads its root entry.
func (o *object) openUnit(off uint64) (*unit, error) {
	d, base, err := o.newUnitData(off)
	if err != nil {
		return nil, err
	}
	r := d.Reader()
	r.Seek(base)
	cu, err := r.Next()
	if err != nil {
		return nil, err
	}
	if cu == nil || (cu.Tag != dwarf.TagCompileUnit && cu.Tag != dwarf.TagPartialUnit) {
		return nil, fmt.Errorf(".debug_info: no compilation unit at 0x%x", off)
	}
	u := &unit{obj: o, off: off, d: d, base: base, cu: cu, names: make(map[dwarf.Offset]string)}
	u.compDir, _ = cu.Val(dwarf.AttrCompDir).(string)
	name, _ := cu.Val(dwarf.AttrName).(string)
	u.root = sourceRoot(name, u.compDir)
	return u, nil
}

// subprograms indexes the unit's top-level subprograms by address: read
// by skimFunctions, or by the standard decoder when it cannot.
func (u *unit) subprograms() ([]funcRange, error) {
	if u.haveFunc {
		return u.funcs, u.funcsErr
	}
	u.haveFunc = true
	funcs, err := u.skimmed()
	if err != nil {
		funcs, err = u.walkFunctions()
	}
	if err != nil {
		u.funcsErr = err
		return nil, err
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].lo < funcs[j].lo })
	u.funcs = funcs
	return funcs, nil
}

// skimmed indexes the subprograms with skimFunctions, reading those with
// DW_AT_ranges with the standard decoder.
func (u *unit) skimmed() ([]funcRange, error) {
	funcs, ranged, err := u.obj.skimFunctions(u.off)
	if err != nil {
		return nil, err
	}
	for i := range funcs {
		funcs[i].off += u.base
	}
	r := u.d.Reader()
	for _, off := range ranged {
		r.Seek(u.base + off)
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		if e == nil || e.Tag != dwarf.TagSubprogram {
			return nil, errSkim
		}
		if funcs, err = u.appendRanges(funcs, e); err != nil {
			return nil, err
		}
	}
	return funcs, nil
}

// walkFunctions indexes the subprograms with the standard decoder.
func (u *unit) walkFunctions() ([]funcRange, error) {
	var funcs []funcRange
	r := u.d.Reader()
	r.Seek(u.base)
	if _, err := r.Next(); err != nil { // the unit's root
		return nil, err
	}
	for {
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		if e == nil || e.Tag == 0 {
			break
		}
		if e.Tag == dwarf.TagSubprogram {
			if funcs, err = u.appendRanges(funcs, e); err != nil {
				return nil, err
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
	return funcs, nil
}

// appendRanges appends the ranges of subprogram e.
func (u *unit) appendRanges(funcs []funcRange, e *dwarf.Entry) ([]funcRange, error) {
	rs, err := u.d.Ranges(e)
	if err != nil {
		return nil, err
	}
	for _, rg := range rs {
		if rg[1] > rg[0] {
			funcs = append(funcs, funcRange{rg[0], rg[1], e.Offset})
		}
	}
	return funcs, nil
}

// function returns the subprogram whose code holds pc.
func (u *unit) function(pc uint64) (dwarf.Offset, bool, error) {
	fs, err := u.subprograms()
	if err != nil {
		return 0, false, err
	}
	i := sort.Search(len(fs), func(i int) bool { return fs[i].lo > pc }) - 1
	for k := i; k >= 0 && k > i-8; k-- {
		if fs[k].lo <= pc && pc < fs[k].hi {
			return fs[k].off, true, nil
		}
	}
	return 0, false, nil
}

// scopes returns the subprogram at off and the inlined subroutines in it
// that hold pc, outermost first.
func (u *unit) scopes(off dwarf.Offset, pc uint64) (*dwarf.Entry, []*dwarf.Entry, error) {
	r := u.d.Reader()
	r.Seek(off)
	sub, err := r.Next()
	if err != nil {
		return nil, nil, err
	}
	if sub == nil || !sub.Children {
		return sub, nil, nil
	}
	var chain []*dwarf.Entry
	// stack holds, for each level entered, whether it was entered because
	// its ranges hold pc (then no sibling after it can) or because it has
	// no ranges of its own (a lexical block without addresses).
	stack := []bool{true}
	for len(stack) > 0 {
		e, err := r.Next()
		if err != nil {
			return nil, nil, err
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			holds := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if holds {
				break
			}
			continue
		}
		if e.Tag != dwarf.TagInlinedSubroutine && e.Tag != dwarf.TagLexDwarfBlock {
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		rs, err := u.d.Ranges(e)
		if err != nil {
			return nil, nil, err
		}
		holds := inRanges(rs, pc)
		switch {
		case holds && e.Tag == dwarf.TagInlinedSubroutine:
			chain = append(chain, e)
		case !holds && len(rs) > 0:
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		if e.Children {
			stack = append(stack, holds)
		}
	}
	return sub, chain, nil
}

func inRanges(rs [][2]uint64, pc uint64) bool {
	for _, r := range rs {
		if r[0] <= pc && pc < r[1] {
			return true
		}
	}
	return false
}

// markEvery is the number of line table rows between two marks: a lookup
// decodes at most this many rows, and the table costs about two bytes a
// row instead of a copy of every row.
const markEvery = 32

// lineTable reads the unit's line table once, keeping the sequences'
// ranges and a mark every markEvery rows.
func (u *unit) lineTable() ([]lineSeq, error) {
	if u.haveLine {
		return u.lines, u.linesErr
	}
	u.haveLine = true
	lr, err := u.d.LineReader(u.cu)
	if err == nil && lr == nil {
		err = errors.New("unit has no line table")
	}
	if err != nil {
		u.linesErr = err
		return nil, err
	}
	u.lr = lr
	var seq *lineSeq
	var le dwarf.LineEntry
	n := 0
	for {
		pos := lr.Tell()
		if err := lr.Next(&le); err != nil {
			if err == io.EOF {
				break
			}
			u.linesErr = err
			return nil, err
		}
		switch {
		case le.EndSequence:
			if seq != nil && le.Address > seq.lo {
				seq.hi = le.Address
				u.lines = append(u.lines, *seq)
			}
			seq = nil
		case seq == nil:
			seq = &lineSeq{lo: le.Address, marks: []lineMark{{le.Address, pos}}}
			n = 1
		default:
			if n%markEvery == 0 {
				seq.marks = append(seq.marks, lineMark{le.Address, pos})
			}
			n++
		}
	}
	u.files = lr.Files()
	for _, f := range u.files {
		if f != nil {
			f.Name = u.fullPath(f.Name)
		}
	}
	sort.SliceStable(u.lines, func(i, j int) bool { return u.lines[i].lo < u.lines[j].lo })
	return u.lines, nil
}

// line returns the line table row for pc: the last row at or below pc in
// the sequence that holds pc.
func (u *unit) line(pc uint64) (lineRow, bool, error) {
	seqs, err := u.lineTable()
	if err != nil {
		return lineRow{}, false, err
	}
	i := sort.Search(len(seqs), func(i int) bool { return seqs[i].lo > pc }) - 1
	for k := i; k >= 0 && k > i-8; k-- {
		s := seqs[k]
		if pc < s.lo || pc >= s.hi {
			continue
		}
		j := sort.Search(len(s.marks), func(j int) bool { return s.marks[j].addr > pc }) - 1
		return u.scanLines(s.marks[j].pos, pc)
	}
	return lineRow{}, false, nil
}

// scanLines decodes rows from pos up to pc.
func (u *unit) scanLines(pos dwarf.LineReaderPos, pc uint64) (lineRow, bool, error) {
	u.lr.Seek(pos)
	var le dwarf.LineEntry
	var row lineRow
	found := false
	for {
		if err := u.lr.Next(&le); err != nil {
			if err == io.EOF {
				return row, found, nil
			}
			return row, found, err
		}
		if le.Address > pc || le.EndSequence {
			return row, found, nil
		}
		row, found = lineRow{le.Address, le.File, int32(le.Line), int32(le.Column)}, true
	}
}

// callSite returns the file and line an inlined subroutine was called from.
func (u *unit) callSite(e *dwarf.Entry) (file string, line, col int) {
	if _, err := u.lineTable(); err != nil {
		return "", 0, 0
	}
	if i, ok := e.Val(dwarf.AttrCallFile).(int64); ok && i >= 0 && i < int64(len(u.files)) && u.files[i] != nil {
		file = u.files[i].Name
	}
	l, _ := e.Val(dwarf.AttrCallLine).(int64)
	c, _ := e.Val(dwarf.AttrCallColumn).(int64)
	return file, int(l), int(c)
}

// fullPath completes a file name of the line table: the standard decoder
// joins a DWARF 5 file's directory to it but not the compilation directory
// to a relative directory, which the standard (and addr2line and
// llvm-symbolizer) puts in front.
func (u *unit) fullPath(name string) string {
	if name == "" || u.compDir == "" || strings.HasPrefix(name, "/") || strings.HasPrefix(name, u.compDir+"/") {
		return name
	}
	return u.compDir + "/" + name
}

// sourceRoot returns the root of the source tree of a unit named name and
// compiled in compDir: compDir when the name is relative; else the longest
// directory the name and compDir share (a kernel built with O= compiles
// $(srctree)/mm/slub.c in $(srctree)/debian/build/...: the root is srctree).
func sourceRoot(name, compDir string) string {
	if name == "" || compDir == "" {
		return compDir
	}
	if !strings.HasPrefix(name, "/") {
		return compDir
	}
	a, b := strings.Split(name, "/"), strings.Split(compDir, "/")
	n := 0
	for n < len(a)-1 && n < len(b) && a[n] == b[n] {
		n++
	}
	if n <= 1 {
		return compDir
	}
	return strings.Join(a[:n], "/")
}

// treePath returns file relative to the unit's compilation directory or,
// outside it, to its source tree; any other file (a compiler's header)
// stays as it is.
func (u *unit) treePath(file string) string {
	for _, dir := range []string{u.compDir, u.root} {
		if dir != "" && dir != "/" && strings.HasPrefix(file, dir+"/") {
			return file[len(dir)+1:]
		}
	}
	return file
}
