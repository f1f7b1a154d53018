package decode

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/srcline"
)

// Status says what decoding did with one frame.
type Status string

// The statuses of a decoded frame.
const (
	// StatusOK: a named frame found in the table with the printed size, or
	// a frame whose raw address and name agree.
	StatusOK Status = "ok"
	// StatusResolved: a raw address resolved to a symbol.
	StatusResolved Status = "resolved"
	// StatusSizeMismatch: with a System.map and the modules' places
	// (Options.Modules), a module frame printed an address outside its
	// module: the modules file is from another boot. (A frame that
	// disagrees with the table makes the whole report LogOnly instead.)
	StatusSizeMismatch Status = "size-mismatch"
	// StatusNotFound: the raw address is in no symbol of the table, or the
	// frame's module is not in the table. (A core name the table lacks
	// makes the whole report LogOnly.)
	StatusNotFound Status = "not-found"
	// StatusUnchecked: a frame no table vouches for, shown as the kernel
	// printed it: a module frame while the table has no module symbols (a
	// System.map; with the modules' places, Options.Modules, a raw module
	// address is still attributed to its module: Module and ModuleOffset
	// are set), a symbolizer's "[inline]" annotation, or any frame of a
	// report decoded from the log alone (Result.LogOnly).
	StatusUnchecked Status = "unchecked"
	// StatusHashed: a hashed %p value, which is not an address.
	StatusHashed Status = "hashed"
	// StatusUser: a user space address.
	StatusUser Status = "user"
	// StatusNull: the address 0.
	StatusNull Status = "null"
	// StatusNoSlide: a raw core address with a System.map whose KASLR slide
	// could not be found.
	StatusNoSlide Status = "no-slide"
)

// Options tune a Decoder.
type Options struct {
	// SystemMap says the table holds link-time addresses (a System.map):
	// core kernel addresses of the log are slid by the KASLR offset.
	SystemMap bool
	// Arch is the architecture of the kernel; when empty it is told from
	// the table (TableArch), else from each report (DetectArch). It decides
	// which KASLR slides are possible and where modules live.
	Arch Arch
	// Modules are the places of the loaded modules (a saved /proc/modules
	// of the crashed boot). With a System.map, raw module addresses are
	// attributed to their module and printed addresses of module frames are
	// checked against the module's range; with a runtime table, the table's
	// modules are checked against them.
	Modules []Module
	// Kernel is what is known of the kernel the table comes from (the
	// running kernel, a snapshot's boot): a report that prints another
	// release or build ID is decoded from the log alone.
	Kernel Kernel
	// Lines, when set, gives the frames the table confirmed their source
	// lines (Frame.Lines) from debug information.
	Lines LineFinder
}

// Decoder decodes the reports of one log against one table. It remembers,
// across the reports of the log, the KASLR slide once found and whether the
// table was found not to match the log (then every later report is decoded
// from the log alone), so that the reports of one log are decoded
// consistently; Reset starts another log. It is not safe for concurrent
// use.
type Decoder struct {
	table     *kallsyms.Table // nil: every report is decoded from the log alone
	opts      Options
	arch      Arch  // Options.Arch, else the table's
	img       image // the kernel image of a System.map
	mods      moduleSet
	modWarn   string // the modules file against the table, said in the next result
	modWarned bool   // the modules file was found to disagree with the log
	slide     Slide
	mismatch  string // why the table does not match this log, "" while it may
	buf       []int
	tableMods map[string]bool // modules with symbols in the table, built on first use
}

// New returns a Decoder for t. With a nil t, every report is decoded from
// the log alone (Result.LogOnly): frames as printed, nothing resolved.
func New(t *kallsyms.Table, opts Options) *Decoder {
	d := &Decoder{table: t, opts: opts, arch: opts.Arch, mods: newModuleSet(opts.Modules)}
	if t == nil {
		return d
	}
	if d.arch == ArchUnknown {
		d.arch = TableArch(t)
	}
	if opts.SystemMap {
		d.img = imageOf(t)
	} else if len(d.mods) > 0 && !t.Hidden() {
		d.modWarn = checkModules(t, d.mods)
	}
	return d
}

