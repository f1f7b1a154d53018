package kallsyms

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unsafe"
)

// nameIndex finds symbols by name: symbol indices grouped by a hash of their
// name, so a lookup hashes the name, reads one small group and compares names.
// It is built on the first name lookup (address-only users never pay for it).
type nameIndex struct {
	shift  uint     // hash >> shift is the group
	starts []uint32 // group g holds order[starts[g]:starts[g+1]]
	// order holds, by group and then by index, each symbol's index in the
	// low 24 bits and the low byte of its name's hash in the high 8, so most
	// non-matching names are skipped without reading them.
	order []uint32
	wide  bool // more than 1<<24 symbols: order holds plain indices
}

const fpShift = 24

func (x *nameIndex) entry(i int, h uint64) uint32 {
	if x.wide {
		return uint32(i)
	}
	return uint32(i) | uint32(h&0xff)<<fpShift
}

// hashName is a fast, deterministic hash of a symbol name. It is part of the
// index file format (the name index groups by it): changing it needs a new
// IndexVersion.
func hashName(s string) uint64 {
	const m = 0x9E3779B97F4A7C15
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	h := uint64(len(s)) * m
	for len(b) >= 8 { // eight bytes per step, one load each
		h = (h ^ binary.LittleEndian.Uint64(b)) * m
		h ^= h >> 29
		b = b[8:]
	}
	var v uint64 // the last 0 to 7 bytes, every one of them
	switch n := len(b); {
	case n >= 4:
		v = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		v = uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16
	}
	h = (h ^ v) * m
	h ^= h >> 32
	h *= m
	return h ^ h>>29
}

func (t *Table) index() *nameIndex {
	t.nameIndexOnce.Do(func() { t.nameIndex = t.buildNameIndex() })
	return &t.nameIndex
}

func (t *Table) buildNameIndex() nameIndex {
	n := t.Len()
	bits := uint(1)
	for 1<<bits < n/2 {
		bits++
	}
	x := nameIndex{shift: 64 - bits, starts: make([]uint32, 1<<bits+1), order: make([]uint32, n), wide: n >= 1<<fpShift}
	group := make([]uint32, n)
	for i := range n {
		h := hashName(t.Name(i))
		g := uint32(h >> x.shift)
		group[i] = g
		x.starts[g+1]++
		x.order[i] = x.entry(i, h) // parked here until placed below
	}
	for g := 1; g < len(x.starts); g++ {
		x.starts[g] += x.starts[g-1]
	}
	fill := append([]uint32(nil), x.starts[:len(x.starts)-1]...)
	entries := append([]uint32(nil), x.order...)
	for i, g := range group {
		x.order[fill[g]] = entries[i]
		fill[g]++
	}
	if !x.wide {
		// By fingerprint within a group (then by index, as entries are
		// placed in index order), so that a name sharing its group with a
		// much duplicated one (__func__.0 has 483 copies) finds its own
		// entries by binary search.
		for g := range len(x.starts) - 1 {
			if grp := x.order[x.starts[g]:x.starts[g+1]]; len(grp) > 1 {
				slices.Sort(grp)
			}
		}
	}
	return x
}

// AppendFind appends to dst the indices of every symbol named name, in
// address order. It does not allocate when dst has room.
func (t *Table) AppendFind(dst []int, name string) []int {
	x := t.index()
	h := hashName(name)
	g := h >> x.shift
	if x.wide {
		for _, i := range x.order[x.starts[g]:x.starts[g+1]] {
			if t.Name(int(i)) == name {
				dst = append(dst, int(i))
			}
		}
		return dst
	}
	fp := uint32(h&0xff) << fpShift
	grp := x.order[x.starts[g]:x.starts[g+1]]
	if len(grp) > 8 {
		lo, hi := 0, len(grp)
		for lo < hi { // first entry with this fingerprint
			m := int(uint(lo+hi) >> 1)
			if grp[m] < fp {
				lo = m + 1
			} else {
				hi = m
			}
		}
		grp = grp[lo:]
	}
	for _, e := range grp {
		if e&^(1<<fpShift-1) == fp && t.Name(int(e&(1<<fpShift-1))) == name {
			dst = append(dst, int(e&(1<<fpShift-1)))
		} else if e > fp|(1<<fpShift-1) {
			break // past this fingerprint
		}
	}
	return dst
}

