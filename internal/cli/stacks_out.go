package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
	"github.com/ksym-dev/ksym/internal/atomicfile"
	"github.com/ksym-dev/ksym/internal/flame"
	"github.com/ksym-dev/ksym/kstack"
)

// resolveStacks names the frames printed as bare addresses from a table:
// --kallsyms when given (then every named frame is checked against it too),
// else the live table for a live machine. A file without --kallsyms keeps
// its addresses, with a warning saying what to give.
func (a *app) resolveStacks(set *stackSet) error {
	raw := 0
	for _, s := range set.stacks {
		for _, f := range s.Frames {
			if f.Name == "" && f.HasAddr {
				raw++
			}
		}
	}
	if a.kallsymsPath == "" && (raw == 0 || set.source != "live") {
		if raw > 0 {
			set.warnings = append(set.warnings, fmt.Sprintf("%d frames printed as bare addresses are shown as printed: give the table of the kernel that wrote %s with --kallsyms to name them", raw, set.source))
		}
		return nil
	}
	t, source, err := a.table()
	if err != nil {
		return err
	}
	r := kstack.Resolve(set.stacks, t)
	switch {
	case r.Mismatch != "":
		set.warnings = append(set.warnings, fmt.Sprintf("%s: %s; showing the frames as the kernel printed them%s", source, r.Mismatch, unresolved(r.Unresolved)))
	case r.Hidden && r.Unresolved > 0:
		set.warnings = append(set.warnings, fmt.Sprintf("%s: addresses are hidden (all zero), so %d bare addresses stay unnamed: read the table as root", source, r.Unresolved))
	case r.Unverified:
		set.warnings = append(set.warnings, fmt.Sprintf("%s: %d bare addresses were named, but no frame printed with a name and size could confirm the table: the names are right only if it is the table of the boot that printed these stacks", source, r.Resolved))
	}
	return nil
}

// unresolved says how many addresses stay bare, "" for none.
func unresolved(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d bare addresses left unnamed)", n)
}

