package kmem

import (
	"sort"
)

// Growth is how one vmalloc caller, slab cache or allocation site changed
// over a series of snapshots.
//
// An interval is the time between two consecutive snapshots. The value grew
// in an interval when it is strictly larger at its end than at its start.
// Steadiness is the fraction of intervals in which it grew: 1 for a leak,
// which grows at every sample; lower for a cache that breathes (grows and
// shrinks with the load). Monotonic says it never shrank.
type Growth struct {
	// Source is SourceVmalloc, SourceSlab or SourceSites.
	Source string `json:"source"`
	// Name is the vmalloc caller, the slab cache, or "CACHE CALLER" for an
	// allocation site.
	Name string `json:"name"`
	// Unit is "bytes", or "objects" for an allocation site whose cache is
	// not in /proc/slabinfo (so its object size is unknown).
	Unit string `json:"unit"`
	// Values has one value per snapshot: vmalloc bytes of the caller (size
	// column), bytes in use of the cache (active_objs*objsize), objects of
	// the site times the cache's objsize. Absent from a snapshot means 0.
	Values     []uint64 `json:"values"`
	Growth     int64    `json:"growth"` // last value minus first
	Intervals  int      `json:"intervals"`
	Grew       int      `json:"grew"`   // intervals in which the value rose
	Shrank     int      `json:"shrank"` // intervals in which it fell
	Steadiness float64  `json:"steadiness"`
	Monotonic  bool     `json:"monotonic"`
}

// sourceOrder is the order of the sources in Grow's answer.
var sourceOrder = map[string]int{SourceVmalloc: 0, SourceSlab: 1, SourceSites: 2}

// Grow compares snapshots in time order and returns everything whose last
// value is larger than its first, by source (vmalloc callers, slab caches,
// allocation sites), and within a source by growth, then steadiness, then
// name. A source is compared only when every snapshot could read it. Fewer
// than two snapshots give nothing. Unpurged vmalloc areas (UnpurgedCaller)
// are left out: they are address space already freed, whose amount rises
// until the kernel purges them in a batch, not memory that anyone holds.
func Grow(snaps []*Snapshot) []Growth {
	if len(snaps) < 2 {
		return nil
	}
	series := map[seriesKey][]uint64{}
	for i, s := range snaps {
		for k, v := range values(s) {
			if !availableInAll(snaps, k.source) {
				continue
			}
			if series[k] == nil {
				series[k] = make([]uint64, len(snaps))
			}
			series[k][i] = v
		}
	}
	var out []Growth
	for k, vals := range series {
		g := growthOf(k, vals)
		if g.Growth > 0 {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Source != b.Source:
			return sourceOrder[a.Source] < sourceOrder[b.Source]
		case a.Growth != b.Growth:
			return a.Growth > b.Growth
		case a.Steadiness != b.Steadiness:
			return a.Steadiness > b.Steadiness
		}
		return a.Name < b.Name
	})
	return out
}

// seriesKey names one series.
type seriesKey struct {
	source, name, unit string
}

// values returns the value of every caller, cache and site of a snapshot.
func values(s *Snapshot) map[seriesKey]uint64 {
	m := map[seriesKey]uint64{}
	for _, c := range ByCaller(s.Vmalloc) {
		if c.Caller == UnpurgedCaller {
			continue
		}
		m[seriesKey{SourceVmalloc, c.Caller, "bytes"}] = c.Bytes
	}
	objSize := map[string]uint64{}
	for _, c := range s.Slab {
		m[seriesKey{SourceSlab, c.Name, "bytes"}] += c.InUseBytes()
		objSize[c.Name] = c.ObjSize
	}
	for _, cs := range s.Sites {
		size, ok := objSize[cs.Cache]
		unit := "bytes"
		if !ok {
			size, unit = 1, "objects"
		}
		for _, site := range cs.Sites {
			m[seriesKey{SourceSites, cs.Cache + " " + site.Caller, unit}] += site.Objects * size
		}
	}
	return m
}

// availableInAll reports whether every snapshot read the source.
func availableInAll(snaps []*Snapshot, source string) bool {
	for _, s := range snaps {
		if !s.Source(source).Available {
			return false
		}
	}
	return true
}

// growthOf computes the growth of one series.
func growthOf(k seriesKey, vals []uint64) Growth {
	g := Growth{Source: k.source, Name: k.name, Unit: k.unit, Values: vals, Intervals: len(vals) - 1}
	for i := 1; i < len(vals); i++ {
		switch {
		case vals[i] > vals[i-1]:
			g.Grew++
		case vals[i] < vals[i-1]:
			g.Shrank++
		}
	}
	g.Growth = int64(vals[len(vals)-1]) - int64(vals[0])
	g.Steadiness = float64(g.Grew) / float64(g.Intervals)
	g.Monotonic = g.Shrank == 0
	return g
}
