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
	Value uint64
	// Known reports that the slide was found.
	Known bool
	// Method says how it was found: "kernel-offset" (the "Kernel Offset:"
	// line), "frames" (frames that print an address and a name),
	// "registers" (register values landing on symbol starts), or "" when
	// it was not.
	Method string
	// Detail explains Method in words.
	Detail string
}

// FindSlide finds the KASLR slide of the kernel that printed r, given a
// link-time table t (a System.map), in this order: the "Kernel Offset:"
// line; frames that print both a raw address and a core symbol name, which
// must all agree; and otherwise the one slide under which the most register
// values that may point into the kernel image land exactly on the start of
// a symbol, when no other slide does as well. Which slides are possible
// depends on the architecture (TableArch of t, else DetectArch of r): on
// x86_64 multiples of 2 MiB below 1 GiB, on arm64 multiples of 64 KiB; for
// another architecture the register method is not tried. Named frames alone
// (no address anywhere in the report) cannot tell the slide: then Known is
// false and Detail says why.
func FindSlide(r *klog.Report, t *kallsyms.Table) Slide {
	arch := TableArch(t)
	if arch == ArchUnknown {
		arch = DetectArch(r)
	}
	return findSlide(r, t, arch)
}

// findSlide is FindSlide for a known architecture.
func findSlide(r *klog.Report, t *kallsyms.Table, arch Arch) Slide {
	if h := &r.Header; h.HasKernelOffset {
		return known(h.KernelOffset, "kernel-offset", "from the \"Kernel Offset:\" line")
	}
	if s, ok := slideFromFrames(r, t); ok {
		return s
	}
	if s, ok := slideFromRegisters(r, t, arch); ok {
		return s
	}
	if _, ok := layouts[arch]; !ok {
		return Slide{Detail: "not found: the report prints no kernel offset and no frame with both address and name, and the architecture is unknown (the register method needs it)"}
	}
	return Slide{Detail: "not found: the report prints no kernel offset, no frame with both address and name, and no register value that pins it"}
}

// known builds a found Slide.
func known(v uint64, method, detail string) Slide {
	return Slide{Value: v, Known: true, Method: method, Detail: detail}
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

// slideFromRegisters counts, for every slide the architecture allows, the
// register values that pin it, and keeps the unique best with at least the
// architecture's minimum of pins. A value pins a slide when, minus the
// slide, it is the start of a symbol of the kernel image (a pointer to an
// object or a function), or, for the stack pointer, when it lands inside
// the initial task's stack (init_stack to __end_init_task).
//
// Only slides that some value pins are counted: for each value, the
// link-time addresses it may stand for are the addresses of the image
// congruent to it modulo the slide granularity, one per granule.
func slideFromRegisters(r *klog.Report, t *kallsyms.Table, arch Arch) (Slide, bool) {
	lay, ok := layouts[arch]
	img := imageOf(t)
	if !ok || !img.ok {
		return Slide{}, false
	}
	stack := initStack(t)
	scores := map[uint64]int{}
	for _, rv := range coreValues(r, img, lay) {
		pins(t, rv, img, stack, lay, func(s uint64) { scores[s]++ })
	}
	best, bestScore, ties := uint64(0), 0, 0
	for s, score := range scores {
		switch {
		case score > bestScore:
			best, bestScore, ties = s, score, 1
		case score == bestScore:
			ties++
		}
	}
	if bestScore < lay.minPins || ties > 1 {
		return Slide{}, false
	}
	return known(best, "registers", fmt.Sprintf("the only slide under which %d register values point at a symbol start or into the initial stack", bestScore)), true
}

// maxValues bounds the register values tried per report (a sysrq dump of
// many CPUs prints thousands): each costs a lookup per granule of the
// image, about 800 on arm64.
const maxValues = 256

// regValue is a register value that may be a core kernel address.
type regValue struct {
	v     uint64
	stack bool // the stack pointer
}

// coreValues returns the first maxValues distinct register values that may
// be core kernel addresses under some slide the layout allows: from the
// link-time start of the image to its end plus the largest slide (on
// x86_64, below the module area).
func coreValues(r *klog.Report, img image, lay layout) []regValue {
	lo, hi := img.from, ^uint64(0)
	if lay.maxSlide > 0 {
		hi = addClamp(img.to, lay.maxSlide)
	}
	if lo >= x86KernelStart && lo < x86ModulesStart && hi > x86ModulesStart {
		hi = x86ModulesStart
	}
	var out []regValue
	seen := map[uint64]bool{}
	for _, reg := range r.Registers {
		v := reg.Value
		if v < lo || v >= hi || seen[v] {
			continue
		}
		if len(out) == maxValues {
			break
		}
		seen[v] = true
		out = append(out, regValue{v: v, stack: isStackPointer(reg.Name)})
	}
	return out
}

// pins calls pin with every slide that value rv pins: rv minus the slide
// is a symbol start in the image (or, for the stack pointer, inside the
// initial stack), the slide being a multiple of the layout's granularity
// within its bound.
func pins(t *kallsyms.Table, rv regValue, img image, stack span, lay layout, pin func(uint64)) {
	in := span{img.from, img.to}
	if rv.stack {
		in = stack
	}
	for a := congruent(in.from, rv.v, lay.align); a < in.to && a <= rv.v; a += lay.align {
		s := rv.v - a
		if lay.maxSlide > 0 && s >= lay.maxSlide {
			continue
		}
		if rv.stack {
			pin(s)
		} else if loc, err := t.Lookup(a); err == nil && loc.Offset == 0 {
			pin(s)
		}
		if a+lay.align < a {
			return
		}
	}
}

// congruent returns the first address at or above from that is congruent
// to v modulo align.
func congruent(from, v, align uint64) uint64 {
	return from + (v-from)%align
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
