package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
)

// Mechanism is a way to attach to a kernel function.
type Mechanism string

// Mechanisms.
const (
	Kprobe Mechanism = "kprobe" // a breakpoint at the function's address (kprobe, kretprobe)
	Fentry Mechanism = "fentry" // a BPF trampoline: fentry/fexit programs
	Ftrace Mechanism = "ftrace" // the function tracer's filter (set_ftrace_filter)
)

// Mechanisms lists every mechanism, in the order reports give them.
var Mechanisms = []Mechanism{Kprobe, Fentry, Ftrace}

// Answer is a verdict's yes, no or cannot tell.
type Answer string

// Answers.
const (
	Yes     Answer = "yes"
	No      Answer = "no"
	Unknown Answer = "unknown"
)

// Verdict says whether one mechanism can attach to one function, and why.
type Verdict struct {
	Mechanism Mechanism `json:"mechanism"`
	Answer    Answer    `json:"answer"`
	// Reasons are the facts that decided: for No the obstacles, for
	// Unknown what is missing and then what was checked, for Yes what was
	// checked.
	Reasons []string `json:"reasons"`
	// AttachPoint is the mechanism's name for the function: bpftrace's
	// "kprobe:mod:func" and "fentry:mod:func", set_ftrace_filter's
	// "func:mod:mod". Empty when the answer is No.
	AttachPoint string `json:"attach_point,omitempty"`
}

// Target is one function the query names: a symbol of the table.
type Target struct {
	Name    string           `json:"name"`
	Module  string           `json:"module,omitempty"` // "" for the core kernel
	Addr    uint64           `json:"addr"`
	Type    string           `json:"type"`
	Section kallsyms.Section `json:"section"`
	// Clone is set when the target is a compiler clone of the queried
	// function rather than the function itself.
	Clone    *Clone    `json:"clone,omitempty"`
	Verdicts []Verdict `json:"verdicts"`
}

// Attachable returns the best answer over the target's mechanisms: Yes
// when one can attach, else Unknown when one cannot be told, else No.
func (t Target) Attachable() Answer {
	best := No
	for _, v := range t.Verdicts {
		if v.Answer == Yes {
			return Yes
		}
		if v.Answer == Unknown {
			best = Unknown
		}
	}
	return best
}

// Report is the answer to a query.
type Report struct {
	Query  string `json:"query"`
	Name   string `json:"name"`
	Module string `json:"module,omitempty"` // the module the query named, if any
	// Found is true when the table has a function with the queried name.
	Found bool `json:"found"`
	// Targets are the functions with the name, then, when there are none,
	// its compiler clones (entry clones first).
	Targets []Target `json:"targets"`
	// Clones are clones of the function that exist beside it: some calls
	// may reach them instead (Found only).
	Clones []Target `json:"clones,omitempty"`
	// NotFunctions are symbols with the name that are not functions
	// (variables), which no mechanism attaches to.
	NotFunctions []Target `json:"not_functions,omitempty"`
}

// Attachable returns the best answer over the report's targets (see
// Target.Attachable); No when there is no target.
func (r *Report) Attachable() Answer {
	best := No
	for _, t := range r.Targets {
		switch t.Attachable() {
		case Yes:
			return Yes
		case Unknown:
			best = Unknown
		}
	}
	return best
}

// Env holds the machine's facts besides the symbol table. A nil field is
// unknown, and its error says why (wrapping fs.ErrNotExist when the file is
// absent).
type Env struct {
	Config       *Config
	ConfigErr    error
	Functions    *FilterFunctions // available_filter_functions
	FunctionsErr error
	Blacklist    *Blacklist // the kprobe blacklist
	BlacklistErr error
	BTF          *BTF // vmlinux BTF
	BTFErr       error
	// ModuleBTF tells whether a loaded module has BTF
	// (/sys/kernel/btf/<module>): nil when it has, an error wrapping
	// fs.ErrNotExist when it has not. A nil func means unknown.
	ModuleBTF func(module string) error
	// KprobePMU tells whether the kernel registered the perf "kprobe"
	// event source (/sys/bus/event_source/devices/kprobe), through which
	// bpftrace and perf create kprobes; nil when unknown.
	KprobePMU *bool
	// Arch is the machine's architecture as uname -m prints it ("" when
	// unknown); it selects the architecture's kprobe blacklist areas.
	Arch string
}

