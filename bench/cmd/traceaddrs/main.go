// Command traceaddrs prints the address of every named frame of a kernel
// log, resolved with that boot's kallsyms table, one per line, for the
// source-line benchmark (bench/srcline.sh). With -link, core addresses
// are printed at link time (minus the KASLR offset given with -slide) and
// module frames are left out; with -ret, return addresses (every frame but
// a RIP) are printed minus one, the call instruction, for tools that do
// not do it themselves.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

func main() {
	table := flag.String("kallsyms", "", "the boot's kallsyms table")
	link := flag.Bool("link", false, "core frames only, at link-time addresses")
	slide := flag.String("slide", "0", "KASLR offset (hex) to subtract with -link")
	ret := flag.Bool("ret", false, "print return addresses minus one")
	flag.Parse()
	off, err := strconv.ParseUint(*slide, 0, 64)
	if err != nil {
		fail(err)
	}
	tab, err := kallsyms.Open(*table)
	if err != nil {
		fail(err)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, path := range flag.Args() {
		f, err := os.Open(path)
		if err != nil {
			fail(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			for _, fr := range klog.ParseFrames(klog.ParseLine(sc.Text()).Text, nil) {
				if fr.Name == "" || !fr.HasOffset || (*link && fr.Module != "") {
					continue
				}
				a, ok := addrOf(tab, fr)
				if !ok {
					continue
				}
				a += fr.Offset
				if *link {
					a -= off
				}
				if *ret && fr.Kind != klog.FramePC {
					a--
				}
				fmt.Fprintf(w, "0x%x\n", a)
			}
		}
		f.Close()
	}
}

// addrOf returns the address of the frame's symbol: the one of its name,
// module and printed size.
func addrOf(tab *kallsyms.Table, fr klog.Frame) (uint64, bool) {
	for _, i := range tab.Find(fr.Name) {
		size, ok := tab.Size(i)
		if ok && size == fr.Size && tab.ModuleName(i) == fr.Module {
			return tab.Addr(i), true
		}
	}
	return 0, false
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "traceaddrs:", err)
	os.Exit(1)
}
