//go:build !unix

package decode_test

import "time"

// cpuTime cannot tell the processor time on this system.
func cpuTime() (time.Duration, bool) { return 0, false }
