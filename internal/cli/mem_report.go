package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ksym-dev/ksym/kmem"
)

// memResult is the JSON answer of ksym mem for one sample.
type memResult struct {
	Root     string           `json:"root"`
	Sources  []kmem.Source    `json:"sources"`
	Vmalloc  *memVmalloc      `json:"vmalloc,omitempty"`
	Check    *memCallerCheck  `json:"caller_check,omitempty"`
	Slab     *memSlab         `json:"slab,omitempty"`
	Sites    []memSite        `json:"alloc_sites,omitempty"`
	Kmemleak *memKmemleak     `json:"kmemleak,omitempty"`
	Modules  []kmem.ModuleUse `json:"modules,omitempty"`
}

type memVmalloc struct {
	Bytes   uint64           `json:"bytes"`
	Areas   int              `json:"areas"`
	Callers int              `json:"callers"`
	Top     []kmem.CallerUse `json:"top"`
}

// memCallerCheck is how the vmalloc callers compare with a symbol table.
type memCallerCheck struct {
	Table      string                `json:"table,omitempty"`
	Callers    int                   `json:"callers"`
	Checked    int                   `json:"checked"`
	Mismatches []kmem.CallerMismatch `json:"mismatches,omitempty"`
	Error      string                `json:"error,omitempty"` // why none was checked
}

type memSlab struct {
	InUseBytes uint64     `json:"in_use_bytes"`
	TotalBytes uint64     `json:"total_bytes"`
	Caches     int        `json:"caches"`
	Top        []memCache `json:"top"`
}

type memCache struct {
	kmem.SlabCache
	InUseBytes uint64 `json:"in_use_bytes"`
	TotalBytes uint64 `json:"total_bytes"`
}

type memSite struct {
	Cache string `json:"cache"`
	kmem.AllocSite
}

type memKmemleak struct {
	Objects int              `json:"objects"`
	Bytes   uint64           `json:"bytes"`
	Stacks  int              `json:"stacks"`
	Top     []kmem.LeakGroup `json:"top"`
}

// buildMem summarises one snapshot, keeping the top n of each list (0: all).
func buildMem(s *kmem.Snapshot, n int) memResult {
	r := memResult{Root: s.Root, Sources: s.Sources}
	if s.Source(kmem.SourceVmalloc).Available {
		callers := kmem.ByCaller(s.Vmalloc)
		v := &memVmalloc{Areas: len(s.Vmalloc), Callers: len(callers), Top: topN(callers, n)}
		for _, c := range callers {
			v.Bytes += c.Bytes
		}
		r.Vmalloc = v
	}
	if s.Source(kmem.SourceSlab).Available {
		r.Slab = buildSlab(s.Slab, n)
	}
	for _, cs := range s.Sites {
		for _, site := range cs.Sites {
			r.Sites = append(r.Sites, memSite{Cache: cs.Cache, AllocSite: site})
		}
	}
	sortSites(r.Sites)
	r.Sites = topN(r.Sites, n)
	if s.Source(kmem.SourceKmemleak).Available {
		groups := kmem.GroupLeaks(s.Leaks)
		k := &memKmemleak{Objects: len(s.Leaks), Stacks: len(groups), Top: topN(groups, n)}
		for _, l := range s.Leaks {
			k.Bytes += l.Size
		}
		r.Kmemleak = k
	}
	if s.Source(kmem.SourceModules).Available || len(s.Vmalloc) > 0 {
		r.Modules = topN(kmem.ByModule(s.Modules, s.Vmalloc), n)
	}
	return r
}

func buildSlab(caches []kmem.SlabCache, n int) *memSlab {
	sorted := append([]kmem.SlabCache(nil), caches...)
	kmem.SortSlabByInUse(sorted)
	sl := &memSlab{Caches: len(caches)}
	for i, c := range sorted {
		sl.InUseBytes += c.InUseBytes()
		sl.TotalBytes += c.ObjectBytes()
		if n == 0 || i < n {
			sl.Top = append(sl.Top, memCache{SlabCache: c, InUseBytes: c.InUseBytes(), TotalBytes: c.ObjectBytes()})
		}
	}
	return sl
}

// sortSites orders allocation sites by objects, most first, then by cache
// and caller.
func sortSites(sites []memSite) {
	sort.SliceStable(sites, func(i, j int) bool {
		a, b := sites[i], sites[j]
		if a.Objects != b.Objects {
			return a.Objects > b.Objects
		}
		if a.Cache != b.Cache {
			return a.Cache < b.Cache
		}
		return a.Caller < b.Caller
	})
}

// topN returns the first n elements of s (all when n is 0).
func topN[T any](s []T, n int) []T {
	if n > 0 && len(s) > n {
		return s[:n]
	}
	return s
}

func (a *app) reportMem(s *kmem.Snapshot, n int) error {
	r := buildMem(s, n)
	if r.Vmalloc != nil {
		r.Check = a.checkCallers(s)
	}
	var err error
	if a.json {
		err = writeJSON(a.stdout, r)
	} else {
		err = renderMem(a.stdout, r)
	}
	if err == nil && !anyAvailable(s) {
		return &exitError{code: ExitNotFound, err: fmt.Errorf("mem: no source could be read (see the reasons above)")}
	}
	return err
}

