package srcline

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
)

// ErrNoLine reports an address that no unit's code or line table covers
// (code without debug information, or an address outside the file).
var ErrNoLine = errors.New("no source line for this address")

// Frame is one source location of a chain: a function and where in it.
type Frame struct {
	// Function is the function's DWARF name (direct_entry, not
	// direct_entry.cold).
	Function string
	// File is the source file as the DWARF names it (absolute when the
	// compiler recorded it so, as addr2line prints it); TreeFile is the
	// same file relative to the source tree of the kernel or module (see
	// Symbolizer.Lookup).
	File, TreeFile string
	// Line and Column are 0 when unknown.
	Line, Column int
	// Inlined is true for a function inlined into the next frame.
	Inlined bool
}

// Symbolizer answers source-line questions for one ELF file with DWARF:
// a vmlinux, a module (.ko, also .ko.xz, .ko.zst, .ko.gz) or a separate
// debug file of either. It reads only the units an address needs. It is not
// safe for concurrent use.
type Symbolizer struct {
	obj   *object
	index []cuRange
	// scanned is set once index covers every unit (built from the units
	// themselves, when .debug_aranges is missing or does not know an
	// address).
	scanned bool
	units   map[uint64]*unit
	headers []uint64 // every unit's offset, once needed

	symbols    []Symbol
	symbolsErr error
	syms       map[string][]Symbol
	symErr     error
	byAddr     []codeSym // code symbols by address, for symbolAt
}

// Open opens an ELF file with DWARF debug information. A plain file is
// mapped, not read; a compressed one (.ko.xz) is decompressed into memory.
// A relocatable object (.ko) has its allocated sections laid out one after
// the other and its DWARF relocated accordingly.
func Open(path string) (*Symbolizer, error) {
	o, err := openObject(path)
	if err != nil {
		return nil, err
	}
	s := &Symbolizer{obj: o, units: make(map[uint64]*unit)}
	if b := o.secs[".debug_aranges"]; len(b) > 0 {
		err = guard(path, func() error {
			var err error
			s.index, err = parseAranges(b, o.ef.ByteOrder)
			return err
		})
		if err != nil {
			s.index = nil // rebuilt from the units when needed
		}
	}
	return s, nil
}

// Close releases the file.
func (s *Symbolizer) Close() error { return s.obj.close() }

// Path returns the file's path.
func (s *Symbolizer) Path() string { return s.obj.path }

// Relocatable reports whether the file is a relocatable object (a module),
// whose addresses are only meaningful per section: use LookupSection or
// LookupSymbol.
func (s *Symbolizer) Relocatable() bool { return s.obj.ef.Type == elf.ET_REL }

// Lookup returns the source chain of addr, innermost first: the function
// and line addr is in, then each function it was inlined into, with the
// line of the call, ending with the real (not inlined) function. For a
// vmlinux, addr is a link-time address (a running kernel's address minus
// its KASLR offset). With isReturn, addr is a return address: the chain of
// addr-1, the call instruction, is returned, as it must be for every frame
// of a stack trace but the faulting one.
//
// TreeFile names files relative to the unit's compilation directory or,
// outside it, to the directory the unit's source file and its compilation
// directory share (the kernel source tree when a kernel is built with O=).
func (s *Symbolizer) Lookup(addr uint64, isReturn bool) ([]Frame, error) {
	if isReturn && addr > 0 {
		addr--
	}
	var out []Frame
	err := guard(s.obj.path, func() error {
		var err error
		out, err = s.lookup(addr)
		return err
	})
	return out, err
}

// LookupSection returns the chain of the address off bytes into the
// allocated section named section (".text.unlikely"), as addr2line -j
// does. For a module this is the way to name an address without a symbol.
func (s *Symbolizer) LookupSection(section string, off uint64, isReturn bool) ([]Frame, error) {
	base, sec, ok := s.obj.sectionBase(section)
	if !ok {
		return nil, fmt.Errorf("%s: no allocated section %s", s.obj.path, section)
	}
	if off > sec.Size {
		return nil, fmt.Errorf("%s: offset 0x%x is past the end of %s (0x%x bytes)", s.obj.path, off, section, sec.Size)
	}
	return s.Lookup(base+off, isReturn)
}

// LookupSymbol returns the chain of the address off bytes into the symbol
// named name, as the kernel prints it (direct_entry.cold+0x18): the symbol
// is placed by its own section and value. A name that several symbols of
// different addresses share is refused (ErrAmbiguous).
func (s *Symbolizer) LookupSymbol(name string, off uint64, isReturn bool) ([]Frame, error) {
	addr, err := s.SymbolAddress(name)
	if err != nil {
		return nil, err
	}
	return s.Lookup(addr+off, isReturn)
}

