package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ksym-dev/ksym/internal/kcache"
	"github.com/ksym-dev/ksym/machine"
	"github.com/spf13/cobra"
)

const cacheLong = `ksym addr, lookup and info on the live kernel keep an index of the table in
$XDG_CACHE_HOME/ksym (else ~/.cache/ksym; mode 0700, private to the user) and
answer from it while it is valid: same boot ID, kernel release, loaded modules
(names, sizes, states, addresses, taints, build IDs, sysfs identities),
kptr_restrict, perf_event_paranoid and user. BPF programs and trampolines come
and go without changing any of that, so an address or name the cache does not
find, or finds in [bpf], [__builtin__ftrace] or [__builtin__kprobes], is
always checked against the live table. --no-cache reads the live table.`

func (a *app) newCacheCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "cache",
		Short: "Show or clear the cache of the live kernel's table",
		Long:  cacheLong,
		Args:  argsRange(0, 0, "a subcommand: status or clear"),
		RunE:  func(c *cobra.Command, args []string) error { return c.Help() },
	}
	c.AddCommand(
		&cobra.Command{
			Use:   "status",
			Short: "Where the cache is and whether it is valid for this boot",
			Args:  argsRange(0, 0, "no arguments"),
			RunE:  func(c *cobra.Command, args []string) error { return a.runCacheStatus() },
		},
		&cobra.Command{
			Use:   "clear",
			Short: "Remove the cache",
			Args:  argsRange(0, 0, "no arguments"),
			RunE:  func(c *cobra.Command, args []string) error { return a.runCacheClear() },
		},
	)
	return c
}

// cacheStatus is the JSON answer of cache status.
type cacheStatus struct {
	File   string `json:"file"`
	State  string `json:"state"` // valid, stale, missing, foreign, unsafe, unkeyed (no boot ID), error
	Detail string `json:"detail,omitempty"`
}

func (a *app) runCacheStatus() error {
	dir, err := kcache.Dir()
	if err != nil {
		return usageErrorf("no cache directory: %v", err)
	}
	st := cacheStatus{File: filepath.Join(dir, kcache.FileName)}
	st.State, st.Detail = a.cacheState(dir)
	if a.json {
		return writeJSON(a.stdout, st)
	}
	fmt.Fprintf(a.stdout, "%s: %s", st.File, st.State)
	if st.Detail != "" {
		fmt.Fprintf(a.stdout, " (%s)", st.Detail)
	}
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) cacheState(dir string) (state, detail string) {
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return "error", err.Error()
	}
	key, err := kcache.CurrentKey(fs)
	if err != nil {
		return "unkeyed", machineAdvice(err).Error()
	}
	x, err := kcache.Load(dir, key)
	switch {
	case err == nil:
		return "valid", fmt.Sprintf("%d symbols, boot %s", x.Table.Len(), key.BootID)
	case errors.Is(err, kcache.ErrMiss):
		return "missing", ""
	case errors.Is(err, kcache.ErrStale):
		return "stale", "rebuilt by the next ksym addr, lookup or info"
	case errors.Is(err, kcache.ErrForeign):
		return "foreign", err.Error()
	case errors.Is(err, kcache.ErrUnsafe):
		return "unsafe", cacheAdvice(err).Error()
	}
	return "error", err.Error()
}

func (a *app) runCacheClear() error {
	dir, err := kcache.Dir()
	if err != nil {
		return usageErrorf("no cache directory: %v", err)
	}
	removed, err := kcache.Clear(dir)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if removed {
		fmt.Fprintf(a.stdout, "removed %s\n", filepath.Join(dir, kcache.FileName))
	} else {
		fmt.Fprintf(a.stdout, "no cache in %s\n", dir)
	}
	return nil
}
