package cli

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/srcline"
)

// palette colours the annotated log; the zero palette does not.
type palette struct{ on bool }

// The SGR styles of the annotated log: few and subtle.
const (
	styleNone   = ""
	styleDim    = "2"    // a frame checked and fine, or never an address
	styleInfo   = "36"   // cyan: a raw address or register decoded
	styleWarn   = "33"   // yellow: not checked, uncertain
	styleBad    = "1;31" // bold red: the table disagrees, warnings
	styleGuilty = "1;35" // bold magenta: the guilty frame
	styleTitle  = "1"    // bold: the summary's title line
	styleSource = "32"   // green: source lines from debug information
)

// paint wraps s in a style when colour is on.
func (p palette) paint(style, s string) string {
	if !p.on || style == styleNone || s == "" {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

// colorOn decides colour from --color, --no-color, NO_COLOR
// (https://no-color.org: set and not empty disables it) and whether out is
// a terminal. --color=always wins over NO_COLOR; --no-color over all.
func colorOn(mode string, noColor bool, out io.Writer) (bool, error) {
	switch mode {
	case "always":
		return !noColor, nil
	case "never":
		return false, nil
	case "auto", "":
		if noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
			return false, nil
		}
		f, ok := out.(*os.File)
		return ok && isTerminal(f), nil
	}
	return false, usageErrorf("decode: --color is auto, always or never, not %q", mode)
}

// note is one annotation of a line, with its style.
type note struct {
	text, style string
	// chain is a frame's source chain, printed under its line.
	chain []srcline.Frame
}

// pendingSummary is the summary block of a report, printed after the
// report's last line.
type pendingSummary struct {
	last int // line number of the report's last line
	res  *decode.Result
}

// printer prints the annotated log: the lines as read, each report's
// annotations on its lines, and its summary after its last line. Reports
// of different tasks may interleave (printk caller ids): the caller holds
// lines until no report that may still be emitted covers them.
type printer struct {
	out     *bufio.Writer
	pal     palette
	notes   map[int][]note // annotations by line number, until printed
	first   int            // no line before it has annotations
	pending []pendingSummary
}

// add records the annotations and summary of a decoded report.
func (p *printer) add(rep *klog.Report, res *decode.Result) {
	p.annotate(rep, res, true)
	p.pending = append(p.pending, pendingSummary{lastNum(rep), res})
	sort.SliceStable(p.pending, func(i, j int) bool { return p.pending[i].last < p.pending[j].last })
}

// annotate records the annotations of a decoded report, the guilty frame
// coloured as such when guilty is set (not for a report still open, whose
// guilty frame may change).
func (p *printer) annotate(rep *klog.Report, res *decode.Result, guilty bool) {
	if p.notes == nil {
		p.notes = map[int][]note{}
	}
	if n := len(rep.Lines); n > 0 && (len(p.notes) == 0 || rep.Lines[0].Num < p.first) {
		p.first = rep.Lines[0].Num
	}
	g := res.Summary.GuiltyIndex
	if !guilty {
		g = -1
	}
	for i := range res.Frames {
		f := &res.Frames[i]
		if s := frameNote(f); s != "" && f.Line < len(rep.Lines) {
			num := rep.Lines[f.Line].Num
			p.notes[num] = append(p.notes[num], note{text: s, style: frameStyle(f, i == g), chain: f.Lines})
		}
	}
	for _, r := range res.Registers {
		if r.Line < len(rep.Lines) {
			num := rep.Lines[r.Line].Num
			p.notes[num] = append(p.notes[num], note{text: r.Name + "=" + r.Text, style: styleInfo})
		}
	}
}

// print writes lines, the lines up to lim (every line left when lim is
// -1), each summary after its report's last line.
func (p *printer) print(lines []rawLine, lim int) {
	for len(p.pending) > 0 && (lim < 0 || p.pending[0].last <= lim) {
		s := p.pending[0]
		n := sort.Search(len(lines), func(i int) bool { return lines[i].num > s.last })
		p.annotated(lines[:n])
		writeSummary(p.out, s.res, p.pal)
		lines, p.pending = lines[n:], p.pending[1:]
	}
	p.annotated(lines)
	if lim < 0 {
		p.notes = nil
	} else {
		p.forget(lim)
	}
}

// forget drops the annotations of lines up to num that were never printed
// (passed through unannotated when held too long, or printed before the
// report ended). print runs for every line, and ranging over a map takes
// the time of the most it ever held: the map is ranged over only when it
// may hold such lines (from first on), and dropped when empty.
func (p *printer) forget(num int) {
	if len(p.notes) == 0 || num < p.first {
		return
	}
	p.first = num + 1
	for k := range p.notes {
		if k <= num {
			delete(p.notes, k)
		} else {
			p.first = min(p.first, k)
		}
	}
	if len(p.notes) == 0 {
		p.notes = nil
	}
}

// annotated prints lines with their annotations aligned in one column.
// A line keeps its carriage returns (a CRLF log): the annotation goes
// before them, so that every line of the log ends as it did.
func (p *printer) annotated(lines []rawLine) {
	col := 0
	for _, l := range lines {
		if _, ok := p.notes[l.num]; ok {
			col = max(col, min(len(strings.TrimRight(l.text, "\r")), maxAnnotColumn))
		}
	}
	for _, l := range lines {
		n, ok := p.notes[l.num]
		if !ok {
			p.out.WriteString(l.text)
			p.out.WriteByte('\n')
			continue
		}
		delete(p.notes, l.num)
		text := strings.TrimRight(l.text, "\r")
		p.out.WriteString(text)
		p.out.WriteString(strings.Repeat(" ", max(col-len(text), 0)))
		p.out.WriteString("  # ")
		for i, x := range n {
			if i > 0 {
				p.out.WriteString(", ")
			}
			p.out.WriteString(p.pal.paint(x.style, x.text))
		}
		p.out.WriteString(l.text[len(text):])
		p.out.WriteByte('\n')
		for _, x := range n {
			p.chain(x.chain, col, l.text[len(text):])
		}
	}
}

// chain prints a frame's source chain under its line, in the annotations'
// column, as syzkaller prints one: innermost first, inlined functions
// marked [inline], the real function last. eol ends each line as the log
// line ended (a CRLF log).
func (p *printer) chain(fs []srcline.Frame, col int, eol string) {
	for _, fr := range fs {
		name := cmp.Or(fr.Function, "??")
		s := fmt.Sprintf("%s %s:%d", name, fr.TreeFile, fr.Line)
		if fr.Inlined {
			s += " [inline]"
		}
		p.out.WriteString(strings.Repeat(" ", col))
		p.out.WriteString("  #   ")
		p.out.WriteString(p.pal.paint(styleSource, s))
		p.out.WriteString(eol)
		p.out.WriteByte('\n')
	}
}

// lastNum is the line number of a report's last line.
func lastNum(rep *klog.Report) int {
	if n := len(rep.Lines); n > 0 {
		return rep.Lines[n-1].Num
	}
	return 0
}

// frameNote is the annotation of one frame.
func frameNote(f *decode.Frame) string {
	switch f.Status {
	case decode.StatusOK:
		if f.HasAddr {
			return "ok " + hex0x(f.Addr)
		}
		return "ok"
	case decode.StatusResolved:
		return f.Text
	case decode.StatusSizeMismatch:
		return "MISMATCH: " + f.Note
	}
	return string(f.Status) + ": " + f.Note
}

// frameStyle is the style of a frame's annotation.
func frameStyle(f *decode.Frame, guilty bool) string {
	switch {
	case f.Status == decode.StatusSizeMismatch:
		return styleBad
	case guilty:
		return styleGuilty
	}
	switch f.Status {
	case decode.StatusOK, decode.StatusUser, decode.StatusHashed, decode.StatusNull:
		return styleDim
	case decode.StatusResolved:
		return styleInfo
	}
	return styleWarn
}

// maxAnnotColumn caps the column where annotations start.
const maxAnnotColumn = 100

// writeSummary prints the summary block of a report.
func writeSummary(w *bufio.Writer, res *decode.Result, pal palette) {
	s := &res.Summary
	fmt.Fprintf(w, "%s\n", pal.paint(styleTitle, fmt.Sprintf("== %s [%s]", s.Title, s.Kind)))
	if s.Guilty != "" {
		fmt.Fprintf(w, "   guilty:    %s%s\n", pal.paint(styleGuilty, s.Guilty), moduleNote(s))
		if g := s.GuiltyIndex; g >= 0 && g < len(res.Frames) && len(res.Frames[g].Lines) > 0 {
			fr := res.Frames[g].Lines[0] // innermost: where the code was
			fmt.Fprintf(w, "   source:    %s\n", pal.paint(styleSource, fmt.Sprintf("%s:%d (%s)", fr.TreeFile, fr.Line, cmp.Or(fr.Function, "??"))))
		}
	}
	if s.PID >= 0 || s.Comm != "" {
		task := fmt.Sprintf("PID %d %s", s.PID, s.Comm)
		if s.CPU >= 0 {
			task = fmt.Sprintf("CPU %d %s", s.CPU, task)
		}
		fmt.Fprintf(w, "   task:      %s\n", task)
	}
	if s.Release != "" {
		fmt.Fprintf(w, "   kernel:    %s\n", s.Release)
	}
	if s.Taint != "" {
		fmt.Fprintf(w, "   tainted:   %s (%s)\n", decode.CompactTaint(s.Taint), strings.Join(s.TaintWords, "; "))
	}
	if res.Slide.Method != "" || res.Slide.Detail != "" {
		style := styleNone
		if !res.Slide.Known {
			style = styleWarn
		}
		fmt.Fprintf(w, "   kaslr:     %s\n", pal.paint(style, slideText(res.Slide)))
	}
	for _, u := range s.Uncertain {
		fmt.Fprintf(w, "   uncertain: %s\n", pal.paint(styleWarn, u))
	}
	for _, m := range res.Warnings {
		fmt.Fprintf(w, "   %s\n", pal.paint(styleBad, "WARNING:   "+m))
	}
}

// moduleNote says the guilty frame's module and its taint.
func moduleNote(s *decode.Summary) string {
	if s.Module == "" {
		return ""
	}
	if s.ModuleTaint != "" {
		return fmt.Sprintf(" (module %s, tainted %s)", s.Module, s.ModuleTaint)
	}
	return fmt.Sprintf(" (module %s)", s.Module)
}

// slideText describes the KASLR slide.
func slideText(s decode.Slide) string {
	if !s.Known {
		return "slide " + s.Detail
	}
	return fmt.Sprintf("slide %s (%s: %s)", hex0x(s.Value), s.Method, s.Detail)
}
