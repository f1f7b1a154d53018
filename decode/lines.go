package decode

import (
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/srcline"
)

// LineQuery asks for the source lines of one decoded frame.
type LineQuery struct {
	// Module is the frame's module, "" for the core kernel.
	Module string
	// ModuleBuildID is the module's build ID as the log printed it
	// ("[lkdtm 1a2b...]"), "" when it printed none.
	ModuleBuildID string
	// Symbol and Offset place a module frame: the symbol's section and
	// value in the module's debug file, never a bare address.
	Symbol string
	Offset uint64
	// Addr places a core frame, in the table's address space (link-time
	// for a System.map, where the slide is taken off).
	Addr uint64
	// Return says the frame is a return address: the line of the call,
	// at Addr-1, is wanted. Every stack frame is one; a faulting PC is not.
	Return bool
	// Release and BuildID are what the report printed of its kernel, ""
	// when nothing.
	Release, BuildID string
}

// LineFinder finds the source lines of decoded frames from debug
// information that matches the table (srcline.Sources, wrapped by the
// caller to report once the debug files it could not use): the chain of
// functions, files and lines, innermost first, or nil.
type LineFinder interface {
	Lines(q LineQuery) []srcline.Frame
}

// addLines fills the source lines of the frames the table confirmed. A
// report decoded from the log alone gets none: its addresses are not known
// to belong to the debug files' kernel.
func (d *Decoder) addLines(r *klog.Report, res *Result) {
	if d.opts.Lines == nil || res.LogOnly {
		return
	}
	for i := range res.Frames {
		f := &res.Frames[i]
		q, ok := d.lineQuery(r, res, f)
		if ok {
			f.Lines = d.opts.Lines.Lines(q)
		}
	}
}

// lineQuery is the query for a frame the table confirmed, or false.
func (d *Decoder) lineQuery(r *klog.Report, res *Result, f *Frame) (LineQuery, bool) {
	if f.Status != StatusOK && f.Status != StatusResolved {
		return LineQuery{}, false
	}
	q := LineQuery{Module: f.Module, Return: f.Kind == klog.FrameTrace || f.Kind == klog.FrameLR}
	q.Release, q.BuildID = r.Header.Release, r.Header.BuildID
	if f.Module != "" {
		if f.Symbol == "" {
			return LineQuery{}, false
		}
		q.ModuleBuildID, q.Symbol, q.Offset = f.BuildID, f.Symbol, f.Offset
		return q, true
	}
	switch {
	case f.inTable:
		q.Addr = f.tableAddr
	case f.HasAddr && !d.opts.SystemMap:
		q.Addr = f.Addr
	case f.HasAddr && res.Slide.Known:
		q.Addr = f.Addr - res.Slide.Value
	default:
		return LineQuery{}, false
	}
	return q, true
}
