package decode

import (
	"fmt"
	"sort"

	"github.com/ksym-dev/ksym/kallsyms"
)

// Module is where a loaded module was in memory: a line of /proc/modules
// ("lkdtm 65536 0 - Live 0xffffffffc09e6000 (OE)": name, size, base).
type Module struct {
	Name string
	// Base is the address /proc/modules prints: the start of the module's
	// core text.
	Base uint64
	// Size is the module's size in bytes as /proc/modules prints it (its
	// text, data and, until it is freed, init memory).
	Size uint64
}

// moduleSet finds the module an address is in.
type moduleSet []Module

// newModuleSet sorts mods by base, dropping modules without an address.
func newModuleSet(mods []Module) moduleSet {
	out := make(moduleSet, 0, len(mods))
	for _, m := range mods {
		if m.Base != 0 && m.Size != 0 {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out
}

// find returns the module whose range [Base, Base+Size) holds a. When
// ranges overlap (the size counts init memory freed after loading, which
// the next module may reuse), the module with the highest base at or below
// a is the one: a module's memory starts at its base.
func (ms moduleSet) find(a uint64) (*Module, bool) {
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Base > a })
	if i == 0 {
		return nil, false
	}
	m := &ms[i-1]
	if a-m.Base >= m.Size {
		return nil, false
	}
	return m, true
}

// named returns the module called name.
func (ms moduleSet) named(name string) (*Module, bool) {
	for i := range ms {
		if ms[i].Name == name {
			return &ms[i], true
		}
	}
	return nil, false
}

// moduleText is how a module address is shown without a symbol:
// "module lkdtm+0x4a5 (base 0xffffffffc09e6000)".
func moduleText(m *Module, a uint64) string {
	return fmt.Sprintf("module %s+0x%x (base 0x%x)", m.Name, a-m.Base, m.Base)
}

// checkModules compares the modules of a runtime table with the modules
// file. A module's text begins at the base /proc/modules prints (the first
// function is there), and modules are placed page by page, so a table and
// a modules file of the same boot agree: the module's lowest text symbol is
// within the first page after its base, and its highest below base+size.
// Another boot moves modules by whole pages. It returns a warning naming
// the first module that disagrees and how many do, or "".
func checkModules(t *kallsyms.Table, ms moduleSet) string {
	bad, first := 0, ""
	for _, m := range ms {
		lo, hi, ok := textRange(t, m.Name)
		if !ok || lo >= m.Base && lo-m.Base < modulePage && hi-m.Base < m.Size {
			continue
		}
		if bad == 0 {
			first = fmt.Sprintf("module %s: the table has its text at 0x%x-0x%x, the modules file puts it at 0x%x-0x%x",
				m.Name, lo, hi, m.Base, m.Base+m.Size)
		}
		bad++
	}
	switch bad {
	case 0:
		return ""
	case 1:
		return first + ": the modules file is not from the boot of the table"
	}
	return fmt.Sprintf("%s, and %d more modules disagree: the modules file is not from the boot of the table", first, bad-1)
}

// textRange returns the lowest and highest address of a module's text
// symbols in t, false when t has none.
func textRange(t *kallsyms.Table, mod string) (lo, hi uint64, ok bool) {
	ids, _ := t.Search(kallsyms.Query{Module: mod, Types: "tT"})
	for n, i := range ids {
		a := t.Addr(i)
		if n == 0 || a < lo {
			lo = a
		}
		hi = max(hi, a)
	}
	return lo, hi, len(ids) > 0
}

// modulePage is the smallest step by which a module moves between boots.
const modulePage = 4096

// checkModuleRange checks, with a System.map and the modules' places, a
// named module frame: its module must be in the modules file, and the
// address it printed ("[<ffffffffc09e64a5>]
// lkdtm_EXCEPTION+0x5/0x20 [lkdtm]") against its module's range: name and
// size cannot be checked (a System.map has no module symbols), the place
// can.
func (d *Decoder) checkModuleRange(f *Frame, res *Result) {
	if !d.opts.SystemMap || len(d.mods) == 0 || f.Module == "" || f.Status != StatusUnchecked {
		return
	}
	m, ok := d.mods.named(f.Module)
	if !ok {
		f.Note += "; module " + f.Module + " is not in the modules file"
		return
	}
	if !f.HasAddr {
		return
	}
	if f.Addr >= m.Base && f.Addr-m.Base < m.Size {
		f.ModuleBase, f.ModuleOffset, f.HasModuleBase = m.Base, f.Addr-m.Base, true
		f.Note = moduleText(m, f.Addr) + ": inside the module; name and size not checked (a System.map has no module symbols)"
		return
	}
	f.Status = StatusSizeMismatch
	f.Note = fmt.Sprintf("the printed address 0x%x is outside module %s (0x%x-0x%x in the modules file)", f.Addr, m.Name, m.Base, m.Base+m.Size)
	if !d.modWarned {
		d.modWarned = true
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %s: the modules file is not from the boot that wrote this log", f.Printed, f.Note))
	}
}
