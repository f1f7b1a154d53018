package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ksym-dev/ksym/kmod"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/modcheck"
	"github.com/spf13/cobra"
)

const modcheckLong = `Tell whether kernel modules would load on this kernel, and if not why, as the
kernel's module loader decides: vermagic, every undefined symbol exported by
vmlinux or a loaded module (__ksymtab_<name> in kallsyms, not merely present),
GPL-only exports hidden from modules whose license is not GPL-compatible,
symbol CRCs (__versions against Module.symvers), namespace imports, and the
depends= modules. Files may be .ko, .ko.xz, .ko.zst or .ko.gz. The modules
given together are one run: each may use the others' exports, in the order
they can be loaded.

Each problem is printed in the kernel's own words (searchable), followed by
the reason. The kernel is the live one (under --root) or --kallsyms; its
vermagic comes from --vermagic, or live from the modules installed for the
running release; its Module.symvers from --symvers, or live from
/lib/modules/<release>/build/Module.symvers when present. What is unknown
is said, not guessed.

Exit status: 0 every module loads, 1 at least one will not load, 2 cannot
tell (usage error, unreadable file, a table without data symbols and no
--symvers, or a verdict depending on what is not known).`

const modcheckExample = `  ksym modcheck ./hello.ko
  ksym modcheck /lib/modules/$(uname -r)/kernel/drivers/net/vxlan/vxlan.ko.xz
  ksym --kallsyms web-7.ksnap modcheck --symvers Module.symvers --vermagic "$(modinfo -F vermagic dummy)" my.ko
  ksym modcheck --json a.ko b.ko`

// modcheckFlags are the flags of ksym modcheck.
type modcheckFlags struct {
	symvers  string
	vermagic string
}

func (a *app) newModcheckCmd() *cobra.Command {
	var f modcheckFlags
	c := &cobra.Command{
		Use:     "modcheck FILE.ko...",
		Short:   "Would these modules load on this kernel, and if not, why",
		Long:    modcheckLong,
		Example: modcheckExample,
		Args:    argsAtLeast(1, "module FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runModcheck(f, args)
		},
	}
	c.Flags().StringVar(&f.symvers, "symvers", "", "the kernel build's Module.symvers `FILE` (CRCs, GPL-only and namespaces of exports)")
	c.Flags().StringVar(&f.vermagic, "vermagic", "", "the kernel's vermagic `STRING` (as modinfo -F vermagic prints for its own modules)")
	return c
}

// kernelFacts is the kernel side of ksym modcheck and where each part came from.
type kernelFacts struct {
	Kallsyms       string `json:"kallsyms"`
	Release        string `json:"release,omitempty"`
	Vermagic       string `json:"vermagic,omitempty"`
	VermagicSource string `json:"vermagic_source,omitempty"`
	Symvers        string `json:"symvers,omitempty"`
	kernel         modcheck.Kernel
}

func (a *app) runModcheck(f modcheckFlags, paths []string) error {
	// A module that cannot be read is said and left out: the others are
	// still checked, and the status is at least "cannot tell".
	mods := make([]*kmod.Module, 0, len(paths))
	unread := 0
	for _, p := range paths {
		m, err := kmod.Read(p)
		if err != nil {
			fmt.Fprintf(a.stderr, "ksym: %v\n", fileAdvice(err))
			unread++
			continue
		}
		mods = append(mods, m)
	}
	if len(mods) == 0 {
		return &exitError{code: ExitUsage}
	}
	k, err := a.modcheckKernel(f)
	if err != nil {
		return err
	}
	results, err := modcheck.Check(k.kernel, mods)
	if errors.Is(err, modcheck.ErrNoExports) {
		return usageErrorf("%s: %v; exports are unknown: give --symvers FILE (the kernel build's Module.symvers) to check against its exports", k.Kallsyms, err)
	}
	if err != nil {
		return usageErrorf("%v", err)
	}
	if a.json {
		err = writeJSON(a.stdout, modcheckJSON(k, results))
	} else {
		err = renderModcheck(a.stdout, k, results)
	}
	if err != nil {
		return err
	}
	if err := modcheckStatus(results); err != nil || unread == 0 {
		return err
	}
	return &exitError{code: ExitUsage}
}

