package serve_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/ksym-dev/ksym/serve/servetest"
	"github.com/ksym-dev/ksym/snapshot"
	"github.com/ksym-dev/ksym/store"
	"github.com/ksym-dev/ksym/store/local"
)

// TestHelperServer is not a test: it is the child process of
// TestKilledDuringUploads, a server on the local store KSYM_TEST_STORE.
func TestHelperServer(t *testing.T) {
	dir := os.Getenv("KSYM_TEST_STORE")
	if dir == "" {
		t.Skip("the child process of TestKilledDuringUploads")
	}
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	servetest.Child(t, st, writeToken)
}

// TestKilledDuringUploads kills a server process over a local store
// (SIGKILL) while clients upload (servetest.KilledDuringUploads).
func TestKilledDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	base := snapshots(t)["run2-B"]
	snap, err := snapshot.Read(bytes.NewReader(base))
	if err != nil {
		t.Fatal(err)
	}
	// Distinct boots: the same table under other boot IDs.
	var bodies [][]byte
	for i := range 12 {
		snap.Info.BootID = fmt.Sprintf("kill-test-boot-%d", i)
		var b bytes.Buffer
		if _, err := snap.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b.Bytes())
	}
	dir := t.TempDir()
	servetest.KilledDuringUploads(t, servetest.Kill{
		Child: "TestHelperServer",
		Env:   "KSYM_TEST_STORE=" + dir,
		Open: func(t *testing.T) store.Store {
			st, err := local.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		Token:  writeToken,
		Bodies: bodies,
	})
}
