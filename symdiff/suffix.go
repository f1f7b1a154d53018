package symdiff

import "strings"

// suffixWords are the clone suffixes GCC and Clang append to a function's
// name: interprocedural scalar replacement (.isra), constant propagation
// (.constprop), partial inlining (.part), hot/cold splitting (.cold), ThinLTO
// promotion of local symbols (.llvm.<hash>), LTO privatisation (.lto_priv),
// specialised clones (.clone, .specialized) and local aliases (.localalias).
// Each may be followed by numeric parts (.isra.0, .cold.12, .llvm.123456).
var suffixWords = map[string]bool{
	"isra":        true,
	"constprop":   true,
	"part":        true,
	"cold":        true,
	"llvm":        true,
	"lto_priv":    true,
	"clone":       true,
	"specialized": true,
	"localalias":  true,
}

// BaseName splits a symbol name into the source-level name and its compiler
// clone suffixes: "foo.isra.0" -> ("foo", ".isra.0"), "foo.constprop.0.cold"
// -> ("foo", ".constprop.0.cold"). A name without such suffixes is its own
// base and ok is true with an empty suffix. ok is false for names with a
// part that is not a clone suffix, such as the numbered statics "__func__.0"
// or "_rs.12": those are not renames of anything.
func BaseName(name string) (base, suffix string, ok bool) {
	dot := strings.IndexByte(name, '.')
	if dot < 0 {
		return name, "", true
	}
	if dot == 0 {
		return name, "", false
	}
	parts := strings.Split(name[dot+1:], ".")
	if !suffixWords[parts[0]] {
		return name, "", false
	}
	for _, p := range parts {
		if !suffixWords[p] && !isDigits(p) {
			return name, "", false
		}
	}
	return name[:dot], name[dot:], true
}

// isCold reports whether a suffix marks the cold part of a split function.
func isCold(suffix string) bool {
	return strings.HasSuffix(suffix, ".cold") || strings.Contains(suffix, ".cold.")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// renameKey groups symbols that may be renames of each other: same module,
// same base name, both cold parts or neither, both code or neither.
type renameKey struct {
	mod  int32
	base string
	cold bool
	text bool
}
