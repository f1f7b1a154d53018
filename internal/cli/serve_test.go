//go:build !noserve

package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
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
	"github.com/ksym-dev/ksym/store/s3/s3test"
	"github.com/minio/minio-go/v7"
)

// TestServeCommand starts 'ksym serve' on a free port, over HTTP and over
// HTTPS (a certificate made here), decodes a real oops through it, and
// stops it with SIGTERM: it shuts down and exits 0.
func TestServeCommand(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", useTLS), func(t *testing.T) { testServeCommand(t, useTLS) })
	}
}

func testServeCommand(t *testing.T, useTLS bool) {
	dir := t.TempDir()
	args := []string{"serve", "--store", dir, "--listen", "127.0.0.1:0"}
	client := http.DefaultClient
	if useTLS {
		cert, key, pool := selfSigned(t)
		args = append(args, "--tls-cert", cert, "--tls-key", key)
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	url, done := startServe(t, args)
	if useTLS != strings.HasPrefix(url, "https://") {
		t.Errorf("serving at %s", url)
	}
	resp, err := client.Post(url+"api/v1/decode", "text/plain", bytes.NewReader(readFile(t, oops03)))
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
	stopServe(t, done)
	if _, err := os.Stat(filepath.Join(dir, "meta.db")); err != nil {
		t.Errorf("the store: %v", err)
	}
}

// startServe runs 'ksym ARGS' (a serve command) and returns the URL it
// serves at and the channel of its exit status.
func startServe(t *testing.T, args []string) (string, chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Execute(args, strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var url string
	var log []string
	for lines.Scan() {
		var rec struct{ Msg, URL string }
		if json.Unmarshal(lines.Bytes(), &rec) == nil && rec.Msg == "serving" {
			url = rec.URL
			break
		}
		log = append(log, lines.Text())
	}
	if url == "" {
		t.Fatalf("no 'serving' log line; exit %d: %s", <-done, strings.Join(log, "\n"))
	}
	go io.Copy(io.Discard, pr)
	return url, done
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their files and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ksym test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeS3 runs 'ksym serve --store s3://BUCKET/PREFIX' against a real
// S3 server (versitygw), with the endpoint and keys from the AWS
// variables: a decoded oops is stored as objects under the prefix.
func TestServeS3(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint())
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	url, done := startServe(t, []string{"serve", "--store", "s3://" + bucket + "/desk", "--listen", "127.0.0.1:0"})
	resp, err := http.Post(url+"api/v1/decode", "text/plain", bytes.NewReader(readFile(t, oops03)))
	if err != nil {
		t.Fatal(err)
	}
	var ans struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || ans.ID == "" {
		t.Errorf("decode through ksym serve: %d %+v", resp.StatusCode, ans)
	}
	stopServe(t, done)
	if _, err := srv.Client().StatObject(context.Background(), bucket, "desk/reports/"+ans.ID+".json", minio.StatObjectOptions{}); err != nil {
		t.Errorf("the report's object: %v", err)
	}
}

// TestServeS3Errors: an s3:// store without credentials, or whose bucket
// is absent, is refused with what to do.
func TestServeS3Errors(t *testing.T) {
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, "")
	}
	var errb bytes.Buffer
	code := Execute([]string{"serve", "--store", "s3://bucket/prefix"}, strings.NewReader(""), io.Discard, &errb)
	if code != ExitUsage || !strings.Contains(errb.String(), "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
		t.Errorf("without credentials: exit %d, %q", code, errb.String())
	}
	srv := s3test.Start(t)
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint())
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	errb.Reset()
	code = Execute([]string{"serve", "--store", "s3://absent-bucket/prefix"}, strings.NewReader(""), io.Discard, &errb)
	if code != ExitUsage || !strings.Contains(errb.String(), "the bucket absent-bucket does not exist: create it first") {
		t.Errorf("bucket absent: exit %d, %q", code, errb.String())
	}
}

// TestSnapshotPush pushes a snapshot of a real boot's /proc tree twice:
// stored, then already stored; the same without a boot ID; without the
// token, refused.
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
	// Without a boot ID (a tree with no boot_id): deduplicated by content.
	snap.Info.BootID = ""
	if err := snap.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stored as ", "already stored (same content) as "} {
		var out, errb bytes.Buffer
		code := Execute([]string{"snapshot", "push", "--token-file", tokFile, srv.URL, path}, strings.NewReader(""), &out, &errb)
		if code != 0 || !strings.Contains(out.String(), path+": "+want) || !strings.HasSuffix(out.String(), "(6.1.0-56-amd64, boot unknown)\n") {
			t.Errorf("push without a boot ID: %d %q %q, want %q", code, out.String(), errb.String(), want)
		}
	}
	t.Setenv("KSYM_TOKEN", "")
	var errb bytes.Buffer
	code := Execute([]string{"snapshot", "push", srv.URL, path}, strings.NewReader(""), io.Discard, &errb)
	if code != ExitUsage || !strings.Contains(errb.String(), "401 Unauthorized: this needs a token") {
		t.Errorf("push without a token: %d %q", code, errb.String())
	}
}

// stopServe sends this process SIGTERM and waits for the ksym serve
// running in it to exit with status 0.
func stopServe(t *testing.T, done <-chan int) {
	t.Helper()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit status %d after SIGTERM, want 0", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ksym serve did not stop on SIGTERM")
	}
}
