package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/klog"
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

// TestIdentityBuildIDs: the vmlinux build ID of a real 6.12 report's CPU:
// line against another build of the same release, and a module build ID
// printed in a frame (synthetic: the fixtures' kernels print none) against
// the table's.
func TestIdentityBuildIDs(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fixtures/crashlogs/syzkaller/linux/report/748")
	if err != nil {
		t.Fatal(err)
	}
	oops, err := os.ReadFile(bootDir + "oops-03-lkdtm-EXCEPTION.txt")
	if err != nil {
		t.Fatal(err)
	}
	const modID = "0123456789abcdef0123456789abcdef01234567"
	withID := strings.ReplaceAll(string(oops), " [lkdtm]\n", " [lkdtm "+modID+"]\n")
	tests := []struct {
		name string
		log  string
		id   tableIdentity
		want []string
	}{
		{"same build", string(data), tableIdentity{what: "the running kernel", release: "6.12.23-syzkaller-g30b14cdad458",
			buildID: "c708c6bafa1314b3e84c64b9f03b67766970ebbd"}, nil},
		{"another build", string(data), tableIdentity{what: "the running kernel", release: "6.12.23-syzkaller-g30b14cdad458",
			buildID: "ffffffffffffffffffffffffffffffffffffffff"},
			[]string{"the log's vmlinux build ID is c708c6bafa1314b3e84c64b9f03b67766970ebbd, the running kernel's is ffffffffffffffffffffffffffffffffffffffff: same release, another build; give the crashed kernel's table"}},
		{"rebuilt module", withID, tableIdentity{what: "the snapshot", moduleID: func(m string) string {
			return map[string]string{"lkdtm": "89abcdef0123456789abcdef0123456789abcdef"}[m]
		}}, []string{"the log's module lkdtm has build ID " + modID + ", the snapshot's has 89abcdef0123456789abcdef0123456789abcdef: the module was rebuilt; its frames are decoded against the wrong code"}},
		{"same module", withID, tableIdentity{what: "the snapshot", moduleID: func(string) string { return modID }}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			klog.Scan(strings.NewReader(tt.log), func(r *klog.Report) error {
				got = append(got, tt.id.check(r)...)
				return nil
			})
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