// printStacks writes what was asked: the table, folded stacks or JSON on
// standard output, and the pprof and SVG files.
func (a *app) printStacks(set *stackSet, o stacksOpts) error {
	groups := kstack.Aggregate(set.stacks)
	if o.pprof != "" {
		if err := atomicfile.Write(o.pprof, 0o644, func(w io.Writer) error { return writePprof(w, set) }); err != nil {
			return &exitError{code: ExitUsage, err: fileAdvice(err)}
		}
	}
	if o.svg != "" {
		err := atomicfile.Write(o.svg, 0o644, func(w io.Writer) error {
			return flame.Write(w, flameStacks(set), flame.Options{Title: stacksTitle(set), Unit: unitOf(set)})
		})
		if err != nil {
			return &exitError{code: ExitUsage, err: fileAdvice(err)}
		}
	}
	out := bufio.NewWriter(a.stdout)
	shown := groups
	if o.top > 0 && len(shown) > o.top {
		shown = shown[:o.top]
	}
	switch {
	case a.json:
		writeStacksJSON(out, set, groups, shown)
	case o.folded:
		for _, l := range foldedLines(set) {
			fmt.Fprintf(out, "%s %d\n", strings.Join(l.Path, ";"), l.Weight)
		}
	default:
		writeStacksTable(out, set, groups, shown)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if len(set.stacks) == 0 {
		return errNotFound
	}
	return nil
}

// unitOf names what the weights count.
func unitOf(set *stackSet) string {
	if set.kind == kstack.KindLeak {
		return "bytes"
	}
	return "stacks"
}

// stacksTitle describes the set in one line.
func stacksTitle(set *stackSet) string {
	var b strings.Builder
	if set.kind == kstack.KindLeak {
		var bytes int64
		for _, s := range set.stacks {
			bytes += s.Bytes
		}
		fmt.Fprintf(&b, "%s, %d bytes, from %s", plural(len(set.stacks), "leaked object"), bytes, set.source)
		return b.String()
	}
	fmt.Fprintf(&b, "%s of %s", plural(len(set.stacks), "task stack"), plural(taskCount(set.stacks), "task"))
	if set.rounds > 1 {
		fmt.Fprintf(&b, ", %d samples over %.1fs", set.rounds, set.elapsed.Seconds())
	} else if set.rounds == 1 {
		b.WriteString(", 1 sample")
	} else {
		fmt.Fprintf(&b, " from %s", set.source)
	}
	if set.states != "" {
		fmt.Fprintf(&b, ", states %s", strings.Join(strings.Split(set.states, ""), ","))
	} else {
		b.WriteString(", all states")
	}
	return b.String()
}

// plural writes "1 task" or "2 tasks".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// taskCount counts distinct tasks, each stack of an unknown task as one.
func taskCount(stacks []kstack.Stack) int {
	seen := map[int]bool{}
	n := 0
	for _, s := range stacks {
		if s.TID < 0 {
			n++
		} else if !seen[s.TID] {
			seen[s.TID] = true
			n++
		}
	}
	return n
}

// noStack names an empty stack in pictures and tables.
const noStack = "[no kernel stack]"

// writeStacksTable prints the groups for people: a header line per group
// (count, share, states, task names) and its functions, innermost first.
func writeStacksTable(w io.Writer, set *stackSet, groups, shown []kstack.Group) {
	fmt.Fprintf(w, "%s; %s\n", stacksTitle(set), plural(len(groups), "distinct stack"))
	var total int64
	for _, g := range groups {
		total += g.Weight
	}
	for _, g := range shown {
		fmt.Fprintln(w)
		share := 100 * float64(g.Weight) / float64(max(total, 1))
		switch {
		case set.kind == kstack.KindLeak:
			fmt.Fprintf(w, "%d bytes (%.1f%%) in %s", g.Weight, share, plural(g.Count, "object"))
		case set.rounds > 1:
			fmt.Fprintf(w, "%s (%.1f%%), %.2f tasks on average", plural(g.Count, "stack"), share, float64(g.Count)/float64(set.rounds))
		case g.Count != g.Tasks:
			fmt.Fprintf(w, "%s of %s (%.1f%%)", plural(g.Count, "stack"), plural(g.Tasks, "task"), share)
		default:
			fmt.Fprintf(w, "%s (%.1f%%)", plural(g.Count, "task"), share)
		}
		if len(g.States) > 0 {
			fmt.Fprintf(w, "  state %s", counted(g.States, 0))
		}
		fmt.Fprintf(w, "  comm %s\n", counted(g.Comms, 5))
		if len(g.Funcs) == 0 {
			fmt.Fprintf(w, "    %s (in user space, or running on a CPU)\n", noStack)
		}
		for _, f := range g.Funcs {
			fmt.Fprintf(w, "    %s\n", f)
		}
	}
	if len(shown) < len(groups) {
		more := strings.TrimPrefix(plural(len(groups)-len(shown), "distinct stack"), strconv.Itoa(len(groups)-len(shown))+" ")
		fmt.Fprintf(w, "\n... %d more %s (--top 0 shows all)\n", len(groups)-len(shown), more)
	}
}

// counted lists "S:3 D:1", or "name (x3), other", at most limit names (0:
// all) and how many more.
func counted(m map[string]int, limit int) string {
	ranked := kstack.Ranked(m)
	var parts []string
	for i, c := range ranked {
		if limit > 0 && i == limit {
			parts = append(parts, fmt.Sprintf("+%d more", len(ranked)-limit))
			break
		}
		name := c.Name
		if name == "" {
			name = "?"
		}
		if limit == 0 {
			parts = append(parts, fmt.Sprintf("%s:%d", name, c.Count))
		} else if c.Count > 1 {
			parts = append(parts, fmt.Sprintf("%s (x%d)", name, c.Count))
		} else {
			parts = append(parts, name)
		}
	}
	sep := ", "
	if limit == 0 {
		sep = " "
	}
	return strings.Join(parts, sep)
}

// foldedLines merges the stacks by task name and functions, root first:
// the lines of --folded, the SVG and the pprof samples. Names keep no ';'
// (the separator) and no line breaks.
func foldedLines(set *stackSet) []flame.Stack {
	index := map[string]int{}
	var out []flame.Stack
	for _, s := range set.stacks {
		comm := s.Comm
		if comm == "" {
			comm = "?"
		}
		path := []string{foldName(comm)}
		for i := len(s.Frames) - 1; i >= 0; i-- {
			path = append(path, foldName(s.Frames[i].Func()))
		}
		if len(s.Frames) == 0 {
			path = append(path, noStack)
		}
		key := strings.Join(path, ";")
		if i, ok := index[key]; ok {
			out[i].Weight += s.Weight()
			continue
		}
		index[key] = len(out)
		out = append(out, flame.Stack{Path: path, Weight: s.Weight()})
	}
	return out
}

// foldName replaces the characters folded stacks cannot hold.
func foldName(s string) string {
	return strings.NewReplacer(";", ":", "\n", " ", "\r", " ").Replace(s)
}

// flameStacks are the stacks of the SVG: the folded stacks without the task
// name, so that tasks waiting in the same place make one tower however they
// are named (the names are in --folded and in the pprof labels).
func flameStacks(set *stackSet) []flame.Stack {
	index := map[string]int{}
	var out []flame.Stack
	for _, l := range foldedLines(set) {
		key := strings.Join(l.Path[1:], ";")
		if i, ok := index[key]; ok {
			out[i].Weight += l.Weight
			continue
		}
		index[key] = len(out)
		out = append(out, flame.Stack{Path: l.Path[1:], Weight: l.Weight})
	}
	return out
}

// stacksJSON is the --json output of ksym stacks.
type stacksJSON struct {
	Source   string         `json:"source"`
	Kind     kstack.Kind    `json:"kind"`
	Samples  int            `json:"samples,omitempty"`
	Seconds  float64        `json:"seconds,omitempty"`
	States   string         `json:"states,omitempty"`
	Stacks   int            `json:"stacks"`
	Tasks    int            `json:"tasks"`
	Weight   int64          `json:"weight"`
	Distinct int            `json:"distinct"`
	Warnings []string       `json:"warnings"`
	Groups   []kstack.Group `json:"groups"`
}

func writeStacksJSON(w io.Writer, set *stackSet, groups, shown []kstack.Group) {
	j := stacksJSON{Source: set.source, Kind: set.kind, Samples: set.rounds, Seconds: set.elapsed.Seconds(), States: set.states,
		Stacks: len(set.stacks), Tasks: taskCount(set.stacks), Distinct: len(groups), Warnings: set.warnings, Groups: shown}
	for _, g := range groups {
		j.Weight += g.Weight
	}
	if j.Warnings == nil {
		j.Warnings = []string{}
	}
	if j.Groups == nil {
		j.Groups = []kstack.Group{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(j)
}

// writePprof writes the stacks as a pprof profile: one sample per task
// name, state and stack, with the functions as locations (innermost first,
// pprof's order; named "func [mod]" for module functions, as in the other
// outputs, the module also as the file name) and "comm" and "state" labels.
// Leaks have two values, objects and bytes.
func writePprof(w io.Writer, set *stackSet) error {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "stacks", Unit: "count"}},
		Mapping:    []*profile.Mapping{{ID: 1, File: "[kernel]", HasFunctions: true}},
		Comments:   []string{"ksym stacks: " + stacksTitle(set)},
	}
	if set.kind == kstack.KindLeak {
		p.SampleType = []*profile.ValueType{{Type: "objects", Unit: "count"}, {Type: "space", Unit: "bytes"}}
	}
	if set.rounds > 0 {
		p.DurationNanos = set.elapsed.Nanoseconds()
	}
	locs := map[string]*profile.Location{}
	location := func(f kstack.Frame) *profile.Location {
		key := f.Func()
		if l, ok := locs[key]; ok {
			return l
		}
		file, system := f.Module, f.Name
		if file == "" {
			file = "vmlinux"
		}
		if system == "" {
			system = key
		}
		fn := &profile.Function{ID: uint64(len(p.Function) + 1), Name: key, SystemName: system, Filename: file}
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: p.Mapping[0], Line: []profile.Line{{Function: fn}}}
		p.Function = append(p.Function, fn)
		p.Location = append(p.Location, l)
		locs[key] = l
		return l
	}
	samples := map[string]*profile.Sample{}
	for _, s := range set.stacks {
		key := s.Comm + "\x00" + s.State + "\x00" + strings.Join(s.Funcs(), "\x00")
		sm, ok := samples[key]
		if !ok {
			sm = &profile.Sample{Value: make([]int64, len(p.SampleType)), Label: map[string][]string{"comm": {s.Comm}}}
			if s.State != "" {
				sm.Label["state"] = []string{s.State}
			}
			for _, f := range s.Frames {
				sm.Location = append(sm.Location, location(f))
			}
			if len(s.Frames) == 0 {
				sm.Location = append(sm.Location, location(kstack.Frame{Name: noStack}))
			}
			samples[key] = sm
			p.Sample = append(p.Sample, sm)
		}
		sm.Value[0]++
		if set.kind == kstack.KindLeak {
			sm.Value[1] += s.Bytes
		}
	}
	if err := p.CheckValid(); err != nil {
		return err
	}
	return p.Write(w)
}
