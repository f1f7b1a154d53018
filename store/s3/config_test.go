package s3store_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/store"
	s3store "github.com/ksym-dev/ksym/store/s3"
	"github.com/ksym-dev/ksym/store/s3/s3test"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		url, bucket, prefix, err string
	}{
		{"s3://ksym", "ksym", "", ""},
		{"s3://ksym/", "ksym", "", ""},
		{"s3://ksym-store/fleet/prod/", "ksym-store", "fleet/prod", ""},
		{"s3://my.bucket.example/p", "my.bucket.example", "p", ""},
		{"s3://Ksym/p", "", "", "is not 3 to 63"},
		{"s3://ab", "", "", "is not 3 to 63"},
		{"s3:///p", "", "", "is not 3 to 63"},
		{"s3://ksym/a//b", "", "", "empty, . or .."},
		{"s3://ksym/a/../b", "", "", "empty, . or .."},
		{"s3://key:secret@ksym/p", "", "", "takes no user"},
		{"s3://ksym/p?region=x", "", "", "takes no user"},
		{"http://ksym/p", "", "", "is not s3://"},
	} {
		b, p, err := s3store.ParseURL(c.url)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseURL(%q) = %q %q %v, want an error with %q", c.url, b, p, err, c.err)
			}
			continue
		}
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("ParseURL(%q) = %q %q %v, want %q %q", c.url, b, p, err, c.bucket, c.prefix)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := s3store.ConfigFromEnv("s3://ksym/p", env(map[string]string{
		"AWS_ENDPOINT_URL": "http://generic:1", "AWS_ENDPOINT_URL_S3": "http://s3only:2",
		"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "ST",
		"AWS_DEFAULT_REGION": "eu-west-3",
	}))
	want := s3store.Config{Endpoint: "http://s3only:2", AccessKey: "AK", SecretKey: "SK", SessionToken: "ST", Region: "eu-west-3", Bucket: "ksym", Prefix: "p"}
	if err != nil || c != want {
		t.Errorf("ConfigFromEnv = %+v %v, want %+v", c, err, want)
	}
	c, err = s3store.ConfigFromEnv("s3://ksym", env(map[string]string{"AWS_ENDPOINT_URL": "http://generic:1",
		"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_REGION": "r1", "AWS_DEFAULT_REGION": "r2"}))
	if err != nil || c.Endpoint != "http://generic:1" || c.Region != "r1" {
		t.Errorf("ConfigFromEnv = %+v %v, want the generic endpoint and AWS_REGION", c, err)
	}
	if _, err := s3store.ConfigFromEnv("s3://ksym", env(map[string]string{"AWS_ACCESS_KEY_ID": "AK"})); err == nil ||
		!strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("without a secret: %v, want an error naming AWS_SECRET_ACCESS_KEY", err)
	}
}

// TestOpenErrors: what Open says when the bucket is absent, the
// credentials are wrong, the endpoint is malformed or nothing listens.
func TestOpenErrors(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, c := range []struct {
		name   string
		edit   func(*s3store.Config)
		want   string
		unavai bool
	}{
		{"no bucket", func(c *s3store.Config) { c.Bucket = "no-such-bucket" }, "the bucket no-such-bucket does not exist: create it first", false},
		{"wrong secret", func(c *s3store.Config) { c.SecretKey = "wrong" }, "the credentials were refused", false},
		{"unknown key", func(c *s3store.Config) { c.AccessKey = "nobody" }, "the credentials were refused", false},
		{"bad endpoint", func(c *s3store.Config) { c.Endpoint = "127.0.0.1:7070" }, `S3 endpoint "127.0.0.1:7070" is not http(s)://HOST[:PORT]`, false},
		{"nothing listens", func(c *s3store.Config) { c.Endpoint = closed }, "the S3 endpoint cannot be reached (AWS_ENDPOINT_URL)", true},
	} {
		cfg := srv.Config(bucket, "p")
		c.edit(&cfg)
		st, err := s3store.Open(ctx, cfg)
		if err == nil {
			st.Close()
			t.Errorf("%s: Open succeeded", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || errors.Is(err, store.ErrUnavailable) != c.unavai {
			t.Errorf("%s: %v\nwant %q (unavailable: %v)", c.name, err, c.want, c.unavai)
		}
	}
}

// FuzzParseURL: any input is an error or a valid bucket and a prefix with
// no empty, . or .. element.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"s3://ksym/p", "s3://ksym", "s3://a.b-c/x/y/", "s3://ksym/../x", "s3://k@ksym/p", "s3://%zz/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, p, err := s3store.ParseURL(s)
		if err != nil {
			return
		}
		if len(b) < 3 || len(b) > 63 || strings.Trim(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
			t.Errorf("ParseURL(%q): bucket %q", s, b)
		}
		if p == "" {
			return
		}
		for _, part := range strings.Split(p, "/") {
			if part == "" || part == "." || part == ".." {
				t.Errorf("ParseURL(%q): prefix %q", s, p)
			}
		}
	})
}
