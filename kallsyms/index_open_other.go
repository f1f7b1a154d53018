//go:build !linux

package kallsyms

import (
	"fmt"
	"os"
)

// OpenIndex reads the index file at path and returns its table. (On Linux
// the file is mapped instead of read.)
func OpenIndex(path string) (*Index, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() < indexHeaderSize || fi.Size() > maxIndexSize {
		return nil, fmt.Errorf("%s: %w: %d bytes", path, ErrBadIndex, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return LoadIndex(data, path)
}
