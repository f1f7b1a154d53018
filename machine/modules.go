package machine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Module is one line of /proc/modules, as kernel/module/procfs.c prints it:
//
//	lkdtm 65536 0 - Live 0xffffffffc085b000 (OE)
//	stp 16384 1 bridge, Live 0xffffffffc07a8000
type Module struct {
	Name     string   `json:"name"`
	Size     uint64   `json:"size"`                // bytes of memory the module occupies
	Refcount int      `json:"refcount"`            // -1 when the kernel has no module unloading
	Deps     []string `json:"deps,omitempty"`      // modules that use this one
	Perm     bool     `json:"permanent,omitempty"` // "[permanent]": has init but no exit, cannot be unloaded
	State    string   `json:"state"`               // "Live", "Loading" or "Unloading"
	Addr     uint64   `json:"addr"`                // base of the module's text; 0 when hidden from this reader
	Taints   string   `json:"taints,omitempty"`    // taint letters without parentheses, e.g. "OE"
}

// ParseModules parses the text of /proc/modules (or a saved copy). Blank lines
// are skipped; a malformed line is an error naming its line number.
func ParseModules(r io.Reader) ([]Module, error) {
	var mods []Module
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		m, err := parseModuleLine(text)
		if err != nil {
			return nil, fmt.Errorf("modules line %d: %w: %q", line, err, clip(text))
		}
		mods = append(mods, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("modules: %w", err)
	}
	return mods, nil
}

// maxQuote is the most of a malformed line an error quotes (as package
// kallsyms does).
const maxQuote = 80

// clip cuts s to maxQuote bytes for an error message, marking the cut.
func clip(s string) string {
	if len(s) <= maxQuote {
		return s
	}
	return s[:maxQuote] + "..."
}

// parseModuleLine parses "name size refcount deps state addr [(taints)]".
func parseModuleLine(text string) (Module, error) {
	f := strings.Fields(text)
	if len(f) < 6 || len(f) > 7 {
		return Module{}, fmt.Errorf("want 6 or 7 fields, found %d", len(f))
	}
	m := Module{Name: f[0], State: f[4]}
	var err error
	if m.Size, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return Module{}, fmt.Errorf("size %q is not a number", clip(f[1]))
	}
	if f[2] == "-" { // kernel without CONFIG_MODULE_UNLOAD prints " - -"
		m.Refcount = -1
	} else if m.Refcount, err = strconv.Atoi(f[2]); err != nil {
		return Module{}, fmt.Errorf("reference count %q is not a number", clip(f[2]))
	}
	m.Deps, m.Perm = parseDeps(f[3])
	if m.Addr, err = parseModuleAddr(f[5]); err != nil {
		return Module{}, err
	}
	if len(f) == 7 {
		t := f[6]
		if len(t) < 2 || t[0] != '(' || t[len(t)-1] != ')' {
			return Module{}, fmt.Errorf("taint flags %q are not in parentheses", clip(t))
		}
		m.Taints = t[1 : len(t)-1]
	}
	return m, nil
}

// parseDeps splits "bridge,stp," into its module names; "-" means none.
func parseDeps(s string) (deps []string, permanent bool) {
	for _, d := range strings.Split(s, ",") {
		switch d {
		case "", "-":
		case "[permanent]":
			permanent = true
		default:
			deps = append(deps, d)
		}
	}
	return deps, permanent
}

// parseModuleAddr parses "0xffffffffc085b000"; old kernels printed a hidden
// NULL as "0x(null)" or "(null)".
func parseModuleAddr(s string) (uint64, error) {
	if s == "(null)" || s == "0x(null)" {
		return 0, nil
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("address %q is not hexadecimal", clip(s))
	}
	return v, nil
}

// AddressesHidden reports whether mods has modules but every address is zero,
// as /proc/modules shows them to a reader the kernel hides addresses from.
func AddressesHidden(mods []Module) bool {
	for _, m := range mods {
		if m.Addr != 0 {
			return false
		}
	}
	return len(mods) > 0
}

// Modules returns the loaded modules from /proc/modules, most recently loaded
// first, as the kernel lists them. A kernel without module support has no
// /proc/modules: that gives an empty list, not an error.
func (fs FS) Modules() ([]Module, error) {
	path := fs.Path("/proc/modules")
	data, err := readAll(path, 64<<10)
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat(fs.Path("/proc")); statErr == nil {
			return nil, nil
		}
	}
	if err != nil {
		return nil, err
	}
	mods, err := ParseModules(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return mods, nil
}

// ModuleSections returns the load address of each ELF section of a loaded
// module, from /sys/module/<module>/sections/<section> (".text",
// ".init.text", ".data", ...). Those files are readable by root only; the
// addresses are zero when the kernel hides them from the reader.
func (fs FS) ModuleSections(module string) (map[string]uint64, error) {
	dir, err := fs.moduleDir(module)
	if err != nil {
		return nil, err
	}
	secDir := fs.Path(dir + "/sections")
	entries, err := os.ReadDir(secDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("module %s has no %s: it is built into the kernel, not loaded", module, secDir)
	}
	if err != nil {
		return nil, err
	}
	secs := make(map[string]uint64, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		s, err := fs.readLine(dir + "/sections/" + e.Name())
		if err != nil {
			return nil, err
		}
		addr, err := parseModuleAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", secDir, e.Name(), err)
		}
		secs[e.Name()] = addr
	}
	return secs, nil
}

// moduleDir returns "/sys/module/<name>" for a module that exists, with
// dashes turned into underscores as the kernel does.
func (fs FS) moduleDir(module string) (string, error) {
	name := strings.ReplaceAll(module, "-", "_")
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("invalid module name %q", module)
	}
	dir := "/sys/module/" + name
	if _, err := os.Stat(fs.Path(dir)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("module %s is not loaded (no %s)", module, fs.Path(dir))
		}
		return "", err
	}
	return dir, nil
}
