package debuginfod_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/debuginfod"
	"github.com/ksym-dev/ksym/input"
)

// lkdtmBuildID is the build ID of ../srcline/testdata/lkdtm.ko.xz, the
// LKDTM module of the Debian boots (readelf -n).
const lkdtmBuildID = "d2c12d420606aae7228cb06fbf317c458f7a82bb"

// otherBuildID is a build ID no file has.
const otherBuildID = "0123456789abcdef0123456789abcdef01234567"

func lkdtm(t *testing.T) []byte {
	t.Helper()
	b, err := input.ReadAll("../srcline/testdata/lkdtm.ko.xz")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeServer serves files by build ID and counts the requests.
func fakeServer(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		for id, b := range files {
			if r.URL.Path == "/buildid/"+id+"/debuginfo" {
				w.Write(b)
				return
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestFetch covers a download, a cache hit, a remembered miss and a
// server that sends the file of another build ID.
func TestFetch(t *testing.T) {
	ko := lkdtm(t)
	srv, n := fakeServer(t, map[string][]byte{lkdtmBuildID: ko, otherBuildID: ko})
	c := debuginfod.New([]string{srv.URL}, t.TempDir())
	var last int64
	c.Progress = func(url string, done, total int64) { last = done }
	p, err := c.Debuginfo(context.Background(), strings.ToUpper(lkdtmBuildID))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(ko) || last != int64(len(ko)) {
		t.Errorf("downloaded %s; progress ended at %d of %d", p, last, len(ko))
	}
	if _, err := c.Debuginfo(context.Background(), lkdtmBuildID); err != nil || n.Load() != 1 {
		t.Errorf("second fetch: %v, %d requests (want 1: cached)", err, n.Load())
	}
	missing := strings.Repeat("ab", 20)
	for i := 0; i < 2; i++ {
		if _, err := c.Debuginfo(context.Background(), missing); !errors.Is(err, debuginfod.ErrNotFound) {
			t.Errorf("miss %d: %v", i, err)
		}
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2: the miss is remembered", n.Load())
	}
	_, err = c.Debuginfo(context.Background(), otherBuildID)
	if !errors.Is(err, debuginfod.ErrWrongFile) || !strings.Contains(err.Error(), "build ID "+lkdtmBuildID) {
		t.Errorf("wrong file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.CacheDir, otherBuildID, "debuginfo")); err == nil {
		t.Error("the wrong file was cached")
	}
	if _, err := c.Debuginfo(context.Background(), "xyz"); !errors.Is(err, debuginfod.ErrBadBuildID) {
		t.Errorf("bad build ID: %v", err)
	}
}

// TestHangingServer checks that a server that never answers costs the
// timeout, then an error that says so.
func TestHangingServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := debuginfod.New([]string{srv.URL}, t.TempDir())
	c.Timeout = 200 * time.Millisecond
	_, err := c.Debuginfo(context.Background(), lkdtmBuildID)
	if err == nil || !strings.Contains(err.Error(), "no answer in 200ms") {
		t.Errorf("hanging server: %v", err)
	}
	if errors.Is(err, debuginfod.ErrNotFound) {
		t.Error("a hanging server is not a miss")
	}
}

// TestUnreachable checks a server nobody listens at; then another that
// has the file is used.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	c := debuginfod.New([]string{dead}, t.TempDir())
	_, err = c.Debuginfo(context.Background(), lkdtmBuildID)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("unreachable server: %v", err)
	}
	srv, _ := fakeServer(t, map[string][]byte{lkdtmBuildID: lkdtm(t)})
	c.URLs = append(c.URLs, srv.URL)
	if _, err := c.Debuginfo(context.Background(), lkdtmBuildID); err != nil {
		t.Errorf("second server: %v", err)
	}
}

// TestFromEnv reads DEBUGINFOD_URLS.
func TestFromEnv(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", "")
	if _, err := debuginfod.FromEnv(); !errors.Is(err, debuginfod.ErrNoServers) {
		t.Errorf("empty: %v", err)
	}
	t.Setenv("DEBUGINFOD_URLS", " http://a.example  https://b.example/ ")
	c, err := debuginfod.FromEnv()
	if err != nil || fmt.Sprint(c.URLs) != "[http://a.example https://b.example/]" {
		t.Errorf("FromEnv: %v, %v", c, err)
	}
}

// TestRealServer fetches through elfutils' debuginfod (Debian package
// debuginfod) serving a directory with the LKDTM module: a hit, and a miss.
func TestRealServer(t *testing.T) {
	bin, err := exec.LookPath("debuginfod")
	if err != nil {
		t.Skip("debuginfod not installed (apt-get install debuginfod)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lkdtm.ko"), lkdtm(t), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-F", dir, "-p", fmt.Sprint(port), "-d", filepath.Join(t.TempDir(), "db.sqlite"), "-t", "1", "-g", "0")
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	// Wait for the first scan: until the file is served.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/buildid/" + lkdtmBuildID + "/debuginfo")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("debuginfod did not serve %s within 60 s (last: %v); its log:\n%s", lkdtmBuildID, err, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	c := debuginfod.New([]string{url}, t.TempDir())
	p, err := c.Debuginfo(context.Background(), lkdtmBuildID)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(lkdtm(t)) {
		t.Error("the file fetched differs from the one served")
	}
	if _, err := c.Debuginfo(context.Background(), otherBuildID); !errors.Is(err, debuginfod.ErrNotFound) {
		t.Errorf("miss: %v", err)
	}
}
