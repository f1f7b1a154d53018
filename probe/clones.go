package probe

import (
	"strings"

	"github.com/ksym-dev/ksym/internal/clones"
	"github.com/ksym-dev/ksym/kallsyms"
)

// Clone describes a compiler-made copy or piece of a function, told by the
// suffixes GCC and clang append to its name.
type Clone struct {
	// Suffix is everything after the function's name, e.g. ".isra.0" or
	// ".constprop.0.cold".
	Suffix string `json:"suffix"`
	// Cold: a .cold piece, the rarely run branches GCC moved out of the
	// function. It is never entered at the top, so probing it catches no
	// call.
	Cold bool `json:"cold,omitempty"`
	// Partial: a .part piece, the out-of-line rest of a function whose
	// first part GCC inlined into its callers; only calls that get past
	// the inlined part reach it.
	Partial bool `json:"partial,omitempty"`
	// ArgsChanged: an .isra (arguments passed differently, some dropped)
	// or .constprop (constant arguments folded in) copy: the whole
	// function, but its arguments need not match the source prototype.
	ArgsChanged bool `json:"args_changed,omitempty"`
}

// Entry reports whether calls enter the clone at its top, so that a probe
// there sees them: every clone but a .cold piece.
func (c Clone) Entry() bool { return !c.Cold }

// ParseClone splits a symbol name into the function it was made from and its
// clone suffix, when the suffix is one the compilers make
// (clones.Split): ".isra.N", ".constprop.N", ".part.N", ".cold" or
// ".cold.N", ".lto_priv.N", ".localalias", ".llvm.<digits>", in any
// sequence ("f.constprop.0.isra.0", "f.part.0.cold").
func ParseClone(name string) (base string, c Clone, ok bool) {
	base, suffix := clones.Split(name)
	if suffix == "" {
		return name, Clone{}, false
	}
	c, _ = parseSuffix(suffix)
	return base, c, true
}

// parseSuffix parses a whole clone suffix, starting with '.'.
func parseSuffix(s string) (Clone, bool) {
	if _, suffix := clones.Split("f" + s); suffix != s {
		return Clone{}, false
	}
	c := Clone{Suffix: s}
	for _, w := range strings.Split(s[1:], ".") {
		switch w {
		case "isra", "constprop":
			c.ArgsChanged = true
		case "part":
			c.Partial = true
		case "cold":
			c.Cold = true
		}
	}
	return c, true
}

// FindClones returns the indices of the symbols of t that are clones of
// the function name: name followed by a clone suffix (see ParseClone), so
// that the clones of "f.isra.0" include "f.isra.0.cold". They come in
// address order; module restricts
// them to one module ("" for any, "vmlinux" or "kernel" for the core).
func FindClones(t *kallsyms.Table, name, module string) []int {
	prefix := name + "."
	var out []int
	for i := range t.Len() {
		n := t.Name(i)
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		if _, ok := parseSuffix(n[len(name):]); !ok {
			continue // another function whose name goes on after a dot
		}
		if module != "" && !inModule(t, i, module) {
			continue
		}
		out = append(out, i)
	}
	return out
}

// inModule reports whether symbol i belongs to module, where "vmlinux" and
// "kernel" name the core.
func inModule(t *kallsyms.Table, i int, module string) bool {
	if t.IsCore(i) {
		return kallsyms.IsCoreName(module)
	}
	return t.ModuleName(i) == module
}
