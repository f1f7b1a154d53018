package kmem

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/ksym-dev/ksym/machine"
)

// Source names, in the order Read reads them.
const (
	SourceVmalloc  = "vmallocinfo"
	SourceSlab     = "slabinfo"
	SourceSites    = "alloc_calls"
	SourceKmemleak = "kmemleak"
	SourceModules  = "modules"
)

// Source says whether one file could be read, and if not, why.
type Source struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Available bool   `json:"available"`
	// Reason says why the source is unavailable: not root, a kernel option
	// off, a boot parameter missing, debugfs not mounted.
	Reason string `json:"reason,omitempty"`
	// Note adds what an available source means, e.g. that kmemleak found
	// nothing at its last scan.
	Note string `json:"note,omitempty"`
}

// CacheSites is the allocation sites of one slab cache.
type CacheSites struct {
	Cache string      `json:"cache"`
	Sites []AllocSite `json:"sites"`
}

// Snapshot is what the kernel reported about its memory at one moment.
type Snapshot struct {
	Root    string           `json:"root"`
	Time    time.Time        `json:"time"`
	Sources []Source         `json:"sources"`
	Vmalloc []VmallocArea    `json:"-"`
	Slab    []SlabCache      `json:"-"`
	Sites   []CacheSites     `json:"-"`
	Leaks   []Leak           `json:"-"`
	Modules []machine.Module `json:"-"`
}

// Source returns the source with the given name.
func (s *Snapshot) Source(name string) Source {
	for _, src := range s.Sources {
		if src.Name == name {
			return src
		}
	}
	return Source{Name: name}
}

// Read takes a snapshot of every source under the root of fs. A source that
// cannot be read is recorded with the reason in Sources; a file that is read
// but cannot be parsed is an error, since an answer from it would be wrong.
func Read(fs machine.FS) (*Snapshot, error) {
	s := &Snapshot{Root: fs.Root(), Time: time.Now()}
	r := reader{fs: fs}
	var errs []error
	for _, step := range []func(*Snapshot) (Source, error){
		r.vmalloc, r.slab, r.sites, r.kmemleak, r.modules,
	} {
		src, err := step(s)
		if err != nil {
			errs = append(errs, err)
		}
		s.Sources = append(s.Sources, src)
	}
	return s, errors.Join(errs...)
}

// reader reads the sources of one FS, and the kernel's configuration once.
type reader struct {
	fs     machine.FS
	config map[string]string // nil until read; empty when unknown
}

func (r *reader) vmalloc(s *Snapshot) (Source, error) {
	src, data := r.open(SourceVmalloc, "/proc/vmallocinfo")
	if data == nil {
		if src.Reason == "" {
			src.Reason = r.missing(src.Path, "the kernel has no /proc/vmallocinfo (CONFIG_PROC_FS off, or no MMU)", "")
		}
		return src, nil
	}
	areas, err := ParseVmallocinfo(bytes.NewReader(data))
	if err != nil {
		return src, fmt.Errorf("%s: %w", src.Path, err)
	}
	s.Vmalloc, src.Available = areas, true
	return src, nil
}

func (r *reader) slab(s *Snapshot) (Source, error) {
	src, data := r.open(SourceSlab, "/proc/slabinfo")
	if data == nil {
		if src.Reason == "" {
			src.Reason = r.missing(src.Path, "the kernel has no /proc/slabinfo (SLUB without CONFIG_SLUB_DEBUG)", "CONFIG_SLUB_DEBUG")
		}
		return src, nil
	}
	caches, err := ParseSlabinfo(bytes.NewReader(data))
	if err != nil {
		return src, fmt.Errorf("%s: %w", src.Path, err)
	}
	s.Slab, src.Available = caches, true
	return src, nil
}

func (r *reader) kmemleak(s *Snapshot) (Source, error) {
	src, data := r.open(SourceKmemleak, "/sys/kernel/debug/kmemleak")
	if data == nil {
		if src.Reason == "" {
			src.Reason = r.noDebugfs()
		}
		if src.Reason == "" {
			src.Reason = r.missing(src.Path, "the kernel has no kmemleak (CONFIG_DEBUG_KMEMLEAK off)", "CONFIG_DEBUG_KMEMLEAK")
		}
		return src, nil
	}
	leaks, err := ParseKmemleak(bytes.NewReader(data))
	if err != nil {
		return src, fmt.Errorf("%s: %w", src.Path, err)
	}
	s.Leaks, src.Available = leaks, true
	if len(leaks) == 0 {
		src.Note = "no unreferenced objects at kmemleak's last scan (it scans every 10 minutes; 'echo scan > /sys/kernel/debug/kmemleak' scans now)"
	}
	return src, nil
}

