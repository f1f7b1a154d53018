package kmem

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
)

// sites reads the allocation sites of every cache with store_user on:
// /sys/kernel/slab/<cache>/alloc_calls before Linux 5.14, and
// /sys/kernel/debug/slab/<cache>/alloc_traces since (the file moved to
// debugfs). Caches are the directories of /sys/kernel/slab; the symbolic
// links there are other names of merged caches and are skipped.
func (r *reader) sites(s *Snapshot) (Source, error) {
	slabDir := r.fs.Path("/sys/kernel/slab")
	src := Source{Name: SourceSites, Path: slabDir + "/*/alloc_calls"}
	entries, err := os.ReadDir(slabDir)
	if err != nil {
		if isNotExist(err) {
			src.Reason = r.missing(slabDir, "the slab allocator has no sysfs (not SLUB, or CONFIG_SYSFS off)", "CONFIG_SLUB")
		} else {
			src.Reason = err.Error()
		}
		return src, nil
	}
	var on []string
	debugBuilt, denied := false, false
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		v, err := readFile(slabDir + "/" + e.Name() + "/store_user")
		if err != nil {
			denied = denied || errors.Is(err, os.ErrPermission)
			continue
		}
		debugBuilt = true
		if strings.TrimSpace(string(v)) == "1" {
			on = append(on, e.Name())
		}
	}
	switch {
	case !debugBuilt && denied:
		src.Reason = slabDir + "/*/store_user is readable by root only: run as root"
		return src, nil
	case !debugBuilt:
		src.Reason = r.missing(slabDir+"/*/store_user", "SLUB debugging is not built in (CONFIG_SLUB_DEBUG off)", "CONFIG_SLUB_DEBUG")
		return src, nil
	case len(on) == 0:
		src.Reason = "store_user is off in every cache: boot with slub_debug=U (all caches) or slub_debug=U,CACHE to record allocation sites" + r.cmdlineSlubDebug()
		return src, nil
	}
	var missing []string
	for _, c := range on {
		sites, found, err := r.cacheSites(c)
		if err != nil {
			return src, err
		}
		if !found {
			missing = append(missing, c)
			continue
		}
		s.Sites = append(s.Sites, CacheSites{Cache: c, Sites: sites})
	}
	src.Available = len(s.Sites) > 0
	if len(missing) > 0 {
		why := fmt.Sprintf("store_user is on in %d caches but neither alloc_calls nor /sys/kernel/debug/slab/CACHE/alloc_traces could be read for %d of them", len(on), len(missing))
		if d := r.noDebugfs(); d != "" {
			why += ": " + d + " (since Linux 5.14 the sites are in debugfs)"
		}
		if src.Available {
			src.Note = why
		} else {
			src.Reason = why
		}
	}
	return src, nil
}

// cacheSites reads one cache's allocation sites; found is false when
// neither file exists or can be read.
func (r *reader) cacheSites(cache string) (sites []AllocSite, found bool, err error) {
	for _, p := range []string{
		"/sys/kernel/slab/" + cache + "/alloc_calls",
		"/sys/kernel/debug/slab/" + cache + "/alloc_traces",
	} {
		path := r.fs.Path(p)
		data, rerr := readFile(path)
		if rerr != nil {
			continue
		}
		sites, err = ParseAllocCalls(bytes.NewReader(data))
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", path, err)
		}
		return sites, true, nil
	}
	return nil, false, nil
}

// cmdlineSlubDebug says what slub_debug= the kernel was booted with, if any.
func (r *reader) cmdlineSlubDebug() string {
	data, err := readFile(r.fs.Path("/proc/cmdline"))
	if err != nil {
		return ""
	}
	for _, w := range strings.Fields(string(data)) {
		if strings.HasPrefix(w, "slub_debug") || strings.HasPrefix(w, "slab_debug") {
			return " (the command line has " + w + ", without U for any cache)"
		}
	}
	return " (the command line has no slub_debug=)"
}
