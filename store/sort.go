package store

import (
	"slices"
	"strings"
)

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sortBuckets orders buckets the most frequent first, then the latest
// seen, then by signature.
func sortBuckets(bs []Bucket) {
	slices.SortFunc(bs, func(a, b Bucket) int {
		switch {
		case a.Count != b.Count:
			return b.Count - a.Count
		case !a.Last.Equal(b.Last):
			return b.Last.Compare(a.Last)
		}
		return strings.Compare(a.Signature, b.Signature)
	})
}
