//go:build !linux

package srcline

// adviseRandom does nothing where syscall has no Madvise.
func adviseRandom([]byte) {}
