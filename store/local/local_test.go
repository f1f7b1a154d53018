package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/store"
	"github.com/ksym-dev/ksym/store/local"
	"github.com/ksym-dev/ksym/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := local.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestNothingOutsideTheDirectory checks that every file the store writes is
// under its directory, after uploads and traversal attempts.
func TestNothingOutsideTheDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	s, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	s.PutSnapshot(ctx, store.Snapshot{BootID: "../../x"}, []byte("a"))
	s.PutDebug(ctx, "../../evil", store.DebugInfo, strings.NewReader("x"))
	s.PutDebug(ctx, "abcd", store.DebugInfo, strings.NewReader("x"))
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "store" {
		t.Errorf("the parent holds %v, want only store", entries)
	}
}

// TestKilledUploadInvisible simulates a process killed between writing a
// snapshot's file and recording it (the temporary file of an interrupted
// write, and a renamed file with no row): on reopening, the snapshot is
// absent, the leftover temporary file is removed, and the boot can be
// uploaded again.
func TestKilledUploadInvisible(t *testing.T) {
	dir := t.TempDir()
	s, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	id := store.SnapshotID("boot-x", nil)
	tmp := filepath.Join(dir, "snapshots", "."+id+".ksnap.123456")
	if err := os.WriteFile(tmp, []byte("half a snap"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "snapshots", id+".ksnap"), []byte("whole, unrecorded"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if l, _ := s.Snapshots(ctx, store.SnapshotFilter{}); len(l) != 0 {
		t.Errorf("listed %v, want nothing", l)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	m, created, err := s.PutSnapshot(ctx, store.Snapshot{BootID: "boot-x", Captured: time.Now()}, []byte("the real one"))
	if err != nil || !created || m.ID != id {
		t.Fatalf("upload after the crash: %+v %v %v", m, created, err)
	}
	if b, _ := s.SnapshotData(ctx, id); string(b) != "the real one" {
		t.Errorf("data %q", b)
	}
}
