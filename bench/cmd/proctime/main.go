// Command proctime runs a command repeatedly and prints the median, minimum
// and maximum wall time of the whole process, as a user would see it:
//
//	proctime -n 31 -- ksym addr ffffffff816b89f0
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"
)

func main() {
	n := flag.Int("n", 31, "number of runs")
	warmup := flag.Int("warmup", 3, "runs before measuring")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: proctime [-n N] -- command [args...]")
		os.Exit(2)
	}
	times := make([]time.Duration, 0, *n)
	for i := 0; i < *warmup+*n; i++ {
		cmd := exec.Command(args[0], args[1:]...)
		start := time.Now()
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "proctime: %v\n", err)
			os.Exit(1)
		}
		if i >= *warmup {
			times = append(times, time.Since(start))
		}
	}
	slices.Sort(times)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("median %.2f ms  min %.2f ms  max %.2f ms  (%d runs)\n", ms(times[len(times)/2]), ms(times[0]), ms(times[len(times)-1]), len(times))
}