// Reset makes the Decoder ready for the reports of another log: it forgets
// the KASLR slide and whether the table matched the previous log (which may
// come from another kernel or boot). Warnings about the table itself (the
// modules file disagreeing with it) are not repeated.
func (d *Decoder) Reset() {
	d.slide, d.mismatch = Slide{}, ""
}

// Frame is one decoded frame. Numbers are numbers: how to show them (hex
// text, JSON) is up to the caller.
type Frame struct {
	// Kind says whether the frame is a call trace entry, a PC or a LR.
	Kind klog.FrameKind
	// Line is the index in the report's Lines of the line it was read from.
	Line int
	// Printed is the frame as the kernel printed it, canonical
	// ("func+0xoff/0xsize [mod]", or the raw address "0xffffffff81234567").
	Printed string
	// Text is the decoded frame as the kernel prints it, empty when not
	// decoded.
	Text string
	// Addr is the runtime address, valid when HasAddr.
	Addr    uint64
	HasAddr bool
	// Symbol, Offset, Size and Module are the decoded symbol (zero when
	// not decoded; Offset and Size also when the symbol has none).
	Symbol string
	Offset uint64
	Size   uint64
	Module string
	// ModuleBase and ModuleOffset place Addr in its module, valid when
	// HasModuleBase: the module's base is known from Options.Modules.
	ModuleBase    uint64
	ModuleOffset  uint64
	HasModuleBase bool
	// BuildID is the module build ID the kernel printed.
	BuildID string
	// Reliable is false for "? " frames.
	Reliable bool
	// Context is the stack: "TASK", "IRQ", "NMI", "SOFTIRQ" or empty.
	Context string
	// Source is the arm64 unwinder source letter.
	Source string
	// Trace indexes the report's Traces, -1 outside any trace.
	Trace int
	// Status says what decoding did.
	Status Status
	// Note explains a status other than ok and resolved.
	Note string
	// Lines is the frame's source chain, innermost first (inlined
	// functions, then the real one), when Options.Lines found it.
	Lines []srcline.Frame

	// tableAddr is the address of a named frame in the table's own
	// addresses (link-time for a System.map), when inTable: its symbol is
	// the one the kernel printed, not a guess among namesakes.
	tableAddr uint64
	inTable   bool
}

// Register is a register whose value is a kernel address, with its symbol.
type Register struct {
	// Name is the register as printed ("RDI", "CR2", "x0").
	Name string
	// Value is the register's value.
	Value uint64
	// Line is the index in the report's Lines of the line it was read from.
	Line int
	// Text is the symbol as the kernel prints %pS; for a module address
	// with a System.map and Options.Modules, the module and the offset from
	// its base ("module lkdtm+0x4a0 (base 0xffffffffc09e6000)").
	Text string
}

// Result is one decoded report.
type Result struct {
	// Report is the report as parsed.
	Report *klog.Report
	// Frames are the report's frames, decoded, in order.
	Frames []Frame
	// Registers are the register values that point into the kernel.
	Registers []Register
	// Slide is the KASLR slide used (System.map only).
	Slide Slide
	// Arch is the architecture decoding assumed ("x86_64", "arm64"), empty
	// when unknown.
	Arch Arch
	// Warnings are problems with the table: its mismatch with the log
	// (MismatchReason, in every report it concerns), and the modules file
	// disagreeing with the table or the log (once per Decoder).
	Warnings []string
	// Mismatch reports that the table does not match the kernel (or boot)
	// that wrote the log: a printed name, size, address, kernel offset,
	// release or build ID disagreed with it, in this report or an earlier
	// one of the same log. The report is then decoded from the log alone
	// (LogOnly): no answer comes from the table.
	Mismatch bool
	// MismatchReason says how the mismatch was found, once per report.
	MismatchReason string
	// LogOnly reports that the report was decoded from the log alone: the
	// Decoder has no table, or the table does not match (Mismatch). Named
	// frames are shown as printed, status unchecked, raw addresses are not
	// resolved, registers not annotated, and no address comes from a table.
	LogOnly bool
	// Summary explains the report.
	Summary Summary
}

