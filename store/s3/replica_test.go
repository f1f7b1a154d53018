package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/store"
	"github.com/ksym-dev/ksym/store/s3/s3test"
	"github.com/minio/minio-go/v7"
)

var ctx = context.Background()

// keys lists the object keys under prefix in bucket, straight from the
// server.
func keys(t *testing.T, srv *s3test.Server, bucket, prefix string) []string {
	t.Helper()
	out := []string{}
	for o := range srv.Client().ListObjectsIter(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out = append(out, o.Key)
	}
	return out
}

// TestReplicas: two stores over one bucket and prefix, as two ksym serve
// processes would be, see each other's writes: a boot uploaded to one is
// a duplicate on the other, buckets count the occurrences both wrote, a
// delete on one is seen by the other. Another prefix of the bucket is
// another store.
func TestReplicas(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	a, b := srv.Open(bucket, "fleet"), srv.Open(bucket, "fleet")
	other := srv.Open(bucket, "fleet2")
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

	m, created, err := a.PutSnapshot(ctx, store.Snapshot{BootID: "boot-1", Release: "6.1.0-56-amd64", Hostname: "h1", Captured: t0}, []byte("from a"))
	if err != nil || !created {
		t.Fatalf("put on a: %v %v", created, err)
	}
	again, created, err := b.PutSnapshot(ctx, store.Snapshot{BootID: "boot-1", Release: "6.1.0-56-amd64", Hostname: "h1", Captured: t0}, []byte("from b"))
	if err != nil || created || again.ID != m.ID || !again.Uploaded.Equal(m.Uploaded) {
		t.Fatalf("the same boot on b: %+v created=%v %v, want a's %+v", again, created, err, m)
	}
	if d, err := b.SnapshotData(ctx, m.ID); err != nil || string(d) != "from a" {
		t.Errorf("b reads %q, %v: want a's file", d, err)
	}
	if l, err := b.Snapshots(ctx, store.SnapshotFilter{Hostname: "h1"}); err != nil || len(l) != 1 || l[0].ID != m.ID {
		t.Errorf("b lists %+v, %v", l, err)
	}
	if l, err := other.Snapshots(ctx, store.SnapshotFilter{}); err != nil || len(l) != 0 {
		t.Errorf("another prefix lists %+v, %v: want nothing", l, err)
	}
	// b's file, which lost, is gone: one description, one file.
	if k := keys(t, srv, bucket, "fleet/snapshot"); !reflect.DeepEqual(k, []string{
		"fleet/snapshot-data/" + m.ID + "." + dataNonce(t, srv, bucket, m.ID) + ".ksnap", "fleet/snapshots/" + m.ID + ".json"}) {
		t.Errorf("objects %v", k)
	}

	// Occurrences written by both.
	r1, r2 := store.ReportID("log on a"), store.ReportID("log on b")
	occ := func(rep, host string, at time.Time) store.Occurrence {
		return store.Occurrence{Signature: "oops: f", Kind: "oops", Title: "BUG in f (" + host + ")", Release: "6.1", Hostname: host, ReportID: rep, Seen: at}
	}
	if err := a.PutReport(ctx, store.Report{ID: r1, Kind: "decode", Created: t0, Data: []byte("{}")}, []store.Occurrence{occ(r1, "h1", t0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Buckets(ctx); err != nil { // b caches what it read
		t.Fatal(err)
	}
	if err := b.PutReport(ctx, store.Report{ID: r2, Kind: "decode", Created: t0.Add(time.Hour), Data: []byte("{}")}, []store.Occurrence{occ(r2, "h2", t0.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	// The same report again on a (a second replica given the same log).
	if err := a.PutReport(ctx, store.Report{ID: r2, Kind: "decode", Created: t0.Add(2 * time.Hour), Data: []byte("{}")}, []store.Occurrence{occ(r2, "h2", t0.Add(2*time.Hour))}); err != nil {
		t.Fatal(err)
	}
	want := []store.Bucket{{Signature: "oops: f", Kind: "oops", Title: "BUG in f (h2)", Count: 2, First: t0, Last: t0.Add(time.Hour),
		Kernels: []string{"6.1"}, Hosts: []string{"h1", "h2"}, PerDay: map[string]int{"2026-12-01": 2}, LastReport: r2}}
	for name, s := range map[string]store.Store{"a": a, "b": b} {
		got, err := s.Buckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i].First, got[i].Last = got[i].First.UTC(), got[i].Last.UTC()
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("buckets on %s:\n%+v\nwant\n%+v", name, got, want)
		}
	}
	if rep, err := a.Report(ctx, r2); err != nil || !rep.Created.Equal(t0.Add(time.Hour)) {
		t.Errorf("a reads b's report: %+v %v", rep, err)
	}

	// A delete on b is seen by a; the boot may then be stored again.
	if err := b.DeleteSnapshot(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Snapshot(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a after b's delete: %v, want ErrNotFound", err)
	}
	if l, _ := a.Snapshots(ctx, store.SnapshotFilter{}); len(l) != 0 {
		t.Errorf("a lists %+v after b's delete", l)
	}
	if k := keys(t, srv, bucket, "fleet/snapshot"); len(k) != 0 {
		t.Errorf("objects left by the delete: %v", k)
	}
}

// dataNonce is the nonce of a snapshot's file, from its description.
func dataNonce(t *testing.T, srv *s3test.Server, bucket, id string) string {
	t.Helper()
	for _, k := range keys(t, srv, bucket, "fleet/snapshot-data/"+id+".") {
		return k[len("fleet/snapshot-data/"+id+".") : len(k)-len(".ksnap")]
	}
	return "(none)"
}

// TestReplicasRace: eight uploads of one boot at once, four through each
// replica: exactly one is created, every caller gets its description, and
// the files of the others are removed.
func TestReplicasRace(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	reps := []store.Store{srv.Open(bucket, ""), srv.Open(bucket, "")}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var created int
	got := map[string]bool{}
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, c, err := reps[i%2].PutSnapshot(ctx, store.Snapshot{BootID: "raced", Release: "r"}, []byte(fmt.Sprintf("capture %d", i)))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if c {
				created++
			}
			got[fmt.Sprintf("%s %d %v", m.ID, m.Size, m.Uploaded.UnixNano())] = true
		}()
	}
	wg.Wait()
	if created != 1 || len(got) != 1 {
		t.Errorf("%d created, descriptions %v: want one created, one description for all", created, got)
	}
	if k := keys(t, srv, bucket, "snapshot-data/"); len(k) != 1 {
		t.Errorf("files %v: want the winner's only", k)
	}
}

// TestConditionalCreate checks that the server honours If-None-Match: *
// (the store's dedup across replicas rests on it): a second create of a
// key fails with 412 and leaves the first object.
func TestConditionalCreate(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket()
	c := srv.Client()
	for i, body := range []string{"first", "second"} {
		opts := minio.PutObjectOptions{}
		opts.SetMatchETagExcept("*")
		_, err := c.PutObject(ctx, bucket, "k", stringsReader(body), int64(len(body)), opts)
		if i == 0 && err != nil {
			t.Fatal(err)
		}
		if i == 1 && minio.ToErrorResponse(err).StatusCode != 412 {
			t.Fatalf("second conditional create: %v, want 412 Precondition Failed", err)
		}
	}
	if b := readObject(t, c, bucket, "k"); b != "first" {
		t.Errorf("object %q, want first", b)
	}
}
