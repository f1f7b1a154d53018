//go:build unix

package srcline

import (
	"fmt"
	"os"
	"syscall"
)

// mapFile maps f read-only. The mapping is shared with the page cache, so
// only the pages the lookups touch cost memory. A file that shrinks after it
// was mapped makes reading past its new end fault: every read of the mapping
// happens under guard (see guard.go), which turns that fault into an error.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	if size != int64(int(size)) {
		return nil, nil, fmt.Errorf("%d bytes: too large to map", size)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	adviseRandom(data)
	return data, func() error { return syscall.Munmap(data) }, nil
}