// Decode decodes every frame and register of r. It never fails: what it
// cannot decode is marked in the frame's Status. When the table does not
// match the kernel that wrote the log (found in r or in an earlier report
// of the same log), r is decoded from the log alone and the Result says
// why.
func (d *Decoder) Decode(r *klog.Report) *Result {
	res := &Result{Report: r, Arch: d.archOf(r)}
	if d.modWarn != "" {
		res.Warnings = append(res.Warnings, d.modWarn)
		d.modWarn = ""
	}
	switch {
	case d.table == nil:
		d.fromLog(r, res, noteNoTable)
	case d.mismatch != "":
		d.mismatched(r, res, "in an earlier report of this log: "+d.mismatch)
	default:
		if why := d.opts.Kernel.check(r); why != "" {
			d.mismatch = why
			d.mismatched(r, res, why)
			break
		}
		d.withTable(r, res)
	}
	d.addLines(r, res)
	res.Summary = summarize(r, res)
	return res
}

// withTable decodes r against the table. The first disagreement between
// the report and the table makes the table unfit for the whole log: the
// report is then decoded from the log alone.
func (d *Decoder) withTable(r *klog.Report, res *Result) {
	if d.opts.SystemMap {
		s := findSlide(r, d.table, res.Arch)
		if s.Known {
			d.slide = s
		}
		res.Slide = s
		if d.slide.Known && !s.Known {
			res.Slide = d.slide
			res.Slide.Detail += " (in an earlier report)"
		}
	} else {
		d.checkOffset(r, res)
	}
	res.Frames = make([]Frame, 0, len(r.Frames))
	for i := range r.Frames {
		res.Frames = append(res.Frames, d.frame(&r.Frames[i], res))
	}
	if res.MismatchReason != "" {
		d.mismatch = res.MismatchReason
		d.mismatched(r, res, d.mismatch)
		return
	}
	for i := range res.Frames {
		if r.Frames[i].Name != "" {
			d.checkModuleRange(&res.Frames[i], res)
		}
	}
	res.Registers = d.registers(r, res.Arch)
}

// archOf is the architecture a report is decoded for: the Decoder's, else
// the report's.
func (d *Decoder) archOf(r *klog.Report) Arch {
	if d.arch != ArchUnknown {
		return d.arch
	}
	return DetectArch(r)
}

// checkOffset compares a "Kernel Offset:" line with a runtime table.
func (d *Decoder) checkOffset(r *klog.Report, res *Result) {
	h := &r.Header
	if !h.HasKernelOffset {
		return
	}
	ids := d.table.Find("vmlinux:_text")
	if len(ids) == 0 || d.table.Hidden() {
		return
	}
	if got := d.table.Addr(ids[0]); got != h.KernelBase+h.KernelOffset {
		d.warn(res, "the log's kernel offset 0x%x puts _text at 0x%x, the table has 0x%x: the table is from another boot", h.KernelOffset, h.KernelBase+h.KernelOffset, got)
	}
}

// warn records the first disagreement of a report with the table.
func (d *Decoder) warn(res *Result, format string, args ...any) {
	if res.MismatchReason == "" {
		res.MismatchReason = fmt.Sprintf(format, args...)
	}
}

// The notes of values that are never resolved.
const (
	noteHashed = "hashed %p value, not an address"
	noteUser   = "user space address"
	noteNull   = "address 0"
)

// asPrinted is a frame as the kernel printed it, not yet decoded.
func asPrinted(f *klog.Frame) Frame {
	return Frame{
		Kind: f.Kind, Line: f.Line, Printed: printedText(f), Module: f.Module,
		BuildID: f.BuildID, Reliable: f.Reliable, Context: f.Context, Source: f.Source, Trace: f.Trace,
	}
}

