package s3store_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/serve"
	"github.com/ksym-dev/ksym/snapshot"
	"github.com/ksym-dev/ksym/store"
	s3store "github.com/ksym-dev/ksym/store/s3"
	"github.com/ksym-dev/ksym/store/s3/s3test"
	"github.com/minio/minio-go/v7"
)

// TestHelperS3Server is not a test: it is the child process of
// TestServeKilledDuringUploads, a server over the S3 store of
// KSYM_TEST_S3 ("ENDPOINT BUCKET") that prints its address and serves
// until killed.
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
	s, err := serve.New(serve.Config{Store: st, Tokens: map[string]serve.Role{token: serve.Writer}, PerClient: 64})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ADDR", ln.Addr().String())
	http.Serve(ln, s.Handler())
}

// TestServeKilledDuringUploads kills a ksym serve process over an S3 store
// (SIGKILL) while clients upload twelve snapshots, four of them stopped
// halfway through their bodies: afterwards every listed snapshot is whole
// (its checksum, its boot), every upload answered 201 is listed, and a
// new process stores all twelve again (each 201, or 200 for a boot
// already there).
func TestServeKilledDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	bodies := bootSnapshots(t, 12)
	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperS3Server$")
		cmd.Env = append(os.Environ(), "KSYM_TEST_S3="+srv.Endpoint()+" "+bucket)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				return cmd, a
			}
		}
		t.Fatal("the child printed no address")
		return nil, ""
	}
	cmd, addr := start()
	var mu sync.Mutex
	answered := map[string]bool{}
	var wg sync.WaitGroup
	var releases []func()
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, body := range bodies {
		var r interface{ Read([]byte) (int, error) } = bytes.NewReader(body)
		if i%3 == 0 { // these stop halfway and wait for the kill
			h, release := newHalfReader(body)
			r, releases = h, append(releases, release)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(rctx, "POST", "http://"+addr+"/api/v1/snapshots", r)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				mu.Lock()
				answered[store.SnapshotID(fmt.Sprintf("s3-fault-boot-%d", i), nil)] = true
				mu.Unlock()
			}
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if n >= 2 {
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	cancel()
	for _, release := range releases {
		release()
	}
	wg.Wait()

	st := srv.Open(bucket, "desk")
	list, err := st.Snapshots(ctx, store.SnapshotFilter{})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range list {
		listed[m.ID] = true
		data, err := st.SnapshotData(ctx, m.ID)
		if err != nil {
			t.Errorf("listed %s cannot be read: %v", m.ID, err)
			continue
		}
		s, err := snapshot.Read(bytes.NewReader(data))
		if err != nil || s.Info.BootID != m.BootID || m.ID != store.SnapshotID(m.BootID, nil) {
			t.Errorf("snapshot %s (boot %s) is not whole: %v", m.ID, m.BootID, err)
		}
	}
	for id := range answered {
		if !listed[id] {
			t.Errorf("snapshot %s was answered 201 but is not listed", id)
		}
	}
	if len(answered) < 2 || len(list) == len(bodies) {
		t.Errorf("%d answered, %d listed of %d: the kill did not cut the uploads", len(answered), len(list), len(bodies))
	}
	t.Logf("%d answered, %d stored of %d uploads; %d objects under desk/snapshot-data/",
		len(answered), len(list), len(bodies), len(keys(t, srv, bucket, "desk/snapshot-data/")))

	// A new process takes every boot again.
	_, addr = start()
	c := client{t, "http://" + addr}
	for i, body := range bodies {
		id := store.SnapshotID(fmt.Sprintf("s3-fault-boot-%d", i), nil)
		code, b := c.do("POST", "/api/v1/snapshots", body)
		if want := map[bool]int{true: http.StatusOK, false: http.StatusCreated}[listed[id]]; code != want {
			t.Errorf("upload %d after the restart: %d %s, want %d", i, code, b, want)
		}
	}
	if l, err := st.Snapshots(ctx, store.SnapshotFilter{}); err != nil || len(l) != len(bodies) {
		t.Errorf("%d listed at the end (%v), want %d", len(l), err, len(bodies))
	}
}

// newHalfReader reads the first half of body, then blocks until release
// is called.
func newHalfReader(body []byte) (*halfReader, func()) {
	h := &halfReader{r: bytes.NewReader(body[:len(body)/2]), block: make(chan struct{})}
	return h, func() { close(h.block) }
}

type halfReader struct {
	r     *bytes.Reader
	block chan struct{}
}

func (h *halfReader) Read(p []byte) (int, error) {
	if h.r.Len() > 0 {
		return h.r.Read(p)
	}
	<-h.block
	return 0, fmt.Errorf("released")
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
