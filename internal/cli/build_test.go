package cli

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// buildKsym builds ./cmd/ksym with CGO_ENABLED=0 into a temporary directory.
// The go command gets the XDG_CACHE_HOME the tests started with, not
// TestMain's temporary one: with GOCACHE unset, go keeps its build cache
// there, and an empty one would compile the standard library again.
func buildKsym(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "ksym")
	cmd := exec.Command(gobin, "build", "-o", bin, "../../cmd/ksym")
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "XDG_CACHE_HOME=") })
	if userCacheHomeSet {
		cmd.Env = append(cmd.Env, "XDG_CACHE_HOME="+userCacheHome)
	}
	cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs bin with args and returns its exit status.
func runBinary(t *testing.T, bin string, stdout, stderr io.Writer, args ...string) int {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}
