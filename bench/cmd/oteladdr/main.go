// Command oteladdr is the OpenTelemetry eBPF profiler's kallsyms symbolizer
// as a whole process, the peer of `ksym addr`: it loads /proc/kallsyms and
// resolves each address given as an argument (hex), one line each. To feed it
// a saved table, bind-mount the file over /proc/kallsyms in a private mount
// namespace (see cli-peers.sh).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	otelkallsyms "go.opentelemetry.io/ebpf-profiler/kallsyms"
	"go.opentelemetry.io/ebpf-profiler/libpf"
)

func main() {
	s, err := otelkallsyms.NewSymbolizer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "oteladdr:", err)
		os.Exit(1)
	}
	snap := s.Snapshot()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, arg := range os.Args[1:] {
		a, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "oteladdr:", err)
			os.Exit(2)
		}
		m, err := snap.GetModuleByAddress(libpf.Address(a))
		if err != nil {
			fmt.Fprintf(w, "%#x ?\n", a)
			continue
		}
		name, off, err := m.LookupSymbolByAddress(libpf.Address(a))
		if err != nil {
			fmt.Fprintf(w, "%#x ?\n", a)
			continue
		}
		fmt.Fprintf(w, "%#x %s+%#x\n", a, name, off)
	}
}
