package s3store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Config says where the store is and how to sign requests.
type Config struct {
	// Endpoint is the S3 server's URL ("http://127.0.0.1:7070",
	// "https://s3.example.com"); empty means AWS
	// (https://s3.REGION.amazonaws.com).
	Endpoint string
	// AccessKey, SecretKey and SessionToken (optional) sign the requests.
	AccessKey, SecretKey, SessionToken string
	// Region is the bucket's region (default us-east-1).
	Region string
	// Bucket holds the store, under Prefix ("" or a path without leading
	// or trailing slashes: "ksym/prod").
	Bucket, Prefix string
	// MaxRetries is how many times a request is tried before the store
	// answers ErrUnavailable (default 3; 1: no retry).
	MaxRetries int
}

// IsURL reports whether a --store argument names an S3 store.
func IsURL(s string) bool { return strings.HasPrefix(s, "s3://") }

// ParseURL splits s3://BUCKET/PREFIX into its bucket and prefix.
func ParseURL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" {
		return "", "", fmt.Errorf("%q is not s3://BUCKET/PREFIX", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("%q: s3://BUCKET/PREFIX takes no user, query or fragment (credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", s)
	}
	bucket = u.Host
	if !validBucket(bucket) {
		return "", "", fmt.Errorf("%q: the bucket name %q is not 3 to 63 lower-case letters, digits, dots and hyphens", s, bucket)
	}
	prefix = strings.Trim(u.Path, "/")
	for _, part := range strings.Split(prefix, "/") {
		if prefix != "" && (part == "" || part == "." || part == "..") {
			return "", "", fmt.Errorf("%q: the prefix %q has an empty, . or .. element", s, prefix)
		}
	}
	return bucket, prefix, nil
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '-' {
			return false
		}
	}
	return b[0] != '.' && b[0] != '-' && b[len(b)-1] != '.' && b[len(b)-1] != '-'
}

// ConfigFromEnv makes the Config of an s3://BUCKET/PREFIX URL from the
// environment the AWS tools read: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL
// (empty: AWS itself), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_REGION or AWS_DEFAULT_REGION. getenv is
// os.Getenv when nil.
func ConfigFromEnv(storeURL string, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	bucket, prefix, err := ParseURL(storeURL)
	if err != nil {
		return Config{}, err
	}
	c := Config{Bucket: bucket, Prefix: prefix,
		Endpoint:  firstSet(getenv, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
		AccessKey: getenv("AWS_ACCESS_KEY_ID"), SecretKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: getenv("AWS_SESSION_TOKEN"),
		Region:       firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION"),
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return Config{}, errors.New("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a server other than AWS)")
	}
	return c, nil
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}
