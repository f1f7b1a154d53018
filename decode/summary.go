package decode

import (
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/klog"
)

// Summary explains one report in a few fields.
type Summary struct {
	// Kind is the report kind ("null-deref", "warning", ...).
	Kind klog.Kind
	// Title is one line: what happened and in which function
	// ("BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]").
	Title string
	// Guilty is the guilty frame, decoded when possible, as the kernel
	// prints it; empty when the report has no candidate.
	Guilty string
	// GuiltyFunc is the guilty frame's function name.
	GuiltyFunc string
	// GuiltyIndex indexes Result.Frames, -1 when there is no guilty frame
	// or when the guilty function is named by a line of the report that is
	// not a frame (a KASAN title whose stack was cut, a lockdep "at:").
	GuiltyIndex int
	// Module is the guilty frame's module, empty for the core kernel.
	Module string
	// ModuleTaint is the module's taint letters from "Modules linked in:".
	ModuleTaint string
	// CPU, PID and Comm identify the task; CPU and PID are -1 when absent.
	CPU  int
	PID  int
	Comm string
	// Release is the kernel release.
	Release string
	// Taint is the taint string as printed ("G      D    OE").
	Taint string
	// TaintWords explains each set taint letter.
	TaintWords []string
	// Corrupted says why the report is corrupted (printk messages were
	// dropped inside it, it printed no stack), "" when it is not; the
	// guilty frame of a corrupted report is a guess.
	Corrupted string
	// Uncertain lists what makes the decoding less than certain.
	Uncertain []string
}

// summarize builds the summary of a decoded report.
func summarize(r *klog.Report, res *Result) Summary {
	h := &r.Header
	s := Summary{Kind: r.Kind, CPU: h.CPU, PID: h.PID, Comm: h.Comm, Release: h.Release,
		Taint: h.Taint, TaintWords: ExplainTaint(h.Taint), GuiltyIndex: -1}
	if s.PID < 0 {
		if comm, pid, ok := titleTask(r.Title); ok {
			s.Comm, s.PID = comm, pid
		}
	}
	c := chooseGuilty(r, res.Frames)
	s.GuiltyIndex = c.index
	if c.index >= 0 {
		g := &res.Frames[c.index]
		s.Guilty, s.GuiltyFunc, s.Module = frameText(g), funcName(g), g.Module
		s.ModuleTaint = moduleTaint(h, g.Module)
	} else if c.name != "" || c.text != "" {
		s.Guilty, s.GuiltyFunc = c.text, c.name
	}
	s.Title = title(r, s)
	s.Corrupted = corrupted(r)
	s.Uncertain = uncertain(r, res)
	if s.Corrupted != "" {
		s.Uncertain = append(s.Uncertain, "the report is corrupted: "+s.Corrupted)
	}
	return s
}

// corrupted says why a report is corrupted: printk dropped messages inside
// it (the lines left are from several places), it printed no frame at
// all (a plain panic line and a workqueue lockup's list of busy work
// aside), or no frame but unreliable ("? ") ones and user space PCs; ""
// when it is not.
func corrupted(r *klog.Report) string {
	for _, l := range r.Lines {
		if l.Dropped > 0 || strings.Contains(l.Text, "printk messages dropped") {
			return "printk messages were dropped inside it"
		}
	}
	if len(r.Frames) == 0 && r.Kind != klog.KindPanic && r.Kind != klog.KindWQLockup {
		return "it printed no stack"
	}
	for _, f := range r.Frames {
		if f.Reliable && !f.User && (f.Name != "" || f.HasAddr && !f.Hashed && f.Addr != 0) {
			return ""
		}
	}
	if len(r.Frames) > 0 {
		// "? " entries are stale words the unwinder found on the stack, not calls
		return "it printed no reliable kernel frame"
	}
	return ""
}

// frameText is the decoded text of f, or what the kernel printed.
func frameText(f *Frame) string {
	if f.Text != "" {
		return f.Text
	}
	return f.Printed
}

// funcName is the function of f.
func funcName(f *Frame) string {
	if f.Symbol != "" {
		return f.Symbol
	}
	name, _, _ := strings.Cut(f.Printed, "+")
	return name
}

// moduleTaint finds mod's taint letters in "Modules linked in:".
func moduleTaint(h *klog.Header, mod string) string {
	if mod == "" {
		return ""
	}
	for _, m := range h.Modules {
		if m.Name == mod {
			return m.Taint
		}
	}
	return ""
}

// title builds the one-line title of a report: its head and " in FUNC
// [mod]" of the guilty function, named once (a KCSAN title names both
// racing functions, "in A / B").
func title(r *klog.Report, s Summary) string {
	t := titleHead(r)
	if r.Kind == klog.KindKCSAN {
		if fns := racingFuncs(r.Title); len(fns) == 2 && fns[0] == s.GuiltyFunc {
			return t + " in " + fns[0] + " / " + fns[1]
		}
	}
	in := displayName(s.GuiltyFunc)
	if in == "" {
		in = s.Guilty // a raw address no table resolved
	}
	if in == "" {
		return t
	}
	if s.Module != "" {
		in += " [" + s.Module + "]"
	}
	return t + " in " + in
}

