package modcheck

import (
	"errors"
	"slices"
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/kmod"
)

// Kernel is what is known of the kernel the modules would load on.
type Kernel struct {
	// Table is the kernel's kallsyms (required).
	Table *kallsyms.Table
	// Vermagic is the kernel's VERMAGIC_STRING ("6.1.0-56-amd64 SMP
	// preempt mod_unload modversions "); "" when unknown.
	Vermagic string
	// Symvers is the kernel build's Module.symvers; nil when unknown.
	Symvers Symvers
	// Loaded names modules known to be loaded besides those with symbols
	// in Table (for example from /proc/modules).
	Loaded []string
}

// Verdict is the answer for one module.
type Verdict string

// Verdicts.
const (
	Loads       Verdict = "loads"
	WillNotLoad Verdict = "will_not_load"
	CannotTell  Verdict = "cannot_tell"
)

// Result is the answer for one module.
type Result struct {
	Module  *kmod.Module
	Verdict Verdict
	// Problems lists every reason, in the order the loader meets them
	// (vermagic, module_layout, then symbols in symbol-table order), and
	// the missing dependencies. The kernel stops at the first failing step
	// and prints only that step's lines; all are listed here.
	Problems []Problem
	// LoadOrder is the module's place (from 1) in an order in which the
	// modules of the run that load can be loaded one after the other; 0
	// when it will not load.
	LoadOrder int
	// AlreadyLoaded: a module of that name is loaded; the kernel would
	// refuse a second one (EEXIST). It is checked as if it were not.
	AlreadyLoaded bool
	// Resolved counts the undefined symbols found exported.
	Resolved int
	// Unchecked says what could not be checked for lack of data.
	Unchecked Unchecked
}

// Unchecked counts what could not be checked.
type Unchecked struct {
	Vermagic   bool `json:"vermagic"`   // the kernel's vermagic is unknown
	CRCs       int  `json:"crcs"`       // symbols whose export CRC is unknown
	Namespaces int  `json:"namespaces"` // symbols whose export namespace is unknown
}

// ErrNoExports is returned when the table has no data symbols (no
// CONFIG_KALLSYMS_ALL), so no __ksymtab_ symbols tell what is exported,
// and no Module.symvers was given to tell it instead.
var ErrNoExports = errors.New("the table has no data symbols (the kernel lacks CONFIG_KALLSYMS_ALL), so it does not tell which symbols are exported")

// Check decides for each module whether it would load on k, returning
// results in the order of mods. The modules are taken as one run: each may
// use the exports of, and satisfy the depends= of, the others that load
// before it, in an order Check finds (LoadOrder).
func Check(k Kernel, mods []*kmod.Module) ([]Result, error) {
	if !k.Table.HasDataSymbols() && k.Symvers == nil {
		return nil, ErrNoExports
	}
	c := newChecker(k)
	results := make([]Result, len(mods))
	done := make([]bool, len(mods))
	order := 0
	for progress := true; progress; {
		progress = false
		for i, m := range mods {
			if done[i] {
				continue
			}
			r := c.check(m, mods)
			if r.Verdict == WillNotLoad {
				continue
			}
			order++
			r.LoadOrder = order
			results[i], done[i], progress = r, true, true
			c.add(m)
		}
	}
	for i, m := range mods {
		if !done[i] {
			results[i] = c.check(m, mods)
		}
	}
	return results, nil
}

// checker holds the kernel and the modules of the run loaded so far.
type checker struct {
	k          Kernel
	loaded     map[string]bool // module names loaded in the kernel
	runLoaded  map[string]bool // names of run modules that load
	runExports map[string]runExport
	gplStart   uint64
	gplStop    uint64
	gplKnown   bool
	modversion bool // the kernel checks CRCs
}

type runExport struct {
	kmod.Export
	owner string
}

func newChecker(k Kernel) *checker {
	c := &checker{k: k, loaded: map[string]bool{}, runLoaded: map[string]bool{}, runExports: map[string]runExport{}}
	t := k.Table
	for i := 0; i < t.Len(); i++ {
		if m := t.ModuleName(i); m != "" {
			c.loaded[m] = true
		}
	}
	for _, m := range k.Loaded {
		c.loaded[normalize(m)] = true
	}
	start, ok1 := coreSymbol(t, "__start___ksymtab_gpl")
	stop, ok2 := coreSymbol(t, "__stop___ksymtab_gpl")
	c.gplStart, c.gplStop, c.gplKnown = start, stop, ok1 && ok2 && !t.Hidden() && start <= stop
	// CONFIG_MODVERSIONS puts "modversions " in vermagic; without the
	// vermagic, CRCs are checked when known and counted unchecked when not.
	c.modversion = k.Vermagic == "" || slices.Contains(strings.Fields(k.Vermagic), "modversions")
	return c
}

