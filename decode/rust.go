package decode

import (
	"strings"

	"github.com/ianlancetaylor/demangle"
)

// displayName is how a title names a function. The kernel prints a Rust
// function by its mangled symbol (the v0 scheme, "_RNvXs1_...4mmap"); a
// title shows its path instead ("<ashmem_rust::Ashmem as
// kernel::miscdevice::MiscDevice>::mmap"), as a reader and syzkaller
// name it. Any other name, and a "_R" name that does not demangle, is
// returned as it is.
func displayName(name string) string {
	if !strings.HasPrefix(name, "_R") {
		return name
	}
	if d, err := demangle.ToString(name, demangle.NoParams); err == nil {
		return d
	}
	return name
}
