package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/kcache"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/snapshot"
)

// loadedTable caches the table of one invocation.
type loadedTable struct {
	done   bool
	table  *kallsyms.Table
	source string
	err    error
	// info describes the boot the table was saved from, when it came from
	// a snapshot or an index built from one.
	info *snapshot.Info
	// fromCache is set when the live table came from the cache: answers
	// that kcache.NeedsLive flags must be checked against the live table.
	fromCache bool
	cacheKey  *kcache.Key // the key the live table was read under
}

// table loads the symbol table once: from --kallsyms when given, else the live
// kernel's through machine.FS rooted at --root. Errors have exit status 2.
func (a *app) table() (*kallsyms.Table, string, error) {
	if !a.loaded.done {
		a.loaded.done = true
		a.loaded.table, a.loaded.source, a.loaded.err = a.load()
		if a.loaded.err != nil {
			a.loaded.err = &exitError{code: ExitUsage, err: a.loaded.err}
		}
	}
	return a.loaded.table, a.loaded.source, a.loaded.err
}

func (a *app) load() (*kallsyms.Table, string, error) {
	if a.kallsymsPath == "" {
		if a.useCache && !a.noCache {
			return a.loadLiveCached()
		}
		return a.loadLive()
	}
	return a.loadPath(a.kallsymsPath)
}

// loadPath loads a saved table: "-" is this invocation's standard input; an
// index file is mapped; an uncompressed text table is parsed by
// kallsyms.Open (which maps a regular file); anything else is read,
// decompressed and parsed (a snapshot or a text table).
func (a *app) loadPath(path string) (*kallsyms.Table, string, error) {
	if path != input.Stdin {
		head := fileHead(path)
		if kallsyms.IsIndex(head) {
			x, err := kallsyms.OpenIndex(path)
			if err != nil {
				return nil, path, err
			}
			a.noteInfo(x.Meta)
			return x.Table, path, nil
		}
		if looksLikeTextTable(head) {
			t, err := kallsyms.Open(path)
			return t, path, err
		}
	}
	data, source, err := a.readInput(path)
	if err != nil {
		return nil, source, err
	}
	return a.parseInput(data, source)
}

// parseInput turns the bytes of --kallsyms into a table: an index, a
// snapshot, or a text table (kallsyms or System.map).
func (a *app) parseInput(data []byte, source string) (*kallsyms.Table, string, error) {
	switch {
	case kallsyms.IsIndex(data):
		x, err := kallsyms.LoadIndex(data, source)
		if err != nil {
			return nil, source, err
		}
		a.noteInfo(x.Meta)
		return x.Table, source, nil
	case snapshot.IsTar(data):
		s, err := snapshot.ReadTar(bytes.NewReader(data))
		if err != nil {
			return nil, source, fmt.Errorf("%s: %w", source, err)
		}
		a.loaded.info = &s.Info
		t, err := s.Table(source)
		return t, source, err
	}
	t, err := kallsyms.ParseBytes(data, kallsyms.Options{Source: source})
	if err != nil {
		return nil, source, err
	}
	return t, source, nil
}

// noteInfo keeps the snapshot description an index carries, if any.
func (a *app) noteInfo(meta []byte) {
	if info, ok := snapshot.InfoFromMeta(meta); ok {
		a.loaded.info = &info
	}
}

// isIndexFile reports whether the file at path starts with the index magic
// (such a file is mapped, not read).
func isIndexFile(path string) bool {
	return kallsyms.IsIndex(fileHead(path))
}

// fileHead returns the first bytes of the file at path (up to 32), or nil
// when it cannot be read.
func fileHead(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	head := make([]byte, 32)
	n, _ := io.ReadFull(f, head)
	return head[:n]
}

// looksLikeTextTable reports whether head starts like an uncompressed
// kallsyms or System.map line: 8 or 16 hex digits, a space, a type letter, a
// space. (Compressed files and snapshots start otherwise.)
func looksLikeTextTable(head []byte) bool {
	for _, digits := range []int{16, 8} {
		if len(head) > digits+2 && head[digits] == ' ' && head[digits+2] == ' ' && isHex(head[:digits]) {
			return true
		}
	}
	return false
}

