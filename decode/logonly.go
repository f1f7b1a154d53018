package decode

import (
	"fmt"
	"strconv"

	"github.com/ksym-dev/ksym/klog"
)

// Kernel is what is known of the kernel a table comes from: the running
// kernel, or the boot a snapshot was saved in. Empty fields are unknown and
// not checked.
type Kernel struct {
	// Name says which kernel it is in messages ("the running kernel", "the
	// snapshot"); "the table's kernel" when empty.
	Name string
	// Release is its release ("6.1.0-56-amd64").
	Release string
	// BuildID is its vmlinux GNU build ID in hex.
	BuildID string
	// ModuleBuildID returns the build ID of a module, "" when unknown.
	ModuleBuildID func(module string) string
	// Uptime returns how long the kernel has been up, now, in seconds
	// (false when unknown); set for the running kernel only. A report
	// stamped later was printed in an earlier boot, where KASLR placed the
	// kernel and its modules elsewhere: the same names and sizes, other
	// addresses.
	Uptime func() (float64, bool)
}

// check returns why a report is not from this kernel, "" when nothing it
// prints says so: another release, another vmlinux build ID (printed by
// kernels with CONFIG_STACKTRACE_BUILD_ID at the end of the CPU: line), or
// a module frame printed with another build ID ("[mod <build-id>]").
func (k *Kernel) check(r *klog.Report) string {
	name := k.Name
	if name == "" {
		name = "the table's kernel"
	}
	h := &r.Header
	if k.Release != "" && h.Release != "" && h.Release != k.Release {
		return fmt.Sprintf("the log is from kernel %s, %s is %s", h.Release, name, k.Release)
	}
	if k.BuildID != "" && h.BuildID != "" && h.BuildID != k.BuildID {
		return fmt.Sprintf("the log's vmlinux build ID is %s, %s's is %s: same release, another build", h.BuildID, name, k.BuildID)
	}
	if why := k.checkUptime(r, name); why != "" {
		return why
	}
	if k.ModuleBuildID == nil {
		return ""
	}
	for i := range r.Frames {
		f := &r.Frames[i]
		if f.BuildID == "" || f.Module == "" {
			continue
		}
		if want := k.ModuleBuildID(f.Module); want != "" && want != f.BuildID {
			return fmt.Sprintf("the log's module %s has build ID %s, %s's has %s: the module was rebuilt", f.Module, f.BuildID, name, want)
		}
	}
	return ""
}

// checkUptime returns why r is from an earlier boot, "" when its printk
// timestamps (local clock, suspend not counted) stay within the kernel's
// uptime (suspend counted). The margin, 1% and 10 s, covers the clocks'
// rates, which NTP may slew by 0.05%.
func (k *Kernel) checkUptime(r *klog.Report, name string) string {
	if k.Uptime == nil {
		return ""
	}
	last, ok := lastTime(r)
	if !ok {
		return ""
	}
	up, ok := k.Uptime()
	if !ok || last <= up*1.01+10 {
		return ""
	}
	return fmt.Sprintf("the log's timestamps reach %.0f s, %s has been up %.0f s: the log is from an earlier boot, where the kernel and its modules were placed elsewhere", last, name, up)
}

// lastTime returns the latest printk timestamp of r's lines.
func lastTime(r *klog.Report) (float64, bool) {
	last, ok := 0.0, false
	for i := range r.Lines {
		if r.Lines[i].Time == "" {
			continue
		}
		t, err := strconv.ParseFloat(r.Lines[i].Time, 64)
		if err == nil && t > last {
			last, ok = t, true
		}
	}
	return last, ok
}

// The notes of frames decoded from the log alone.
const (
	noteNoTable  = "as printed; no table"
	noteMismatch = "as printed; the table does not match this log"
)

// mismatched decodes r from the log alone because the table does not match
// the log, and says why, once in this report.
func (d *Decoder) mismatched(r *klog.Report, res *Result, why string) {
	res.Mismatch, res.MismatchReason = true, why
	res.Warnings = append([]string{why}, res.Warnings...)
	d.fromLog(r, res, noteMismatch)
}

// fromLog decodes r from the log alone: every frame as the kernel printed
// it, status unchecked (hashed, user and null values keep their status),
// with the address it printed if any; no register annotation, no slide,
// nothing from a table.
func (d *Decoder) fromLog(r *klog.Report, res *Result, note string) {
	res.LogOnly = true
	res.Slide, res.Registers = Slide{}, nil
	res.Frames = make([]Frame, 0, len(r.Frames))
	for i := range r.Frames {
		f := &r.Frames[i]
		out := asPrinted(f)
		switch {
		case f.Name == "" && f.Hashed:
			out.Status, out.Note = StatusHashed, noteHashed
		case f.Name == "" && f.User:
			out.Status, out.Note = StatusUser, noteUser
		case f.Name == "" && f.HasAddr && f.Addr == 0:
			out.Status, out.Note = StatusNull, noteNull
		default:
			out.Status, out.Note = StatusUnchecked, note
			if f.HasAddr && !f.Hashed && !f.User {
				out.Addr, out.HasAddr = f.Addr, true
			}
		}
		res.Frames = append(res.Frames, out)
	}
}
