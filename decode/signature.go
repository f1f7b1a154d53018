package decode

import (
	"slices"
	"strings"

	"github.com/ksym-dev/ksym/klog"
)

// Signature identifies a crash across logs, boots and kernels, so that
// reports of the same crash fall into one bucket: the kind and the guilty
// function, without what changes from one occurrence to the next (offsets,
// addresses, PIDs, CPUs, the kernel release, the compiler's clone
// suffixes). Signatures are comparable.
type Signature struct {
	// Kind is the report kind.
	Kind klog.Kind
	// Func is the guilty function without the suffixes the compiler adds
	// to its copies (".isra.0", ".constprop.3", ".part.1", ".cold",
	// ".llvm.4210"), which differ between builds; empty when the report has
	// no guilty function.
	Func string
	// Title, when Func is empty, is the summary title with its numbers
	// masked as "N": what tells apart reports of one kind that name no
	// function ("Kernel panic - not syncing: Attempted to kill init!
	// exitcode=N").
	Title string
}

// Signature returns the signature of the summarized report.
func (s Summary) Signature() Signature {
	if f := stripClone(s.GuiltyFunc); f != "" {
		return Signature{Kind: s.Kind, Func: f}
	}
	return Signature{Kind: s.Kind, Title: maskNumbers(s.Title)}
}

// String reads "kind in func", or `kind "title"` when there is no
// function.
func (g Signature) String() string {
	switch {
	case g.Func != "":
		return string(g.Kind) + " in " + g.Func
	case g.Title != "":
		return string(g.Kind) + ` "` + g.Title + `"`
	}
	return string(g.Kind)
}

// stripClone strips compiler suffixes from a symbol name: a C identifier has
// no ".", so everything from the first one was added by the compiler (a
// leading "." is kept: it is not a suffix).
func stripClone(name string) string {
	if name == "" {
		return name
	}
	if i := strings.IndexByte(name[1:], '.'); i >= 0 {
		return name[:i+1]
	}
	return name
}

// maskNumbers replaces every word of s that is a number (decimal, or hex
// with or without 0x, with at least one digit) by "N". A word is a run of
// letters, digits and underscores: "amd64" and "ext4" are kept.
func maskNumbers(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		if isNumber(s[i:j]) {
			b.WriteByte('N')
		} else {
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}

// isWordByte reports whether c may be part of a word.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isNumber reports whether w is a decimal or hexadecimal number with at
// least one decimal digit.
func isNumber(w string) bool {
	w = strings.TrimPrefix(strings.TrimPrefix(w, "0x"), "0X")
	digit := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return digit
}

// Place is where a report was found: its input and the number of its
// first line.
type Place struct {
	File string
	Line int
}

// Bucket is the reports of one signature.
type Bucket struct {
	Signature Signature
	// Count is the number of reports.
	Count int
	// Releases are the kernel releases the reports were printed by,
	// sorted; reports that print none add nothing.
	Releases []string
	// First and Last are the first and the last report, in the order they
	// were added.
	First, Last Place
}

// Buckets groups reports by signature. The zero value is ready to use.
type Buckets struct {
	index map[Signature]int
	list  []Bucket
}

// Add counts the summarized report found at at.
func (bs *Buckets) Add(s Summary, at Place) {
	sig := s.Signature()
	if bs.index == nil {
		bs.index = map[Signature]int{}
	}
	i, ok := bs.index[sig]
	if !ok {
		i = len(bs.list)
		bs.index[sig] = i
		bs.list = append(bs.list, Bucket{Signature: sig, First: at})
	}
	b := &bs.list[i]
	b.Count++
	b.Last = at
	if r := s.Release; r != "" {
		if j, found := slices.BinarySearch(b.Releases, r); !found {
			b.Releases = slices.Insert(b.Releases, j, r)
		}
	}
}

// List returns the buckets, the most reports first, then in the order
// their first report was added.
func (bs *Buckets) List() []Bucket {
	out := slices.Clone(bs.list)
	slices.SortStableFunc(out, func(a, b Bucket) int { return b.Count - a.Count })
	return out
}
