package kmem

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Leak is one report of /sys/kernel/debug/kmemleak, as mm/kmemleak.c prints
// it (print_unreferenced):
//
//	unreferenced object 0xffff88810a2b3c00 (size 64):
//	  comm "modprobe", pid 312, jiffies 4294893123 (age 61.480s)
//	  hex dump (first 32 bytes):
//	    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
//	  backtrace (crc 5a0b3c1d):
//	    [<ffffffff81234567>] __kmalloc_cache_noprof+0x2d0/0x3d0
//	    leaky_init+0x34/0xff0 [leaky]
//
// Older kernels print "backtrace:" without the crc; the "(age ...)" and
// the "[<address>] " before each frame come and go with the version.
type Leak struct {
	Addr    uint64 `json:"addr"`
	Size    uint64 `json:"size"`
	PerCPU  bool   `json:"percpu,omitempty"` // "unreferenced object (percpu) ..."
	Comm    string `json:"comm"`
	PID     int    `json:"pid"`
	Jiffies uint64 `json:"jiffies"`
	Age     string `json:"age,omitempty"` // "61.480s" when printed
	CRC     string `json:"crc,omitempty"`
	// Backtrace is the allocation stack, innermost first, each frame as the
	// kernel printed %pS (the "[<address>] " removed).
	Backtrace []string `json:"backtrace"`
}

// ParseKmemleak parses the text of /sys/kernel/debug/kmemleak (or the same
// reports copied from the console). A line that belongs to no report, or a
// malformed report line, is an error naming its line number.
func ParseKmemleak(r io.Reader) ([]Leak, error) {
	var leaks []Leak
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	state := "" // "", "head", "hex", "trace"
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		var err error
		switch {
		case text == "":
		case strings.HasPrefix(text, "unreferenced object "):
			var l Leak
			l, err = parseLeakHead(text)
			leaks = append(leaks, l)
			state = "head"
		case state == "":
			err = fmt.Errorf("not inside a report (want \"unreferenced object 0x... (size N):\")")
		case strings.HasPrefix(text, "comm \""):
			err = parseLeakComm(text, &leaks[len(leaks)-1])
		case strings.HasPrefix(text, "hex dump ("):
			state = "hex"
		case text == "backtrace:" || strings.HasPrefix(text, "backtrace (crc ") && strings.HasSuffix(text, "):"):
			leaks[len(leaks)-1].CRC = strings.TrimSuffix(strings.TrimPrefix(text, "backtrace (crc "), "):")
			if text == "backtrace:" {
				leaks[len(leaks)-1].CRC = ""
			}
			state = "trace"
		case state == "hex":
		case state == "trace":
			l := &leaks[len(leaks)-1]
			l.Backtrace = append(l.Backtrace, frameText(text))
		default:
			err = fmt.Errorf("unexpected line in a report")
		}
		if err != nil {
			return nil, fmt.Errorf("kmemleak line %d: %w: %q", line, err, text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("kmemleak: %w", err)
	}
	return leaks, nil
}

// parseLeakHead parses "unreferenced object [(percpu) ]0xADDR (size N):".
func parseLeakHead(text string) (Leak, error) {
	var l Leak
	rest := strings.TrimPrefix(text, "unreferenced object ")
	if r, ok := strings.CutPrefix(rest, "(percpu) "); ok {
		l.PerCPU, rest = true, r
	}
	addr, size, ok := strings.Cut(rest, " (size ")
	if !ok || !strings.HasSuffix(size, "):") || !strings.HasPrefix(addr, "0x") {
		return l, fmt.Errorf("want \"unreferenced object 0xADDR (size N):\"")
	}
	var err error
	if l.Addr, err = strconv.ParseUint(addr[2:], 16, 64); err != nil {
		return l, fmt.Errorf("address %q is not hexadecimal", addr)
	}
	if l.Size, err = strconv.ParseUint(strings.TrimSuffix(size, "):"), 10, 64); err != nil {
		return l, fmt.Errorf("size %q is not a number", strings.TrimSuffix(size, "):"))
	}
	return l, nil
}

// parseLeakComm parses `comm "NAME", pid N, jiffies J[ (age S)]`; NAME may
// hold anything, so the last `", pid ` ends it.
func parseLeakComm(text string, l *Leak) error {
	body := strings.TrimPrefix(text, "comm \"")
	i := strings.LastIndex(body, "\", pid ")
	if i < 0 {
		return fmt.Errorf("want comm \"NAME\", pid N, jiffies J")
	}
	l.Comm = body[:i]
	f := strings.Fields(body[i+len("\", pid "):])
	if len(f) < 3 || f[1] != "jiffies" {
		return fmt.Errorf("want pid N, jiffies J")
	}
	var err error
	if l.PID, err = strconv.Atoi(strings.TrimSuffix(f[0], ",")); err != nil || !strings.HasSuffix(f[0], ",") {
		return fmt.Errorf("pid %q is not a number", f[0])
	}
	if l.Jiffies, err = strconv.ParseUint(f[2], 10, 64); err != nil {
		return fmt.Errorf("jiffies %q is not a number", f[2])
	}
	if len(f) == 5 && f[3] == "(age" && strings.HasSuffix(f[4], ")") {
		l.Age = strings.TrimSuffix(f[4], ")")
	} else if len(f) != 3 {
		return fmt.Errorf("unexpected %q after jiffies", strings.Join(f[3:], " "))
	}
	return nil
}

// frameText removes the "[<address>] " some kernels print before %pS.
func frameText(text string) string {
	if strings.HasPrefix(text, "[<") {
		if i := strings.Index(text, ">] "); i > 0 {
			return strings.TrimSpace(text[i+3:])
		}
	}
	return text
}

// LeakGroup is the unreferenced objects that share one allocation stack.
type LeakGroup struct {
	// Site is the first frame of the stack outside the allocator (see
	// AllocatorFrame): the code that asked for the memory.
	Site      string   `json:"site"`
	Objects   int      `json:"objects"`
	Bytes     uint64   `json:"bytes"`
	Backtrace []string `json:"backtrace"`
}

// GroupLeaks groups leaks by their whole backtrace, most bytes first.
func GroupLeaks(leaks []Leak) []LeakGroup {
	idx := map[string]int{}
	var out []LeakGroup
	for _, l := range leaks {
		key := strings.Join(l.Backtrace, "\n")
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, LeakGroup{Site: leakSite(l.Backtrace), Backtrace: l.Backtrace})
		}
		out[i].Objects++
		out[i].Bytes += l.Size
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Site < out[j].Site
	})
	return out
}