// lookup finds the unit of pc and the chain in it.
func (s *Symbolizer) lookup(pc uint64) ([]Frame, error) {
	u, err := s.unitFor(pc)
	if err != nil {
		return nil, err
	}
	row, hasLine, err := u.line(pc)
	if err != nil {
		return nil, fmt.Errorf("%s: line table of unit 0x%x: %w", s.obj.path, u.off, err)
	}
	fnOff, hasFunc, err := u.function(pc)
	if err != nil {
		return nil, fmt.Errorf("%s: unit 0x%x: %w", s.obj.path, u.off, err)
	}
	if !hasFunc {
		if !hasLine {
			return nil, fmt.Errorf("%s: 0x%x: %w", s.obj.path, pc, ErrNoLine)
		}
		// Code with lines but no subprogram: assembly, or the padding
		// after a function's last instruction.
		return []Frame{s.frame(u, s.symbolAt(pc), row.file, int(row.line), int(row.col), false)}, nil
	}
	sub, chain, err := u.scopes(fnOff, pc)
	if err != nil {
		return nil, fmt.Errorf("%s: unit 0x%x: %w", s.obj.path, u.off, err)
	}
	frames := make([]Frame, 0, len(chain)+1)
	var file *dwarf.LineFile
	line, col := 0, 0
	if hasLine {
		file, line, col = row.file, int(row.line), int(row.col)
	}
	name := ""
	if len(chain) > 0 {
		name = s.name(u, chain[len(chain)-1])
	} else {
		name = s.name(u, sub)
	}
	frames = append(frames, s.frame(u, name, file, line, col, len(chain) > 0))
	for i := len(chain) - 1; i >= 0; i-- {
		callFile, callLine, callCol := u.callSite(chain[i])
		outer := sub
		if i > 0 {
			outer = chain[i-1]
		}
		f := Frame{Function: s.name(u, outer), File: callFile, TreeFile: u.treePath(callFile), Line: callLine, Column: callCol, Inlined: i > 0}
		frames = append(frames, f)
	}
	return frames, nil
}

func (s *Symbolizer) frame(u *unit, fn string, file *dwarf.LineFile, line, col int, inlined bool) Frame {
	f := Frame{Function: fn, Line: line, Column: col, Inlined: inlined}
	if file != nil {
		f.File = file.Name
		f.TreeFile = u.treePath(file.Name)
	}
	return f
}

// unitFor returns the unit whose code holds pc.
func (s *Symbolizer) unitFor(pc uint64) (*unit, error) {
	off, ok := findRange(s.index, pc)
	if !ok && !s.scanned {
		if err := s.scanUnits(); err != nil {
			return nil, err
		}
		off, ok = findRange(s.index, pc)
	}
	if !ok {
		return nil, fmt.Errorf("%s: 0x%x: %w", s.obj.path, pc, ErrNoLine)
	}
	return s.unit(off)
}

// unit returns the unit at off, opened once.
func (s *Symbolizer) unit(off uint64) (*unit, error) {
	if u := s.units[off]; u != nil {
		return u, nil
	}
	u, err := s.obj.openUnit(off)
	if err != nil {
		return nil, fmt.Errorf("%s: unit at 0x%x: %w", s.obj.path, off, err)
	}
	s.units[off] = u
	return u, nil
}

// scanUnits adds to the index the units .debug_aranges does not list, by
// their own ranges: the fallback when .debug_aranges is absent (clang does
// not emit it) or incomplete. Only those units are opened.
func (s *Symbolizer) scanUnits() error {
	s.scanned = true
	offs, err := s.unitOffsets()
	if err != nil && len(offs) == 0 {
		return fmt.Errorf("%s: %w", s.obj.path, err)
	}
	listed := make(map[uint64]bool, len(offs))
	for _, r := range s.index {
		listed[r.off] = true
	}
	idx := s.index
	for _, off := range offs {
		if listed[off] {
			continue
		}
		u, err := s.unit(off)
		if err != nil {
			continue
		}
		rs, err := u.d.Ranges(u.cu)
		if err != nil {
			continue
		}
		for _, r := range rs {
			if r[1] > r[0] {
				idx = append(idx, cuRange{r[0], r[1], off})
			}
		}
	}
	sortRanges(idx)
	s.index = idx
	return nil
}

// unitOffsets returns the header offset of every unit, read once.
func (s *Symbolizer) unitOffsets() ([]uint64, error) {
	if s.headers != nil {
		return s.headers, nil
	}
	offs, err := unitHeaders(s.obj.secs[".debug_info"], s.obj.ef.ByteOrder)
	s.headers = offs
	return offs, err
}

// name returns the name of a subprogram or inlined subroutine, following
// DW_AT_abstract_origin and DW_AT_specification.
func (s *Symbolizer) name(u *unit, e *dwarf.Entry) string { return s.nameAt(u, e, 0) }

func (s *Symbolizer) nameAt(u *unit, e *dwarf.Entry, depth int) string {
	if n, ok := e.Val(dwarf.AttrName).(string); ok {
		return n
	}
	if depth >= 16 {
		return ""
	}
	for _, a := range []dwarf.Attr{dwarf.AttrAbstractOrigin, dwarf.AttrSpecification} {
		off, ok := e.Val(a).(dwarf.Offset)
		if !ok {
			continue
		}
		if n, ok := u.names[off]; ok {
			return n
		}
		r := u.d.Reader()
		r.Seek(off)
		n := ""
		if next, err := r.Next(); err == nil && next != nil {
			n = s.nameAt(u, next, depth+1)
		}
		u.names[off] = n
		return n
	}
	return ""
}
