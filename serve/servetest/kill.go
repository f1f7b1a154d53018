// Package servetest holds the fault test every store behind ksym serve
// must pass: the server process killed (SIGKILL) while clients upload.
package servetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
)

// Child serves st with a writer token until the process is killed,
// after printing "ADDR host:port" on standard output. It is the body of
// the test function a Kill names as its Child.
func Child(t *testing.T, st store.Store, token string) {
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

// Kill describes one run of KilledDuringUploads.
type Kill struct {
	// Child is the name of the test function in the calling package
	// that calls Child when Env is set.
	Child string
	// Env ("NAME=value") is added to the child's environment.
	Env string
	// Open opens the store the children served, for the checks.
	Open func(t *testing.T) store.Store
	// Token is the writer token Child was given.
	Token string
	// Bodies are snapshot files of distinct boots.
	Bodies [][]byte
	// LateWrites says the store's server may finish a write it had
	// fully received after the process that sent it died (an S3
	// server does): a boot not listed right after the kill may then
	// appear later, and the restarted server rightly answers 200
	// (already stored) for it.
	LateWrites bool
}

// KilledDuringUploads starts k.Child, uploads k.Bodies at once, every
// third stopped halfway through its body, and kills the child once two
// uploads were answered 201. Then every listed snapshot must be whole
// (it reads back with its checksums and is the boot its metadata says)
// and every upload answered 201 listed. A second child must then take
// every body: 200 for a boot already listed, 201 for the others.
func KilledDuringUploads(t *testing.T, k Kill) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	cmd, addr := start(t, k)
	answered := upload(addr, k, func() { cmd.Process.Kill(); cmd.Wait() })

	st := k.Open(t)
	listed := checkWhole(t, st)
	for id := range answered {
		if !listed[id] {
			t.Errorf("snapshot %s was answered 201 but is not listed", id)
		}
	}
	if len(answered) < 2 || len(listed) == len(k.Bodies) {
		t.Errorf("%d answered, %d listed of %d: the kill did not cut the uploads", len(answered), len(listed), len(k.Bodies))
	}
	t.Logf("%d answered, %d stored of %d uploads", len(answered), len(listed), len(k.Bodies))

	_, addr = start(t, k)
	for i, body := range k.Bodies {
		code, id, reply := post(t, "http://"+addr, k.Token, bytes.NewReader(body))
		ok := code == http.StatusCreated && !listed[id] ||
			code == http.StatusOK && (listed[id] || k.LateWrites)
		if !ok {
			t.Errorf("upload %d after the restart: %d %s (listed after the kill: %v)", i, code, reply, listed[id])
		}
	}
	if l := checkWhole(t, st); len(l) != len(k.Bodies) {
		t.Errorf("%d listed at the end, want %d", len(l), len(k.Bodies))
	}
}

// start runs the child and waits for its address.
func start(t *testing.T, k Kill) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+k.Child+"$")
	cmd.Env = append(os.Environ(), k.Env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
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

// upload sends every body at once, calls kill once two were answered
// 201 (the halfway uploads never finish before it), and returns the
// snapshot IDs answered 201.
func upload(addr string, k Kill, kill func()) map[string]bool {
	var mu sync.Mutex
	answered := map[string]bool{}
	var wg sync.WaitGroup
	var releases []func()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, body := range k.Bodies {
		var r io.Reader = bytes.NewReader(body)
		if i%3 == 0 {
			h, release := newHalfReader(body)
			r, releases = h, append(releases, release)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, id, _ := postContext(ctx, "http://"+addr, k.Token, r)
			if code == http.StatusCreated {
				mu.Lock()
				answered[id] = true
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
	kill()
	cancel()
	for _, release := range releases {
		release()
	}
	wg.Wait()
	return answered
}

// checkWhole reads back every listed snapshot and returns the listed IDs.
func checkWhole(t *testing.T, st store.Store) map[string]bool {
	t.Helper()
	ctx := context.Background()
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
	return listed
}

func post(t *testing.T, url, token string, body io.Reader) (int, string, []byte) {
	t.Helper()
	code, id, reply := postContext(context.Background(), url, token, body)
	if code == 0 {
		t.Fatalf("upload to %s: %s", url, reply)
	}
	return code, id, reply
}

// postContext uploads a snapshot and returns the status, the snapshot ID
// the reply names and the reply; status 0 and the error text when the
// request failed.
func postContext(ctx context.Context, url, token string, body io.Reader) (int, string, []byte) {
	req, err := http.NewRequestWithContext(ctx, "POST", url+"/api/v1/snapshots", body)
	if err != nil {
		return 0, "", []byte(err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", []byte(err.Error())
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	var v struct {
		Snapshot struct {
			ID string `json:"id"`
		} `json:"snapshot"`
	}
	json.Unmarshal(reply, &v)
	return resp.StatusCode, v.Snapshot.ID, reply
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
