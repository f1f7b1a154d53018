// Package reportjson shapes decoded reports as the JSON objects of
// 'ksym decode --json' (schema in docs/decode.md): package decode gives
// numbers and types, and the field names, hex strings and kind names are
// decided here, once, for the command line and the server (ksym serve).
package reportjson

import (
	"strconv"

	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/srcline"
)

// Report is one decoded report.
type Report struct {
	File      string     `json:"file"`
	FirstLine int        `json:"first_line"`
	LastLine  int        `json:"last_line"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Frames    []Frame    `json:"frames"`
	Registers []Register `json:"registers,omitempty"`
	Slide     Slide      `json:"slide"`
	Arch      string     `json:"arch,omitempty"`
	Warnings  []string   `json:"warnings,omitempty"`
	Mismatch  bool       `json:"mismatch"`
	LogOnly   bool       `json:"log_only"`
	Summary   Summary    `json:"summary"`
}

// Frame is a decode.Frame: addresses as "0x..." strings, the kind as
// "trace", "pc" or "lr".
type Frame struct {
	Kind         string        `json:"kind"`
	Line         int           `json:"line"`
	Printed      string        `json:"printed"`
	Text         string        `json:"text,omitempty"`
	Address      string        `json:"address,omitempty"`
	Symbol       string        `json:"symbol,omitempty"`
	Offset       uint64        `json:"offset,omitempty"`
	Size         uint64        `json:"size,omitempty"`
	Module       string        `json:"module,omitempty"`
	ModuleBase   string        `json:"module_base,omitempty"`
	ModuleOffset uint64        `json:"module_offset,omitempty"`
	BuildID      string        `json:"build_id,omitempty"`
	Reliable     bool          `json:"reliable"`
	Context      string        `json:"context,omitempty"`
	Unwinder     string        `json:"unwinder,omitempty"`
	Source       []SourceLine  `json:"source,omitempty"`
	Trace        int           `json:"trace"`
	Status       decode.Status `json:"status"`
	Note         string        `json:"note,omitempty"`
}

// Register is a decode.Register, its value as "0x...".
type Register struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Line  int    `json:"line"`
	Text  string `json:"text"`
}

// Slide is a decode.Slide, its value as "0x..." when known.
type Slide struct {
	Known  bool   `json:"known"`
	Value  string `json:"value,omitempty"`
	Method string `json:"method,omitempty"`
	Detail string `json:"detail"`
}

// Summary is a decode.Summary.
type Summary struct {
	Kind        string   `json:"kind"`
	Title       string   `json:"title"`
	Guilty      string   `json:"guilty,omitempty"`
	GuiltyFunc  string   `json:"guilty_func,omitempty"`
	GuiltyIndex int      `json:"guilty_index"`
	Module      string   `json:"module,omitempty"`
	ModuleTaint string   `json:"module_taint,omitempty"`
	CPU         int      `json:"cpu"`
	PID         int      `json:"pid"`
	Comm        string   `json:"comm,omitempty"`
	Release     string   `json:"release,omitempty"`
	Taint       string   `json:"taint,omitempty"`
	TaintWords  []string `json:"taint_words,omitempty"`
	Uncertain   []string `json:"uncertain,omitempty"`
}

// Of shapes the decoded report res, read from lines first to last of
// file.
func Of(file string, first, last int, res *decode.Result) Report {
	out := Report{
		File: file, FirstLine: first, LastLine: last,
		Kind: string(res.Summary.Kind), Title: res.Summary.Title,
		Frames:   make([]Frame, 0, len(res.Frames)),
		Slide:    slideOf(res.Slide),
		Arch:     string(res.Arch),
		Warnings: res.Warnings,
		Mismatch: res.Mismatch,
		LogOnly:  res.LogOnly,
		Summary:  summaryOf(&res.Summary),
	}
	for i := range res.Frames {
		out.Frames = append(out.Frames, frameOf(&res.Frames[i]))
	}
	for _, r := range res.Registers {
		out.Registers = append(out.Registers, Register{Name: r.Name, Value: Hex(r.Value), Line: r.Line, Text: r.Text})
	}
	return out
}

// Hex formats v as "0x" and lower-case hex digits.
func Hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// frameOf shapes one decoded frame.
func frameOf(f *decode.Frame) Frame {
	j := Frame{
		Kind: FrameKindName(f.Kind), Line: f.Line, Printed: f.Printed, Text: f.Text,
		Symbol: f.Symbol, Offset: f.Offset, Size: f.Size, Module: f.Module,
		BuildID: f.BuildID, Reliable: f.Reliable, Context: f.Context, Unwinder: f.Source, Source: Chain(f.Lines),
		Trace: f.Trace, Status: f.Status, Note: f.Note,
	}
	if f.HasAddr {
		j.Address = Hex(f.Addr)
	}
	if f.HasModuleBase {
		j.ModuleBase, j.ModuleOffset = Hex(f.ModuleBase), f.ModuleOffset
	}
	return j
}

// FrameKindName is the name of a frame kind in the output: "trace", "pc"
// or "lr".
func FrameKindName(k klog.FrameKind) string {
	switch k {
	case klog.FramePC:
		return "pc"
	case klog.FrameLR:
		return "lr"
	}
	return "trace"
}

// slideOf shapes the KASLR slide.
func slideOf(s decode.Slide) Slide {
	j := Slide{Known: s.Known, Method: s.Method, Detail: s.Detail}
	if s.Known {
		j.Value = Hex(s.Value)
	}
	return j
}

// summaryOf shapes the summary of a report.
func summaryOf(s *decode.Summary) Summary {
	return Summary{
		Kind: string(s.Kind), Title: s.Title, Guilty: s.Guilty, GuiltyFunc: s.GuiltyFunc,
		GuiltyIndex: s.GuiltyIndex, Module: s.Module, ModuleTaint: s.ModuleTaint,
		CPU: s.CPU, PID: s.PID, Comm: s.Comm, Release: s.Release, Taint: s.Taint,
		TaintWords: s.TaintWords, Uncertain: s.Uncertain,
	}
}

// SourceLine is one frame of a source chain (decode --lines, addr --lines):
// the function, its file relative to the kernel tree, the line, and
// whether it was inlined into the next.
type SourceLine struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Inlined  bool   `json:"inlined"`
}

// Chain shapes a source chain, innermost first; nil when there is none.
func Chain(fs []srcline.Frame) []SourceLine {
	if len(fs) == 0 {
		return nil
	}
	out := make([]SourceLine, len(fs))
	for i, fr := range fs {
		out[i] = SourceLine{fr.Function, fr.TreeFile, fr.Line, fr.Inlined}
	}
	return out
}
