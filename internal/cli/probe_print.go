package cli

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/ksym-dev/ksym/probe"
)

// writeProbe renders a probe report for people.
func writeProbe(w *bufio.Writer, rep *probe.Report, notes []string) {
	fmt.Fprintf(w, "%s: %s\n", rep.Query, summary(rep))
	for _, v := range rep.NotFunctions {
		fmt.Fprintf(w, "  %s is a variable (type %s), not a function: nothing attaches to it\n", describeTarget(v), v.Type)
	}
	switch {
	case !rep.Found && len(rep.Targets) == 0:
		fmt.Fprintf(w, "  no function %s in the table: it was likely inlined into its callers, or static and removed as unused;\n  a tracepoint or a probe on its callers may see it (ksym search '*%s*' lists similar names)\n", rep.Name, rep.Name)
	case !rep.Found:
		fmt.Fprintf(w, "  no function %s in the table, but the compiler made clones of it:\n", rep.Name)
		writeCloneAdvice(w, rep.Targets, false)
	case len(rep.Targets) > 1:
		fmt.Fprintf(w, "  %d functions share this name (static functions of different files or modules)\n", len(rep.Targets))
	}
	amb := ambiguity(rep)
	for _, tg := range rep.Targets {
		writeTarget(w, tg, amb)
	}
	if len(rep.Clones) > 0 {
		fmt.Fprintf(w, "compiler clones of %s beside it:\n", rep.Name)
		writeCloneAdvice(w, rep.Clones, true)
	}
	writePickAdvice(w, amb)
	if len(notes) > 0 {
		w.WriteString("notes:\n")
		for _, n := range notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
}

// summary is the one-line answer.
func summary(rep *probe.Report) string {
	var yes []string
	for _, m := range probe.Mechanisms {
		for _, tg := range rep.Targets {
			if verdictOf(tg, m).Answer == probe.Yes {
				yes = append(yes, string(m))
				break
			}
		}
	}
	switch {
	case len(yes) > 0:
		return "can be traced (" + strings.Join(yes, ", ") + ")"
	case rep.Attachable() == probe.Unknown:
		return "cannot tell whether it can be traced"
	case len(rep.Targets) == 0:
		return "no such function"
	}
	return "cannot be traced"
}

// verdictOf returns a target's verdict for m.
func verdictOf(tg probe.Target, m probe.Mechanism) probe.Verdict {
	for _, v := range tg.Verdicts {
		if v.Mechanism == m {
			return v
		}
	}
	return probe.Verdict{Mechanism: m, Answer: probe.Unknown}
}

// describeTarget names a target: "name [module] at address".
func describeTarget(tg probe.Target) string {
	s := tg.Name
	if tg.Module != "" {
		s += " [" + tg.Module + "]"
	}
	if tg.Addr != 0 {
		s += " at " + addr16(tg.Addr)
	}
	return s
}

// writeTarget prints one function, its verdicts and its commands.
func writeTarget(w *bufio.Writer, tg probe.Target, amb map[nameKey]bool) {
	fmt.Fprintf(w, "function %s (%s, %s)\n", describeTarget(tg), tg.Type, tg.Section)
	for _, v := range tg.Verdicts {
		fmt.Fprintf(w, "  %-6s  %-7s  %s\n", v.Mechanism, v.Answer, strings.Join(v.Reasons, "; "))
	}
	cmds := commands(tg, amb)
	if len(cmds) == 0 {
		return
	}
	w.WriteString("  commands:\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "    %s\n", c)
	}
}

// nameKey is a function name in a module ("" for the core kernel).
type nameKey struct{ name, module string }

// ambiguity reports, per name and module, whether a kprobe by name would
// be ambiguous: the kernel's by-name lookup for the core kernel counts
// every function of that name, modules included (Linux 6.7 and later
// refuse several), and MODULE:NAME counts those of the module.
func ambiguity(rep *probe.Report) map[nameKey]bool {
	perMod := map[nameKey]int{}
	perName := map[string]int{}
	for _, tg := range rep.Targets {
		perMod[nameKey{tg.Name, tg.Module}]++
		perName[tg.Name]++
	}
	amb := map[nameKey]bool{}
	for k, n := range perMod {
		amb[k] = n > 1 || k.module == "" && perName[k.name] > 1
	}
	return amb
}

// commands returns the ready commands for the mechanisms that are not No.
func commands(tg probe.Target, amb map[nameKey]bool) []string {
	var out []string
	for _, v := range tg.Verdicts {
		if v.Answer == probe.No {
			continue
		}
		var cmds []string
		switch v.Mechanism {
		case probe.Kprobe:
			cmds = kprobeCommands(tg, amb[nameKey{tg.Name, tg.Module}])
		case probe.Fentry:
			cmds = []string{"bpftrace -e '" + v.AttachPoint + " { @[kstack] = count(); }'"}
		case probe.Ftrace:
			cmds = []string{"echo '" + v.AttachPoint + "' > /sys/kernel/tracing/set_ftrace_filter && echo function > /sys/kernel/tracing/current_tracer"}
		}
		if v.Answer == probe.Unknown {
			for i := range cmds {
				cmds[i] += "   # if the unknowns above allow"
			}
		}
		out = append(out, cmds...)
	}
	return out
}

// kprobeCommands returns the bpftrace and perf commands for a kprobe, or,
// when the name is ambiguous, a kprobe_events line by address.
func kprobeCommands(tg probe.Target, ambiguous bool) []string {
	if ambiguous {
		if tg.Addr == 0 {
			return nil
		}
		event := strings.NewReplacer(".", "_", "-", "_").Replace(tg.Name)
		return []string{
			fmt.Sprintf("bpftrace -e 'kprobe:0x%x { @[kstack] = count(); }'   # by address: this boot only", tg.Addr),
			fmt.Sprintf("echo 'p:ksym/%s_%x 0x%x' >> /sys/kernel/tracing/kprobe_events   # by address: this boot only", event, tg.Addr&0xfffff, tg.Addr),
		}
	}
	bp := "bpftrace -e 'kprobe:" + tg.Name + " { @[kstack] = count(); }'"
	perf := "perf probe -a " + tg.Name
	if tg.Module != "" {
		bp = "bpftrace -e 'kprobe:" + tg.Module + ":" + tg.Name + " { @[kstack] = count(); }'"
		perf = "perf probe -m " + tg.Module + " -a " + tg.Name
	}
	return []string{bp, perf}
}

// writeCloneAdvice lists clones and says which to use; beside tells that
// the function itself exists too.
func writeCloneAdvice(w *bufio.Writer, clones []probe.Target, beside bool) {
	for _, tg := range clones {
		fmt.Fprintf(w, "  %s: %s\n", describeTarget(tg), cloneWords(tg.Clone, beside))
	}
}

// cloneWords says what a clone is and whether to use it.
func cloneWords(c *probe.Clone, beside bool) string {
	switch {
	case c == nil:
		return ""
	case c.Cold:
		return "the cold part (rarely run branches moved out); never the entry: do not use"
	case c.Partial && beside:
		return "the out-of-line rest, called where the first part was inlined into callers: probe it too (it misses calls that end in the inlined part)"
	case c.Partial:
		return "the out-of-line rest; the first part is inlined into the callers, so only calls that get past it arrive here: use it, knowing it misses the rest"
	case c.ArgsChanged && beside:
		return "a copy with its arguments changed (dropped, or constants folded in) that some callers call instead: probe it too to see every call"
	case c.ArgsChanged:
		return "a copy of the whole function with its arguments changed (dropped, or constants folded in): use it, but its arguments may not match the source"
	case beside:
		return "a renamed copy that some callers call instead: probe it too"
	}
	return "the whole function, renamed: use it"
}

// writePickAdvice says how to select one of several functions of the
// same name.
func writePickAdvice(w *bufio.Writer, amb map[nameKey]bool) {
	var names []string
	core, module, anyModule := false, false, false
	for k, a := range amb {
		anyModule = anyModule || k.module != ""
		if !a {
			continue
		}
		if !contains(names, k.name) {
			names = append(names, k.name)
		}
		core = core || k.module == ""
		module = module || k.module != ""
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	fmt.Fprintf(w, "to pick one of several functions named %s:\n", strings.Join(names, ", "))
	if core {
		w.WriteString("  by name the kernel cannot choose: kernels since late 2023 (6.6, and 6.1.60 and other stable releases)\n" +
			"  refuse such a kprobe (EADDRNOTAVAIL), older ones take the first;\n" +
			"  attach by address (the commands above), or with debug info by source file: perf probe -a 'NAME@FILE'\n")
	}
	if module {
		w.WriteString("  within one module the same holds: attach by address\n")
	}
	if anyModule {
		w.WriteString("  a module's function alone: kprobe:MODULE:NAME (bpftrace), perf probe -m MODULE -a NAME, set_ftrace_filter 'NAME:mod:MODULE'\n")
	}
	w.WriteString("  set_ftrace_filter 'NAME' selects every function of that name; fentry attaches to the one the kernel resolves the name to\n")
}

// jsonProbe is the JSON answer of ksym probe.
type jsonProbe struct {
	Query        string       `json:"query"`
	Name         string       `json:"name"`
	Module       string       `json:"module,omitempty"`
	Found        bool         `json:"found"`
	Attachable   probe.Answer `json:"attachable"`
	Targets      []jsonTarget `json:"targets"`
	Clones       []jsonTarget `json:"clones,omitempty"`
	NotFunctions []jsonTarget `json:"not_functions,omitempty"`
	Notes        []string     `json:"notes,omitempty"`
}

// jsonTarget is one function in JSON output; the address is a hex string.
type jsonTarget struct {
	Name     string          `json:"name"`
	Module   string          `json:"module"`
	Address  string          `json:"address"`
	Type     string          `json:"type"`
	Section  string          `json:"section"`
	Clone    *probe.Clone    `json:"clone,omitempty"`
	Verdicts []probe.Verdict `json:"verdicts"`
	Commands []string        `json:"commands,omitempty"`
}

func probeJSON(rep *probe.Report, notes []string) jsonProbe {
	amb := ambiguity(rep)
	conv := func(ts []probe.Target, withCmds bool) []jsonTarget {
		out := make([]jsonTarget, 0, len(ts))
		for _, tg := range ts {
			jt := jsonTarget{Name: tg.Name, Module: tg.Module, Address: hex0x(tg.Addr), Type: tg.Type,
				Section: string(tg.Section), Clone: tg.Clone, Verdicts: tg.Verdicts}
			if withCmds {
				jt.Commands = commands(tg, amb)
			}
			out = append(out, jt)
		}
		return out
	}
	j := jsonProbe{Query: rep.Query, Name: rep.Name, Module: rep.Module, Found: rep.Found,
		Attachable: rep.Attachable(), Targets: conv(rep.Targets, true), Notes: notes}
	if len(rep.Clones) > 0 {
		j.Clones = conv(rep.Clones, true)
	}
	if len(rep.NotFunctions) > 0 {
		j.NotFunctions = conv(rep.NotFunctions, false)
	}
	return j
}
