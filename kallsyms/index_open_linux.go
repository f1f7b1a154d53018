//go:build linux

package kallsyms

import (
	"fmt"
	"os"
	"syscall"
)

// OpenIndex maps the index file at path read-only and returns its table,
// which uses the mapping in place (see Index for its lifetime). The file must
// not be truncated or rewritten in place while mapped: replace it by renaming
// a new file over it, as WriteIndexFile does.
func OpenIndex(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size < indexHeaderSize || size > maxIndexSize {
		return nil, fmt.Errorf("%s: %w: %d bytes", path, ErrBadIndex, size)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("%s: mapping the index: %w", path, err)
	}
	x, err := LoadIndex(data, path)
	if err != nil {
		syscall.Munmap(data)
		return nil, err
	}
	x.close = func() error { return syscall.Munmap(data) }
	return x, nil
}
