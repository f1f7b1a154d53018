package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ksym-dev/ksym/debuginfod"
	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/srcline"
)

// identity is what is known of the kernel the table comes from, to find
// and check its debug files.
type identity struct {
	release   string
	buildID   string
	moduleIDs map[string]string
	live      bool // the running machine: its distribution layouts apply
}

// lineFinder answers ksym addr --lines through a srcline.Sources and
// reports once per kernel or module why it has no lines.
type lineFinder struct {
	src    *srcline.Sources
	id     identity
	warned map[string]bool
	stderr io.Writer
	// coreAsked: the vmlinux's debug file was looked for; the kernel's
	// identity can no longer change.
	coreAsked bool
}

// newLineFinder prepares --lines for table tab.
func (a *app) newLineFinder(paths []string, tab *kallsyms.Table, id identity) *lineFinder {
	f := &lineFinder{warned: map[string]bool{}, stderr: a.stderr, id: id}
	f.src = &srcline.Sources{Table: tab, Release: f.id.release, BuildID: f.id.buildID, ModuleBuildID: f.moduleBuildID}
	f.src.Paths = append(f.src.Paths, paths...)
	if f.id.live {
		f.src.Paths = append(f.src.Paths, srcline.SystemRoots...)
	}
	if c, err := debuginfod.FromEnv(); err == nil {
		if out, ok := a.stderr.(*os.File); ok && isTerminal(out) {
			c.Progress = progressPrinter(a.stderr)
		}
		f.src.Fetch = func(id string) (string, error) { return c.Debuginfo(context.Background(), id) }
	}
	return f
}

// newDecodeLineFinder prepares decode --lines for table t. A System.map
// says nothing of its kernel, and neither does the running machine then:
// the kernel is what the log prints (LineQuery), its debug file looked for
// in the --debuginfo paths and the distribution's layouts for that release.
func (a *app) newDecodeLineFinder(o decodeOpts, t *kallsyms.Table) *lineFinder {
	if o.systemMap == "" {
		return a.newLineFinder(o.debuginfo, t, a.identity())
	}
	f := a.newLineFinder(o.debuginfo, t, identity{})
	f.src.Paths = append(f.src.Paths, srcline.SystemRoots...)
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

// source returns the source chain of a resolved address, or nil after a
// warning (once per kernel or module) when there is none.
func (f *lineFinder) source(r addrResult, ret bool, offset uint64) []srcline.Frame {
	return f.chain(decode.LineQuery{Module: r.Module, Symbol: r.Symbol, Offset: offset, Addr: r.addr, Return: ret}, r.Text)
}

// Lines answers ksym decode --lines: decode.LineFinder. A build ID the log
// printed stands for a kernel or module whose own is not known otherwise,
// before its debug file is first looked for.
func (f *lineFinder) Lines(q decode.LineQuery) []srcline.Frame {
	if q.Module != "" && q.ModuleBuildID != "" && f.id.moduleIDs[q.Module] == "" {
		if f.id.moduleIDs == nil {
			f.id.moduleIDs = map[string]string{}
		}
		f.id.moduleIDs[q.Module] = q.ModuleBuildID
	}
	if q.Module == "" && !f.coreAsked {
		f.src.Release = cmp.Or(f.src.Release, q.Release)
		f.src.BuildID = cmp.Or(f.src.BuildID, q.BuildID)
	}
	text := q.Symbol
	if q.Module == "" {
		text = hex0x(q.Addr)
	}
	return f.chain(q, text)
}

// chain looks a frame up, warning once per kernel or module without debug
// information and once per frame that has none.
func (f *lineFinder) chain(q decode.LineQuery, text string) []srcline.Frame {
	var fs []srcline.Frame
	var err error
	if q.Module != "" {
		fs, err = f.src.LookupModule(q.Module, q.Symbol, q.Offset, q.Return)
	} else {
		f.coreAsked = true
		fs, err = f.src.LookupCore(q.Addr, q.Return)
	}
	var oe *srcline.ObjectError
	switch {
	case errors.As(err, &oe):
		f.warn(q.Module, oe.Err)
	case err != nil && !errors.Is(err, srcline.ErrNoLine):
		fmt.Fprintf(f.stderr, "ksym: %s: no source line: %v\n", text, err)
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
	hint := " (give its " + file + " with DWARF, or a directory holding it, with --debuginfo, or set DEBUGINFOD_URLS)"
	if errors.Is(err, srcline.ErrMismatch) {
		hint = ""
	}
	fmt.Fprintf(f.stderr, "ksym: no source lines for %s: %v%s\n", what, err, hint)
}

// close releases the debug files.
func (f *lineFinder) close() { f.src.Close() }

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
