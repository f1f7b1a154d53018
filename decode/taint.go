package decode

import (
	"strconv"
	"strings"
)

// taintWords explains the taint letters (Documentation/admin-guide/tainted-kernels.rst).
var taintWords = map[byte]string{
	'P': "proprietary module loaded",
	'F': "module force-loaded",
	'S': "running on an out-of-specification system",
	'R': "module force-unloaded",
	'M': "machine check exception occurred",
	'B': "bad page referenced or unexpected page flags",
	'U': "taint requested by user space",
	'D': "kernel died recently (oops or BUG)",
	'A': "ACPI table overridden",
	'W': "warning issued earlier",
	'C': "staging driver loaded",
	'I': "platform firmware bug worked around",
	'O': "out-of-tree module loaded",
	'E': "unsigned module loaded",
	'L': "soft lockup occurred earlier",
	'K': "kernel live-patched",
	'X': "auxiliary taint (distribution-defined)",
	'T': "kernel built with struct randomization",
	'N': "in-kernel test run",
}

// ExplainTaint returns one "L: words" entry per set letter of a taint
// string as printed after "Tainted: " ("G      D    OE"). 'G' (no
// proprietary module) and spaces are not taints.
func ExplainTaint(taint string) []string {
	var out []string
	for i := 0; i < len(taint); i++ {
		c := taint[i]
		if c == ' ' || c == 'G' {
			continue
		}
		w, ok := taintWords[c]
		if !ok {
			w = "unknown taint"
		}
		out = append(out, string(c)+": "+w)
	}
	return out
}

// plural returns "n thing" or "n things".
func plural(n int, thing string) string {
	s := strconv.Itoa(n) + " " + thing
	if n != 1 {
		s += "s"
	}
	return s
}

// CompactTaint returns a taint string without its padding: "G      D    OE"
// becomes "G D OE"-like groups joined by single spaces.
func CompactTaint(taint string) string {
	return strings.Join(strings.Fields(taint), " ")
}
