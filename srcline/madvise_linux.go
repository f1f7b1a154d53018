package srcline

import "syscall"

// adviseRandom tells the kernel that lookups read a few scattered pages of
// the mapping: read-ahead would only fill memory.
func adviseRandom(b []byte) { _ = syscall.Madvise(b, syscall.MADV_RANDOM) }