// Find returns the indices of every symbol named name, in address order.
// "module:name" restricts the answer to one module (the bpftrace convention);
// "vmlinux:name" or "kernel:name" to the core kernel. A symbol whose own name
// contains the colon (none does in a real kernel) is found too, and with
// several colons each is tried as the separator.
func (t *Table) Find(name string) []int {
	out := t.AppendFind(nil, name)
	qualified := false
	// Every colon may be the one between module and name: real module
	// names have none, but a table may say otherwise.
	for c := strings.IndexByte(name, ':'); c >= 0; c = nextColon(name, c) {
		mod, sym := name[:c], name[c+1:]
		if mod == "" || sym == "" {
			continue
		}
		qualified = true
		for _, i := range t.AppendFind(nil, sym) {
			if t.inModule(i, mod) {
				out = append(out, i)
			}
		}
	}
	if !qualified {
		return out
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// nextColon returns the index of the next ':' in s after c, or -1.
func nextColon(s string, c int) int {
	if n := strings.IndexByte(s[c+1:], ':'); n >= 0 {
		return c + 1 + n
	}
	return -1
}

// inModule reports whether symbol i belongs to mod, where "vmlinux" and
// "kernel" name the core.
func (t *Table) inModule(i int, mod string) bool {
	m := t.ModuleName(i)
	if m == "" {
		return mod == "vmlinux" || mod == "kernel"
	}
	return m == mod
}

// Query selects symbols for Table.Search. Empty fields do not filter.
type Query struct {
	Pattern  string // glob (path.Match syntax) unless Regexp is set; "" matches all
	Regexp   bool   // Pattern is a regular expression (regexp syntax, unanchored)
	Types    string // type letters to keep, e.g. "Tt"
	Module   string // keep only symbols of this module ("vmlinux" or "kernel" = core)
	CoreOnly bool   // keep only core-kernel symbols
}

// Search returns the indices of symbols matching q, in address order.
func (t *Table) Search(q Query) ([]int, error) {
	match, err := compilePattern(q.Pattern, q.Regexp)
	if err != nil {
		return nil, err
	}
	var types [256]bool
	for i := range len(q.Types) {
		types[q.Types[i]] = true
	}
	var out []int
	for r, rn := range t.runs {
		mod := t.mods[rn.mod].name
		if q.CoreOnly && rn.mod != 0 || q.Module != "" && !moduleMatches(mod, q.Module) {
			continue
		}
		for i := int(rn.first); i < t.runEnd(r); i++ {
			if (q.Types == "" || types[t.types[i]]) && match(t.Name(i)) {
				out = append(out, i)
			}
		}
	}
	return out, nil
}

func moduleMatches(mod, want string) bool {
	if mod == "" {
		return want == "vmlinux" || want == "kernel"
	}
	return mod == want
}

// compilePattern turns a glob or a regular expression into a matcher.
func compilePattern(pattern string, isRegexp bool) (func(string) bool, error) {
	switch {
	case pattern == "":
		return func(string) bool { return true }, nil
	case !isRegexp && !strings.ContainsAny(pattern, `*?[\`):
		return func(s string) bool { return s == pattern }, nil
	}
	expr := pattern
	if !isRegexp {
		var err error
		if expr, err = globToRegexp(pattern); err != nil {
			return nil, err
		}
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("kallsyms: bad pattern %q: %w", pattern, err)
	}
	return re.MatchString, nil
}

// globToRegexp translates a path.Match-style glob into an anchored regexp.
func globToRegexp(glob string) (string, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '\\':
			if i+1 == len(glob) {
				return "", fmt.Errorf("kallsyms: bad pattern %q: trailing backslash", glob)
			}
			i++
			b.WriteString(regexp.QuoteMeta(glob[i : i+1]))
		case '[':
			end := strings.IndexByte(glob[i+1:], ']')
			if end < 0 {
				return "", fmt.Errorf("kallsyms: bad pattern %q: unclosed [", glob)
			}
			class := glob[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") { // shell-style negation, like [^...]
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(glob[i : i+1]))
		}
	}
	b.WriteString("$")
	return b.String(), nil
}
