package cli

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is the release version; set at build time with
// -ldflags "-X github.com/ksym-dev/ksym/internal/cli.Version=v1.2.3". When
// empty, the module version from the build information is used.
var Version = ""

// versionInfo is the JSON answer of ksym version.
type versionInfo struct {
	Version   string `json:"version"`
	GoVersion string `json:"go_version"`
	Revision  string `json:"revision,omitempty"` // VCS commit, when built from a checkout
	Modified  bool   `json:"modified,omitempty"` // the checkout had local changes
	Platform  string `json:"platform"`           // GOOS/GOARCH
}

func buildVersion() versionInfo {
	v := versionInfo{Version: Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if ok && v.Version == "" && bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	return v
}

// version is the one-line version shown by --version.
func version() string {
	v := buildVersion()
	s := v.Version
	if v.Revision != "" {
		rev := v.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (" + rev
		if v.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + v.GoVersion + " " + v.Platform
}

func (a *app) newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of ksym",
		Example: "  ksym version\n  ksym version --json",
		Args:    argsRange(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			if a.json {
				return writeJSON(a.stdout, buildVersion())
			}
			_, err := a.stdout.Write([]byte("ksym " + version() + "\n"))
			return err
		},
	}
}
