package serve

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ksym-dev/ksym/internal/elfnote"

	"github.com/ksym-dev/ksym/store"
)

// debugDir is a local directory of debug files (--debuginfo DIR), looked
// up by build ID: first DIR/.build-id/xx/rest.debug (debuginfo) and
// DIR/.build-id/xx/rest (executable), the layout distributions install,
// then the ELF files found under DIR when the server started, by their
// NT_GNU_BUILD_ID note.
type debugDir struct {
	root string
	// byID maps build ID and kind to a file's path.
	byID map[string]string
}

// maxScan bounds how many files are examined in a debug directory.
const maxScan = 200000

// scanDebugDir reads the build IDs of the ELF files under root.
func scanDebugDir(root string) (*debugDir, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("--debuginfo: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("--debuginfo %s: not a directory", root)
	}
	d := &debugDir{root: root, byID: map[string]string{}}
	n := 0
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !e.Type().IsRegular() {
			return nil
		}
		if n++; n > maxScan {
			return fs.SkipAll
		}
		f, err := elf.Open(path)
		if err != nil {
			return nil
		}
		id, dwarf := elfBuildID(f)
		f.Close()
		if id == "" {
			return nil
		}
		if dwarf {
			d.byID[id+"/"+store.DebugInfo] = path
		}
		if _, ok := d.byID[id+"/"+store.Executable]; !ok || !dwarf {
			d.byID[id+"/"+store.Executable] = path
		}
		return nil
	})
	return d, err
}

// find returns the path of a debug file, "" when there is none.
func (d *debugDir) find(id, kind string) string {
	rel := filepath.Join(".build-id", id[:2], id[2:])
	if kind == store.DebugInfo {
		rel += ".debug"
	}
	p := filepath.Join(d.root, rel)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p
	}
	return d.byID[id+"/"+kind]
}

// elfBuildID returns the GNU build ID of an ELF file in hex ("" when it
// has none) and whether it has DWARF debug info.
func elfBuildID(f *elf.File) (string, bool) {
	dwarf := f.Section(".debug_info") != nil && f.Section(".debug_info").Type != elf.SHT_NOBITS
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE || s.Size > 1<<20 {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		if id := elfnote.BuildID(data, f.ByteOrder); id != "" {
			return id, dwarf
		}
	}
	return "", dwarf
}

// debuginfod is GET /buildid/{id}/{kind}: the debuginfod protocol, from
// the store, then the --debuginfo directory.
func (s *Server) debuginfod(w http.ResponseWriter, r *http.Request) {
	id, kind := r.PathValue("id"), r.PathValue("kind")
	if err := store.CheckBuildID(id); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := store.CheckDebugKind(kind); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	rc, size, err := s.st.OpenDebug(r.Context(), id, kind)
	if err == nil {
		defer rc.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		io.Copy(w, rc)
		return
	}
	if !errors.Is(err, store.ErrNotFound) {
		s.met.storeErrors.WithLabelValues("get_debug").Inc()
		http.Error(w, "the store is unavailable: retry later", http.StatusServiceUnavailable)
		return
	}
	if s.debug != nil {
		if p := s.debug.find(id, kind); p != "" {
			f, err := os.Open(p)
			if err == nil {
				defer f.Close()
				w.Header().Set("Content-Type", "application/octet-stream")
				http.ServeContent(w, r, "", time.Time{}, f)
				return
			}
		}
	}
	http.Error(w, kind+" of build ID "+id+" not found", http.StatusNotFound)
}
