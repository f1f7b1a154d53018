package cli

import (
	"errors"
	"fmt"

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

// load chooses where the table comes from: --kallsyms (input.OpenTable),
// else the cache of the live table when the command allows it, else the
// live table.
func (a *app) load() (*kallsyms.Table, string, error) {
	if a.kallsymsPath == "" {
		if a.useCache && !a.noCache {
			return a.loadLiveCached()
		}
		return a.loadLive()
	}
	tab, err := a.openTable(a.kallsymsPath)
	if err != nil {
		return nil, a.kallsymsPath, fileAdvice(err)
	}
	a.loaded.info = tab.Info
	return tab.Table, tab.Source, nil
}

// openTable opens a saved table with input.OpenTable; "-" is this
// invocation's standard input. A mapped index is never closed: it lives as
// long as the invocation.
func (a *app) openTable(path string) (*input.Table, error) {
	if path == input.Stdin {
		return input.ReadTable(a.stdin, "standard input")
	}
	return input.OpenTable(path)
}

// tableWithAddresses loads the table and fails, saying what to do, when its
// addresses are all zero (the error wraps kallsyms.ErrAddressesHidden).
func (a *app) tableWithAddresses() (*kallsyms.Table, error) {
	t, source, err := a.table()
	if err != nil {
		return nil, err
	}
	if t.Hidden() {
		err := hiddenError(source)
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
	return t, fs.KallsymsPath(), machineAdvice(err)
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
		fmt.Fprintf(a.stderr, "ksym: warning: not using the cache: %v\n", cacheAdvice(err))
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
