package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/serve"
	"github.com/ksym-dev/ksym/snapshot"
	"github.com/ksym-dev/ksym/store/local"
)

// TestServeCommand starts 'ksym serve' on a free port, decodes a real oops
// through it, and stops it with SIGTERM: it shuts down and exits 0.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- Execute([]string{"serve", "--store", dir, "--listen", "127.0.0.1:0"}, strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var url string
	for lines.Scan() {
		var rec struct{ Msg, URL string }
		if json.Unmarshal(lines.Bytes(), &rec) == nil && rec.Msg == "serving" {
			url = rec.URL
			break
		}
	}
	if url == "" {
		t.Fatalf("no 'serving' log line; exit %d", <-done)
	}
	go io.Copy(io.Discard, pr)
	resp, err := http.Post(url+"api/v1/decode", "text/plain", bytes.NewReader(readFile(t, oops03)))
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		URL     string
		Reports []struct{ Kind string }
	}
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(ans.Reports) != 1 || !strings.HasPrefix(ans.URL, url+"r/") {
		t.Errorf("decode through ksym serve: %d %+v", resp.StatusCode, ans)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit status %d after SIGTERM, want 0", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ksym serve did not stop on SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dir, "meta.db")); err != nil {
		t.Errorf("the store: %v", err)
	}
}

// TestServeS3NotYet: an s3:// store is refused with what to do.
func TestServeS3NotYet(t *testing.T) {
	var errb bytes.Buffer
	code := Execute([]string{"serve", "--store", "s3://bucket/prefix"}, strings.NewReader(""), io.Discard, &errb)
	if code != ExitUsage || !strings.Contains(errb.String(), "the S3 store is not built yet; give a directory") {
		t.Errorf("exit %d, %q", code, errb.String())
	}
}

// TestSnapshotPush pushes a snapshot of a real boot's /proc tree twice:
// stored, then already stored; without the token, refused.
func TestSnapshotPush(t *testing.T) {
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := serve.New(serve.Config{Store: st, Tokens: map[string]serve.Role{"tok": serve.Writer}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	fs, err := machine.NewFS("../../machine/testdata/run2-B")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Capture(fs, snapshot.Options{Now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	snap.Info.BootID = "0c8d2a52-4d2c-4a4e-9d7b-2f3b1c1d0e0f"
	path := filepath.Join(t.TempDir(), "b.ksnap")
	if err := snap.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte("tok\n"), 0o600)
	for _, want := range []string{"stored as ", "already stored (same boot) as "} {
		var out, errb bytes.Buffer
		code := Execute([]string{"snapshot", "push", "--token-file", tokFile, srv.URL, path}, strings.NewReader(""), &out, &errb)
		if code != 0 || !strings.Contains(out.String(), path+": "+want) || !strings.Contains(out.String(), "(6.1.0-56-amd64, boot 0c8d2a52-4d2c-4a4e-9d7b-2f3b1c1d0e0f)") {
			t.Errorf("push: %d %q %q, want %q", code, out.String(), errb.String(), want)
		}
	}
	t.Setenv("KSYM_TOKEN", "")
	var errb bytes.Buffer
	code := Execute([]string{"snapshot", "push", srv.URL, path}, strings.NewReader(""), io.Discard, &errb)
	if code != ExitUsage || !strings.Contains(errb.String(), "401 Unauthorized: this needs a token") {
		t.Errorf("push without a token: %d %q", code, errb.String())
	}
}
