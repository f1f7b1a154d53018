package decode

import (
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// Arch is the architecture of the kernel that wrote a log, as far as
// decoding against a System.map needs it: how KASLR moves the kernel and
// where modules live.
type Arch string

// The architectures whose KASLR and module placement are known.
const (
	ArchUnknown Arch = ""
	ArchX86_64  Arch = "x86_64"
	ArchArm64   Arch = "arm64"
)

// layout is what an architecture's KASLR allows.
type layout struct {
	// align is the granularity of the slide.
	align uint64
	// maxSlide bounds the slide (exclusive); 0 means only the address space
	// does.
	maxSlide uint64
	// minPins is the number of register values that must agree on a
	// slide found from registers.
	minPins int
}

// layouts:
//
//   - x86_64: the kernel moves by CONFIG_PHYSICAL_ALIGN (2 MiB) within the
//     1 GiB kernel image mapping (0xffffffff80000000-0xffffffffc0000000);
//     modules are above it, from 0xffffffffc0000000.
//   - arm64: the offset is the seed's bits above MIN_KIMG_ALIGN (2 MiB)
//     with, below them, the image's physical placement modulo 2 MiB, which
//     the EFI stub aligns to 64 KiB (EFI_KIMG_ALIGN): a multiple of 64 KiB,
//     placed in the middle half of the vmalloc area (up to 2^47 on 48-bit
//     VA). Modules are within 2 GiB (6.5 and later) or 4 GiB (earlier,
//     RANDOMIZE_MODULE_REGION_FULL) of the kernel image, below or above it.
//     So many more slides are possible than on x86_64: three register
//     values must agree.
var layouts = map[Arch]layout{
	ArchX86_64: {align: 2 << 20, maxSlide: 1 << 30, minPins: 2},
	ArchArm64:  {align: 64 << 10, minPins: 3},
}

const (
	// x86KernelStart and x86ModulesStart bound the x86_64 kernel image
	// mapping (the "relocation range" of the "Kernel Offset:" line): module
	// addresses lie above it, up to x86ModulesEnd, and never move with the
	// kernel slide.
	x86KernelStart  = 0xffffffff80000000
	x86ModulesStart = 0xffffffffc0000000
	x86ModulesEnd   = 0xffffffffff000000

	// arm64ModuleReach is how far from the kernel image arm64 modules may be.
	arm64ModuleReach = 4 << 30
)

// DetectArch tells the architecture from what a report printed: register
// names (RIP, RAX, CR2 on x86_64; x0..x30, pstate on arm64), the release
// ("6.1.0-56-amd64", "5.14.0.aarch64") and entry functions of its stacks
// (entry_SYSCALL_64, do_syscall_64, __x64_sys_*, asm_exc_*; el0_*, el1_*,
// __arm64_sys_*). It returns
// ArchUnknown when the report shows neither, or both.
func DetectArch(r *klog.Report) Arch {
	var x86, arm int
	for _, reg := range r.Registers {
		switch a := registerArch(reg.Name); a {
		case ArchX86_64:
			x86++
		case ArchArm64:
			arm++
		}
	}
	switch releaseArch(r.Header.Release) {
	case ArchX86_64:
		x86++
	case ArchArm64:
		arm++
	}
	for i := range r.Frames {
		f := &r.Frames[i]
		a := nameArch(f.Name)
		if a == ArchUnknown && f.Kind != klog.FrameTrace && f.Line < len(r.Lines) {
			a = pcLineArch(r.Lines[f.Line].Text)
		}
		switch a {
		case ArchX86_64:
			x86++
		case ArchArm64:
			arm++
		}
	}
	return verdict(x86, arm)
}

// pcLineArch tells the architecture from the line of a PC frame: x86_64
// prints "RIP: 0010:...", arm64 "pc : func+0x1/0x2" (arm32 prints
// "pc : [<c0123456>]", riscv "epc : ...").
func pcLineArch(text string) Arch {
	t := strings.TrimLeft(text, " ")
	switch {
	case strings.HasPrefix(t, "RIP: "):
		return ArchX86_64
	case strings.HasPrefix(t, "pc : ") && !strings.Contains(t, "[<"):
		return ArchArm64
	}
	return ArchUnknown
}

// verdict turns evidence counts into an Arch.
func verdict(x86, arm int) Arch {
	switch {
	case x86 > 0 && arm == 0:
		return ArchX86_64
	case arm > 0 && x86 == 0:
		return ArchArm64
	}
	return ArchUnknown
}

// registerArch tells the architecture of a register name.
func registerArch(name string) Arch {
	switch name {
	case "RIP", "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8", "R9", "R10", "R11",
		"R12", "R13", "R14", "R15", "CR2", "CR3", "CR4":
		return ArchX86_64
	case "pstate":
		return ArchArm64
	}
	if len(name) >= 2 && len(name) <= 3 && name[0] == 'x' && isDigits(name[1:]) {
		return ArchArm64
	}
	return ArchUnknown
}

// isDigits reports whether s is non-empty and all decimal digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// releaseArch tells the architecture from a kernel release's suffix.
func releaseArch(rel string) Arch {
	switch {
	case strings.HasSuffix(rel, "-amd64"), strings.HasSuffix(rel, ".x86_64"):
		return ArchX86_64
	case strings.HasSuffix(rel, "-arm64"), strings.HasSuffix(rel, ".aarch64"):
		return ArchArm64
	}
	return ArchUnknown
}

// nameArch tells the architecture from an architecture's own entry or
// system call wrapper names.
func nameArch(name string) Arch {
	switch {
	case strings.HasPrefix(name, "__x64_sys_"), strings.HasPrefix(name, "entry_SYSCALL_64"),
		name == "do_syscall_64", strings.HasPrefix(name, "asm_exc_"), strings.HasPrefix(name, "asm_sysvec_"):
		return ArchX86_64
	case strings.HasPrefix(name, "__arm64_sys_"), strings.HasPrefix(name, "el0_"), strings.HasPrefix(name, "el1_"),
		strings.HasPrefix(name, "el1h_64_"), strings.HasPrefix(name, "el0t_64_"):
		return ArchArm64
	}
	return ArchUnknown
}

// archSymbols are core symbols only one architecture has.
var archSymbols = []struct {
	name string
	arch Arch
}{
	{"entry_SYSCALL_64", ArchX86_64}, {"__x64_sys_read", ArchX86_64},
	{"el0_svc", ArchArm64}, {"__arm64_sys_read", ArchArm64},
}

// TableArch tells the architecture of a table from core symbols that only
// one architecture has (entry_SYSCALL_64, __x64_sys_read; el0_svc,
// __arm64_sys_read). It returns ArchUnknown when the table has none, or
// symbols of both.
func TableArch(t *kallsyms.Table) Arch {
	var x86, arm int
	for _, s := range archSymbols {
		if len(t.Find("vmlinux:"+s.name)) == 0 {
			continue
		}
		if s.arch == ArchX86_64 {
			x86++
		} else {
			arm++
		}
	}
	return verdict(x86, arm)
}

// image is the link-time range of the core kernel image, [from, to).
type image struct {
	from, to uint64
	ok       bool
}

// imageOf returns the link-time range of a table's kernel image, from
// _text to _end (or to the end of the address space when _end is missing).
func imageOf(t *kallsyms.Table) image {
	from := t.Find("vmlinux:_text")
	if len(from) == 0 {
		return image{}
	}
	img := image{from: t.Addr(from[0]), to: ^uint64(0), ok: true}
	if end := t.Find("vmlinux:_end"); len(end) > 0 && t.Addr(end[0]) > img.from {
		img.to = t.Addr(end[0])
	}
	return img
}

// moduleArea reports whether a runtime address lies where arch puts
// modules: on x86_64 the fixed module area; on arm64 within reach of the
// kernel image, which needs the slide. known is false when that cannot be
// told.
func moduleArea(arch Arch, a uint64, img image, slide Slide) (module, known bool) {
	switch arch {
	case ArchX86_64:
		return a >= x86ModulesStart && a < x86ModulesEnd, true
	case ArchArm64:
		if !slide.Known || !img.ok {
			return false, false
		}
		from, to := img.from+slide.Value, addClamp(img.to, slide.Value)
		if a >= from && a < to {
			return false, true
		}
		return a >= from-min(from, arm64ModuleReach) && a < addClamp(to, arm64ModuleReach), true
	}
	return false, false
}

// addClamp returns a+b, or the top of the address space when it overflows.
func addClamp(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}
