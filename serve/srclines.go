package serve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ksym-dev/ksym/srcline"
	"github.com/ksym-dev/ksym/store"
)

// lineSources keeps the debug files (package srcline) of the kernels and
// modules of the snapshots whose symbol pages were asked for last, so that
// a page does not reopen a vmlinux: one srcline.Sources per snapshot and
// kernel or module. One without a debug file is not kept (one may be
// uploaded later). srcline.Sources is not safe for concurrent use: one
// lock serves them all (a symbol page is rare next to a decode).
type lineSources struct {
	mu    sync.Mutex
	order []string // keys, least recently used first
	byKey map[string]*srcline.Sources
}

// maxLineSources bounds how many debug files stay open.
const maxLineSources = 16

// symbolSource is a symbol page's source line: the source chain of the
// symbol's first instruction, or why there is none.
type symbolSource struct {
	Frames []srcline.Frame
	None   string
}

// symbolSource finds the source line of symbol i of the snapshot's table
// in the debug files of its kernel or module: the --debuginfo directory
// (by build ID, module name or the distribution layouts), then the debug
// files uploaded to the store, by build ID. A debug file is used only
// when srcline accepts it for the snapshot's table (its build ID, or its
// symbols placed as the table's).
func (s *Server) symbolSource(l *loaded, i int) symbolSource {
	sym := l.table.Symbol(i)
	s.lines.mu.Lock()
	defer s.lines.mu.Unlock()
	src := s.lines.get(s, l, sym.Module)
	var fs []srcline.Frame
	var err error
	if sym.Module != "" {
		fs, err = src.LookupModule(sym.Module, sym.Name, 0, false)
	} else {
		fs, err = src.LookupCore(sym.Addr, false)
	}
	var oe *srcline.ObjectError
	if errors.As(err, &oe) {
		s.lines.drop(l.meta.ID, sym.Module)
	}
	switch {
	case err == nil && len(fs) > 0:
		return symbolSource{Frames: fs}
	case errors.As(err, &oe) && errors.Is(err, srcline.ErrNotFound):
		what := "the kernel's vmlinux"
		if sym.Module != "" {
			what = "module " + sym.Module + "'s .ko"
		}
		return symbolSource{None: "none: no debug file of " + what + " with DWARF on this server (upload it: POST /api/v1/debuginfo, or start with --debuginfo DIR)"}
	case err != nil && !errors.Is(err, srcline.ErrNoLine):
		return symbolSource{None: "none: " + err.Error()}
	}
	return symbolSource{None: "none: the debug file has no line for it"}
}

// key names the sources of a snapshot's kernel ("") or module.
func lineKey(id, module string) string { return id + "/" + module }

// get returns the sources of l's snapshot for module ("" for the kernel),
// made on first use.
func (c *lineSources) get(s *Server, l *loaded, module string) *srcline.Sources {
	key := lineKey(l.meta.ID, module)
	if src := c.byKey[key]; src != nil {
		c.touch(key)
		return src
	}
	if c.byKey == nil {
		c.byKey = map[string]*srcline.Sources{}
	}
	if len(c.order) >= maxLineSources {
		c.byKey[c.order[0]].Close()
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	src := &srcline.Sources{Table: l.table, Release: l.info.Release, BuildID: l.info.BuildID,
		ModuleBuildID: func(m string) string { return l.info.ModuleBuildIDs[m] },
		Fetch:         s.storedDebugPath}
	if s.cfg.DebugInfoDir != "" {
		src.Paths = []string{s.cfg.DebugInfoDir}
	}
	c.byKey[key] = src
	c.order = append(c.order, key)
	return src
}

// drop forgets the sources of a snapshot's kernel or module.
func (c *lineSources) drop(id, module string) {
	key := lineKey(id, module)
	if src := c.byKey[key]; src != nil {
		src.Close()
		delete(c.byKey, key)
		c.order = slices.DeleteFunc(c.order, func(k string) bool { return k == key })
	}
}

func (c *lineSources) touch(key string) {
	c.order = append(slices.DeleteFunc(c.order, func(k string) bool { return k == key }), key)
}

// storedDebugPath is the path of the debug file of a build ID uploaded to
// the store, when the store keeps it as a local file (store/local does):
// srcline maps the file it reads. An object store's is not read here.
func (s *Server) storedDebugPath(buildID string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if store.CheckBuildID(buildID) != nil {
		return "", fmt.Errorf("build ID %q: %w", buildID, store.ErrInvalidID)
	}
	rc, _, err := s.st.OpenDebug(ctx, buildID, store.DebugInfo)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	if f, ok := rc.(*os.File); ok {
		return f.Name(), nil
	}
	return "", errors.New("the store's debug files are not local files: source lines read local files only")
}
