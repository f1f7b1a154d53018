package s3store_test

import (
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func readObject(t *testing.T, c *minio.Client, bucket, key string) string {
	t.Helper()
	o, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
