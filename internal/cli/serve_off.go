//go:build noserve

package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newServeCmd stands in for the crash desk in a build without it (go
// build -tags noserve): such a binary starts without the server's
// libraries (S3 client, SQLite, Prometheus), in about half the time and
// memory of the full one.
func (a *app) newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "serve",
		Short:  "Serve the crash desk (not in this build)",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("serve: this ksym was built with -tags noserve; build it without that tag for the crash desk")
		},
	}
}
