package kmem

import (
	"sort"

	"github.com/ksym-dev/ksym/machine"
)

// ModuleUse is the memory of one module: its own size from /proc/modules
// (code and data, as the loader allocated them) and the vmalloc areas whose
// caller is in the module (what the module allocated at run time).
type ModuleUse struct {
	Name string `json:"name"`
	// Loaded is false for a module that made vmalloc areas but is not in
	// /proc/modules (read at another moment, or /proc/modules unavailable).
	Loaded       bool   `json:"loaded"`
	Size         uint64 `json:"size"`
	VmallocBytes uint64 `json:"vmalloc_bytes"`
	VmallocAreas int    `json:"vmalloc_areas"`
}

// Total is the module's size plus its vmalloc areas.
func (m ModuleUse) Total() uint64 { return m.Size + m.VmallocBytes }

// ByModule combines the loaded modules and the vmalloc areas by module,
// largest total first, then by name.
func ByModule(mods []machine.Module, areas []VmallocArea) []ModuleUse {
	idx := map[string]int{}
	var out []ModuleUse
	get := func(name string) *ModuleUse {
		i, ok := idx[name]
		if !ok {
			i = len(out)
			idx[name] = i
			out = append(out, ModuleUse{Name: name})
		}
		return &out[i]
	}
	for _, m := range mods {
		u := get(m.Name)
		u.Loaded = true
		u.Size += m.Size
	}
	for _, a := range areas {
		if a.Module == "" {
			continue
		}
		u := get(a.Module)
		u.VmallocBytes += a.Size
		u.VmallocAreas++
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total() != out[j].Total() {
			return out[i].Total() > out[j].Total()
		}
		return out[i].Name < out[j].Name
	})
	return out
}
