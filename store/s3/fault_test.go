package s3store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/serve"
	"github.com/ksym-dev/ksym/snapshot"
	"github.com/ksym-dev/ksym/store"
	"github.com/ksym-dev/ksym/store/s3/s3test"
	"github.com/minio/minio-go/v7"
)

const token = "write-token"

// bootSnapshots are .ksnap files of the real boot run2-B's /proc tree
// (machine/testdata), under n boot IDs.
func bootSnapshots(t *testing.T, n int) [][]byte {
	t.Helper()
	fs, err := machine.NewFS(filepath.Join("../../machine/testdata/run2-B"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Capture(fs, snapshot.Options{Now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for i := range n {
		s.Info.BootID = fmt.Sprintf("s3-fault-boot-%d", i)
		var b bytes.Buffer
		if _, err := s.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	return out
}

type client struct {
	t   *testing.T
	url string
}

func (c client) do(method, path string, body []byte) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func newServer(t *testing.T, st store.Store) client {
	t.Helper()
	s, err := serve.New(serve.Config{Store: st, Tokens: map[string]serve.Role{token: serve.Writer}, PerClient: 64})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(s.Handler())
	t.Cleanup(h.Close)
	return client{t, h.URL}
}

// TestS3Restarted stops the S3 server (SIGKILL) while clients upload
// snapshots through ksym serve's handler, and starts it again: while it is
// down every request that needs the store is answered 503 with a message
// saying so (and counted in ksym_store_errors_total); afterwards every
// upload answered 201 is there, and every listed snapshot reads back
// whole (its checksum) and is the boot it says.
func TestS3Restarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills an S3 server")
	}
	srv := s3test.Start(t)
	st := srv.Open(srv.NewBucket(), "desk")
	c := newServer(t, st)
	bodies := bootSnapshots(t, 24)
	log := fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run2-B/oops-05-lkdtm-ACCESS_NULL.txt"))

	code, body := c.do("POST", "/api/v1/decode", log)
	if code != http.StatusOK {
		t.Fatalf("decode: %d %s", code, body)
	}
	var dec struct{ ID string }
	json.Unmarshal(body, &dec)

	// Four clients upload six boots each, trying a 503 again every 50 ms
	// (2 s at most); the server is killed after the eighth 201 and started
	// again 300 ms later.
	var mu sync.Mutex
	answered := map[int]int{}
	unavailable := 0
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(bodies); i += 4 {
				for try := 0; ; try++ {
					code, body := c.do("POST", "/api/v1/snapshots", bodies[i])
					mu.Lock()
					answered[i] = code
					if code == http.StatusServiceUnavailable {
						unavailable++
					}
					n := 0
					for _, c := range answered {
						if c == http.StatusCreated {
							n++
						}
					}
					mu.Unlock()
					if n >= 8 {
						once.Do(func() { srv.Stop(); close(killed) })
					}
					if code == http.StatusServiceUnavailable && try < 40 {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					// 200: stored by a try whose answer was lost.
					if code != http.StatusCreated && code != http.StatusOK {
						t.Errorf("upload %d: %d %s, want 201 (or 200), after 503s while S3 is down", i, code, body)
					}
					break
				}
			}
		}()
	}
	<-killed
	// Down: what needs the store is 503, with words saying why.
	for _, req := range []struct{ method, path string }{
		{"GET", "/api/v1/snapshots"},
		{"GET", "/api/v1/snapshots/" + store.SnapshotID("s3-fault-boot-0", nil)},
		{"GET", "/api/v1/buckets"},
		{"GET", "/api/v1/reports/" + dec.ID},
		{"POST", "/api/v1/snapshots"},
		{"POST", "/api/v1/decode"},
		{"GET", "/buildid/0123456789abcdef0123456789abcdef01234567/debuginfo"},
		{"GET", "/buckets"},
		{"GET", "/r/" + dec.ID},
	} {
		var b []byte
		switch req.path {
		case "/api/v1/snapshots":
			b = bodies[0]
		case "/api/v1/decode":
			b = log
		}
		code, body := c.do(req.method, req.path, b)
		if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "unavailable") {
			t.Errorf("%s %s with S3 down: %d %s, want 503 unavailable", req.method, req.path, code, body)
		}
	}
	if _, err := st.Snapshots(ctx, store.SnapshotFilter{}); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), srv.Endpoint()) {
		t.Errorf("Snapshots with S3 down: %v, want ErrUnavailable naming the endpoint", err)
	}
	if _, err := st.Snapshot(ctx, store.SnapshotID("s3-fault-boot-0", nil)); errors.Is(err, store.ErrNotFound) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Snapshot with S3 down: %v, want ErrUnavailable (not ErrNotFound)", err)
	}
	time.Sleep(300 * time.Millisecond)
	srv.Restart()
	wg.Wait()

	code, metrics := c.do("GET", "/metrics", nil)
	if code != http.StatusOK || !bytes.Contains(metrics, []byte("ksym_store_errors_total{")) {
		t.Errorf("metrics: %d, no ksym_store_errors_total", code)
	}
	// Every boot answered 201 is there; every listed one is whole.
	l, err := st.Snapshots(ctx, store.SnapshotFilter{})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range l {
		listed[m.ID] = true
		data, err := st.SnapshotData(ctx, m.ID) // checks the sha256 in the description
		if err != nil {
			t.Errorf("snapshot %s listed: %v", m.ID, err)
			continue
		}
		s, err := snapshot.Read(bytes.NewReader(data))
		if err != nil || s.Info.BootID != m.BootID || m.Size != int64(len(data)) {
			t.Errorf("snapshot %s (%s): %v, boot %q, size %d of %d", m.ID, m.BootID, err, s.Info.BootID, len(data), m.Size)
		}
	}
	for i, code := range answered {
		id := store.SnapshotID(fmt.Sprintf("s3-fault-boot-%d", i), nil)
		if (code == http.StatusCreated || code == http.StatusOK) && !listed[id] {
			t.Errorf("upload %d was answered %d and is not listed", i, code)
		}
	}
	t.Logf("%d uploads, %d answers 503 while S3 was down; %d listed after the restart", len(bodies), unavailable, len(l))
	if unavailable == 0 {
		t.Errorf("no upload met the outage")
	}
	if len(l) != len(bodies) {
		t.Errorf("%d snapshots listed, want the %d uploaded", len(l), len(bodies))
	}
	// And the store works again: a report, an upload.
	if code, body := c.do("GET", "/api/v1/reports/"+dec.ID, nil); code != http.StatusOK {
		t.Errorf("report after the restart: %d %s", code, body)
	}
	if code, body := c.do("POST", "/api/v1/snapshots", bodies[0]); code != http.StatusOK && code != http.StatusCreated {
		t.Errorf("upload after the restart: %d %s", code, body)
	}
}

