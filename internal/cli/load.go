package cli

import (
	"fmt"
	"io"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
)

// loadedTable caches the table of one invocation.
type loadedTable struct {
	done   bool
	table  *kallsyms.Table
	source string
	err    error
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
		return a.loadLive()
	}
	data, source, err := a.readKallsyms()
	if err != nil {
		return nil, source, err
	}
	t, err := kallsyms.ParseBytes(data, kallsyms.Options{Source: source})
	if err != nil {
		return nil, source, err
	}
	return t, source, nil
}

// readKallsyms reads --kallsyms, decompressing it; "-" is this invocation's
// standard input.
func (a *app) readKallsyms() ([]byte, string, error) {
	if a.kallsymsPath != input.Stdin {
		data, err := input.ReadAll(a.kallsymsPath)
		return data, a.kallsymsPath, err
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