// Check answers whether, and how, the function named by query can be traced.
// query is a name or "module:name" ("vmlinux:name" for the core kernel). An
// error is returned only for an empty query.
func Check(t *kallsyms.Table, query string, env *Env) (*Report, error) {
	name, module := query, ""
	if i := strings.IndexByte(query, ':'); i >= 0 {
		module, name = query[:i], query[i+1:]
	}
	if name == "" || strings.ContainsAny(name, " \t\n") {
		return nil, fmt.Errorf("%q is not a function name (NAME or MODULE:NAME)", query)
	}
	c := &checker{t: t, env: env}
	r := &Report{Query: query, Name: name, Module: module}
	for _, i := range t.Find(query) {
		if !isFunction(t.Type(i)) {
			r.NotFunctions = append(r.NotFunctions, c.target(i, nil))
			continue
		}
		r.Targets = append(r.Targets, c.target(i, nil))
	}
	r.Found = len(r.Targets) > 0
	var entry, rest []Target
	for _, i := range FindClones(t, name, module) {
		cl, _ := parseSuffix(t.Name(i)[len(name):])
		tg := c.target(i, &cl)
		if cl.Entry() {
			entry = append(entry, tg)
		} else {
			rest = append(rest, tg)
		}
	}
	if r.Found {
		r.Clones = append(entry, rest...)
	} else {
		r.Targets = append(entry, rest...)
	}
	return r, nil
}

// isFunction reports whether a type letter is text (a function).
func isFunction(typ byte) bool { return typ == 't' || typ == 'T' }

// checker holds what one Check needs.
type checker struct {
	t   *kallsyms.Table
	env *Env
}

// target describes symbol i and its verdicts.
func (c *checker) target(i int, cl *Clone) Target {
	t := c.t
	tg := Target{
		Name:    t.Name(i),
		Module:  t.ModuleName(i),
		Addr:    t.Addr(i),
		Type:    string(t.Type(i)),
		Section: t.Section(t.Addr(i)),
		Clone:   cl,
	}
	if cl == nil {
		if _, own, ok := ParseClone(tg.Name); ok {
			cl = &own // the query named a clone itself
			tg.Clone = cl
		}
	}
	s := c.symbol(i, cl)
	tg.Verdicts = []Verdict{c.kprobe(s), c.fentry(s), c.ftrace(s)}
	return tg
}

// sym is what the verdicts look at.
type sym struct {
	i      int
	name   string
	module string // "" for the core
	addr   uint64
	clone  *Clone
}

func (c *checker) symbol(i int, cl *Clone) sym {
	return sym{i: i, name: c.t.Name(i), module: c.t.ModuleName(i), addr: c.t.Addr(i), clone: cl}
}

// reasons collects a verdict's facts: any obstacle makes it No, else any
// missing fact Unknown, else Yes.
type reasons struct{ no, unknown, yes []string }

func (r *reasons) verdict(m Mechanism, point string) Verdict {
	switch {
	case len(r.no) > 0:
		return Verdict{Mechanism: m, Answer: No, Reasons: r.no}
	case len(r.unknown) > 0:
		return Verdict{Mechanism: m, Answer: Unknown, Reasons: append(r.unknown, r.yes...), AttachPoint: point}
	}
	return Verdict{Mechanism: m, Answer: Yes, Reasons: r.yes, AttachPoint: point}
}

// common adds the obstacles every mechanism shares.
func (c *checker) common(s sym, r *reasons) {
	t := c.t
	if !isFunction(t.Type(s.i)) {
		r.no = append(r.no, fmt.Sprintf("not a function (type %c)", t.Type(s.i)))
	}
	if s.module == "bpf" || strings.HasPrefix(s.module, "__builtin__") {
		r.no = append(r.no, fmt.Sprintf("generated code [%s], not a kernel function", s.module))
	}
	if strings.HasPrefix(s.name, "__pfx_") || strings.HasPrefix(s.name, "__cfi_") {
		r.no = append(r.no, "padding before a function (CFI/call-depth preamble), not its entry; use "+strings.TrimPrefix(strings.TrimPrefix(s.name, "__pfx_"), "__cfi_"))
	}
	if s.clone != nil && s.clone.Cold {
		r.no = append(r.no, "a .cold piece: the function's rarely run branches moved out of it, never entered at its top")
	}
	switch t.Section(s.addr) {
	case kallsyms.SectionInitText:
		r.no = append(r.no, "in .init.text, freed after boot")
	case kallsyms.SectionUnknown:
		if t.Hidden() {
			r.unknown = append(r.unknown, "the table's addresses are hidden (all zero): the section cannot be told")
		}
	}
}

