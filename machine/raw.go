package machine

import (
	"errors"
	"os"
)

// KallsymsText returns the live symbol table's text exactly as the kernel
// printed it, for saving (a snapshot) rather than parsing.
func (fs FS) KallsymsText() ([]byte, error) {
	return readAll(fs.KallsymsPath(), kallsymsBuffer)
}

// ModulesText returns /proc/modules exactly as the kernel printed it. A
// kernel without module support has no /proc/modules: that gives nil, not an
// error.
func (fs FS) ModulesText() ([]byte, error) {
	data, err := readAll(fs.Path("/proc/modules"), 64<<10)
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat(fs.Path("/proc")); statErr == nil {
			return nil, nil
		}
	}
	return data, err
}

// Arch returns the machine's architecture as `uname -m` prints it, from
// /proc/sys/kernel/arch (Linux 5.17 and later).
func (fs FS) Arch() (string, error) {
	return fs.readLine("/proc/sys/kernel/arch")
}
