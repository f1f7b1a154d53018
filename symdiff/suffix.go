package symdiff

import (
	"strings"

	"github.com/ksym-dev/ksym/internal/clones"
)

// renameBase splits a symbol name into its source-level name and compiler
// clone suffix (clones.Split). ok is false for names with a part
// that is not a clone suffix, such as the numbered statics "__func__.0" or
// "_rs.12": those are not renames of anything.
func renameBase(name string) (base, suffix string, ok bool) {
	base, suffix = clones.Split(name)
	return base, suffix, suffix != "" || !strings.Contains(name, ".")
}

// isCold reports whether a suffix marks the cold part of a split function.
func isCold(suffix string) bool {
	return strings.HasSuffix(suffix, ".cold") || strings.Contains(suffix, ".cold.")
}

// renameKey groups symbols that may be renames of each other: same module,
// same base name, both cold parts or neither, both code or neither.
type renameKey struct {
	mod  int32
	base string
	cold bool
	text bool
}