// normalize turns a module name as modprobe accepts it into the kernel's.
func normalize(name string) string { return strings.ReplaceAll(name, "-", "_") }

// coreSymbol returns the address of a core-kernel symbol.
func coreSymbol(t *kallsyms.Table, name string) (uint64, bool) {
	for _, i := range t.AppendFind(nil, name) {
		if t.IsCore(i) {
			return t.Addr(i), true
		}
	}
	return 0, false
}

// add makes a module that loads part of the kernel for the next ones.
func (c *checker) add(m *kmod.Module) {
	if c.loaded[m.Name] {
		return // its exports are in the table already
	}
	c.runLoaded[m.Name] = true
	for _, e := range m.Exports {
		c.runExports[e.Name] = runExport{e, m.Name}
	}
}

// isLoaded reports whether the module name is loaded or loads in the run.
func (c *checker) isLoaded(name string) bool {
	name = normalize(name)
	return c.loaded[name] || c.runLoaded[name]
}

// check decides for one module against the kernel and the run so far.
func (c *checker) check(m *kmod.Module, run []*kmod.Module) Result {
	r := Result{Module: m, AlreadyLoaded: c.loaded[m.Name]}
	c.checkVermagic(m, &r)
	if c.modversion && m.HasVersions {
		if e, ok := c.export("module_layout"); ok {
			c.checkCRC(m, "module_layout", e, &r)
		}
	}
	gplOK := kmod.LicenseIsGPLCompatible(m.Info.License)
	for _, u := range m.Undefined {
		e, ok := c.export(u.Name)
		if !ok {
			if !u.Weak {
				r.Problems = append(r.Problems, c.unknown(u.Name, run))
			}
			continue
		}
		if !gplOK && e.gpl != no {
			if u.Weak { // find_symbol fails, and a weak symbol may stay unresolved
				continue
			}
			p := Problem{Kind: UnknownSymbol, Symbol: u.Name, Certain: true, Owner: e.owner, GPLOnly: true, License: m.Info.License}
			if e.gpl == unknown {
				p.Kind, p.Certain, p.GPLOnly = GPLUnknown, false, false
			}
			r.Problems = append(r.Problems, p)
			continue
		}
		r.Resolved++
		c.checkCRC(m, u.Name, e, &r)
		c.checkNamespace(m, u.Name, e, &r)
	}
	for _, d := range m.Info.Depends {
		if !c.isLoaded(d) {
			r.Problems = append(r.Problems, Problem{Kind: MissingDependency, Certain: true, Dependency: d})
		}
	}
	r.Verdict = verdict(r.Problems)
	return r
}

func verdict(ps []Problem) Verdict {
	v := Loads
	for _, p := range ps {
		if p.Certain {
			return WillNotLoad
		}
		v = CannotTell
	}
	return v
}

// checkVermagic compares vermagic as the kernel's same_magic does.
func (c *checker) checkVermagic(m *kmod.Module, r *Result) {
	switch {
	case c.k.Vermagic == "":
		r.Unchecked.Vermagic = true
	case !m.Info.Has("vermagic"):
		r.Problems = append(r.Problems, Problem{Kind: NoVermagic, KernelVermagic: c.k.Vermagic})
	case !sameMagic(m.Info.Vermagic, c.k.Vermagic, m.HasVersions):
		r.Problems = append(r.Problems, Problem{Kind: BadVermagic, Certain: true, Vermagic: m.Info.Vermagic, KernelVermagic: c.k.Vermagic})
	}
}

// sameMagic is the kernel's same_magic: with CRCs (the module has
// __versions), the release before the first space is not compared.
func sameMagic(a, b string, hasCRCs bool) bool {
	if hasCRCs {
		a = a[strings.IndexByte(a+" ", ' '):]
		b = b[strings.IndexByte(b+" ", ' '):]
	}
	return a == b
}
