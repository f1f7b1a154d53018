package srcline

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
)

// ErrFileChanged reports that a mapped debug file was truncated or otherwise
// became unreadable while it was being read.
var ErrFileChanged = errors.New("debug file changed or shrank while being read")

// guard runs f, which reads the mapped file, and turns a fault on the
// mapping (a file truncated after it was mapped raises SIGBUS on the pages
// past its new end) into ErrFileChanged instead of a crash. It also turns a
// panic of the standard library's DWARF decoder on malformed data into an
// error. Panic-on-fault is set only on the calling goroutine and only while f
// runs; every read of mapped memory in this package goes through guard.
func guard(path string, f func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		r := recover()
		if r == nil {
			return
		}
		if re, ok := r.(runtime.Error); ok {
			if _, fault := re.(interface{ Addr() uintptr }); fault {
				err = fmt.Errorf("%s: %w", path, ErrFileChanged)
				return
			}
		}
		err = fmt.Errorf("%s: malformed DWARF: %v", path, r)
	}()
	return f()
}
