package s3store_test

import (
	"testing"

	"github.com/ksym-dev/ksym/store"
	"github.com/ksym-dev/ksym/store/s3/s3test"
	"github.com/ksym-dev/ksym/store/storetest"
)

// TestConformance runs the store contract against a real S3 server
// (versitygw), each subtest in a bucket of its own, under a prefix.
func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return srv.Open(srv.NewBucket(), "ksym/test")
	})
}
