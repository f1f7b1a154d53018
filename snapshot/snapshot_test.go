package snapshot_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/snapshot"
)

// run1Root is a real Debian 6.1 boot laid out as /proc and /sys (the machine
// package's fixture root).
const run1Root = "../machine/testdata/run1-A"

var captured = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func capture(t *testing.T, root string, opts snapshot.Options) *snapshot.Snapshot {
	t.Helper()
	fs, err := machine.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = captured
	s, err := snapshot.Capture(fs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCaptureRealBoot checks every fact a snapshot of the real boot records
// against the fixture files themselves.
func TestCaptureRealBoot(t *testing.T) {
	s := capture(t, run1Root, snapshot.Options{})
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(run1Root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	i := s.Info
	buildID := strings.TrimSpace(string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/build-id.txt"))))
	for _, c := range []struct{ what, got, want string }{
		{"release", i.Release, "6.1.0-56-amd64"},
		{"hostname", i.Hostname, strings.TrimSpace(read("proc/sys/kernel/hostname"))},
		{"kernel version", i.KernelVersion, strings.TrimSpace(read("proc/version"))},
		{"build ID", i.BuildID, buildID},
		{"kallsyms", string(s.Kallsyms), read("proc/kallsyms")},
		{"modules", string(s.Modules), read("proc/modules")},
	} {
		if c.got != c.want {
			t.Errorf("%s = %.80q, want %.80q", c.what, c.got, c.want)
		}
	}
	if i.KptrRestrict == nil || *i.KptrRestrict != 0 || i.NamesOnly || !i.Captured.Equal(captured) {
		t.Errorf("kptr_restrict %v names-only %v captured %v", i.KptrRestrict, i.NamesOnly, i.Captured)
	}
	lines := strings.Count(read("proc/kallsyms"), "\n")
	mods := strings.Count(read("proc/modules"), "\n")
	if i.Symbols != lines || i.Modules != mods {
		t.Errorf("symbols %d modules %d, want %d %d", i.Symbols, i.Modules, lines, mods)
	}
	// The module build IDs, against the fixture's list (readelf -n on the
	// .ko files); the root has the notes of 4 of the 24 modules.
	for _, line := range strings.Split(string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/loaded-modules-build-ids.tsv"))), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 2 || strings.HasPrefix(line, "#") {
			continue
		}
		if got, ok := i.ModuleBuildIDs[strings.ReplaceAll(f[0], "-", "_")]; ok && got != f[1] {
			t.Errorf("module %s build ID %s, want %s", f[0], got, f[1])
		}
	}
	if len(i.ModuleBuildIDs) != 4 || i.ModuleBuildIDs["lkdtm"] == "" {
		t.Errorf("module build IDs: %v", i.ModuleBuildIDs)
	}
	// The fixture root has no boot_id, perf_event_paranoid, arch, nor the
	// other modules' notes: each is listed as missing rather than failing.
	missing := strings.Join(i.Missing, "\n")
	for _, want := range []string{"boot ID: ", "perf_event_paranoid: ", "arch: ", "build IDs of 20 of 24 modules: "} {
		if !strings.Contains(missing, want) {
			t.Errorf("missing lacks %q:\n%s", want, missing)
		}
	}
}

// TestRoundTrip writes a snapshot and reads it back, through a file (mode
// 0600) and through memory.
func TestRoundTrip(t *testing.T) {
	s := capture(t, run1Root, snapshot.Options{})
	path := filepath.Join(t.TempDir(), "boot.ksnap")
	if err := s.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	if fi.Size() > int64(len(s.Kallsyms))/3 {
		t.Errorf("snapshot is %d bytes for %d bytes of table: not compressed", fi.Size(), len(s.Kallsyms))
	}
	got, err := snapshot.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Kallsyms, s.Kallsyms) || !bytes.Equal(got.Modules, s.Modules) {
		t.Error("members differ after the round trip")
	}
	if got.Info.BuildID != s.Info.BuildID || got.Info.Release != s.Info.Release || !got.Info.Captured.Equal(captured) ||
		len(got.Info.Files) != 2 {
		t.Errorf("info differs: %+v", got.Info)
	}
	tab, err := got.Table(path)
	if err != nil || tab.Len() != s.Info.Symbols {
		t.Fatalf("table: %v, %d symbols", err, tab.Len())
	}
}

// hiddenRoot is a machine root whose /proc/kallsyms is the real table as
// the unprivileged user saw it on the Debian boot (addresses all zero).
func hiddenRoot(t *testing.T) string {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc"), 0o755)
	text := fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms-nonroot-head.txt"))
	if err := os.WriteFile(filepath.Join(root, "proc/kallsyms"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestCaptureHidden(t *testing.T) {
	fs, _ := machine.NewFS(hiddenRoot(t))
	_, err := snapshot.Capture(fs, snapshot.Options{})
	want := filepath.Join(fs.Root(), "proc/kallsyms") + ": the symbol table's addresses are hidden (all zero) from this reader"
	if !errors.Is(err, snapshot.ErrHidden) || err.Error() != want {
		t.Fatalf("error %v, want ErrHidden: %q", err, want)
	}
	s, err := snapshot.Capture(fs, snapshot.Options{NamesOnly: true})
	if err != nil || !s.Info.NamesOnly {
		t.Fatalf("names-only capture: %v, %+v", err, s)
	}
}

// TestReadRejects checks the error for each kind of damage.
func TestReadRejects(t *testing.T) {
	s := capture(t, run1Root, snapshot.Options{})
	var good bytes.Buffer
	if _, err := s.WriteTo(&good); err != nil {
		t.Fatal(err)
	}
	future := *s
	future.Info.Version = 2
	var fut bytes.Buffer
	future.WriteTo(&fut)
	flipped := bytes.Clone(good.Bytes())
	flipped[len(flipped)/2] ^= 0x40
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"text table", []byte("ffffffff81000000 T _stext\n"), "magic"},
		{"truncated", good.Bytes()[:good.Len()/2], "truncated"},
		{"byte flipped", flipped, ""},
		{"future version", fut.Bytes(), "snapshot version 2, this ksym reads version 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := snapshot.Read(bytes.NewReader(tt.data))
			if !errors.Is(err, snapshot.ErrBadSnapshot) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrBadSnapshot containing %q", err, tt.want)
			}
		})
	}
}
