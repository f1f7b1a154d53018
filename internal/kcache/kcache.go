// Package kcache keeps an index of the live kernel's symbol table in the
// user's cache directory, so that a command answers in a few milliseconds
// instead of reading /proc/kallsyms (which the kernel regenerates, at 40 to
// 100 ms, on every read).
//
// The index is valid while the Key it was written under still describes the
// machine: the same boot, the same loaded modules (names, sizes, states,
// addresses, taints, build IDs and sysfs identities), the same kptr_restrict
// and perf_event_paranoid, the same user and machine root. BPF programs and
// ftrace/kprobe trampolines come and go without any of that changing, so a
// cached table can never be trusted for them: callers re-check against the
// live table every answer that is a miss or falls in a pseudo-module
// (NeedsLive). docs/snapshots.md states the rules.
//
// A cache is private to the user that wrote it: the directory is created with
// mode 0700; a directory of another user is not this user's cache
// (ErrForeign), and a file owned by another user, anything writable by
// others, or a symbolic link is never read (ErrUnsafe).
package kcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ksym-dev/ksym/internal/atomicfile"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
)

// FileName is the cache file's name inside the cache directory.
const FileName = "live.ksymidx"

// kind marks a cache's metadata.
const kind = "ksym-live-cache"

// Errors of Load; every other error is an I/O error.
var (
	// ErrMiss means there is no cache file.
	ErrMiss = errors.New("no cached table")
	// ErrStale means the cache describes another boot, module set or
	// setting; it must be rebuilt.
	ErrStale = errors.New("cached table is stale")
	// ErrUnsafe means the cache directory or file could have been written
	// by someone else; it is not used.
	ErrUnsafe = errors.New("cache is not private to this user")
	// ErrForeign means the cache directory belongs to another user (root
	// under sudo with the caller's HOME): not this user's cache, not used,
	// and nothing to warn about.
	ErrForeign = errors.New("cache directory belongs to another user")
)

// Key is what a cached table depends on.
type Key struct {
	Kind              string `json:"kind"`
	Root              string `json:"root"`
	BootID            string `json:"boot_id"`
	Release           string `json:"release"`
	Modules           string `json:"modules"` // SHA-256 of the module fingerprint
	KptrRestrict      int    `json:"kptr_restrict"`
	PerfEventParanoid int    `json:"perf_event_paranoid"`
	UID               int    `json:"uid"`
}

// CurrentKey reads the Key of the machine at fsys now. It fails when the boot
// ID cannot be read: without it a cache could outlive a reboot.
func CurrentKey(fsys machine.FS) (Key, error) {
	k := Key{Kind: kind, Root: fsys.Root(), UID: os.Geteuid()}
	var err error
	if k.BootID, err = fsys.BootID(); err != nil {
		return Key{}, err
	}
	if k.Release, err = fsys.Release(); err != nil {
		return Key{}, err
	}
	if k.KptrRestrict, err = fsys.KptrRestrict(); err != nil {
		return Key{}, err
	}
	if k.PerfEventParanoid, err = fsys.PerfEventParanoid(); err != nil {
		return Key{}, err
	}
	if k.Modules, err = modulesFingerprint(fsys); err != nil {
		return Key{}, err
	}
	return k, nil
}

// modulesFingerprint hashes, for every loaded module, what changes when it
// is loaded, unloaded or reloaded: its /proc/modules line without the
// reference count and users (which change while it stays put), its build ID
// (a rebuilt module reloaded at the same address with the same page-rounded
// size), and the inode of /sys/module/<name> (sysfs numbers every new
// directory afresh, so a reload shows even without a build ID).
func modulesFingerprint(fsys machine.FS) (string, error) {
	text, err := fsys.ModulesText()
	if err != nil {
		return "", err
	}
	mods, err := machine.ParseModules(bytes.NewReader(text))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range mods {
		id, _ := fsys.ModuleBuildID(m.Name) // none without CONFIG_BUILD_ID; the inode still tells
		var ino uint64
		if fi, err := os.Stat(fsys.Path("/sys/module/" + m.Name)); err == nil {
			_, ino, _ = ownerOf(fi)
		}
		fmt.Fprintf(h, "%s %d %s %x %s %s %d\n", m.Name, m.Size, m.State, m.Addr, m.Taints, id, ino)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Dir returns the default cache directory: $XDG_CACHE_HOME/ksym, else
// $HOME/.cache/ksym.
func Dir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "ksym"), nil
}

