package kallsyms

import "strconv"

// Location is the answer to an address lookup.
type Location struct {
	Index     int    // index of the symbol in the table
	Offset    uint64 // the address looked up minus the symbol's address
	Size      uint64 // the symbol's kallsyms size; meaningful only if SizeKnown
	SizeKnown bool
}

// Lookup resolves addr as the kernel's %pS does: the symbol with the highest
// address not above addr (the first of several aliases), if the kernel itself
// would resolve addr at all. It returns ErrNoSymbol for any other address and
// ErrAddressesHidden for a hidden table. It does not allocate.
func (t *Table) Lookup(addr uint64) (Location, error) {
	if t.hidden {
		return Location{}, ErrAddressesHidden
	}
	u := t.addrs.upper(addr) // symbols [0, u) are at or below addr
	if u == 0 {
		return Location{}, ErrNoSymbol
	}
	k := u - 1
	r := t.runOf(k)
	first, end := int(t.runs[r].first), t.runEnd(r)
	sym := t.addrs.at(k)
	for k > first && t.addrs.at(k-1) == sym { // the first of several aliases
		k--
	}
	// Symbol u, if in the run, is the next one above: nothing lies between.
	var next uint64
	hasNext := u < end
	if hasNext {
		next = t.addrs.at(u)
	}
	return t.answer(addr, k, r, sym, next, hasNext)
}

// answer resolves addr to symbol k (the first of its aliases, at sym) of run
// r, given the next symbol of the run above addr, if any.
func (t *Table) answer(addr uint64, k, r int, sym, next uint64, hasNext bool) (Location, error) {
	if !t.resolvable(addr, k, r, next, hasNext) {
		return Location{}, ErrNoSymbol
	}
	size, known := t.sizeAt(k, r, addr, next, hasNext)
	return Location{Index: k, Offset: addr - sym, Size: size, SizeKnown: known}, nil
}

// LookupReturn resolves a return address as the kernel's %pB does: it looks
// up addr-1, so that a call at the very end of a function (to a function that
// does not return) is attributed to the caller, and reports the real offset
// (func+0x88/0x88).
func (t *Table) LookupReturn(addr uint64) (Location, error) {
	if addr == 0 {
		if t.hidden {
			return Location{}, ErrAddressesHidden
		}
		return Location{}, ErrNoSymbol
	}
	loc, err := t.Lookup(addr - 1)
	if err != nil {
		return loc, err
	}
	loc.Offset++
	return loc, nil
}

// resolvable reports whether the kernel would attribute addr to symbol k.
func (t *Table) resolvable(addr uint64, k, r int, next uint64, hasNext bool) bool {
	id := t.runs[r].mod
	if id == 0 {
		return t.core.resolvable(addr)
	}
	sym := t.addrs.at(k)
	switch {
	case isAbsolute(t.types[k]):
		return false // a module's per-CPU offset, not an address in it
	case hasNext:
		return addr < next
	}
	// Past the module's last symbol: the module's memory ends at a page
	// boundary at or after it (at its text end, for a text symbol).
	end := roundUp(sym+1, t.pageSize)
	if m := &t.mods[id]; m.textEndKnown && sym < m.textEnd {
		end = max(end, m.textEnd)
	}
	return addr < end
}

// sizeAt computes the kallsyms size of symbol k for a lookup of addr.
func (t *Table) sizeAt(k, r int, addr uint64, next uint64, hasNext bool) (uint64, bool) {
	sym := t.addrs.at(k)
	m := &t.mods[t.runs[r].mod]
	switch {
	case t.runs[r].mod == 0:
		if hasNext {
			return next - sym, true
		}
		end, ok := t.core.endAfterLast(addr)
		return end - sym, ok
	case m.kind != KindModule || !m.textEndKnown:
		return 0, false
	}
	// kernel/module/kallsyms.c: the next symbol above, but never past the
	// end of the module's text; for data the subtraction wraps.
	end := m.textEnd
	if hasNext && next < end {
		end = next
	}
	return end - sym, true
}

// Size returns the kallsyms size of symbol i: the size the kernel prints for
// an address inside it. It is unknown for symbols the kernel does not resolve
// addresses to (per-CPU offsets, markers past the end of the image), for
// BPF and trampoline symbols, and in a hidden table.
func (t *Table) Size(i int) (uint64, bool) {
	loc, err := t.Lookup(t.addrs.at(i))
	if err != nil {
		return 0, false
	}
	return loc.Size, loc.SizeKnown
}

// AppendLocation appends loc as the kernel prints it:
// "name+0xoff/0xsize [module]". Without "/0xsize" when the size is unknown;
// without " [bpf]" for BPF programs, as the kernel prints them.
func (t *Table) AppendLocation(dst []byte, loc Location) []byte {
	dst = append(dst, t.Name(loc.Index)...)
	dst = append(dst, "+0x"...)
	dst = strconv.AppendUint(dst, loc.Offset, 16)
	if loc.SizeKnown {
		dst = append(dst, "/0x"...)
		dst = strconv.AppendUint(dst, loc.Size, 16)
	}
	if mod := t.ModuleName(loc.Index); mod != "" && mod != "bpf" {
		dst = append(dst, " ["...)
		dst = append(dst, mod...)
		dst = append(dst, ']')
	}
	return dst
}

// FormatLocation returns loc as the kernel prints it (see AppendLocation).
func (t *Table) FormatLocation(loc Location) string {
	var buf [128]byte
	return string(t.AppendLocation(buf[:0], loc))
}
