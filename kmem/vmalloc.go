package kmem

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// VmallocArea is one line of /proc/vmallocinfo, as mm/vmalloc.c prints it:
//
//	0x...-0x...   20480 kernel_clone+0xb8/0x400 pages=4 vmalloc N0=4
//	0x...-0x...    8192 acpi_os_map_iomem+0x1bc/0x1e0 phys=0x00000000000a0000 ioremap
//	0x...-0x...   20480 unpurged vm_area
//
// The addresses are not kept: unless kptr_restrict allows it they are hashed.
type VmallocArea struct {
	// Size is the size column: the area's virtual size in bytes, including
	// the guard page the kernel adds after most areas.
	Size uint64 `json:"size"`
	// Caller is the caller as the kernel printed it with %pS:
	// "func+0xoff/0xsize" or "func+0xoff/0xsize [module]"; "" when the
	// area has none (lazily freed areas, vm_map_ram).
	Caller string `json:"caller,omitempty"`
	// Module is the module in the caller's brackets; "" for the core kernel.
	Module string `json:"module,omitempty"`
	// Pages is pages=N: the pages of memory backing the area (vmalloc).
	Pages uint64 `json:"pages,omitempty"`
	// Phys is phys=ADDR for a mapping of physical memory (ioremap), as printed.
	Phys string `json:"phys,omitempty"`
	// Kind says what the area is: the kernel's flag words without "vpages"
	// ("vmalloc", "vmap", "ioremap", "vmalloc user", "sparse",
	// "dma-coherent"), or "unpurged vm_area" for an area freed but not yet
	// purged, or "vm_map_ram". "" when the kernel printed no flag.
	Kind string `json:"kind,omitempty"`
	// VPages is set when the page array itself was vmalloc'ed ("vpages").
	VPages bool `json:"vpages,omitempty"`
}

// ParseVmallocinfo parses the text of /proc/vmallocinfo. A malformed line is
// an error naming its line number; blank lines are skipped.
func ParseVmallocinfo(r io.Reader) ([]VmallocArea, error) {
	var areas []VmallocArea
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		a, err := parseVmallocLine(text)
		if err != nil {
			return nil, fmt.Errorf("vmallocinfo line %d: %w: %q", line, err, text)
		}
		areas = append(areas, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vmallocinfo: %w", err)
	}
	return areas, nil
}

// vmallocFlags are the flag words mm/vmalloc.c prints after the caller.
var vmallocFlags = map[string]bool{
	"ioremap": true, "sparse": true, "vmalloc": true, "vmap": true,
	"user": true, "dma-coherent": true, "vpages": true,
}

// parseVmallocLine parses "0xSTART-0xEND SIZE [CALLER [MOD]] [key=value|flag]...".
func parseVmallocLine(text string) (VmallocArea, error) {
	f := strings.Fields(text)
	if len(f) < 2 {
		return VmallocArea{}, fmt.Errorf("want an address range and a size, found %d fields", len(f))
	}
	if !isAddrRange(f[0]) {
		return VmallocArea{}, fmt.Errorf("%q is not an address range 0xSTART-0xEND", f[0])
	}
	var a VmallocArea
	var err error
	if a.Size, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return VmallocArea{}, fmt.Errorf("size %q is not a number", f[1])
	}
	rest := f[2:]
	switch strings.Join(rest, " ") {
	case "unpurged vm_area", "vm_map_ram":
		a.Kind = strings.Join(rest, " ")
		return a, nil
	}
	if len(rest) > 0 && !strings.Contains(rest[0], "=") && !vmallocFlags[rest[0]] {
		a.Caller, rest = rest[0], rest[1:]
		if len(rest) > 0 && isModuleTag(rest[0]) {
			a.Module = rest[0][1 : len(rest[0])-1]
			a.Caller += " " + rest[0]
			rest = rest[1:]
		}
	}
	var kind []string
	for _, w := range rest {
		key, val, hasVal := strings.Cut(w, "=")
		switch {
		case key == "pages" && hasVal:
			if a.Pages, err = strconv.ParseUint(val, 10, 64); err != nil {
				return VmallocArea{}, fmt.Errorf("pages %q is not a number", val)
			}
		case key == "phys" && hasVal:
			a.Phys = val
		case hasVal: // N0=4: pages per NUMA node; other keys are not needed
		case w == "vpages":
			a.VPages = true
		default:
			kind = append(kind, w)
		}
	}
	a.Kind = strings.Join(kind, " ")
	return a, nil
}

// isAddrRange reports whether s looks like "0xSTART-0xEND".
func isAddrRange(s string) bool {
	lo, hi, ok := strings.Cut(s, "-")
	return ok && isHex0x(lo) && isHex0x(hi)
}

func isHex0x(s string) bool {
	if len(s) < 3 || s[:2] != "0x" {
		return false
	}
	_, err := strconv.ParseUint(s[2:], 16, 64)
	return err == nil
}

// isModuleTag reports whether s is "[module]" as %pS appends it.
func isModuleTag(s string) bool {
	return len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' && !strings.ContainsAny(s[1:len(s)-1], "[]")
}

// CallerUse is the vmalloc space one caller holds: the sum of its areas.
type CallerUse struct {
	// Caller is the kernel's %pS text, or for areas without a caller their
	// kind in angle brackets: "<unpurged vm_area>", "<vm_map_ram>", "<none>".
	Caller string `json:"caller"`
	Module string `json:"module,omitempty"`
	// Bytes is the sum of the areas' size column (virtual size).
	Bytes uint64 `json:"bytes"`
	Areas int    `json:"areas"`
	// Pages is the sum of pages=N: memory pages behind the areas.
	Pages uint64 `json:"pages"`
	// Kinds are the distinct kinds of the caller's areas, sorted.
	Kinds []string `json:"kinds"`
}

// ByCaller sums the areas by caller and returns the callers largest first
// (by Bytes, then by name). The sum of Bytes over the result is the sum of
// the size column of the file.
func ByCaller(areas []VmallocArea) []CallerUse {
	idx := map[string]int{}
	var out []CallerUse
	kinds := map[string]map[string]bool{}
	for _, a := range areas {
		key := callerKey(a)
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, CallerUse{Caller: key, Module: a.Module})
			kinds[key] = map[string]bool{}
		}
		out[i].Bytes += a.Size
		out[i].Areas++
		out[i].Pages += a.Pages
		kinds[key][a.Kind] = true
	}
	for i := range out {
		for k := range kinds[out[i].Caller] {
			out[i].Kinds = append(out[i].Kinds, k)
		}
		sort.Strings(out[i].Kinds)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Caller < out[j].Caller
	})
	return out
}

// UnpurgedCaller is the caller under which ByCaller groups the areas freed
// but not yet purged: vfree has given their pages back, and the kernel
// frees their address space lazily, in batches, to save TLB flushes. They
// hold no memory.
const UnpurgedCaller = "<unpurged vm_area>"

// callerKey is the name an area is grouped under.
func callerKey(a VmallocArea) string {
	switch {
	case a.Caller != "":
		return a.Caller
	case a.Kind == "unpurged vm_area":
		return UnpurgedCaller
	case a.Kind == "vm_map_ram":
		return "<vm_map_ram>"
	}
	return "<none>"
}
