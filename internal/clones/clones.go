// Package clones tells the names of compiler-made copies and pieces of
// functions (foo.isra.0, foo.cold) from other names with dots.
package clones

import "strings"

// cloneWords are the suffixes GCC and Clang append to a function's name
// when they make a copy or a piece of it, and whether a number must follow
// each: interprocedural scalar replacement (.isra.N), constant propagation
// (.constprop.N), partial inlining (.part.N), cloning (.clone.N,
// .specialized.N), LTO privatisation (.lto_priv.N), ThinLTO promotion of a
// local symbol (.llvm.<hash>), hot/cold splitting (.cold, or .cold.N from
// GCC 8 and older) and local aliases (.localalias).
var cloneWords = map[string]bool{
	"isra": true, "constprop": true, "part": true, "clone": true, "specialized": true,
	"lto_priv": true, "llvm": true,
	"cold": false, "localalias": false,
}

// Split splits a symbol name into the function it was made from and
// its compiler clone suffix: "foo.isra.0" -> ("foo", ".isra.0"),
// "foo.constprop.0.cold" -> ("foo", ".constprop.0.cold"). The suffix is
// empty for a name that is no clone: one without a dot, or whose dotted
// parts are not clone suffixes, such as the numbered statics "__func__.0"
// and "_rs.12".
func Split(name string) (base, suffix string) {
	dot := strings.IndexByte(name, '.')
	if dot <= 0 {
		return name, ""
	}
	parts := strings.Split(name[dot+1:], ".")
	for i := 0; i < len(parts); i++ {
		numbered, ok := cloneWords[parts[i]]
		if !ok {
			return name, ""
		}
		hasNumber := i+1 < len(parts) && isDigits(parts[i+1])
		if numbered && !hasNumber {
			return name, ""
		}
		if hasNumber {
			i++
		}
	}
	return name[:dot], name[dot:]
}

// isDigits reports whether s is a non-empty run of decimal digits.
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