func renderMem(w io.Writer, r memResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	renderSources(tw, r.Sources)
	if v := r.Vmalloc; v != nil {
		fmt.Fprintf(tw, "\nvmalloc: %s in %d areas by %d callers%s\n", humanBytes(v.Bytes), v.Areas, v.Callers, topNote(len(v.Top), v.Callers))
		fmt.Fprintln(tw, "BYTES\tAREAS\tPAGES\tKIND\tCALLER")
		unpurged := false
		for _, c := range v.Top {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", humanBytes(c.Bytes), c.Areas, c.Pages, strings.Join(c.Kinds, ","), c.Caller)
			unpurged = unpurged || c.Caller == kmem.UnpurgedCaller
		}
		if unpurged {
			fmt.Fprintf(tw, "%s: freed areas whose address space the kernel purges lazily; they hold no memory\n", kmem.UnpurgedCaller)
		}
		renderCallerCheck(tw, r.Check)
	}
	if sl := r.Slab; sl != nil {
		fmt.Fprintf(tw, "\nslab: %s in use of %s in %d caches%s\n", humanBytes(sl.InUseBytes), humanBytes(sl.TotalBytes), sl.Caches, topNote(len(sl.Top), sl.Caches))
		fmt.Fprintln(tw, "IN USE\tTOTAL\tOBJECTS\tOBJSIZE\tCACHE")
		for _, c := range sl.Top {
			fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d\t%s\n", humanBytes(c.InUseBytes), humanBytes(c.TotalBytes), c.ActiveObjs, c.NumObjs, c.ObjSize, c.Name)
		}
	}
	renderSites(tw, r.Sites)
	renderKmemleak(tw, r.Kmemleak)
	renderModules(tw, r.Modules)
	return tw.Flush()
}

func renderSources(w io.Writer, sources []kmem.Source) {
	fmt.Fprintln(w, "SOURCE\tSTATE")
	for _, s := range sources {
		state := "read " + s.Path
		if !s.Available {
			state = "unavailable: " + s.Reason
		} else if s.Note != "" {
			state += ": " + s.Note
		}
		fmt.Fprintf(w, "%s\t%s\n", s.Name, state)
	}
}

func renderSites(w io.Writer, sites []memSite) {
	if len(sites) == 0 {
		return
	}
	fmt.Fprintln(w, "\nallocation sites (store_user):")
	fmt.Fprintln(w, "OBJECTS\tCACHE\tSITE")
	for _, s := range sites {
		fmt.Fprintf(w, "%d\t%s\t%s\n", s.Objects, s.Cache, s.Caller)
	}
}

func renderKmemleak(w io.Writer, k *memKmemleak) {
	if k == nil {
		return
	}
	fmt.Fprintf(w, "\nkmemleak: %d unreferenced objects, %s, from %d stacks%s\n", k.Objects, humanBytes(k.Bytes), k.Stacks, topNote(len(k.Top), k.Stacks))
	if len(k.Top) == 0 {
		return
	}
	fmt.Fprintln(w, "BYTES\tOBJECTS\tSITE")
	for _, g := range k.Top {
		fmt.Fprintf(w, "%s\t%d\t%s\n", humanBytes(g.Bytes), g.Objects, g.Site)
	}
}

func renderModules(w io.Writer, mods []kmem.ModuleUse) {
	if len(mods) == 0 {
		return
	}
	fmt.Fprintln(w, "\nmodules (size from /proc/modules, plus the vmalloc areas the module made):")
	fmt.Fprintln(w, "TOTAL\tSIZE\tVMALLOC\tAREAS\tMODULE")
	for _, m := range mods {
		name := m.Name
		if !m.Loaded {
			name += " (not in /proc/modules)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", humanBytes(m.Total()), humanBytes(m.Size), humanBytes(m.VmallocBytes), m.VmallocAreas, name)
	}
}

// topNote says that a table shows only the top shown of total.
func topNote(shown, total int) string {
	if shown < total {
		return fmt.Sprintf(" (top %d)", shown)
	}
	return ""
}

// humanBytes prints a byte count in binary units: "512 B", "20.0 KiB",
// "6.9 MiB".
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[i])
}

// checkCallers checks every vmalloc caller against the table (--kallsyms,
// or the live one under --root).
func (a *app) checkCallers(s *kmem.Snapshot) *memCallerCheck {
	var callers []string
	for _, c := range kmem.ByCaller(s.Vmalloc) {
		callers = append(callers, c.Caller)
	}
	ch := &memCallerCheck{Callers: len(callers)}
	t, source, err := a.table()
	switch {
	case err != nil:
		ch.Error = err.Error() + "; give --kallsyms with the table of the same boot"
	case t.Hidden():
		ch.Table = source
		ch.Error = "the table hides addresses, so it has no sizes: read it as root"
	default:
		ch.Table = source
		ch.Checked, ch.Mismatches = kmem.CheckCallers(t, callers)
	}
	return ch
}

func renderCallerCheck(w io.Writer, ch *memCallerCheck) {
	switch {
	case ch == nil:
	case ch.Error != "":
		fmt.Fprintf(w, "callers not checked against a table: %s\n", ch.Error)
	case len(ch.Mismatches) == 0:
		fmt.Fprintf(w, "callers: %d of %d checked against %s, all match\n", ch.Checked, ch.Callers, ch.Table)
	default:
		fmt.Fprintf(w, "WARNING: %d of %d callers checked against %s do not match it: the files and the table are of different kernel builds\n", len(ch.Mismatches), ch.Checked, ch.Table)
		for _, m := range ch.Mismatches {
			fmt.Fprintf(w, "  %s: %s\n", m.Caller, m.Problem)
		}
	}
}