// Load returns the cached table in dir if it was written under key.
func Load(dir string, key Key) (*kallsyms.Index, error) {
	path := filepath.Join(dir, FileName)
	if err := checkPrivate(dir, true); err != nil {
		return nil, err
	}
	if err := checkPrivate(path, false); err != nil {
		return nil, err
	}
	x, err := openIndex(path)
	if err != nil {
		if errors.Is(err, kallsyms.ErrBadIndex) {
			return nil, fmt.Errorf("%w: %v", ErrStale, err)
		}
		return nil, err
	}
	var got Key
	if err := json.Unmarshal(x.Meta, &got); err != nil || got != key {
		return nil, fmt.Errorf("%s: %w", path, ErrStale)
	}
	return x, nil
}

// checkPrivate checks that path (a directory if dir) is this user's own and
// not writable by others. A missing path is ErrMiss.
func checkPrivate(path string, dir bool) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, ErrMiss)
	}
	if err != nil {
		return err
	}
	uid, _, ok := ownerOf(fi)
	switch {
	case !ok:
		return fmt.Errorf("%s: %w: cannot tell its owner", path, ErrUnsafe)
	case fi.IsDir() != dir || !fi.IsDir() && !fi.Mode().IsRegular():
		return fmt.Errorf("%s: %w: not a plain %s", path, ErrUnsafe, map[bool]string{true: "directory", false: "file"}[dir])
	case uid != os.Geteuid() && dir:
		return fmt.Errorf("%s: %w: owned by uid %d, this is uid %d", path, ErrForeign, uid, os.Geteuid())
	case uid != os.Geteuid():
		return fmt.Errorf("%s: %w: owned by uid %d, this is uid %d", path, ErrUnsafe, uid, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s: %w: writable by others (mode %v)", path, ErrUnsafe, fi.Mode().Perm())
	}
	return nil
}

// Store writes t to the cache in dir under key, creating dir (mode 0700) if
// needed. A table with hidden addresses is not stored: it answers no
// address, and the next reader may see more.
func Store(dir string, t *kallsyms.Table, key Key) error {
	if t.Hidden() {
		return nil
	}
	if err := checkOwnParent(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := checkPrivate(dir, true); err != nil {
		return err
	}
	meta, err := json.Marshal(key)
	if err != nil {
		return err
	}
	return writeIndex(filepath.Join(dir, FileName), t, meta)
}

// writeIndex writes t's index with meta to path, mode 0600, atomically: a
// process that has the old cache file mapped keeps a consistent view.
func writeIndex(path string, t *kallsyms.Table, meta []byte) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := t.WriteIndex(w, meta)
		return err
	})
}

// checkOwnParent refuses to create the cache directory (and any missing
// parent) inside another user's directory (root under sudo with the caller's HOME): the caller
// could then never use it.
func checkOwnParent(dir string) error {
	parent := filepath.Dir(dir)
	fi, err := os.Stat(parent)
	for errors.Is(err, fs.ErrNotExist) && filepath.Dir(parent) != parent { // the nearest that exists
		parent = filepath.Dir(parent)
		fi, err = os.Stat(parent)
	}
	if err != nil {
		return err
	}
	if uid, _, ok := ownerOf(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("%s: %w: owned by uid %d, this is uid %d", parent, ErrForeign, uid, os.Geteuid())
	}
	return nil
}

// Clear removes the cache file in dir; it reports whether there was one.
func Clear(dir string) (bool, error) {
	err := os.Remove(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// NeedsLive reports whether an answer from a cached table must be checked
// against the live one: a lookup that found nothing (the address or name may
// belong to a BPF program or trampoline created since), or one that found a
// symbol of a pseudo-module (BPF programs, ftrace and kprobe trampolines
// come and go without any change to the cache's key).
func NeedsLive(t *kallsyms.Table, found bool, index int) bool {
	if !found {
		return true
	}
	mod := t.ModuleName(index)
	return mod == "bpf" || mod == "__builtin__ftrace" || mod == "__builtin__kprobes"
}
