package kstack

import (
	"fmt"

	"github.com/ksym-dev/ksym/kallsyms"
)

// Resolution says what Resolve did.
type Resolution struct {
	// Checked is the number of frames printed with a name and size that
	// were compared with the table.
	Checked int
	// Mismatch is the first disagreement between a printed frame and the
	// table, empty when the table agrees with every frame. A table that
	// disagrees is from another kernel (or another boot, for a printed
	// address) and was not used.
	Mismatch string
	// Resolved is the number of raw addresses named from the table.
	Resolved int
	// Unresolved is the number of raw addresses left as printed: not in
	// any symbol, or the table was not used.
	Unresolved int
	// Hidden reports that the table's addresses are all zero: nothing
	// could be checked or resolved.
	Hidden bool
	// Unverified reports that raw addresses were named although no frame
	// printed with a name and size could confirm the table: the names are
	// right only if the table is from the boot that printed the stacks.
	Unverified bool
}

// Resolve checks every frame the kernel printed by name against t and,
// only when all agree, names the frames that printed a raw address alone
// (as the kernel's %pB does for a return address: the symbol of
// address-1). A named frame agrees when t has a symbol of that name and
// module with the printed size (and, when the kernel also printed an
// address, at that address). Frames printed by name are never changed.
//
// Checking every frame before resolving any means that a table of another
// kernel never names a single frame: the answer is the kernel's text or
// the matching table's, never a blend.
func Resolve(stacks []Stack, t *kallsyms.Table) Resolution {
	var res Resolution
	if t.Hidden() {
		res.Hidden = true
		res.Unresolved = countRaw(stacks)
		return res
	}
	var buf []int
	for i := range stacks {
		for _, f := range stacks[i].Frames {
			if f.Name == "" || f.Resolved || !f.HasOffset || f.Size == 0 {
				continue
			}
			res.Checked++
			var why string
			buf, why = disagreement(t, f, buf)
			if why != "" {
				res.Mismatch = why
				res.Unresolved = countRaw(stacks)
				return res
			}
		}
	}
	for i := range stacks {
		fr := stacks[i].Frames
		for j := range fr {
			if fr[j].Name != "" || !fr[j].HasAddr {
				continue
			}
			loc, err := t.LookupReturn(fr[j].Addr)
			if err != nil {
				res.Unresolved++
				continue
			}
			fr[j].Name, fr[j].Module = t.Name(loc.Index), t.ModuleName(loc.Index)
			fr[j].Offset, fr[j].HasOffset, fr[j].Resolved = loc.Offset, true, true
			if loc.SizeKnown {
				fr[j].Size = loc.Size
			}
			res.Resolved++
		}
	}
	res.Unverified = res.Resolved > 0 && res.Checked == 0
	return res
}

// disagreement returns why the printed frame f disagrees with t, or "".
func disagreement(t *kallsyms.Table, f Frame, buf []int) ([]int, string) {
	buf = t.AppendFind(buf[:0], f.Name)
	var sizes []uint64
	addrWhy := ""
	for _, i := range buf {
		if t.ModuleName(i) != f.Module {
			continue
		}
		size, known := t.Size(i)
		if !known {
			continue
		}
		if size == f.Size && f.Offset <= size {
			if !f.HasAddr || t.Addr(i)+f.Offset == f.Addr {
				return buf, ""
			}
			if addrWhy == "" {
				addrWhy = fmt.Sprintf("%s was printed at 0x%x, the table puts it at 0x%x: the table is not from the boot that printed these stacks", f, f.Addr, t.Addr(i)+f.Offset)
			}
			continue
		}
		sizes = append(sizes, size)
	}
	if addrWhy != "" {
		return buf, addrWhy
	}
	if len(sizes) == 0 {
		return buf, fmt.Sprintf("%s: %s is not in the table: the table is not from the kernel that printed these stacks", f, f.Func())
	}
	return buf, fmt.Sprintf("%s: the table's %s has size 0x%x: the table is not from the kernel that printed these stacks", f, f.Func(), sizes[0])
}

// countRaw counts the frames that printed a raw address alone.
func countRaw(stacks []Stack) int {
	n := 0
	for i := range stacks {
		for _, f := range stacks[i].Frames {
			if f.Name == "" && f.HasAddr {
				n++
			}
		}
	}
	return n
}
