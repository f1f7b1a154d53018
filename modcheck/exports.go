package modcheck

import (
	"fmt"

	"github.com/ksym-dev/ksym/kmod"
)

// tristate is yes, no or unknown.
type tristate int8

const (
	unknown tristate = iota
	no
	yes
)

func known(b bool) tristate {
	if b {
		return yes
	}
	return no
}

// export is what is known of one exported symbol.
type export struct {
	owner     string // "vmlinux" or the module
	gpl       tristate
	namespace string
	nsKnown   bool
	crc       uint32
	crcKnown  bool
	crcSource string
}

// export finds the export of name: in the table (__ksymtab_<name>), then
// among the run's modules that load; without data symbols in the table,
// in Module.symvers for vmlinux and the loaded modules.
func (c *checker) export(name string) (export, bool) {
	t := c.k.Table
	if t.HasDataSymbols() {
		// The kernel refuses a second export of a name, so the first is it.
		if found := t.AppendFind(nil, "__ksymtab_"+name); len(found) > 0 {
			i := found[0]
			e := export{owner: "vmlinux"}
			if !t.IsCore(i) {
				e.owner = t.ModuleName(i)
			} else if c.gplKnown {
				a := t.Addr(i)
				e.gpl = known(a >= c.gplStart && a < c.gplStop)
			}
			c.fromSymvers(name, &e)
			return e, true
		}
	} else if s, ok := c.k.Symvers[name]; ok && (s.Module == "vmlinux" || c.loaded[s.Module]) {
		e := export{owner: s.Module}
		c.fromSymvers(name, &e)
		return e, true
	}
	if r, ok := c.runExports[name]; ok {
		return export{owner: r.owner, gpl: known(r.GPLOnly), namespace: r.Namespace, nsKnown: true,
			crc: r.CRC, crcKnown: r.HasCRC, crcSource: r.owner + ".ko"}, true
	}
	return export{}, false
}

// fromSymvers fills what Module.symvers says of an export, when its line
// names the same exporting module.
func (c *checker) fromSymvers(name string, e *export) {
	s, ok := c.k.Symvers[name]
	if !ok || s.Module != e.owner {
		return
	}
	if e.gpl == unknown {
		e.gpl = known(s.GPLOnly)
	}
	e.namespace, e.nsKnown = s.Namespace, true
	e.crc, e.crcKnown, e.crcSource = s.CRC, true, "Module.symvers"
}

// unknown describes a symbol nothing exports: whether the table has it
// unexported, and who would export it.
func (c *checker) unknown(name string, run []*kmod.Module) Problem {
	p := Problem{Kind: UnknownSymbol, Symbol: name, Certain: true}
	p.InTable = len(c.k.Table.AppendFind(nil, name)) > 0
	if s, ok := c.k.Symvers[name]; ok {
		p.Owner, p.GPLOnly, p.OwnerNotLoaded = s.Module, s.GPLOnly, !c.isLoaded(s.Module)
	}
	for _, m := range run {
		for _, e := range m.Exports {
			if e.Name == name && !c.runLoaded[m.Name] {
				p.Owner, p.GPLOnly, p.OwnerNotLoaded = m.Name, e.GPLOnly, true
			}
		}
	}
	return p
}

// checkCRC compares the module's __versions CRC of name with the export's,
// as the kernel's check_version does.
func (c *checker) checkCRC(m *kmod.Module, name string, e export, r *Result) {
	if !c.modversion {
		return
	}
	if !e.crcKnown {
		r.Unchecked.CRCs++
		return
	}
	if !m.HasVersions {
		if !hasKind(r.Problems, NoVersions) {
			r.Problems = append(r.Problems, Problem{Kind: NoVersions, Symbol: name, Owner: e.owner})
		}
		return
	}
	for _, v := range m.Versions {
		if v.Name != name {
			continue
		}
		if v.CRC != uint64(e.crc) {
			r.Problems = append(r.Problems, Problem{Kind: BadCRC, Symbol: name, Certain: true, Owner: e.owner,
				ModuleCRC: v.CRC, KernelCRC: e.crc, CRCSource: e.crcSource})
		}
		return
	}
	// No entry: the kernel warns "no symbol version for" and lets it go.
}

// checkNamespace is the kernel's verify_namespace_is_imported.
func (c *checker) checkNamespace(m *kmod.Module, name string, e export, r *Result) {
	if !e.nsKnown {
		r.Unchecked.Namespaces++
		return
	}
	if e.namespace == "" {
		return
	}
	for _, ns := range m.Info.ImportNS {
		if ns == e.namespace {
			return
		}
	}
	r.Problems = append(r.Problems, Problem{Kind: MissingNamespace, Symbol: name, Certain: true, Owner: e.owner, Namespace: e.namespace})
}

func hasKind(ps []Problem, k Kind) bool {
	for _, p := range ps {
		if p.Kind == k {
			return true
		}
	}
	return false
}

// String is a short description for tests and debugging.
func (e export) String() string {
	return fmt.Sprintf("%s gpl=%d ns=%q/%v crc=%08x/%v", e.owner, e.gpl, e.namespace, e.nsKnown, e.crc, e.crcKnown)
}