// frame decodes one frame.
func (d *Decoder) frame(f *klog.Frame, res *Result) Frame {
	out := asPrinted(f)
	switch {
	case f.Name != "" && f.Inline:
		out.Status, out.Note = StatusUnchecked, "a symbolizer's [inline] annotation, not a symbol"
	case f.Name != "":
		d.named(f, &out, res)
	case f.Hashed:
		out.Status, out.Note = StatusHashed, noteHashed
	case f.User:
		out.Status, out.Note = StatusUser, noteUser
	case !f.HasAddr:
		out.Status, out.Note = StatusNotFound, "no symbol and no address"
	case f.Addr == 0:
		out.Status, out.Note = StatusNull, noteNull
	default:
		d.raw(f, &out, res.Arch)
	}
	return out
}

// printedText returns f as the kernel printed it, in canonical form.
func printedText(f *klog.Frame) string {
	if f.Name == "" {
		if f.HasAddr {
			return "0x" + strconv.FormatUint(f.Addr, 16)
		}
		return ""
	}
	s := f.Name
	if f.HasOffset {
		s += "+0x" + strconv.FormatUint(f.Offset, 16) + "/0x" + strconv.FormatUint(f.Size, 16)
	}
	if f.Module != "" {
		s += " [" + f.Module + "]"
	}
	return s
}

// named decodes a frame that printed a symbol name.
func (d *Decoder) named(f *klog.Frame, out *Frame, res *Result) {
	t := d.table
	d.buf = t.AppendFind(d.buf[:0], f.Name)
	kept := d.buf[:0] // the symbols of the frame's module (or the core)
	for _, i := range d.buf {
		if m := t.ModuleName(i); m == f.Module || f.Module == "" && generatedModule(m) {
			kept = append(kept, i)
		}
	}
	d.buf = kept
	if len(d.buf) == 0 {
		d.notFound(f, out, res)
		return
	}
	if t.Hidden() {
		out.Status, out.Note = StatusUnchecked, "the table's addresses are hidden"
		return
	}
	if !d.sizesKnown() {
		out.Status, out.Note = StatusUnchecked, "the table does not know the size of "+f.Name+" (generated code): name found, size not checked"
		if f.HasAddr && !f.Hashed {
			out.Addr, out.HasAddr = f.Addr, true
		}
		return
	}
	i, size, ok, same := d.pick(f)
	if !ok {
		d.warn(res, "%s: the kernel printed size 0x%x, the table says 0x%x: the table is not from the kernel that wrote this log", out.Printed, f.Size, size)
		return
	}
	out.Symbol, out.Offset, out.Size, out.Module = f.Name, f.Offset, size, t.ModuleName(i)
	out.Text = t.FormatLocation(kallsyms.Location{Index: i, Offset: f.Offset, Size: size, SizeKnown: true})
	if !f.HasOffset {
		out.Offset, out.Text = 0, f.Name
		if out.Module != "" {
			out.Text += " [" + out.Module + "]"
		}
	}
	out.Status = StatusOK
	if same > 1 {
		out.Note = fmt.Sprintf("ambiguous: %d symbols named %s have this size; the address is the first's", same, f.Name)
	} else if f.HasOffset {
		out.tableAddr, out.inTable = t.Addr(i)+f.Offset, true
	}
	d.address(f, i, out, res)
}

// sizesKnown reports whether the table knows the size of a symbol in d.buf:
// it does not for BPF programs and trampolines, whose size kallsyms does
// not list.
func (d *Decoder) sizesKnown() bool {
	for _, c := range d.buf {
		if _, ok := d.table.Size(c); ok {
			return true
		}
	}
	return false
}

