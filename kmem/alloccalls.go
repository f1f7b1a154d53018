package kmem

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// AllocSite is one allocation site of a slab cache, as SLUB lists them when
// store_user is on (slub_debug=U): /sys/kernel/slab/<cache>/alloc_calls
// before Linux 5.14, /sys/kernel/debug/slab/<cache>/alloc_traces since.
//
//	138 __alloc_skb+0x8e/0x1d0 age=4294/27154/36420 pid=1-1017 cpus=0-3
//	 12 <not-available> age=4294967295 pid=0
//
// With CONFIG_STACKDEPOT the debugfs file follows each line with the stack
// of the allocation, one "%pS" a line, indented by 8 spaces, and a blank line.
type AllocSite struct {
	// Objects is the number of objects in use allocated from this site.
	Objects uint64 `json:"objects"`
	// Caller is the allocation site as the kernel printed it (%pS), or
	// "<not-available>" when the kernel recorded none.
	Caller string `json:"caller"`
	Module string `json:"module,omitempty"`
	// Fields keeps the other key=value words as printed: age, pid, cpus,
	// nodes, waste.
	Fields map[string]string `json:"fields,omitempty"`
	// Stack is the allocation stack (debugfs with CONFIG_STACKDEPOT), outer
	// frames last, as printed (%pS).
	Stack []string `json:"stack,omitempty"`
}

// ParseAllocCalls parses alloc_calls or alloc_traces. "No data" (a cache
// without objects in use) gives no sites; a malformed line is an error naming
// its line number.
func ParseAllocCalls(r io.Reader) ([]AllocSite, error) {
	var sites []AllocSite
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	open := false // a site line was read and its stack may follow
	for line := 1; sc.Scan(); line++ {
		raw := sc.Text()
		text := strings.TrimSpace(raw)
		switch {
		case text == "":
			open = false
		case text == "No data" && len(sites) == 0:
		case strings.HasPrefix(raw, "        ") && open && !isSiteLine(text):
			last := &sites[len(sites)-1]
			last.Stack = append(last.Stack, text)
		default:
			s, err := parseSiteLine(text)
			if err != nil {
				return nil, fmt.Errorf("alloc_calls line %d: %w: %q", line, err, text)
			}
			sites = append(sites, s)
			open = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("alloc_calls: %w", err)
	}
	return sites, nil
}

// isSiteLine reports whether text starts like a site line: a count, a
// caller and age=.
func isSiteLine(text string) bool {
	f := strings.Fields(text)
	if len(f) < 3 {
		return false
	}
	_, err := strconv.ParseUint(f[0], 10, 64)
	return err == nil && strings.Contains(text, " age=")
}

// parseSiteLine parses "COUNT CALLER [MODULE] key=value...".
func parseSiteLine(text string) (AllocSite, error) {
	f := strings.Fields(text)
	if len(f) < 2 {
		return AllocSite{}, fmt.Errorf("want a count and a caller")
	}
	var s AllocSite
	var err error
	if s.Objects, err = strconv.ParseUint(f[0], 10, 64); err != nil {
		return AllocSite{}, fmt.Errorf("count %q is not a number", f[0])
	}
	if strings.Contains(f[1], "=") {
		return AllocSite{}, fmt.Errorf("no caller before %q", f[1])
	}
	s.Caller, f = f[1], f[2:]
	if len(f) > 0 && isModuleTag(f[0]) {
		s.Module = f[0][1 : len(f[0])-1]
		s.Caller += " " + f[0]
		f = f[1:]
	}
	for _, w := range f {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return AllocSite{}, fmt.Errorf("%q is not key=value", w)
		}
		if s.Fields == nil {
			s.Fields = map[string]string{}
		}
		s.Fields[k] = v
	}
	return s, nil
}