func (r *reader) modules(s *Snapshot) (Source, error) {
	src := Source{Name: SourceModules, Path: r.fs.Path("/proc/modules")}
	mods, err := r.fs.Modules()
	switch {
	case err != nil && isNotExist(err):
		src.Reason = r.missing(src.Path, "the tree has no /proc", "")
	case err != nil && errors.Is(err, os.ErrPermission):
		src.Reason = src.Path + ": permission denied"
	case err != nil:
		return src, err
	case mods == nil && !exists(src.Path):
		src.Reason = r.missing(src.Path, "the kernel has no module support (CONFIG_MODULES off)", "CONFIG_MODULES")
	default:
		s.Modules, src.Available = mods, true
		if len(mods) == 0 {
			src.Note = "no module is loaded"
		}
	}
	return src, nil
}

// open reads a whole source file. On failure it returns nil data and, for
// any error but a missing file, the reason.
func (r *reader) open(name, machinePath string) (Source, []byte) {
	src := Source{Name: name, Path: r.fs.Path(machinePath)}
	data, err := readFile(src.Path)
	switch {
	case err == nil:
		if data == nil {
			data = []byte{}
		}
		return src, data
	case isNotExist(err):
	case errors.Is(err, os.ErrPermission):
		src.Reason = src.Path + " is readable by root only: run as root"
	case errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EPERM):
		src.Reason = src.Path + ": " + err.Error() + ": kmemleak is off (kmemleak=off on the command line, CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF without kmemleak=on, or it disabled itself after an error: see dmesg)"
	default:
		src.Reason = err.Error()
	}
	return src, nil
}

// missing explains a file that does not exist: why the kernel lacks it,
// confirmed by the kernel's configuration when /proc/config.gz says so; for
// a saved tree, that it may just not have been saved.
func (r *reader) missing(path, why, option string) string {
	if option != "" {
		switch v := r.option(option); v {
		case "n":
			why += "; /proc/config.gz: " + option + " is not set"
		case "":
		default:
			why += "; but /proc/config.gz has " + option + "=" + v
		}
	}
	if r.fs.Root() != "/" {
		return "no " + path + ": not saved in " + r.fs.Root() + ", or " + why
	}
	return "no " + path + ": " + why
}

// noDebugfs returns why debugfs files cannot be read, or "" when debugfs is
// mounted at /sys/kernel/debug (it has entries).
func (r *reader) noDebugfs() string {
	dir := r.fs.Path("/sys/kernel/debug")
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrPermission):
		return dir + " is readable by root only: run as root"
	case err == nil && len(entries) > 0:
		return ""
	}
	msg := "debugfs is not mounted at " + dir + " (mount -t debugfs none /sys/kernel/debug)"
	if r.option("CONFIG_DEBUG_FS") == "n" {
		msg = "no debugfs: /proc/config.gz: CONFIG_DEBUG_FS is not set"
	}
	if r.fs.Root() != "/" {
		msg = "nothing saved under " + dir + ", or " + msg
	}
	return msg
}

// option returns a kernel option's value from /proc/config.gz: "y", "m", a
// value, "n" when "is not set", or "" when unknown.
func (r *reader) option(name string) string {
	if r.config == nil {
		r.config = readConfig(r.fs.Path("/proc/config.gz"))
	}
	return r.config[name]
}

// readConfig reads the options of a gzipped kernel .config; an unreadable
// file gives an empty map.
func readConfig(path string) map[string]string {
	cfg := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return cfg
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return cfg
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "# "); ok && strings.HasSuffix(name, " is not set") {
			cfg[strings.TrimSuffix(name, " is not set")] = "n"
		} else if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "CONFIG_") {
			cfg[k] = v
		}
	}
	return cfg
}

// readFile reads a whole procfs, sysfs or debugfs file (whose reported size
// is not its length).
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