// configSays adds a No when the configuration is known and option is off.
func (c *checker) configSays(option, why string, r *reasons) bool {
	if c.env.Config == nil {
		return true
	}
	if !c.env.Config.Enabled(option) {
		r.no = append(r.no, fmt.Sprintf("kernel built without %s (%s)", option, why))
		return false
	}
	return true
}

// configMissing adds an Unknown for an unknown configuration.
func (c *checker) configMissing(what string, r *reasons) {
	if c.env.Config == nil {
		r.unknown = append(r.unknown, fmt.Sprintf("whether the kernel has %s is unknown: no kernel configuration (%v)", what, c.env.ConfigErr))
	}
}

// attachPoint names s for bpftrace: "prefix:func" or "prefix:mod:func".
func attachPoint(prefix string, s sym) string {
	if s.module == "" {
		return prefix + ":" + s.name
	}
	return prefix + ":" + s.module + ":" + s.name
}

// kprobe decides whether a kprobe can be placed at the function's entry
// (kernel/kprobes.c, check_kprobe_address_safe): kernel text, not freed,
// not blacklisted.
func (c *checker) kprobe(s sym) Verdict {
	var r reasons
	c.common(s, &r)
	pmu := c.env.KprobePMU
	switch {
	case c.env.Config != nil:
		if c.configSays("CONFIG_KPROBES", "no kprobes at all", &r) &&
			c.configSays("CONFIG_KPROBE_EVENTS", "no kprobe events, which bpftrace and perf create kprobes through", &r) {
			r.yes = append(r.yes, "the kernel has kprobes (CONFIG_KPROBES=y)")
		}
	case pmu != nil && *pmu:
		r.yes = append(r.yes, "the kernel has kprobes (it has the perf kprobe event source)")
	case pmu != nil:
		r.no = append(r.no, "the kernel has no kprobe events (no perf kprobe event source in /sys/bus/event_source/devices)")
	case c.env.Blacklist != nil:
		r.yes = append(r.yes, "the kernel has kprobes (it has a kprobe blacklist)")
	default:
		c.configMissing("kprobes", &r)
	}
	c.kprobeBlacklist(s, &r)
	return r.verdict(Kprobe, attachPoint("kprobe", s))
}

// kprobeBlacklist checks the blacklist file, else the table's own record of
// it: the NOKPROBE_SYMBOL markers (_kbl_addr_<func>, data symbols) and the
// areas the kernel blacklists whole.
func (c *checker) kprobeBlacklist(s sym, r *reasons) {
	if bl := c.env.Blacklist; bl != nil {
		if bl.Listed(s.name, s.module) {
			r.no = append(r.no, "in the kprobe blacklist")
		} else if e, ok := bl.Covers(s.addr); ok && !c.t.Hidden() && s.addr != 0 {
			r.no = append(r.no, fmt.Sprintf("inside %s, which is in the kprobe blacklist", e.Name))
		} else {
			r.yes = append(r.yes, "not in the kprobe blacklist")
		}
		return
	}
	blocked := false
	if area, ok := c.blacklistedArea(s); ok {
		r.no = append(r.no, "in "+area+", which the kernel blacklists for kprobes")
		blocked = true
	}
	if c.nokprobe(s) {
		r.no = append(r.no, "marked NOKPROBE_SYMBOL (the table has _kbl_addr_"+s.name+")")
		blocked = true
	}
	switch {
	case blocked:
	case !c.t.HasDataSymbols():
		r.unknown = append(r.unknown, fmt.Sprintf("the kprobe blacklist was not read (%v), and the table has no data symbols to find NOKPROBE_SYMBOL markers in", c.env.BlacklistErr))
	case c.t.Hidden():
		r.unknown = append(r.unknown, fmt.Sprintf("the kprobe blacklist was not read (%v), and the table's addresses are hidden", c.env.BlacklistErr))
	default:
		r.yes = append(r.yes, "not NOKPROBE_SYMBOL nor in a blacklisted area (from the table; the blacklist file was not read)")
	}
}