func isHex(s []byte) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// readInput reads a file, decompressing it; "-" is this invocation's
// standard input.
func (a *app) readInput(path string) ([]byte, string, error) {
	if path != input.Stdin {
		data, err := input.ReadAll(path)
		return data, path, err
	}
	const source = "standard input"
	r, err := input.NewReader(a.stdin)
	if err != nil {
		return nil, source, fmt.Errorf("%s: %w", source, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, source, fmt.Errorf("%s: %w", source, err)
	}
	return data, source, nil
}

// tableWithAddresses loads the table and fails with the library's
// ErrAddressesHidden (which says what to do) when its addresses are all zero.
func (a *app) tableWithAddresses() (*kallsyms.Table, error) {
	t, source, err := a.table()
	if err != nil {
		return nil, err
	}
	if t.Hidden() {
		err := fmt.Errorf("%s: %w", source, kallsyms.ErrAddressesHidden)
		if a.kallsymsPath == "" {
			err = fmt.Errorf("%w; 'ksym check' tells why", err)
		}
		return nil, &exitError{code: ExitUsage, err: err}
	}
	return t, nil
}

// tableForNames loads the table for commands that need only names and types;
// when the addresses are hidden it warns once on stderr and goes on.
func (a *app) tableForNames() (*kallsyms.Table, error) {
	t, source, err := a.table()
	if err != nil {
		return nil, err
	}
	if t.Hidden() {
		fmt.Fprintf(a.stderr, "ksym: warning: %s: addresses are hidden (all zero), showing names and types only; read the table as root for addresses\n", source)
	}
	return t, nil
}

// loadLive reads the running kernel's table through machine.FS at --root.
func (a *app) loadLive() (*kallsyms.Table, string, error) {
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return nil, a.root, err
	}
	t, err := fs.Kallsyms()
	return t, fs.KallsymsPath(), err
}

// loadLiveCached answers from the cache of the live table when it is still
// valid (see package kcache), and otherwise reads the live table and
// refreshes the cache. The key is read before the table, so that a change
// racing with the read makes the cache stale rather than wrong.
func (a *app) loadLiveCached() (*kallsyms.Table, string, error) {
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return nil, a.root, err
	}
	dir, derr := kcache.Dir()
	key, kerr := kcache.CurrentKey(fs)
	if derr != nil || kerr != nil {
		return a.loadLive() // nothing to key a cache on (no boot ID): read the table
	}
	x, err := kcache.Load(dir, key)
	if err == nil {
		a.loaded.fromCache = true
		return x.Table, fs.KallsymsPath(), nil
	}
	switch {
	case errors.Is(err, kcache.ErrForeign):
		return a.loadLive() // another user's cache (sudo with the caller's HOME)
	case errors.Is(err, kcache.ErrUnsafe):
		fmt.Fprintf(a.stderr, "ksym: warning: not using the cache: %v\n", err)
		return a.loadLive()
	}
	t, source, err := a.loadLive()
	if err == nil {
		a.loaded.cacheKey = &key
		a.storeCache(dir, t, key)
	}
	return t, source, err
}

// storeCache writes the cache, warning when it cannot; it stays silent
// when the cache would land in another user's directory (sudo with the
// caller's HOME), where not caching is the right thing.
func (a *app) storeCache(dir string, t *kallsyms.Table, key kcache.Key) {
	if err := kcache.Store(dir, t, key); err != nil && !errors.Is(err, kcache.ErrForeign) {
		fmt.Fprintf(a.stderr, "ksym: warning: cannot write the cache (%v); --no-cache skips it\n", err)
	}
}

// recheckLive is called when an answer from the cached table needs the
// live table (kcache.NeedsLive). It reads the live table, refreshes the
// cache, and returns the live table; it returns nil when the table did not
// come from the cache or cannot be read (the cached answer then stands).
func (a *app) recheckLive() *kallsyms.Table {
	if !a.loaded.fromCache {
		return nil
	}
	a.loaded.fromCache = false
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return nil
	}
	key, kerr := kcache.CurrentKey(fs)
	t, source, err := a.loadLive()
	if err != nil {
		fmt.Fprintf(a.stderr, "ksym: warning: cannot re-check against the live table: %v\n", err)
		return nil
	}
	if dir, derr := kcache.Dir(); derr == nil && kerr == nil {
		a.storeCache(dir, t, key)
	}
	a.loaded.table, a.loaded.source = t, source
	return t
}

// needsLive reports whether an answer from the current table must be
// re-checked against the live one.
func (a *app) needsLive(t *kallsyms.Table, found bool, index int) bool {
	return a.loaded.fromCache && kcache.NeedsLive(t, found, index)
}