// pick chooses among the symbols in d.buf the one whose size is the printed
// one, reporting false (and the first) when none is. Among several with the
// printed size (static functions of the same name and size), a printed raw
// address decides; otherwise the first is taken and the count returned.
func (d *Decoder) pick(f *klog.Frame) (i int, size uint64, ok bool, same int) {
	i, size = d.buf[0], 0
	for n, c := range d.buf {
		sz, known := d.table.Size(c)
		if n == 0 {
			size = sz
		}
		if !known || f.HasOffset && (sz != f.Size || f.Offset > sz) {
			continue
		}
		if d.matchesAddr(f, c) {
			return c, sz, true, 1
		}
		if same == 0 {
			i, size, ok = c, sz, true
		}
		if same == 0 || d.table.Addr(c) != d.table.Addr(i) {
			same++
		}
	}
	return i, size, ok, same
}

// matchesAddr reports whether symbol c plus the frame's offset is the raw
// address the frame printed (runtime tables only).
func (d *Decoder) matchesAddr(f *klog.Frame, c int) bool {
	return f.HasAddr && !f.Hashed && !d.opts.SystemMap && d.table.Addr(c)+f.Offset == f.Addr
}

// address computes the runtime address of a named frame and checks it
// against a printed raw address. A frame without an offset has only the
// address it printed.
func (d *Decoder) address(f *klog.Frame, i int, out *Frame, res *Result) {
	if !f.HasOffset {
		if f.HasAddr && !f.Hashed {
			out.Addr, out.HasAddr = f.Addr, true
		}
		return
	}
	a := d.table.Addr(i) + out.Offset
	known := true
	if d.opts.SystemMap && d.table.IsCore(i) {
		a += d.slide.Value
		known = d.slide.Known
	}
	if f.HasAddr && !f.Hashed {
		if known && a != f.Addr {
			d.warn(res, "%s: the kernel printed address 0x%x, the table puts it at 0x%x: the table is not from the boot that wrote this log", out.Printed, f.Addr, a)
		}
		a, known = f.Addr, true
	}
	out.Addr, out.HasAddr = a, known
}

// notFound marks a named frame whose name is not in the table.
func (d *Decoder) notFound(f *klog.Frame, out *Frame, res *Result) {
	if f.Module != "" && d.opts.SystemMap {
		out.Status, out.Note = StatusUnchecked, "a System.map has no module symbols"
		if f.HasAddr && !f.Hashed {
			out.Addr, out.HasAddr = f.Addr, true // as printed
		}
		return
	}
	out.Status = StatusNotFound
	if f.Module != "" && !d.hasModule(f.Module) {
		out.Note = "module " + f.Module + " is not in the table"
		return
	}
	if f.Module == "" && generatedCode.MatchString(f.Name) {
		out.Note = f.Name + " is not in the table: generated code (a BPF program or trampoline) is listed only while it is loaded"
		return
	}
	if f.Module != "" {
		out.Note = f.Name + " is not among module " + f.Module + "'s symbols in the table (a module's init code is freed, and its symbols dropped, once it is loaded)"
		return
	}
	out.Note = f.Name + " is not in the table"
	d.warn(res, "%s: %s is not in the table: the table is not from the kernel that wrote this log", out.Printed, f.Name)
}

// generatedModule reports whether mod is the pseudo-module under which
// /proc/kallsyms lists code the kernel generates ("[bpf]" for JIT-compiled
// BPF programs and trampolines, "[__builtin__ftrace]", "[__builtin__kprobes]"):
// the kernel prints such frames without a module.
func generatedModule(mod string) bool {
	return mod == "bpf" || strings.HasPrefix(mod, "__builtin__")
}

// generatedCode matches the names of code the kernel generates: a BPF
// program ("bpf_prog_" and its 8-byte tag in hex, then "_" and its name),
// a BPF trampoline ("bpf_trampoline_" and its key), an ftrace trampoline.
// A table saved when it was not loaded lacks it: that is no evidence of
// another kernel.
var generatedCode = regexp.MustCompile(`^(bpf_prog_[0-9a-f]{16}(_.*)?|bpf_trampoline_[0-9]+|ftrace_trampoline)$`)

// hasModule reports whether the table has symbols of module mod.
func (d *Decoder) hasModule(mod string) bool {
	if d.tableMods == nil {
		d.tableMods = map[string]bool{}
		for _, m := range d.table.Modules() {
			d.tableMods[m.Name] = true
		}
	}
	return d.tableMods[mod]
}