// nokprobe reports whether the table holds the NOKPROBE_SYMBOL marker of s.
func (c *checker) nokprobe(s sym) bool {
	var buf [4]int
	for _, i := range c.t.AppendFind(buf[:0], "_kbl_addr_"+s.name) {
		if c.t.ModuleName(i) == s.module {
			return true
		}
	}
	return false
}

// areas are the parts of the core kernel's text the kernel blacklists for
// kprobes whole (kernel/kprobes.c populate_kprobe_blacklist, and the
// architecture's arch_populate_kprobe_blacklist), by their marker symbols.
var areas = []struct {
	start, end, what string
	arch             []string // nil: every architecture
}{
	{"__kprobes_text_start", "__kprobes_text_end", "the __kprobes text", nil},
	{"__noinstr_text_start", "__noinstr_text_end", "the noinstr text", nil},
	{"__entry_text_start", "__entry_text_end", "the entry text", []string{"x86_64", "i386", "i686"}},
	{"__irqentry_text_start", "__irqentry_text_end", "the irqentry text", []string{"aarch64", "arm64"}},
}

// blacklistedArea returns the blacklisted area of the core text s lies in.
func (c *checker) blacklistedArea(s sym) (string, bool) {
	if s.module != "" || c.t.Hidden() {
		return "", false
	}
	for _, a := range areas {
		if a.arch != nil && !contains(a.arch, c.env.Arch) {
			continue
		}
		lo, ok1 := c.coreAddr(a.start)
		hi, ok2 := c.coreAddr(a.end)
		if ok1 && ok2 && s.addr >= lo && s.addr < hi {
			return a.what, true
		}
	}
	return "", false
}

