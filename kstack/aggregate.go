package kstack

import (
	"slices"
	"sort"
	"strings"
)

// Group is a set of identical stacks: the same functions in the same order
// (Frame.Func: names and modules, offsets dropped, so that tasks waiting in
// the same functions count together wherever in them they wait).
type Group struct {
	// Funcs are the functions, innermost first; empty for tasks without a
	// kernel stack (in user space, or running on a CPU).
	Funcs []string `json:"funcs"`
	// Frames are the frames of the first stack of the group, as printed.
	Frames []Frame `json:"frames"`
	// Count is the number of stacks.
	Count int `json:"count"`
	// Weight is the sum of the stacks' weights: Count for task stacks,
	// bytes for leaks.
	Weight int64 `json:"weight"`
	// States and Comms count the stacks by task state and task name.
	States map[string]int `json:"states,omitempty"`
	Comms  map[string]int `json:"comms"`
	// Tasks is the number of distinct tasks (by thread id) in the group;
	// stacks of unknown tasks count one each.
	Tasks int `json:"tasks"`
}

// Aggregate groups identical stacks (see Group) and returns the groups
// heaviest first; ties by count, then by function names. Stacks of
// different kinds (task, leak) are never in one group.
func Aggregate(stacks []Stack) []Group {
	index := map[string]int{}
	var groups []Group
	tids := map[string]map[int]bool{}
	for i := range stacks {
		s := &stacks[i]
		funcs := s.Funcs()
		key := string(s.Kind) + "\x00" + strings.Join(funcs, "\x00")
		g, ok := index[key]
		if !ok {
			g = len(groups)
			index[key] = g
			groups = append(groups, Group{Funcs: funcs, Frames: s.Frames, Comms: map[string]int{}})
			tids[key] = map[int]bool{}
		}
		gr := &groups[g]
		gr.Count++
		gr.Weight += s.Weight()
		if s.State != "" {
			if gr.States == nil {
				gr.States = map[string]int{}
			}
			gr.States[s.State]++
		}
		gr.Comms[s.Comm]++
		if s.TID < 0 {
			gr.Tasks++
		} else if !tids[key][s.TID] {
			tids[key][s.TID] = true
			gr.Tasks++
		}
	}
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := &groups[i], &groups[j]
		if a.Weight != b.Weight {
			return a.Weight > b.Weight
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return slices.Compare(a.Funcs, b.Funcs) < 0
	})
	return groups
}

// Counted is a name with a count, for listing a group's states or comms.
type Counted struct {
	Name  string
	Count int
}

// Ranked returns the entries of m, most frequent first, ties by name.
func Ranked(m map[string]int) []Counted {
	out := make([]Counted, 0, len(m))
	for k, v := range m {
		out = append(out, Counted{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}
