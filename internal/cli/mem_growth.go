package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ksym-dev/ksym/kmem"
)

// growthResult is the JSON answer of ksym mem with several samples.
type growthResult struct {
	Samples  int           `json:"samples"`
	Interval string        `json:"interval,omitempty"` // live sampling only
	Roots    []string      `json:"roots"`
	Sources  []kmem.Source `json:"sources"` // of the last sample
	// Compared lists the sources read in every sample, whose growth is
	// ranked; the others are in Sources with their reasons.
	Compared []string      `json:"compared"`
	Growth   []kmem.Growth `json:"growth"`
}

func buildGrowth(snaps []*kmem.Snapshot, o memOptions) growthResult {
	last := snaps[len(snaps)-1]
	r := growthResult{Samples: len(snaps), Sources: last.Sources, Compared: []string{}, Growth: []kmem.Growth{}}
	if o.interval > 0 {
		r.Interval = o.interval.String()
	}
	for _, s := range snaps {
		r.Roots = append(r.Roots, s.Root)
	}
	for _, name := range []string{kmem.SourceVmalloc, kmem.SourceSlab, kmem.SourceSites} {
		if readInAll(snaps, name) {
			r.Compared = append(r.Compared, name)
		}
	}
	count := map[string]int{}
	for _, g := range kmem.Grow(snaps) {
		count[g.Source]++
		if o.top == 0 || count[g.Source] <= o.top {
			r.Growth = append(r.Growth, g)
		}
	}
	return r
}

// readInAll reports whether every snapshot read the source.
func readInAll(snaps []*kmem.Snapshot, name string) bool {
	for _, s := range snaps {
		if !s.Source(name).Available {
			return false
		}
	}
	return true
}

func (a *app) reportGrowth(snaps []*kmem.Snapshot, o memOptions) error {
	r := buildGrowth(snaps, o)
	var err error
	if a.json {
		err = writeJSON(a.stdout, r)
	} else {
		err = renderGrowth(a.stdout, r)
	}
	if err == nil && len(r.Compared) == 0 {
		return &exitError{code: ExitNotFound, err: fmt.Errorf("mem: no source was read in every sample (see the reasons above)")}
	}
	return err
}

// growthTitles are the headings of the growth tables.
var growthTitles = map[string]string{
	kmem.SourceVmalloc: "vmalloc callers",
	kmem.SourceSlab:    "slab caches (bytes in use)",
	kmem.SourceSites:   "allocation sites (objects x objsize)",
}

func renderGrowth(w io.Writer, r growthResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	renderSources(tw, r.Sources)
	span := ""
	if r.Interval != "" {
		if d, err := time.ParseDuration(r.Interval); err == nil {
			span = fmt.Sprintf(", %s apart", d)
		}
	}
	intervals := fmt.Sprintf("%d intervals", r.Samples-1)
	if r.Samples == 2 {
		intervals = "1 interval"
	}
	fmt.Fprintf(tw, "\n%d samples (%s%s); steadiness: intervals in which it grew\n", r.Samples, intervals, span)
	for _, src := range r.Compared {
		fmt.Fprintf(tw, "\n%s that grew:\n", growthTitles[src])
		fmt.Fprintln(tw, "GROWTH\tFIRST\tLAST\tGREW\tSHRANK\tNAME")
		n := 0
		for _, g := range r.Growth {
			if g.Source != src {
				continue
			}
			n++
			fmt.Fprintf(tw, "+%s\t%s\t%s\t%d/%d\t%d\t%s\n", growthAmount(g, uint64(g.Growth)), growthAmount(g, g.Values[0]), growthAmount(g, g.Values[len(g.Values)-1]), g.Grew, g.Intervals, g.Shrank, g.Name)
		}
		if n == 0 {
			fmt.Fprintln(tw, "(nothing grew)")
		}
	}
	return tw.Flush()
}

// growthAmount prints a value in the unit of its series.
func growthAmount(g kmem.Growth, v uint64) string {
	if g.Unit == "objects" {
		return fmt.Sprintf("%d obj", v)
	}
	return humanBytes(v)
}
