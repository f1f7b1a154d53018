package serve_test

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
	"github.com/ksym-dev/ksym/store/local"
)

// TestHelperServer is not a test: it is the child process of
// TestKilledDuringUploads, a server on KSYM_TEST_STORE that prints its
// address and serves until killed.
func TestHelperServer(t *testing.T) {
	dir := os.Getenv("KSYM_TEST_STORE")
	if dir == "" {
		t.Skip("the child process of TestKilledDuringUploads")
	}
	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(serve.Config{Store: st, Tokens: map[string]serve.Role{writeToken: serve.Writer}, PerClient: 64})
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

// TestKilledDuringUploads kills a server process (SIGKILL) while clients
// upload snapshots, some of them halfway through their bodies; after a
// restart, every stored snapshot is whole (it reads back with its
// checksums and is the boot its metadata says) and the boots whose
// upload was answered are all there.
func TestKilledDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
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
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), "KSYM_TEST_STORE="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	addr := ""
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("the child printed no address")
	}
	var mu sync.Mutex
	answered := map[string]bool{}
	var wg sync.WaitGroup
	var releases []func()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, body := range bodies {
		var r interface{ Read([]byte) (int, error) } = bytes.NewReader(body)
		if i%3 == 0 { // these stop halfway and wait for the kill
			pr, release := newHalfReader(body)
			r = pr
			releases = append(releases, release)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/api/v1/snapshots", r)
			req.Header.Set("Authorization", "Bearer "+writeToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				mu.Lock()
				answered[fmt.Sprintf("kill-test-boot-%d", i)] = true
				mu.Unlock()
			}
		}()
	}
	// Kill when some uploads were answered and others are in flight.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
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

	st, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.Snapshots(context.Background(), store.SnapshotFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range list {
		data, err := st.SnapshotData(context.Background(), m.ID)
		if err != nil {
			t.Errorf("listed %s cannot be read: %v", m.ID, err)
			continue
		}
		s, err := snapshot.Read(bytes.NewReader(data))
		if err != nil || s.Info.BootID != m.BootID || m.ID != store.SnapshotID(m.BootID, nil) {
			t.Errorf("snapshot %s (boot %s) is not whole: %v", m.ID, m.BootID, err)
		}
		seen[m.BootID] = true
	}
	for boot := range answered {
		if !seen[boot] {
			t.Errorf("boot %s was answered 201 but is not stored", boot)
		}
	}
	if len(answered) < 2 {
		t.Errorf("only %d uploads were answered before the kill", len(answered))
	}
	t.Logf("%d answered, %d stored of %d uploads", len(answered), len(list), len(bodies))
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