// raw resolves a frame that printed only an address.
func (d *Decoder) raw(f *klog.Frame, out *Frame, arch Arch) {
	out.Addr, out.HasAddr = f.Addr, true
	if m, ok := d.mods.find(f.Addr); ok && d.opts.SystemMap {
		out.Status, out.Module = StatusUnchecked, m.Name
		out.ModuleBase, out.ModuleOffset, out.HasModuleBase = m.Base, f.Addr-m.Base, true
		out.Note = moduleText(m, f.Addr) + ": a System.map has no module symbols"
		return
	}
	a, st, why := d.coreAddr(f.Addr, arch)
	if st != "" {
		out.Status, out.Note = st, why
		return
	}
	loc, err := d.lookup(a, f.Kind == klog.FrameTrace)
	if err != nil {
		out.Status, out.Note = StatusNotFound, "no symbol at this address"
		return
	}
	t := d.table
	out.Status, out.Symbol, out.Offset, out.Module = StatusResolved, t.Name(loc.Index), loc.Offset, t.ModuleName(loc.Index)
	if loc.SizeKnown {
		out.Size = loc.Size
	}
	out.Text = t.FormatLocation(loc)
}

// coreAddr turns a runtime address into a table address. With a runtime
// table it is the address itself. With a System.map, only an address of
// the slid kernel image is looked up (minus the slide): module addresses
// never move with the kernel slide and are not in a System.map. When the
// address is not to be looked up, it returns the frame status and why.
func (d *Decoder) coreAddr(a uint64, arch Arch) (uint64, Status, string) {
	if !d.opts.SystemMap {
		return a, "", ""
	}
	if mod, known := moduleArea(arch, a, d.img, d.slide); known && mod {
		why := "a module address: a System.map has no module symbols, and the kernel slide does not apply"
		if len(d.mods) > 0 {
			why = "a module address in no module of the modules file: a System.map has no module symbols, and the kernel slide does not apply"
		}
		return 0, StatusUnchecked, why
	}
	if !d.slide.Known {
		why := "the KASLR slide is unknown"
		if arch == ArchArm64 {
			why += " (on arm64 it also tells the kernel image from the modules)"
		}
		return 0, StatusNoSlide, why
	}
	link := a - d.slide.Value
	if d.img.ok && (link < d.img.from || link >= d.img.to) {
		return 0, StatusNotFound, "outside the kernel image under the slide " + hex(d.slide.Value)
	}
	return link, "", ""
}

// lookup resolves a table address, as a return address (%pB) or not (%pS).
func (d *Decoder) lookup(a uint64, ret bool) (kallsyms.Location, error) {
	if ret {
		return d.table.LookupReturn(a)
	}
	return d.table.Lookup(a)
}

// registers annotates the register values that point into the kernel.
func (d *Decoder) registers(r *klog.Report, arch Arch) []Register {
	var out []Register
	for _, reg := range r.Registers {
		if !kernelValue(reg.Value) {
			continue
		}
		text, ok := d.registerText(reg.Value, arch)
		if !ok {
			continue
		}
		out = append(out, Register{Name: reg.Name, Value: reg.Value, Line: reg.Line, Text: text})
	}
	return out
}

// registerText is what a register value points at, if anything.
func (d *Decoder) registerText(v uint64, arch Arch) (string, bool) {
	if m, ok := d.mods.find(v); ok && d.opts.SystemMap {
		return moduleText(m, v), true
	}
	a, st, _ := d.coreAddr(v, arch)
	if st != "" {
		return "", false
	}
	loc, err := d.table.Lookup(a)
	if err != nil {
		return "", false
	}
	return d.table.FormatLocation(loc), true
}

// kernelValue reports whether v may be a kernel address: in the upper half
// of a 64-bit address space, and not a negative error number.
func kernelValue(v uint64) bool {
	return v >= 0xffff800000000000 && v < 0xfffffffffffff000
}

// hex formats v as "0x..." in lower case.
func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
