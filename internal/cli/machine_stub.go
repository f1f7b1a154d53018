package cli

// TEMPORARY until package machine lands: not committed.

import (
	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/spf13/cobra"
	"path/filepath"
)

func (a *app) loadLive() (*kallsyms.Table, string, error) {
	p := filepath.Join(a.root, "proc/kallsyms")
	data, err := input.ReadAll(p)
	if err != nil {
		return nil, p, err
	}
	t, err := kallsyms.ParseBytes(data, kallsyms.Options{Source: p})
	return t, p, err
}

func (a *app) newCheckCmd() *cobra.Command { return &cobra.Command{Use: "check"} }
