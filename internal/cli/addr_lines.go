package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ksym-dev/ksym/debuginfod"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/srcline"
)

// sourceFrame is one frame of an answer's source chain in --json.
type sourceFrame struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Inlined  bool   `json:"inlined"`
}

// identity is what is known of the kernel the table comes from, to find
// and check its debug files.
type identity struct {
	release   string
	buildID   string
	moduleIDs map[string]string
	live      bool // the running machine: its distribution layouts apply
}

// debugFile is a debug file found for the kernel or a module, or why none
// was.
type debugFile struct {
	s     *srcline.Symbolizer
	slide uint64 // the kernel's KASLR offset
	err   error
}

// lineFinder finds, checks and keeps the debug files of ksym addr --lines.
type lineFinder struct {
	paths  []string // --debuginfo, then the system's layouts when live
	id     identity
	tab    *kallsyms.Table
	files  map[string]*debugFile // by module name, "" for vmlinux
	warned map[string]bool
	stderr io.Writer
	fetch  *debuginfod.Client
}

// newLineFinder prepares --lines for table tab.
func (a *app) newLineFinder(paths []string, tab *kallsyms.Table) *lineFinder {
	f := &lineFinder{tab: tab, files: map[string]*debugFile{}, warned: map[string]bool{}, stderr: a.stderr}
	f.id = a.identity()
	f.paths = append(f.paths, paths...)
	if f.id.live {
		f.paths = append(f.paths, srcline.SystemRoots...)
	}
	if c, err := debuginfod.FromEnv(); err == nil {
		if f, ok := a.stderr.(*os.File); ok && isTerminal(f) {
			c.Progress = progressPrinter(a.stderr)
		}
		f.fetch = c
	}
	return f
}

// identity returns what the table's source says of its kernel: a
// snapshot's notes, or the live machine's.
func (a *app) identity() identity {
	if info := a.loaded.info; info != nil {
		return identity{release: info.Release, buildID: info.BuildID, moduleIDs: info.ModuleBuildIDs}
	}
	if a.kallsymsPath != "" {
		return identity{} // a plain table says nothing of its kernel
	}
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return identity{}
	}
	id := identity{live: a.root == "" || a.root == "/", moduleIDs: map[string]string{}}
	id.release, _ = fs.Release()
	id.buildID, _ = fs.BuildID()
	return id
}

// moduleBuildID returns the build ID known for module.
func (f *lineFinder) moduleBuildID(module string) string {
	if id := f.id.moduleIDs[module]; id != "" {
		return id
	}
	if f.id.live {
		if id, err := machine.Default().ModuleBuildID(module); err == nil {
			return id
		}
	}
	return ""
}

// file returns the checked debug file of module ("" for vmlinux).
func (f *lineFinder) file(module string) *debugFile {
	if d := f.files[module]; d != nil {
		return d
	}
	d := &debugFile{}
	f.files[module] = d
	t := srcline.Target{Module: module, Release: f.id.release, BuildID: f.id.buildID}
	if module != "" {
		t.BuildID = f.moduleBuildID(module)
	}
	check := func(s *srcline.Symbolizer) error {
		slide, err := s.MatchKallsyms(f.tab, module)
		d.slide = slide
		return err
	}
	d.s, d.err = srcline.Find(f.paths, t, check)
	if d.err != nil && errors.Is(d.err, srcline.ErrNotFound) && f.fetch != nil && t.BuildID != "" {
		d.s, d.err = f.download(t, check)
	}
	if d.err == nil && t.BuildID != "" {
		// Matched by build ID: the KASLR offset still comes from the table.
		if err := check(d.s); err != nil {
			d.s.Close()
			d.s, d.err = nil, err
		}
	}
	return d
}

// download fetches the debug file of t from the debuginfod servers.
func (f *lineFinder) download(t srcline.Target, check func(*srcline.Symbolizer) error) (*srcline.Symbolizer, error) {
	p, err := f.fetch.Debuginfo(context.Background(), t.BuildID)
	if err != nil {
		return nil, fmt.Errorf("%s: debuginfod: %w", t, err)
	}
	return srcline.Find([]string{p}, t, check)
}

// source returns the source chain of a resolved address, or nil after a
// warning (once per kernel or module) when there is none.
func (f *lineFinder) source(r addrResult, ret bool, offset uint64) []srcline.Frame {
	d := f.file(r.Module)
	if d.err != nil {
		f.warn(r.Module, d.err)
		return nil
	}
	var fs []srcline.Frame
	var err error
	if r.Module != "" {
		fs, err = d.s.LookupSymbol(r.Symbol, offset, ret)
	} else {
		fs, err = d.s.Lookup(r.addr-d.slide, ret)
	}
	if err != nil {
		if !errors.Is(err, srcline.ErrNoLine) {
			fmt.Fprintf(f.stderr, "ksym: %s: no source line: %v\n", r.Text, err)
		}
		return nil
	}
	return fs
}

// warn reports once why a kernel or module has no source lines.
func (f *lineFinder) warn(module string, err error) {
	if f.warned[module] {
		return
	}
	f.warned[module] = true
	what, file := "the kernel", "vmlinux"
	if module != "" {
		what, file = "module "+module, ".ko"
	}
	hint := "give its " + file + " with DWARF, or a directory holding it, with --debuginfo, or set DEBUGINFOD_URLS"
	if errors.Is(err, srcline.ErrMismatch) {
		hint = "it is not the debug file of this kernel build"
	}
	fmt.Fprintf(f.stderr, "ksym: no source lines for %s: %v (%s)\n", what, err, hint)
}

// close releases the debug files.
func (f *lineFinder) close() {
	for _, d := range f.files {
		if d.s != nil {
			d.s.Close()
		}
	}
}

// writeChain prints a source chain under its answer, innermost first, as
// syzkaller prints one: inlined functions marked [inline], the real
// function last.
func writeChain(w io.Writer, fs []srcline.Frame) {
	for _, fr := range fs {
		name := fr.Function
		if name == "" {
			name = "??"
		}
		fmt.Fprintf(w, "  %s %s:%d", name, fr.TreeFile, fr.Line)
		if fr.Inlined {
			io.WriteString(w, " [inline]")
		}
		io.WriteString(w, "\n")
	}
}

// jsonChain is the "source" field of an answer.
func jsonChain(fs []srcline.Frame) []sourceFrame {
	out := make([]sourceFrame, len(fs))
	for i, fr := range fs {
		out[i] = sourceFrame{fr.Function, fr.TreeFile, fr.Line, fr.Inlined}
	}
	return out
}

// progressPrinter prints a download's progress on one terminal line.
func progressPrinter(w io.Writer) func(url string, done, total int64) {
	last := int64(-1)
	return func(url string, done, total int64) {
		const mb = 1 << 20
		if done/mb == last && done != total {
			return
		}
		last = done / mb
		if total > 0 {
			fmt.Fprintf(w, "\rksym: downloading %s: %d of %d MB", url, done/mb, total/mb)
			if done == total {
				fmt.Fprintln(w)
			}
			return
		}
		fmt.Fprintf(w, "\rksym: downloading %s: %d MB", url, done/mb)
	}
}
