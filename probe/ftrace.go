package probe

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// invalidFunction starts the lines ftrace prints for a patch site that
// kallsyms does not attribute to a function (an unused weak function's
// leftover, Linux 6.0 and later): "__ftrace_invalid_address___<offset>".
const invalidFunction = "__ftrace_invalid_address__"

// FilterFunctions is what available_filter_functions lists: the functions
// the function tracer can patch, which are also the only ones a BPF
// trampoline (fentry/fexit) attaches to.
type FilterFunctions struct {
	counts  map[funcKey]int
	sites   map[funcKey][]uint64 // patch site addresses, from available_filter_functions_addrs
	total   int                  // lines naming a function
	invalid int                  // __ftrace_invalid_address___ lines
}

// funcKey names one function: module "" is the core kernel.
type funcKey struct{ name, module string }

// ParseFilterFunctions parses available_filter_functions as the kernel
// prints it (kernel/trace/ftrace.c, t_show): one patch site per line, "name"
// for the core kernel and "name [module]" for a module. A name listed
// several times is several functions (static functions of different files).
// A malformed line is an error naming its line number.
func ParseFilterFunctions(data []byte) (*FilterFunctions, error) {
	return parseFilterFunctions(data, false)
}

// ParseFilterFunctionsAddrs parses available_filter_functions_addrs (Linux
// 6.5 and later): the same lines, each after the address of the function's
// patch site in hex and a space ("ffffffff811c5e44 vfs_read"). The
// addresses tell apart functions of the same name (see Site).
func ParseFilterFunctionsAddrs(data []byte) (*FilterFunctions, error) {
	return parseFilterFunctions(data, true)
}

func parseFilterFunctions(data []byte, addrs bool) (*FilterFunctions, error) {
	file := "available_filter_functions"
	ff := &FilterFunctions{counts: make(map[funcKey]int, bytes.Count(data, []byte{'\n'})+1)}
	if addrs {
		file += "_addrs"
		ff.sites = make(map[funcKey][]uint64, len(ff.counts))
	}
	n := 0
	for line := range bytes.Lines(data) {
		n++
		line = bytes.TrimSuffix(line, []byte("\n"))
		text := string(line)
		var site uint64
		if addrs {
			hex, rest, ok := strings.Cut(text, " ")
			v, err := strconv.ParseUint(hex, 16, 64)
			if !ok || err != nil || len(hex) > 16 {
				return nil, fmt.Errorf("%s line %d: %q does not start with a hex address and a space", file, n, clip(text))
			}
			site, text = v, rest
		}
		name, mod, err := parseNameModule(text)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", file, n, err)
		}
		if strings.HasPrefix(name, invalidFunction) {
			ff.invalid++
			continue
		}
		k := funcKey{name, mod}
		ff.counts[k]++
		if addrs {
			ff.sites[k] = append(ff.sites[k], site)
		}
		ff.total++
	}
	return ff, nil
}

// Sites returns the patch site addresses of the functions named name of
// module, and whether the list has addresses at all (it was parsed from
// available_filter_functions_addrs).
func (ff *FilterFunctions) Sites(name, module string) ([]uint64, bool) {
	if ff.sites == nil {
		return nil, false
	}
	return ff.sites[funcKey{name, module}], true
}

// parseNameModule parses "name" or "name [module]", as the kernel's %ps
// prints a function.
func parseNameModule(s string) (name, module string, err error) {
	name = s
	if i := strings.IndexByte(s, ' '); i >= 0 {
		name, module = s[:i], s[i+1:]
		if len(module) < 3 || module[0] != '[' || module[len(module)-1] != ']' ||
			strings.ContainsAny(module[1:len(module)-1], " []\t") {
			return "", "", fmt.Errorf("%q is not \"name\" or \"name [module]\"", clip(s))
		}
		module = module[1 : len(module)-1]
	}
	if name == "" || strings.ContainsAny(name, " \t[]") {
		return "", "", fmt.Errorf("%q is not a function name", clip(s))
	}
	return name, module, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// Count returns how many functions named name the list holds for module
// ("" for the core kernel).
func (ff *FilterFunctions) Count(name, module string) int {
	return ff.counts[funcKey{name, module}]
}

// Len returns the number of functions listed (lines other than
// __ftrace_invalid_address___ ones).
func (ff *FilterFunctions) Len() int { return ff.total }

// Invalid returns the number of __ftrace_invalid_address___ lines: patch
// sites left by unused weak functions, which ftrace keeps disabled.
func (ff *FilterFunctions) Invalid() int { return ff.invalid }
