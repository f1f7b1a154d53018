package kallsyms

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

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
func (t *Table) inModule(i int, mod string) bool { return moduleMatches(t.ModuleName(i), mod) }

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

// moduleMatches reports whether a symbol of module mod ("" for the core)
// belongs to want, where IsCoreName names the core.
func moduleMatches(mod, want string) bool {
	if mod == "" {
		return IsCoreName(want)
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
