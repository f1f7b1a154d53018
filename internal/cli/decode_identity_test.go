package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/snapshot"
)

// TestDecodeChecksSnapshotRelease: a snapshot of another release given to
// decode is called out once, exit status 1; one of the log's own release is
// not.
func TestDecodeChecksSnapshotRelease(t *testing.T) {
	fs, err := machine.NewFS(machineRoot)
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Capture(fs, snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	same := filepath.Join(dir, "same.ksnap")
	if err := s.WriteFile(same); err != nil {
		t.Fatal(err)
	}
	s.Info.Release = "6.1.0-57-amd64" // synthetic: the same table claimed for another release
	other := filepath.Join(dir, "other.ksnap")
	if err := s.WriteFile(other); err != nil {
		t.Fatal(err)
	}
	log := bootDir + "oops-03-lkdtm-EXCEPTION.txt"
	_, errOut, code := run(t, "", "--kallsyms", other, "decode", "--summary", log)
	want := "the log is from kernel 6.1.0-56-amd64, the snapshot is 6.1.0-57-amd64"
	if code != ExitNotFound || strings.Count(errOut, want) != 1 {
		t.Errorf("other release: exit %d\n%s", code, errOut)
	}
	if _, errOut, _ := run(t, "", "--kallsyms", same, "decode", "--summary", log); strings.Contains(errOut, "the snapshot") {
		t.Errorf("same release: %s", errOut)
	}
}
