package kmod

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Modinfo is the .modinfo section of a module: NUL-terminated "key=value"
// strings written by the MODULE_*() macros and modpost.
type Modinfo struct {
	Name     string   // name= (modpost writes it since 5.x); "" when absent
	License  string   // license=, the first one, as the kernel reads it; "" when absent
	Vermagic string   // vermagic=; "" when absent
	Depends  []string // depends=, split at commas; empty entries dropped
	ImportNS []string // every import_ns=
	// Fields holds every entry in order, for the keys not named above
	// (alias, description, author, srcversion, ...).
	Fields []Field
}

// Field is one key=value entry of .modinfo.
type Field struct {
	Key, Value string
}

// ErrModinfo is wrapped by the errors of ParseModinfo.
var ErrModinfo = errors.New("malformed .modinfo")

// ParseModinfo parses the contents of a .modinfo section. Entries are
// separated by one or more NULs (the section is padded). An entry without
// '=' is skipped, as the kernel's get_modinfo never matches it. The last
// entry must end in a NUL: without it the section was cut short and its
// value may be truncated, which is an error (the entries before it are
// still returned).
func ParseModinfo(b []byte) (Modinfo, error) {
	var mi Modinfo
	var err error
	if len(b) > 0 && b[len(b)-1] != 0 {
		err = fmt.Errorf("%w: the last entry has no terminating NUL (truncated section?)", ErrModinfo)
		if i := bytes.LastIndexByte(b, 0); i >= 0 {
			b = b[:i+1]
		} else {
			b = nil
		}
	}
	seenLicense := false
	for _, raw := range bytes.Split(b, []byte{0}) {
		key, value, ok := strings.Cut(string(raw), "=")
		if !ok {
			continue
		}
		mi.Fields = append(mi.Fields, Field{key, value})
		switch key {
		case "name":
			mi.Name = value
		case "license":
			if !seenLicense { // get_modinfo returns the first
				mi.License, seenLicense = value, true
			}
		case "vermagic":
			mi.Vermagic = value
		case "depends":
			for _, d := range strings.Split(value, ",") {
				if d != "" {
					mi.Depends = append(mi.Depends, d)
				}
			}
		case "import_ns":
			mi.ImportNS = append(mi.ImportNS, value)
		}
	}
	return mi, err
}

// Has reports whether the module has an entry with key.
func (mi Modinfo) Has(key string) bool {
	for _, f := range mi.Fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

// LicenseIsGPLCompatible reports whether the kernel counts license as
// GPL-compatible: the exact list of license_is_gpl_compatible() in
// include/linux/license.h (Linux 2.6.x to 6.x). A module whose license is
// not on it, or that has none, taints the kernel (P) and cannot use
// GPL-only exports.
func LicenseIsGPLCompatible(license string) bool {
	switch license {
	case "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL":
		return true
	}
	return false
}
