package s3store_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/serve/servetest"
	"github.com/ksym-dev/ksym/store"
	s3store "github.com/ksym-dev/ksym/store/s3"
	"github.com/ksym-dev/ksym/store/s3/s3test"
	"github.com/minio/minio-go/v7"
)

// TestHelperS3Server is not a test: it is the child process of
// TestServeKilledDuringUploads, a server over the S3 store of
// KSYM_TEST_S3 ("ENDPOINT BUCKET").
func TestHelperS3Server(t *testing.T) {
	endpoint, bucket, ok := strings.Cut(os.Getenv("KSYM_TEST_S3"), " ")
	if !ok {
		t.Skip("the child process of TestServeKilledDuringUploads")
	}
	st, err := s3store.Open(ctx, s3store.Config{Endpoint: endpoint, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
		Bucket: bucket, Prefix: "desk"})
	if err != nil {
		t.Fatal(err)
	}
	servetest.Child(t, st, token)
}

// TestServeKilledDuringUploads kills a ksym serve process over an S3 store
// (SIGKILL) while clients upload (servetest.KilledDuringUploads). The S3
// server may finish a PUT it had fully received after the client died.
func TestServeKilledDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	servetest.KilledDuringUploads(t, servetest.Kill{
		Child:      "TestHelperS3Server",
		Env:        "KSYM_TEST_S3=" + srv.Endpoint() + " " + bucket,
		Open:       func(*testing.T) store.Store { return srv.Open(bucket, "desk") },
		Token:      token,
		Bodies:     bootSnapshots(t, 12),
		LateWrites: true,
	})
}

// TestSweep: files no description names are removed once older than the
// age given, described files never.
func TestSweep(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	st := srv.Open(bucket, "desk")
	m, _, err := st.PutSnapshot(ctx, store.Snapshot{BootID: "kept"}, []byte("described"))
	if err != nil {
		t.Fatal(err)
	}
	orphans := []string{
		"desk/snapshot-data/" + m.ID + ".00000000000000aa.ksnap",                            // a loser's file of a described boot
		"desk/snapshot-data/" + store.SnapshotID("killed", nil) + ".00000000000000bb.ksnap", // a boot never described
	}
	for _, k := range orphans {
		if _, err := srv.Client().PutObject(ctx, bucket, k, strings.NewReader("orphan"), 6, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.Sweep(ctx, time.Hour); err != nil || n != 0 {
		t.Errorf("Sweep(1h) = %d, %v: want nothing removed (all younger)", n, err)
	}
	if n, err := st.Sweep(ctx, 0); err != nil || n != 2 {
		t.Errorf("Sweep(0) = %d, %v: want the 2 orphans removed", n, err)
	}
	k := keys(t, srv, bucket, "desk/snapshot-data/")
	if len(k) != 1 || !strings.HasPrefix(k[0], "desk/snapshot-data/"+m.ID+".") || k[0] == orphans[0] {
		t.Errorf("left %v, want the described file only", k)
	}
	if b, err := st.SnapshotData(ctx, m.ID); err != nil || string(b) != "described" {
		t.Errorf("after the sweep: %q %v", b, err)
	}
}