// titleHeads are the titles of kinds whose title line carries details.
var titleHeads = map[klog.Kind]string{
	klog.KindNullDeref:    "BUG: kernel NULL pointer dereference",
	klog.KindPageFault:    "BUG: unable to handle page fault",
	klog.KindGPF:          "general protection fault",
	klog.KindWarning:      "WARNING",
	klog.KindSoftLockup:   "BUG: soft lockup",
	klog.KindHardLockup:   "hard LOCKUP",
	klog.KindRCUStall:     "INFO: rcu stall",
	klog.KindHungTask:     "INFO: task hung",
	klog.KindWQLockup:     "BUG: workqueue lockup",
	klog.KindRefcount:     "refcount_t",
	klog.KindTaskStack:    "task stack",
	klog.KindAllocFailure: "page allocation failure",
	klog.KindOOM:          "out of memory",
}

// funcTitleKinds are the kinds whose title line names the function
// ("BUG: KASAN: use-after-free in foo+0x1/0x2"): the head ends before it.
var funcTitleKinds = map[klog.Kind]bool{klog.KindKASAN: true, klog.KindKCSAN: true, klog.KindKMSAN: true,
	klog.KindKFENCE: true, klog.KindStackProtector: true, klog.KindUBSAN: true}

// titleHead is the part of the title before " in func": the kind's head,
// or the report's title line without its details (the function or file it
// names, addresses, the task, the taint).
func titleHead(r *klog.Report) string {
	if h, ok := titleHeads[r.Kind]; ok {
		return h
	}
	if r.Kind == klog.KindBUG && strings.HasPrefix(r.Title, "kernel BUG") {
		return "kernel BUG"
	}
	t := r.Title
	if i := strings.Index(t, " (Tainted:"); i > 0 { // SLUB: "BUG kmalloc-1k (Tainted: G B): Poison overwritten"
		if j := strings.Index(t[i:], "):"); j > 0 {
			t = t[:i] + t[i+j+1:]
		}
	}
	if funcTitleKinds[r.Kind] {
		for _, sep := range []string{" in: ", " in "} {
			if i := strings.Index(t, sep); i > 0 {
				t = t[:i]
			}
		}
	}
	for _, sep := range []string{", address:", " at 0x", ": 0x", ". ", " (", " [", " on CPU", " in process "} {
		if i := strings.Index(t, sep); i > 0 {
			t = t[:i]
		}
	}
	t = cutDetail(t, " at ") // "... invalid context at kernel/printk/printk.c:2525"
	t = cutDetail(t, ": ")   // "BUG: scheduling while atomic: a/1/0x00000002"
	if len(t) > 100 {
		t = t[:100]
	}
	return strings.TrimRight(strings.TrimSpace(t), ".:,")
}

// cutDetail cuts t before the last sep that is followed by one word naming
// a place or a task ("kernel/fork.c:123", "foo+0x1/0x2", "comm/123").
func cutDetail(t, sep string) string {
	i := strings.LastIndex(t, sep)
	if i <= 0 {
		return t
	}
	w := t[i+len(sep):]
	if w != "" && !strings.Contains(w, " ") && strings.ContainsAny(w, "/:+") {
		return t[:i]
	}
	return t
}

// uncertain lists what makes the decoding less than certain.
func uncertain(r *klog.Report, res *Result) []string {
	var out []string
	unreliable, unresolved, ambiguous := 0, 0, 0
	for i := range res.Frames {
		f := &res.Frames[i]
		if !f.Reliable {
			unreliable++
		}
		switch f.Status {
		case StatusNotFound, StatusNoSlide, StatusUnchecked:
			unresolved++
		case StatusOK:
			if f.Note != "" {
				ambiguous++
			}
		}
	}
	if unreliable > 0 {
		out = append(out, plural(unreliable, "unreliable (?) frame"))
	}
	if unresolved > 0 && !res.LogOnly {
		out = append(out, plural(unresolved, "frame")+" not checked against the table")
	}
	if ambiguous > 0 {
		out = append(out, plural(ambiguous, "frame")+" whose name and size match several symbols")
	}
	if res.LogOnly {
		out = append(out, logOnly(res, unresolved))
	}
	if r.Truncated {
		out = append(out, "the report is truncated")
	}
	return out
}

// logOnly says why and how a report was decoded from the log alone.
func logOnly(res *Result, frames int) string {
	why := "no table"
	if res.Mismatch {
		why = "the table does not match the kernel that wrote the log"
	}
	return why + ": decoded from the log alone, " + plural(frames, "frame") + " as printed"
}

// Line returns the summary as one tab-separated line: kind, title, guilty
// frame, "CPU n PID p comm", release, taint (without padding), and the
// number of uncertainties; "-" for what the report does not show.
func (s Summary) Line() string {
	task := "-"
	if s.PID >= 0 || s.Comm != "" {
		task = "PID " + strconv.Itoa(s.PID) + " " + orDash(s.Comm)
		if s.CPU >= 0 {
			task = "CPU " + strconv.Itoa(s.CPU) + " " + task
		}
	}
	fields := []string{string(s.Kind), s.Title, orDash(s.Guilty), task, orDash(s.Release), orDash(CompactTaint(s.Taint))}
	if len(s.Uncertain) > 0 {
		fields = append(fields, "uncertain: "+strings.Join(s.Uncertain, "; "))
	}
	return strings.Join(fields, "\t")
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// titleTask finds the task named by a hung task ("INFO: task sh:780
// blocked ...") or soft lockup ("... stuck for 6s! [sh:825]") title.
func titleTask(title string) (comm string, pid int, ok bool) {
	var s string
	if i := strings.Index(title, "INFO: task "); i >= 0 {
		s, _, _ = strings.Cut(title[i+len("INFO: task "):], " ")
	} else if i := strings.LastIndex(title, "! ["); i >= 0 {
		s = strings.TrimSuffix(title[i+3:], "]")
	}
	i := strings.LastIndex(s, ":")
	if i <= 0 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, false
	}
	return s[:i], pid, true
}
