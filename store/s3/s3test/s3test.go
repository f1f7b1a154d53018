// Package s3test runs a real S3 server for tests: versitygw
// (github.com/versity/versitygw) serving a temporary directory on a
// loopback port. The binary is $KSYM_VERSITYGW, else versitygw on PATH;
// without it the tests skip (.ci/run builds it and sets the variable).
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	s3store "github.com/ksym-dev/ksym/store/s3"
)

// Credentials of the test server's root account.
const (
	AccessKey = "ksym-test-access"
	SecretKey = "ksym-test-secret-key"
)

// Server is a running versitygw.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
	log  *os.File
}

var buckets atomic.Int64

// Binary returns the versitygw binary, or skips the test.
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("KSYM_VERSITYGW"); b != "" {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("KSYM_VERSITYGW=%s: %v", b, err)
		}
		return b
	}
	if b, err := exec.LookPath("versitygw"); err == nil {
		return b
	}
	t.Skip("no S3 server for this test: set KSYM_VERSITYGW to a versitygw binary " +
		"(GOBIN=DIR go install github.com/versity/versitygw/cmd/versitygw@v1.8.0), as .ci/run does")
	return ""
}

// Start starts versitygw on a free loopback port, serving a temporary
// directory; it is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), dir: t.TempDir()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	ln.Close()
	s.log, err = os.Create(filepath.Join(t.TempDir(), "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		s.log.Close()
	})
	s.Restart()
	return s
}

// Endpoint is the server's URL (AWS_ENDPOINT_URL).
func (s *Server) Endpoint() string { return "http://" + s.addr }

// Dir is the directory the server serves (one subdirectory per bucket).
func (s *Server) Dir() string { return s.dir }

// Stop kills the server (SIGKILL) and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again (on the same port and directory) and
// waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("s3test: Restart of a running server")
	}
	// The data directory of the posix backend is the served directory
	// itself; the port must be the same so that clients find it again.
	cmd := exec.Command(s.bin, "--access", AccessKey, "--secret", SecretKey, "--port", s.addr, "--quiet", "posix", s.dir)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("versitygw: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log.Name())
			s.t.Fatalf("versitygw does not listen on %s after 20 s: %v\n%s", s.addr, err, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Client is a plain S3 client of the server, to look at the bucket behind
// the store's back.
func (s *Server) Client() *minio.Client {
	s.t.Helper()
	c, err := minio.New(s.addr, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""),
		BucketLookup: minio.BucketLookupPath, Region: "us-east-1", MaxRetries: 1})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// NewBucket creates a bucket of a new name and returns it.
func (s *Server) NewBucket() string {
	s.t.Helper()
	name := fmt.Sprintf("ksym-test-%d", buckets.Add(1))
	if err := s.Client().MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		s.t.Fatalf("make bucket %s: %v", name, err)
	}
	return name
}

// Config is the store configuration of bucket/prefix on this server.
func (s *Server) Config(bucket, prefix string) s3store.Config {
	return s3store.Config{Endpoint: s.Endpoint(), AccessKey: AccessKey, SecretKey: SecretKey,
		Bucket: bucket, Prefix: strings.Trim(prefix, "/"), MaxRetries: 1}
}

// Open opens a store on bucket/prefix, closed when the test ends.
func (s *Server) Open(bucket, prefix string) *s3store.Store {
	s.t.Helper()
	st, err := s3store.Open(context.Background(), s.Config(bucket, prefix))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { st.Close() })
	return st
}
