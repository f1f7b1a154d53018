package cli

import (
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/decode"
)

// decode --group: the reports of every input counted in buckets by
// signature (decode.Signature), one line (or JSON object) per bucket, the
// largest first.

// groupJSON is one bucket in --group --json output.
type groupJSON struct {
	Signature string    `json:"signature"`
	Kind      string    `json:"kind"`
	Function  string    `json:"function,omitempty"`
	Title     string    `json:"title,omitempty"`
	Count     int       `json:"count"`
	Kernels   []string  `json:"kernels"`
	First     placeJSON `json:"first"`
	Last      placeJSON `json:"last"`
}

// placeJSON is a decode.Place.
type placeJSON struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// printGroups prints the buckets.
func (run *decodeRun) printGroups() error {
	for _, b := range run.groups.List() {
		if run.a.json {
			if err := writeJSONLine(run.out, groupOf(b)); err != nil {
				return err
			}
			continue
		}
		kernels := "-"
		if len(b.Releases) > 0 {
			kernels = strings.Join(b.Releases, ",")
		}
		run.out.WriteString(strings.Join([]string{strconv.Itoa(b.Count), b.Signature.String(), kernels,
			placeText(b.First), placeText(b.Last)}, "\t"))
		run.out.WriteByte('\n')
	}
	return nil
}

// groupOf shapes one bucket.
func groupOf(b decode.Bucket) groupJSON {
	kernels := b.Releases
	if kernels == nil {
		kernels = []string{}
	}
	return groupJSON{Signature: b.Signature.String(), Kind: string(b.Signature.Kind), Function: b.Signature.Func,
		Title: b.Signature.Title, Count: b.Count, Kernels: kernels,
		First: placeJSON(b.First), Last: placeJSON(b.Last)}
}

// placeText reads "file:line".
func placeText(p decode.Place) string {
	return p.File + ":" + strconv.Itoa(p.Line)
}
