package decode

import (
	"fmt"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// Slide is the KASLR offset between a System.map's link-time addresses and
// the addresses of the log.
type Slide struct {
	// Value is the offset, valid when Known.
	Value uint64 `json:"-"`
	// Known reports that the slide was found.
	Known bool `json:"known"`
	// Hex is Value as "0x18600000", empty when not Known.
	Hex string `json:"value,omitempty"`
	// Method says how it was found: "kernel-offset" (the "Kernel Offset:"
	// line), "frames" (frames that print an address and a name),
	// "registers" (register values landing on symbol starts), or "" when
	// it was not.
	Method string `json:"method,omitempty"`
	// Detail explains Method in words.
	Detail string `json:"detail"`
}

// KASLR on x86_64 moves the kernel by a multiple of CONFIG_PHYSICAL_ALIGN
// (2 MiB) within 1 GiB.
const (
	slideAlign = 0x200000
	slideMax   = 0x40000000

	// x86KernelStart and x86ModulesStart bound the x86_64 kernel image
	// mapping (the "relocation range" of the "Kernel Offset:" line): module
	// addresses lie above it and never move with the kernel slide.
	x86KernelStart  = 0xffffffff80000000
	x86ModulesStart = 0xffffffffc0000000
)

// FindSlide finds the KASLR slide of the kernel that printed r, given a
// link-time table t (a System.map), in this order: the "Kernel Offset:"
// line; frames that print both a raw address and a core symbol name, which
// must all agree; and otherwise the one slide (a multiple of 2 MiB below
// 1 GiB) under which the most register values that look like core kernel
// addresses land exactly on the start of a symbol, when no other slide does
// as well. Named frames alone (no address anywhere in the report) cannot
// tell the slide: then Known is false and Detail says why.
func FindSlide(r *klog.Report, t *kallsyms.Table) Slide {
	if h := &r.Header; h.HasKernelOffset {
		return known(h.KernelOffset, "kernel-offset", "from the \"Kernel Offset:\" line")
	}
	if s, ok := slideFromFrames(r, t); ok {
		return s
	}
	if s, ok := slideFromRegisters(r, t); ok {
		return s
	}
	return Slide{Detail: "not found: the report prints no kernel offset, no frame with both address and name, and no register value that pins it"}
}

// known builds a found Slide.
func known(v uint64, method, detail string) Slide {
	return Slide{Value: v, Known: true, Hex: fmt.Sprintf("0x%x", v), Method: method, Detail: detail}
}

// slideFromFrames derives the slide from frames with an address and a core
// symbol name: address minus the link-time address of name+offset. The
// frames must agree.
func slideFromFrames(r *klog.Report, t *kallsyms.Table) (Slide, bool) {
	var slide uint64
	n := 0
	for i := range r.Frames {
		f := &r.Frames[i]
		if f.Name == "" || !f.HasAddr || f.Hashed || f.User || f.Module != "" || !f.HasOffset {
			continue
		}
		link, ok := linkOf(t, f)
		if !ok {
			continue
		}
		s := f.Addr - link
		if n > 0 && s != slide {
			return Slide{}, false
		}
		slide, n = s, n+1
	}
	if n == 0 {
		return Slide{}, false
	}
	return known(slide, "frames", fmt.Sprintf("%d frame(s) printing both address and name agree", n)), true
}

// linkOf returns the link-time address of a named core frame, choosing
// among duplicate names by the printed size.
func linkOf(t *kallsyms.Table, f *klog.Frame) (uint64, bool) {
	for _, i := range t.Find("vmlinux:" + f.Name) {
		if size, ok := t.Size(i); ok && size == f.Size {
			return t.Addr(i) + f.Offset, true
		}
	}
	return 0, false
}

// slideFromRegisters scores every possible slide by the register values
// that pin it, and keeps the unique best with at least minPins pins. A value
// pins a slide when, minus the slide, it is the start of a symbol (a
// pointer to an object or a function), or, for the stack pointer, when it
// lands inside the initial task's stack (init_stack to __end_init_task).
func slideFromRegisters(r *klog.Report, t *kallsyms.Table) (Slide, bool) {
	vals := coreValues(r, t)
	if len(vals) == 0 {
		return Slide{}, false
	}
	stack := initStack(t)
	best, bestScore, ties := uint64(0), 0, 0
	for s := uint64(0); s < slideMax; s += slideAlign {
		score := scoreSlide(t, vals, stack, s)
		switch {
		case score > bestScore:
			best, bestScore, ties = s, score, 1
		case score == bestScore && score > 0:
			ties++
		}
	}
	if bestScore < minPins || ties > 1 {
		return Slide{}, false
	}
	return known(best, "registers", fmt.Sprintf("the only slide under which %d register values point at a symbol start or into the initial stack", bestScore)), true
}

// minPins is the number of register values that must agree on a slide: one
// alone lands on some symbol start under several slides.
const minPins = 2

// regValue is a register value that may be a core kernel address.
type regValue struct {
	v     uint64
	stack bool // the stack pointer
}

// coreValues returns the distinct register values that may be core kernel
// addresses: above the link-time start of the kernel, below the module area.
func coreValues(r *klog.Report, t *kallsyms.Table) []regValue {
	ids := t.Find("vmlinux:_text")
	if len(ids) == 0 {
		return nil
	}
	lo := t.Addr(ids[0])
	hi := lo + slideMax
	if lo >= x86KernelStart && lo < x86ModulesStart {
		hi = x86ModulesStart
	}
	var out []regValue
	seen := map[uint64]bool{}
	for _, reg := range r.Registers {
		v := reg.Value
		if v < lo || v >= hi || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, regValue{v: v, stack: isStackPointer(reg.Name)})
	}
	return out
}

// isStackPointer reports whether a register name is the stack pointer.
func isStackPointer(name string) bool {
	switch name {
	case "RSP", "ESP", "sp", "SP":
		return true
	}
	return false
}

// span is an address range [from, to).
type span struct{ from, to uint64 }

// initStack returns the link-time range of the initial task's stack, empty
// when the table does not have it.
func initStack(t *kallsyms.Table) span {
	from, to := t.Find("vmlinux:init_stack"), t.Find("vmlinux:__end_init_task")
	if len(from) == 0 || len(to) == 0 {
		return span{}
	}
	return span{t.Addr(from[0]), t.Addr(to[0])}
}

// scoreSlide counts the values that pin slide s.
func scoreSlide(t *kallsyms.Table, vals []regValue, stack span, s uint64) int {
	n := 0
	for _, rv := range vals {
		a := rv.v - s
		if rv.stack {
			if a >= stack.from && a < stack.to {
				n++
			}
			continue
		}
		if loc, err := t.Lookup(a); err == nil && loc.Offset == 0 {
			n++
		}
	}
	return n
}