// modcheckStatus maps the verdicts to the exit status.
func modcheckStatus(results []modcheck.Result) error {
	code := ExitOK
	for _, r := range results {
		switch r.Verdict {
		case modcheck.WillNotLoad:
			return errNotFound
		case modcheck.CannotTell:
			code = ExitUsage
		}
	}
	if code != ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// modcheckKernel gathers what is known of the kernel: the table, and its
// release, vermagic and Module.symvers from the flags, else the live
// machine's; a saved table tells its release only when it is a snapshot.
func (a *app) modcheckKernel(f modcheckFlags) (kernelFacts, error) {
	t, source, err := a.table()
	if err != nil {
		return kernelFacts{}, err
	}
	k := kernelFacts{Kallsyms: source, Vermagic: f.vermagic, Symvers: f.symvers}
	k.kernel.Table = t
	if f.vermagic != "" {
		k.VermagicSource = "--vermagic"
	}
	if a.kallsymsPath == "" {
		a.liveKernel(&k)
	} else if a.loaded.info != nil {
		k.Release = a.loaded.info.Release
	}
	k.kernel.Vermagic = k.Vermagic
	if k.Symvers != "" {
		s, err := modcheck.ReadSymvers(k.Symvers)
		if err != nil {
			return k, &exitError{code: ExitUsage, err: fileAdvice(err)}
		}
		k.kernel.Symvers = s
	}
	return k, nil
}

// liveKernel fills what the running kernel tells: its release (uname),
// its vermagic from a module installed for that release, its
// Module.symvers when the build directory has one, its loaded modules.
func (a *app) liveKernel(k *kernelFacts) {
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return
	}
	if mods, err := fs.Modules(); err == nil {
		for _, m := range mods {
			k.kernel.Loaded = append(k.kernel.Loaded, m.Name)
		}
	}
	if k.Release, err = fs.Release(); err != nil || k.Release == "" {
		return
	}
	dir := fs.Path("/lib/modules/" + k.Release)
	if k.Vermagic == "" {
		if v, from, err := modcheck.InstalledVermagic(dir, k.Release); err == nil {
			k.Vermagic, k.VermagicSource = v, from
		} else {
			fmt.Fprintf(a.stderr, "ksym: warning: vermagic not checked: %v; give --vermagic\n", err)
		}
	}
	if k.Symvers == "" {
		if p := dir + "/build/Module.symvers"; fileExists(p) {
			k.Symvers = p
		}
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// renderModcheck prints the kernel's facts, then per module its verdict,
// each problem in the kernel's words and its reason, and what was not
// checked.
func renderModcheck(w io.Writer, k kernelFacts, results []modcheck.Result) error {
	bw := newBuffered(w)
	fmt.Fprintf(bw, "kernel:   %s%s\n", k.Kallsyms, paren("release "+k.Release, k.Release != ""))
	if k.Vermagic != "" {
		fmt.Fprintf(bw, "vermagic: %s (%s)\n", k.Vermagic, k.VermagicSource)
	} else {
		fmt.Fprintf(bw, "vermagic: unknown (give --vermagic): not checked\n")
	}
	if k.Symvers != "" {
		fmt.Fprintf(bw, "symvers:  %s\n", k.Symvers)
	} else {
		fmt.Fprintf(bw, "symvers:  none (give --symvers FILE): CRCs and namespaces of exports known only from the modules given\n")
	}
	for _, r := range results {
		fmt.Fprintf(bw, "\n%s: %s\n", r.Module.Path, verdictText(r))
		for _, p := range r.Problems {
			for _, msg := range p.KernelMessages(r.Module.Name) {
				fmt.Fprintf(bw, "  %s\n", msg)
			}
			if len(p.KernelMessages(r.Module.Name)) == 0 {
				fmt.Fprintf(bw, "  %s: needs module %s (depends=)\n", r.Module.Name, p.Dependency)
			}
			fmt.Fprintf(bw, "    %s\n", problemReason(r.Module, p))
		}
		for _, s := range uncheckedText(r) {
			fmt.Fprintf(bw, "  not checked: %s\n", s)
		}
	}
	return bw.Flush()
}

func paren(s string, ok bool) string {
	if !ok {
		return ""
	}
	return " (" + s + ")"
}

// verdictText is the module's verdict line after its path.
func verdictText(r modcheck.Result) string {
	var s string
	switch r.Verdict {
	case modcheck.Loads:
		s = "loads"
	case modcheck.WillNotLoad:
		s = "will not load"
	default:
		s = "cannot tell"
	}
	s += fmt.Sprintf(" (%s, license %s, %d of %d symbols found exported", r.Module.Name, quoted(r.Module.Info.License), r.Resolved, len(r.Module.Undefined))
	if r.LoadOrder > 0 {
		s += fmt.Sprintf(", load order %d", r.LoadOrder)
	}
	s += ")"
	if r.AlreadyLoaded {
		s += "; a module " + r.Module.Name + " is already loaded: the kernel refuses a second one (File exists)"
	}
	return s
}

func quoted(s string) string {
	if s == "" {
		return "none"
	}
	return "'" + s + "'"
}

// uncheckedText says what could not be checked and what would tell it.
func uncheckedText(r modcheck.Result) []string {
	var out []string
	if r.Unchecked.CRCs > 0 {
		out = append(out, fmt.Sprintf("CRCs of %d symbols (kallsyms does not hold CRCs: give --symvers FILE)", r.Unchecked.CRCs))
	}
	if r.Unchecked.Namespaces > 0 {
		out = append(out, fmt.Sprintf("namespaces of %d symbols (kallsyms does not hold namespaces: give --symvers FILE)", r.Unchecked.Namespaces))
	}
	return out
}

// problemReason says a problem's reason in plain words.
func problemReason(m *kmod.Module, p modcheck.Problem) string {
	switch p.Kind {
	case modcheck.UnknownSymbol:
		return unknownReason(p)
	case modcheck.BadCRC:
		return fmt.Sprintf("the module was built against %s with CRC 0x%08x; this kernel's export (%s, CRC from %s) has 0x%08x: it was built for another kernel build",
			p.Symbol, p.ModuleCRC, p.Owner, p.CRCSource, p.KernelCRC)
	case modcheck.MissingNamespace:
		return fmt.Sprintf("%s exports %s in namespace %s; the module has no import_ns=%s (MODULE_IMPORT_NS(%s) in its source)", p.Owner, p.Symbol, p.Namespace, p.Namespace, p.Namespace)
	case modcheck.BadVermagic:
		if m.HasVersions {
			return "the module was built for a kernel with other options (SMP, preemption, module unloading, modversions; the release is not compared, as the module has __versions)"
		}
		return "the module was built for another kernel release or options (without __versions the whole string must match)"
	case modcheck.MissingDependency:
		return fmt.Sprintf("module %s is neither loaded nor loadable from the modules given; modprobe loads it first, insmod does not", p.Dependency)
	case modcheck.NoVermagic:
		return "the module has no vermagic: the kernel loads it only by force with CONFIG_MODULE_FORCE_LOAD (tainting F), else refuses it"
	case modcheck.NoVersions:
		return "the module has no __versions (built without CONFIG_MODVERSIONS) but this kernel checks CRCs: it loads only by force with CONFIG_MODULE_FORCE_LOAD (tainting F), else each such symbol is refused (err -22)"
	case modcheck.GPLUnknown:
		if p.Owner == "vmlinux" {
			return fmt.Sprintf("%s is exported by vmlinux, but the table's addresses are hidden, so it cannot tell whether the export is GPL-only (between __start___ksymtab_gpl and __stop___ksymtab_gpl), and the license %s is not GPL-compatible: read the table as root, or give --symvers FILE", p.Symbol, quoted(p.License))
		}
		return fmt.Sprintf("%s is exported by module %s; kallsyms does not say whether a module's export is GPL-only, and the license %s is not GPL-compatible: give --symvers FILE or that module's .ko", p.Symbol, p.Owner, quoted(p.License))
	}
	return string(p.Kind)
}

func unknownReason(p modcheck.Problem) string {
	switch {
	case p.GPLOnly && !p.OwnerNotLoaded && p.Owner != "":
		return fmt.Sprintf("%s is a GPL-only export of %s (EXPORT_SYMBOL_GPL), hidden from this module: its license %s is not GPL-compatible", p.Symbol, p.Owner, quoted(p.License))
	case p.OwnerNotLoaded:
		return fmt.Sprintf("%s is exported by module %s, which is not loaded (load it first, or give its .ko too)", p.Symbol, p.Owner)
	case p.InTable:
		return fmt.Sprintf("%s is in the kernel's symbol table but not exported (no __ksymtab_%s): modules cannot use it", p.Symbol, p.Symbol)
	}
	return fmt.Sprintf("nothing loaded exports %s: it is not in the kernel's symbol table", p.Symbol)
}

// modcheckJSON is the --json answer.
type modcheckJSONOut struct {
	Kernel  kernelFacts          `json:"kernel"`
	Modules []modcheckJSONModule `json:"modules"`
}

type modcheckJSONModule struct {
	Path          string                `json:"path"`
	Name          string                `json:"name"`
	Verdict       modcheck.Verdict      `json:"verdict"`
	License       string                `json:"license"`
	Vermagic      string                `json:"vermagic"`
	LoadOrder     int                   `json:"load_order"`
	AlreadyLoaded bool                  `json:"already_loaded"`
	Resolved      int                   `json:"resolved"`
	Undefined     int                   `json:"undefined"`
	Problems      []modcheckJSONProblem `json:"problems"`
	Unchecked     modcheck.Unchecked    `json:"unchecked"`
}

type modcheckJSONProblem struct {
	modcheck.Problem
	Messages []string `json:"messages"` // the kernel's words
	Reason   string   `json:"reason"`
}

func modcheckJSON(k kernelFacts, results []modcheck.Result) modcheckJSONOut {
	out := modcheckJSONOut{Kernel: k, Modules: []modcheckJSONModule{}}
	for _, r := range results {
		m := modcheckJSONModule{Path: r.Module.Path, Name: r.Module.Name, Verdict: r.Verdict, License: r.Module.Info.License,
			Vermagic: r.Module.Info.Vermagic, LoadOrder: r.LoadOrder, AlreadyLoaded: r.AlreadyLoaded, Resolved: r.Resolved,
			Undefined: len(r.Module.Undefined), Problems: []modcheckJSONProblem{}, Unchecked: r.Unchecked}
		for _, p := range r.Problems {
			msgs := p.KernelMessages(r.Module.Name)
			if msgs == nil {
				msgs = []string{}
			}
			m.Problems = append(m.Problems, modcheckJSONProblem{p, msgs, problemReason(r.Module, p)})
		}
		out.Modules = append(out.Modules, m)
	}
	return out
}