// leakSite returns the first frame for which AllocatorFrame is false, or the
// first frame when all are (or "" for an empty stack).
func leakSite(bt []string) string {
	for _, f := range bt {
		if !AllocatorFrame(f) {
			return f
		}
	}
	if len(bt) > 0 {
		return bt[0]
	}
	return ""
}

// allocatorPrefixes name the functions of the kernel's allocators and of the
// wrappers that allocate on behalf of their caller (mm/slub.c, mm/slab.h,
// include/linux/slab.h, mm/util.c, mm/vmalloc.c, mm/page_alloc.c,
// mm/percpu.c, mm/kmemleak.c): a leak is never theirs but their caller's.
var allocatorPrefixes = []string{
	"kmemleak_", "slab_", "__slab_", "___slab_", "kmalloc", "__kmalloc",
	"kzalloc", "kcalloc", "krealloc", "kmem_cache_alloc", "__kmem_cache_alloc",
	"kvmalloc", "__kvmalloc", "kvzalloc", "kvcalloc", "kvrealloc",
	"vmalloc", "__vmalloc", "vzalloc", "__vzalloc", "vcalloc",
	"alloc_pages", "__alloc_pages", "alloc_frozen_pages", "__alloc_frozen_pages",
	"pcpu_", "__alloc_percpu", "kmemdup", "kstrdup", "kstrndup", "kmemdup_nul",
}

// AllocatorFrame reports whether a %pS frame is inside the allocator itself
// (by the function's name, before "+0x"), so that the leak belongs to a
// frame further out.
func AllocatorFrame(frame string) bool {
	name, _, _ := strings.Cut(frame, "+")
	name, _, _ = strings.Cut(name, " ")
	for _, p := range allocatorPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
