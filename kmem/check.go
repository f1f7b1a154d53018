package kmem

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
)

// CallerMismatch is a caller that a symbol table does not confirm.
type CallerMismatch struct {
	Caller  string `json:"caller"`
	Problem string `json:"problem"`
}

// CheckCallers checks %pS callers ("name+0xoff/0xsize [module]") against a
// symbol table: the table must have the function (in that module, or in the
// core kernel for a caller without brackets), with the size the kernel
// printed after the slash, and the offset must lie inside it. The kernel
// computed the text from its own table, so a mismatch means that the files
// and the table come from different kernel builds, and no answer should mix
// them. Callers in another form (a bare address, "<unpurged vm_area>") are
// not checked, nor those whose size the table does not know (a table that
// hides addresses knows no size). It returns how many were checked.
func CheckCallers(t *kallsyms.Table, callers []string) (checked int, bad []CallerMismatch) {
	for _, c := range callers {
		name, mod, off, size, ok := splitCaller(c)
		if !ok {
			continue
		}
		p, known := checkOne(t, name, mod, off, size)
		if !known {
			continue
		}
		checked++
		if p != "" {
			bad = append(bad, CallerMismatch{Caller: c, Problem: p})
		}
	}
	return checked, bad
}

// checkOne returns what is wrong with one caller, or ""; known is false
// when the table cannot tell (it has the name but not its size).
func checkOne(t *kallsyms.Table, name, mod string, off, size uint64) (problem string, known bool) {
	where := "vmlinux"
	if mod != "" {
		where = mod
	}
	idx := t.Find(where + ":" + name)
	if len(idx) == 0 {
		return fmt.Sprintf("the table has no %s in %s", name, where), true
	}
	var sizes []string
	for _, i := range idx {
		s, known := t.Size(i)
		if !known {
			return "", false
		}
		if s == size && off < size {
			return "", true
		}
		sizes = append(sizes, "0x"+strconv.FormatUint(s, 16))
	}
	return fmt.Sprintf("the table's %s has size %s, the kernel printed 0x%x", name, strings.Join(sizes, ", "), size), true
}

// splitCaller splits "name+0xoff/0xsize [module]".
func splitCaller(c string) (name, mod string, off, size uint64, ok bool) {
	text, m, hasMod := strings.Cut(c, " ")
	if hasMod {
		if !isModuleTag(m) {
			return "", "", 0, 0, false
		}
		mod = m[1 : len(m)-1]
	}
	plus := strings.LastIndexByte(text, '+')
	if plus <= 0 {
		return "", "", 0, 0, false
	}
	o, s, found := strings.Cut(text[plus+1:], "/")
	if !found || !strings.HasPrefix(o, "0x") || !strings.HasPrefix(s, "0x") {
		return "", "", 0, 0, false
	}
	var err1, err2 error
	off, err1 = strconv.ParseUint(o[2:], 16, 64)
	size, err2 = strconv.ParseUint(s[2:], 16, 64)
	if err1 != nil || err2 != nil {
		return "", "", 0, 0, false
	}
	return text[:plus], mod, off, size, true
}