// TestKilledMultipartUpload kills the S3 server in the middle of a debug
// file's multipart upload (after its first 16 MiB part, while the second
// is read): after a restart the file is absent, though the unfinished
// upload is still on the server; an older file of the build ID would
// have stayed.
func TestKilledMultipartUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills an S3 server")
	}
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	st := srv.Open(bucket, "")
	const id = "00112233445566778899aabbccddeeff00112233"
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- st.PutDebug(ctx, id, store.DebugInfo, pr) }()
	part := bytes.Repeat([]byte("debuginfo"), (16<<20)/9+1)[:16<<20]
	if _, err := pw.Write(part); err != nil { // the first part, uploaded before the second is read
		t.Fatal(err)
	}
	if _, err := pw.Write([]byte("the start of the second part")); err != nil {
		t.Fatal(err)
	}
	waitUpload(t, srv, bucket)
	srv.Stop()
	pw.Write([]byte("the rest"))
	pw.Close()
	if err := <-done; !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("PutDebug with the server killed: %v, want ErrUnavailable", err)
	}
	srv.Restart()
	res, err := (&minio.Core{Client: srv.Client()}).ListMultipartUploads(ctx, bucket, "", "", "", "", 10)
	if err != nil || len(res.Uploads) != 1 {
		t.Errorf("unfinished uploads after the restart: %+v %v, want the killed one", res.Uploads, err)
	}
	if _, _, err := st.OpenDebug(ctx, id, store.DebugInfo); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the killed upload: %v, want ErrNotFound", err)
	}
}

// waitUpload waits until the server has an unfinished multipart upload
// with a part.
func waitUpload(t *testing.T, srv *s3test.Server, bucket string) {
	t.Helper()
	c := srv.Client()
	core := minio.Core{Client: c}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := core.ListMultipartUploads(ctx, bucket, "", "", "", "", 10)
		if err == nil && len(res.Uploads) == 1 {
			u := res.Uploads[0]
			parts, err := core.ListObjectParts(ctx, bucket, u.Key, u.UploadID, 0, 10)
			if err == nil && len(parts.ObjectParts) == 1 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no multipart upload with one part on the server after 30 s")
}

// TestLargeDebugFile round-trips a debug file of three parts (multipart),
// and a failed upload over it leaves the older one.
func TestLargeDebugFile(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 40 MiB")
	}
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	st := srv.Open(bucket, "p")
	const id = "aabbccddeeff"
	data := make([]byte, 40<<20)
	for i := range data {
		data[i] = byte(i * 7 >> 3)
	}
	if err := st.PutDebug(ctx, id, store.Executable, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		r, size, err := st.OpenDebug(ctx, id, store.Executable)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil || size != int64(len(data)) || !bytes.Equal(b, data) {
			t.Errorf("read back %d bytes (size %d), %v: not the %d uploaded", len(b), size, err, len(data))
		}
	}
	check()
	// A multipart upload's ETag ends in -PARTS.
	info, err := srv.Client().StatObject(ctx, bucket, "p/debug/"+id+"/executable", minio.StatObjectOptions{})
	if err != nil || !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("ETag %q (%v): not an upload of three parts", info.ETag, err)
	}
	err = st.PutDebug(ctx, id, store.Executable, io.MultiReader(bytes.NewReader(data[:20<<20]), failing{}))
	if err == nil {
		t.Fatal("an upload whose reader fails succeeded")
	}
	check()
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("client went away") }

// TestOrphanDataInvisible: a writer killed between a snapshot's file and
// its description leaves a file nothing describes: it is not listed, not
// served, and the boot is stored again.
func TestOrphanDataInvisible(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	st := srv.Open(bucket, "")
	id := store.SnapshotID("killed-boot", nil)
	if _, err := srv.Client().PutObject(ctx, bucket, "snapshot-data/"+id+".0011223344556677.ksnap", strings.NewReader("half"), 4, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if l, err := st.Snapshots(ctx, store.SnapshotFilter{}); err != nil || len(l) != 0 {
		t.Errorf("listed %+v %v, want nothing", l, err)
	}
	if _, err := st.SnapshotData(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SnapshotData: %v, want ErrNotFound", err)
	}
	m, created, err := st.PutSnapshot(ctx, store.Snapshot{BootID: "killed-boot"}, []byte("whole"))
	if err != nil || !created || m.ID != id {
		t.Fatalf("put: %+v %v %v", m, created, err)
	}
	if b, err := st.SnapshotData(ctx, id); err != nil || string(b) != "whole" {
		t.Errorf("data %q %v", b, err)
	}
}
