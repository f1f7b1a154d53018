//go:build unix

package decode_test

import (
	"syscall"
	"time"
)

// cpuTime returns the processor time (user and system) the process used
// so far, and false when it cannot tell.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
