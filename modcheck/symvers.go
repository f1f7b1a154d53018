package modcheck

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/kmod"
)

// Symvers is a Module.symvers file: every export of one kernel build, by
// symbol name.
type Symvers map[string]SymversEntry

// SymversEntry is one line of Module.symvers:
// CRC<TAB>symbol<TAB>module<TAB>export kind<TAB>namespace.
type SymversEntry struct {
	CRC       uint32
	Module    string // module name ("vmlinux" for the kernel), from the path column
	GPLOnly   bool   // EXPORT_SYMBOL_GPL
	Namespace string
}

// ReadSymvers reads a Module.symvers file (compressed or not).
func ReadSymvers(path string) (Symvers, error) {
	rc, err := input.Open(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	s, err := ParseSymvers(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseSymvers parses Module.symvers in the five-column format of Linux 5.x
// and 6.x (modpost's write_dump). A line with another number of columns, an
// unknown export kind or a bad CRC is an error naming the line.
func ParseSymvers(r io.Reader) (Symvers, error) {
	s := Symvers{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("line %d: %d tab-separated columns, Module.symvers has 5 (crc, symbol, module, export kind, namespace)", n, len(f))
		}
		crc, err := strconv.ParseUint(f[0], 0, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad CRC %q", n, f[0])
		}
		if f[3] != "EXPORT_SYMBOL" && f[3] != "EXPORT_SYMBOL_GPL" {
			return nil, fmt.Errorf("line %d: unknown export kind %q", n, f[3])
		}
		mod := f[2]
		if mod != "vmlinux" {
			mod = kmod.NameFromPath(mod)
		}
		s[f[1]] = SymversEntry{CRC: uint32(crc), Module: mod, GPLOnly: f[3] == "EXPORT_SYMBOL_GPL", Namespace: f[4]}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return s, nil
}
