package machine

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// fcTree is this VM's saved tree (testdata/fc-6.18.44-tracing.md).
const fcTree = "testdata/fc-6.18.44-tracing"

func TestTracingFiles(t *testing.T) {
	fc, err := NewFS(fcTree)
	if err != nil {
		t.Fatal(err)
	}
	debian, err := NewFS("testdata/run1-A")
	if err != nil {
		t.Fatal(err)
	}
	if dir, err := fc.TracingDir(); dir != TracefsPath || err != nil {
		t.Errorf("TracingDir = %q, %v; want %s", dir, err, TracefsPath)
	}
	data, path, err := fc.TracingFile("available_tracers")
	if err != nil || string(data) != "blk function nop\n" || path != filepath.Join(fcTree, "sys/kernel/tracing/available_tracers") {
		t.Errorf("available_tracers = %q at %s, %v", data, path, err)
	}
	if _, _, err := fc.TracingFile("available_filter_functions"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("available_filter_functions: %v, want not exist", err)
	}
	if _, _, err := debian.TracingFile("available_filter_functions"); !errors.Is(err, ErrTracefsNotMounted) {
		t.Errorf("run1-A: %v, want ErrTracefsNotMounted", err)
	}
	if _, _, err := fc.KprobeBlacklistText(); !errors.Is(err, ErrDebugfsNotMounted) {
		t.Errorf("blacklist: %v, want ErrDebugfsNotMounted", err)
	}
	if _, _, err := fc.BTF(""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("BTF: %v, want not exist", err)
	}
}

func TestKernelConfig(t *testing.T) {
	fc, _ := NewFS(fcTree)
	text, path, err := fc.KernelConfig()
	if err != nil || path != filepath.Join(fcTree, "proc/config.gz") {
		t.Fatalf("KernelConfig: %s, %v", path, err)
	}
	if want := fixture.Read(t, filepath.Join(fcTree, "proc/config.gz")); !bytes.Equal(text, want) {
		t.Errorf("KernelConfig is not the gunzipped /proc/config.gz (%d bytes, want %d)", len(text), len(want))
	}
	// /boot/config-<release>, as distributions install it.
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "proc/sys/kernel/osrelease"), []byte("6.1.0-56-amd64\n"))
	debianConfig := fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/config.gz"))
	mustWrite(t, filepath.Join(root, "boot/config-6.1.0-56-amd64"), debianConfig)
	tree, _ := NewFS(root)
	text, path, err = tree.KernelConfig()
	if err != nil || !bytes.Equal(text, debianConfig) || path != filepath.Join(root, "boot/config-6.1.0-56-amd64") {
		t.Errorf("/boot config: %s, %d bytes, %v", path, len(text), err)
	}
	// Neither.
	empty, _ := NewFS(t.TempDir())
	if _, _, err := empty.KernelConfig(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no config: %v, want not exist", err)
	}
	// A config.gz that is not gzip.
	bad := t.TempDir()
	mustWrite(t, filepath.Join(bad, "proc/config.gz"), []byte("CONFIG_KPROBES=y\n"))
	badFS, _ := NewFS(bad)
	if _, _, err := badFS.KernelConfig(); err == nil {
		t.Error("a config.gz that is not gzip was read")
	}
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTracingLive: on the running machine, TracingDir agrees with what
// /sys/kernel/tracing holds, read here with os.ReadDir.
func TestTracingLive(t *testing.T) {
	entries, err := os.ReadDir(TracefsPath)
	if err != nil {
		t.Skipf("no %s: %v", TracefsPath, err)
	}
	mounted := false
	for _, e := range entries {
		if e.Name() == "README" {
			mounted = true
		}
	}
	dir, err := Default().TracingDir()
	switch {
	case mounted && (dir != TracefsPath || err != nil):
		t.Errorf("tracefs mounted, TracingDir = %q, %v", dir, err)
	case !mounted && dir == TracefsPath:
		t.Errorf("%s has no README, TracingDir = %q", TracefsPath, dir)
	}
}

func TestHasEventSource(t *testing.T) {
	fc, _ := NewFS(fcTree)
	for name, want := range map[string]bool{"uprobe": true, "tracepoint": true, "kprobe": false} {
		if got, err := fc.HasEventSource(name); got != want || err != nil {
			t.Errorf("HasEventSource(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	debian, _ := NewFS("testdata/run1-A")
	if _, err := debian.HasEventSource("kprobe"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("run1-A: %v, want not exist", err)
	}
	if err := fc.HasBTF("lkdtm"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("HasBTF: %v", err)
	}
}