// coreAddr returns the address of a core symbol.
func (c *checker) coreAddr(name string) (uint64, bool) {
	var buf [2]int
	for _, i := range c.t.AppendFind(buf[:0], name) {
		if c.t.IsCore(i) {
			return c.t.Addr(i), true
		}
	}
	return 0, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ftrace decides whether the function tracer can filter on the function:
// it must have an ftrace patch site, which available_filter_functions lists.
func (c *checker) ftrace(s sym) Verdict {
	var r reasons
	c.common(s, &r)
	if c.configSays("CONFIG_FUNCTION_TRACER", "no function tracer", &r) &&
		c.configSays("CONFIG_DYNAMIC_FTRACE", "no per-function filter", &r) && c.env.Functions == nil {
		c.configMissing("the function tracer", &r) // a list read is proof enough
	}
	c.patchSite(s, &r)
	point := s.name
	if s.module != "" {
		point += ":mod:" + s.module
	}
	return r.verdict(Ftrace, point)
}

// patchSite checks that available_filter_functions lists the function: as
// many times as the table has functions of that name, or it cannot be told
// which of them are listed.
func (c *checker) patchSite(s sym, r *reasons) {
	ff := c.env.Functions
	if ff == nil {
		r.unknown = append(r.unknown, fmt.Sprintf("available_filter_functions was not read (%v)", c.env.FunctionsErr))
		return
	}
	listed := ff.Count(s.name, s.module)
	if sites, ok := ff.Sites(s.name, s.module); ok && listed > 0 && !c.t.Hidden() {
		if c.hasSite(s, sites) {
			r.yes = append(r.yes, "in available_filter_functions_addrs at its address")
		} else {
			r.no = append(r.no, fmt.Sprintf("available_filter_functions_addrs lists %d function(s) named %s, none at this one's address: no ftrace patch site here", listed, s.name))
		}
		return
	}
	same := c.sameName(s)
	switch {
	case listed == 0:
		r.no = append(r.no, "not in available_filter_functions: no ftrace patch site (notrace, noinstr, or a file built without ftrace)")
	case listed < same:
		r.unknown = append(r.unknown, fmt.Sprintf("available_filter_functions lists %d of the %d functions named %s, and does not say which", listed, same, s.name))
	default:
		r.yes = append(r.yes, "in available_filter_functions")
	}
}

// sameName counts the functions of s's module with s's name.
func (c *checker) sameName(s sym) int {
	n := 0
	for _, i := range c.t.AppendFind(nil, s.name) {
		if isFunction(c.t.Type(i)) && c.t.ModuleName(i) == s.module {
			n++
		}
	}
	return n
}

// fentry decides whether a BPF trampoline can attach: the kernel must have
// BPF and BTF, the function a BTF entry and an ftrace patch site.
func (c *checker) fentry(s sym) Verdict {
	var r reasons
	c.common(s, &r)
	ok := c.configSays("CONFIG_BPF_SYSCALL", "no bpf()", &r)
	ok = c.configSays("CONFIG_DEBUG_INFO_BTF", "no BTF", &r) && ok
	if s.module != "" {
		ok = c.configSays("CONFIG_DEBUG_INFO_BTF_MODULES", "no BTF for modules", &r) && ok
	}
	ok = c.configSays("CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS", "no BPF trampolines on ftrace patch sites", &r) && ok
	if ok {
		c.configMissing("BPF trampolines", &r)
	}
	c.btf(s, &r)
	c.patchSite(s, &r)
	return r.verdict(Fentry, attachPoint("fentry", s))
}

// btf checks that the function has BTF.
func (c *checker) btf(s sym, r *reasons) {
	if s.clone != nil {
		r.no = append(r.no, noBTF(s))
		return
	}
	if s.module != "" {
		c.moduleBTF(s, r)
		return
	}
	switch b := c.env.BTF; {
	case b != nil && b.HasFunc(s.name):
		r.yes = append(r.yes, "has a BTF entry (/sys/kernel/btf/vmlinux)")
	case b != nil:
		r.no = append(r.no, noBTF(s))
	case errors.Is(c.env.BTFErr, fs.ErrNotExist) && c.env.Config != nil && c.env.Config.Enabled("CONFIG_DEBUG_INFO_BTF"):
		r.unknown = append(r.unknown, "the kernel has BTF (CONFIG_DEBUG_INFO_BTF=y) but /sys/kernel/btf/vmlinux was not found")
	case errors.Is(c.env.BTFErr, fs.ErrNotExist):
		r.no = append(r.no, "no kernel BTF (/sys/kernel/btf/vmlinux does not exist)")
	default:
		r.unknown = append(r.unknown, fmt.Sprintf("the kernel's BTF was not read (%v)", c.env.BTFErr))
	}
}

// moduleBTF checks that a module has BTF (/sys/kernel/btf/<module>).
func (c *checker) moduleBTF(s sym, r *reasons) {
	if c.env.ModuleBTF == nil {
		r.unknown = append(r.unknown, "whether module "+s.module+" has BTF is unknown")
		return
	}
	switch err := c.env.ModuleBTF(s.module); {
	case err == nil:
		r.yes = append(r.yes, "module "+s.module+" has BTF")
	case errors.Is(err, fs.ErrNotExist) && c.env.Config != nil && c.env.Config.Enabled("CONFIG_DEBUG_INFO_BTF_MODULES"):
		r.unknown = append(r.unknown, "modules have BTF (CONFIG_DEBUG_INFO_BTF_MODULES=y) but /sys/kernel/btf/"+s.module+" was not found (a module built out of tree may lack it)")
	case errors.Is(err, fs.ErrNotExist):
		r.no = append(r.no, "module "+s.module+" has no BTF (/sys/kernel/btf/"+s.module+" does not exist)")
	default:
		r.unknown = append(r.unknown, fmt.Sprintf("module %s's BTF was not read (%v)", s.module, err))
	}
}

// noBTF says why a function has no BTF entry.
func noBTF(s sym) string {
	if s.clone != nil {
		return "a clone has no BTF FUNC entry of its own (BTF names functions as the source does)"
	}
	return "no BTF FUNC entry for " + s.name + " in /sys/kernel/btf/vmlinux"
}

// hasSite reports whether one of the patch sites lies in function s: the
// table resolves it to s (the site is the function's first instruction, or
// the one after its endbr64).
func (c *checker) hasSite(s sym, sites []uint64) bool {
	for _, a := range sites {
		if loc, err := c.t.Lookup(a); err == nil && c.t.Addr(loc.Index) == s.addr {
			return true
		}
	}
	return false
}
