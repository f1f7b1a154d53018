// Package s3store is the store of ksym serve for a fleet: everything in one
// bucket of any S3-compatible object store (AWS S3, MinIO, versitygw,
// Ceph RGW, ...), metadata included, so that several stateless ksym serve
// processes in front of the bucket answer any request.
//
// Layout under s3://BUCKET/PREFIX/ (docs/serve.md "The S3 store"):
//
//	snapshots/ID.json               a snapshot's description: what makes it visible
//	snapshot-data/ID.NONCE.ksnap    its file, written first; the description names it
//	reports/ID.json                 a report document (kind and time in x-amz-meta-*)
//	occurrences/REPORTID-INDEX.json one crash occurrence, aggregated on read
//	debug/BUILDID/KIND              debug files (multipart beyond 16 MiB)
//
// No object is read, modified and written back. Descriptions, reports and
// occurrences are created with If-None-Match: * (a conditional create:
// one writer wins, the others read what it wrote), after the data they
// describe; an object PUT is atomic, an unfinished multipart upload is
// invisible. Data without a description is never served.
package s3store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ksym-dev/ksym/store"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Store is a store.Store in an S3 bucket.
type Store struct {
	c      *minio.Client
	tr     *http.Transport
	bucket string
	prefix string // "" or "a/b/"
	where  string // s3://BUCKET/PREFIX at ENDPOINT, for messages

	// cache holds objects that never change once written, by key and
	// ETag (occurrences, snapshot descriptions), so that listing them
	// again fetches only the new ones.
	mu    sync.Mutex
	cache map[string][]byte
}

var _ store.Store = (*Store)(nil)

// partSize is the part size of multipart uploads (debug files), also the
// size below which an upload is one PUT; an upload holds one part in
// memory.
const partSize = 16 << 20

// maxCached bounds the cache of immutable objects (entries, each a few
// hundred bytes).
const maxCached = 200_000

// fetchers is how many objects Buckets and Snapshots fetch at once.
const fetchers = 16

// Open connects to the bucket of c and checks that it is there and that
// the credentials are accepted.
func Open(ctx context.Context, c Config) (*Store, error) {
	cl, tr, where, err := newClient(c)
	if err != nil {
		return nil, err
	}
	s := &Store{c: cl, tr: tr, bucket: c.Bucket, cache: map[string][]byte{}}
	if c.Prefix != "" {
		s.prefix = strings.Trim(c.Prefix, "/") + "/"
	}
	s.where = fmt.Sprintf("s3://%s/%s at %s", c.Bucket, s.prefix, where)
	// A listing (not a HEAD, whose errors have no body to tell a missing
	// bucket from refused credentials) checks the bucket and the keys.
	for o := range cl.ListObjectsIter(ctx, c.Bucket, minio.ListObjectsOptions{Prefix: s.prefix, MaxKeys: 1}) {
		if o.Err != nil {
			return nil, s.openError(o.Err)
		}
		break
	}
	return s, nil
}

// newClient makes the client of c's endpoint, and returns its transport
// and its URL.
func newClient(c Config) (*minio.Client, *http.Transport, string, error) {
	host, secure, lookup := "s3.amazonaws.com", true, minio.BucketLookupAuto
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, nil, "", fmt.Errorf("S3 endpoint %q is not http(s)://HOST[:PORT]", c.Endpoint)
		}
		// A custom endpoint is addressed path-style (http://HOST/BUCKET/KEY):
		// its DNS rarely has a name per bucket.
		host, secure, lookup = u.Host, u.Scheme == "https", minio.BucketLookupPath
	}
	region := cmp.Or(c.Region, "us-east-1")
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, nil, "", err
	}
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = time.Minute
	cl, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, c.SessionToken),
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
		Transport:    tr,
		MaxRetries:   cmp.Or(c.MaxRetries, 3),
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("S3 endpoint %s: %w", host, err)
	}
	scheme := "http"
	if secure {
		scheme = "https"
	}
	return cl, tr, scheme + "://" + host, nil
}

// openError explains why Open failed.
func (s *Store) openError(err error) error {
	r := minio.ToErrorResponse(err)
	switch {
	case r.Code == "NoSuchBucket":
		return fmt.Errorf("%s: the bucket %s does not exist: create it first", s.where, s.bucket)
	case r.StatusCode == http.StatusForbidden || r.Code == "InvalidAccessKeyId" || r.Code == "SignatureDoesNotMatch" ||
		r.Code == "AccessDenied" || r.Code == "InvalidToken" || r.Code == "ExpiredToken" ||
		r.Code == "XAdminUserNotFound": // versitygw's answer to an unknown access key
		return fmt.Errorf("%s: the credentials were refused (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): %v", s.where, err)
	case r.Code == "":
		return fmt.Errorf("%s: the S3 endpoint cannot be reached (AWS_ENDPOINT_URL): %w: %v", s.where, store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w: %v", s.where, store.ErrUnavailable, err)
}

// Close closes the idle connections to the server.
func (s *Store) Close() error {
	s.tr.CloseIdleConnections()
	return nil
}

func (s *Store) key(parts ...string) string { return s.prefix + path.Join(parts...) }

// isNotFound: the object is not there.
func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	// Not any 404: a missing bucket, or versitygw's unknown access key
	// (XAdminUserNotFound), is the store unavailable, not an object absent.
	return r.Code == "NoSuchKey" || r.Code == "NotFound"
}

// isExists: a conditional create found the key taken.
func isExists(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "PreconditionFailed" || r.StatusCode == http.StatusPreconditionFailed
}

// isConflict: a conditional create raced with another one in flight (S3
// answers 409 ConditionalRequestConflict); trying again settles it.
func isConflict(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "ConditionalRequestConflict" || r.StatusCode == http.StatusConflict
}

// fail wraps an S3 error: ErrNotFound for a missing object, the context's
// error for a canceled request, else ErrUnavailable.
func (s *Store) fail(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidID), errors.Is(err, store.ErrUnavailable):
		return err
	case isNotFound(err):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %s: %v", store.ErrUnavailable, s.where, what, err)
}

// get reads a whole object and its user metadata.
func (s *Store) get(ctx context.Context, key string) ([]byte, minio.ObjectInfo, error) {
	obj, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, minio.ObjectInfo{}, err
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return nil, info, err
	}
	b, err := io.ReadAll(obj)
	return b, info, err
}

// create writes a small object only if the key is free: false when
// another writer created it first.
func (s *Store) create(ctx context.Context, key string, data []byte, meta map[string]string) (bool, error) {
	for attempt := 0; ; attempt++ {
		opts := minio.PutObjectOptions{ContentType: "application/json", UserMetadata: meta}
		opts.SetMatchETagExcept("*")
		_, err := s.c.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
		switch {
		case err == nil:
			return true, nil
		case isExists(err):
			return false, nil
		case isConflict(err) && attempt < 5:
			time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
			continue
		}
		return false, err
	}
}

// description is a snapshot description as stored: the snapshot and the
// object holding its file, with the file's checksum.
type description struct {
	store.Snapshot
	Data   string `json:"data"`   // the key under the prefix
	SHA256 string `json:"sha256"` // of the file
}

// PutSnapshot implements store.Store: the file goes to a key of its own,
// then the description is created if no other writer created it first.
func (s *Store) PutSnapshot(ctx context.Context, m store.Snapshot, data []byte) (store.Snapshot, bool, error) {
	m.ID = store.SnapshotID(m.BootID, data)
	if old, err := s.Snapshot(ctx, m.ID); err == nil {
		return old, false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Snapshot{}, false, err
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	sum := sha256.Sum256(data)
	d := description{Snapshot: m, Data: path.Join("snapshot-data", m.ID+"."+hex.EncodeToString(nonce[:])+".ksnap"), SHA256: hex.EncodeToString(sum[:])}
	d.Size = int64(len(data))
	if d.Uploaded.IsZero() {
		d.Uploaded = time.Now().UTC()
	}
	d.Captured = d.Captured.UTC()
	_, err := s.c.PutObject(ctx, s.bucket, s.key(d.Data), bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: partSize})
	if err != nil {
		return store.Snapshot{}, false, s.fail("snapshot "+m.ID, err)
	}
	js, err := json.Marshal(d)
	if err != nil {
		return store.Snapshot{}, false, err
	}
	created, err := s.create(ctx, s.key("snapshots", m.ID+".json"), js, nil)
	if err != nil {
		// The description may have been written all the same (an answer
		// lost): the file stays, described or not.
		return store.Snapshot{}, false, s.fail("snapshot "+m.ID, err)
	}
	if created {
		return d.Snapshot, true, nil
	}
	old, err := s.description(ctx, m.ID)
	if err != nil {
		return store.Snapshot{}, false, err
	}
	if old.Data == d.Data {
		// This writer's own description, created by a first try whose
		// answer was lost before a retry.
		return old.Snapshot, true, nil
	}
	// Another writer's description won: this file is described by
	// nothing.
	s.c.RemoveObject(context.WithoutCancel(ctx), s.bucket, s.key(d.Data), minio.RemoveObjectOptions{})
	return old.Snapshot, false, nil
}

func (s *Store) description(ctx context.Context, id string) (description, error) {
	if err := store.CheckID(id); err != nil {
		return description{}, err
	}
	b, _, err := s.get(ctx, s.key("snapshots", id+".json"))
	if err != nil {
		return description{}, s.fail("snapshot "+id, err)
	}
	return s.parseDescription(id, b)
}

func (s *Store) parseDescription(id string, b []byte) (description, error) {
	var d description
	if err := json.Unmarshal(b, &d); err != nil || d.ID != id || !strings.HasPrefix(d.Data, "snapshot-data/"+id+".") {
		return description{}, fmt.Errorf("%w: %s: snapshot %s: the description is not one ksym wrote (%v)", store.ErrUnavailable, s.where, id, err)
	}
	return d, nil
}

// Snapshot implements store.Store.
func (s *Store) Snapshot(ctx context.Context, id string) (store.Snapshot, error) {
	d, err := s.description(ctx, id)
	return d.Snapshot, err
}

// SnapshotData implements store.Store; the file is checked against the
// checksum in its description.
func (s *Store) SnapshotData(ctx context.Context, id string) ([]byte, error) {
	d, err := s.description(ctx, id)
	if err != nil {
		return nil, err
	}
	b, _, err := s.get(ctx, s.key(d.Data))
	if err != nil {
		return nil, s.fail("snapshot "+id, err) // not found: deleted meanwhile
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d.SHA256 {
		return nil, fmt.Errorf("%w: %s: snapshot %s: %s does not match its checksum", store.ErrUnavailable, s.where, id, d.Data)
	}
	return b, nil
}

// Snapshots implements store.Store: it lists the descriptions and reads
// those it has not read before.
func (s *Store) Snapshots(ctx context.Context, f store.SnapshotFilter) ([]store.Snapshot, error) {
	docs, err := s.readAll(ctx, "snapshots/", ".json")
	if err != nil {
		return nil, err
	}
	out := []store.Snapshot{}
	for _, doc := range docs {
		id := strings.TrimSuffix(path.Base(doc.key), ".json")
		if store.CheckID(id) != nil {
			continue // not ksym's
		}
		d, err := s.parseDescription(id, doc.data)
		if err != nil {
			return nil, err
		}
		m := d.Snapshot
		if (f.Release == "" || m.Release == f.Release) && (f.Hostname == "" || m.Hostname == f.Hostname) &&
			(f.BuildID == "" || m.BuildID == f.BuildID) {
			out = append(out, m)
		}
	}
	sortSnapshots(out)
	return out, nil
}

// DeleteSnapshot implements store.Store: the description first (the
// snapshot is then invisible), then its file.
func (s *Store) DeleteSnapshot(ctx context.Context, id string) error {
	d, err := s.description(ctx, id)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.key("snapshots", id+".json"), minio.RemoveObjectOptions{}); err != nil {
		return s.fail("snapshot "+id, err)
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(d.Data), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return s.fail("snapshot "+id, err)
	}
	return nil
}

// PutReport implements store.Store: the document first, then one object
// per occurrence, each created once (so that a report stored again, or
// stored by two replicas at once, counts once, and a writer that died
// between the two is completed by the next).
func (s *Store) PutReport(ctx context.Context, r store.Report, occs []store.Occurrence) error {
	if err := store.CheckID(r.ID); err != nil {
		return err
	}
	if r.Created.IsZero() {
		r.Created = time.Now().UTC()
	}
	meta := map[string]string{"Kind": r.Kind, "Created": r.Created.UTC().Format(time.RFC3339Nano)}
	if _, err := s.create(ctx, s.key("reports", r.ID+".json"), r.Data, meta); err != nil {
		return s.fail("report "+r.ID, err)
	}
	for _, o := range occs {
		o.ReportID = r.ID
		if o.Seen.IsZero() {
			o.Seen = r.Created
		}
		js, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if _, err := s.create(ctx, s.key("occurrences", r.ID+"-"+strconv.Itoa(o.Index)+".json"), js, nil); err != nil {
			return s.fail("report "+r.ID, err)
		}
	}
	return nil
}

// Report implements store.Store.
func (s *Store) Report(ctx context.Context, id string) (store.Report, error) {
	if err := store.CheckID(id); err != nil {
		return store.Report{}, err
	}
	b, info, err := s.get(ctx, s.key("reports", id+".json"))
	if err != nil {
		return store.Report{}, s.fail("report "+id, err)
	}
	r := store.Report{ID: id, Kind: info.UserMetadata["Kind"], Data: b}
	r.Created, err = time.Parse(time.RFC3339Nano, info.UserMetadata["Created"])
	if err != nil || r.Kind == "" {
		return store.Report{}, fmt.Errorf("%w: %s: report %s has no kind or time (x-amz-meta-kind, x-amz-meta-created)", store.ErrUnavailable, s.where, id)
	}
	return r, nil
}

// Buckets implements store.Store: every occurrence object, aggregated.
func (s *Store) Buckets(ctx context.Context) ([]store.Bucket, error) {
	docs, err := s.readAll(ctx, "occurrences/", ".json")
	if err != nil {
		return nil, err
	}
	occs := make([]store.Occurrence, 0, len(docs))
	for _, d := range docs {
		var o store.Occurrence
		if err := json.Unmarshal(d.data, &o); err != nil {
			return nil, fmt.Errorf("%w: %s: %s is not an occurrence ksym wrote: %v", store.ErrUnavailable, s.where, d.key, err)
		}
		occs = append(occs, o)
	}
	return store.Aggregate(occs), nil
}

// PutDebug implements store.Store: one PUT up to 16 MiB, a multipart
// upload beyond, which S3 makes visible only when it is completed (an
// upload whose reader fails is aborted).
func (s *Store) PutDebug(ctx context.Context, buildID, kind string, r io.Reader) error {
	if err := store.CheckBuildID(buildID); err != nil {
		return err
	}
	if err := store.CheckDebugKind(kind); err != nil {
		return err
	}
	_, err := s.c.PutObject(ctx, s.bucket, s.key("debug", buildID, kind), r, -1,
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: partSize})
	return s.fail(kind+" "+buildID, err)
}

// OpenDebug implements store.Store.
func (s *Store) OpenDebug(ctx context.Context, buildID, kind string) (io.ReadCloser, int64, error) {
	if err := store.CheckBuildID(buildID); err != nil {
		return nil, 0, err
	}
	if err := store.CheckDebugKind(kind); err != nil {
		return nil, 0, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.key("debug", buildID, kind), minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, s.fail(kind+" "+buildID, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, 0, s.fail(kind+" "+buildID, err)
	}
	return obj, info.Size, nil
}

// sortSnapshots orders snapshots as store.Store.Snapshots returns them:
// the latest captured first, then the latest uploaded, then by ID.
func sortSnapshots(l []store.Snapshot) {
	slices.SortFunc(l, func(a, b store.Snapshot) int {
		if c := b.Captured.Compare(a.Captured); c != 0 {
			return c
		}
		if c := b.Uploaded.Compare(a.Uploaded); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

type doc struct {
	key  string
	data []byte
}

// readAll lists the objects under dir ending in suffix and reads them,
// fetching only those not cached (by key and ETag: these objects are
// written once).
func (s *Store) readAll(ctx context.Context, dir, suffix string) ([]doc, error) {
	var docs []doc
	var missing []int
	var etags []string
	for o := range s.c.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(dir) + "/", Recursive: true}) {
		if o.Err != nil {
			return nil, s.fail("list "+dir, o.Err)
		}
		if !strings.HasSuffix(o.Key, suffix) {
			continue
		}
		s.mu.Lock()
		b, ok := s.cache[o.Key+"\x00"+o.ETag]
		s.mu.Unlock()
		docs = append(docs, doc{key: o.Key, data: b})
		etags = append(etags, o.ETag)
		if !ok {
			missing = append(missing, len(docs)-1)
		}
	}
	errs := make([]error, len(missing))
	var wg sync.WaitGroup
	sem := make(chan struct{}, fetchers)
	for j, i := range missing {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			b, info, err := s.get(ctx, docs[i].key)
			if isNotFound(err) {
				return // deleted since the listing
			}
			if err != nil {
				errs[j] = s.fail("read "+docs[i].key, err)
				return
			}
			docs[i].data = b
			s.mu.Lock()
			if len(s.cache) < maxCached && info.ETag == etags[i] {
				s.cache[docs[i].key+"\x00"+info.ETag] = b
			}
			s.mu.Unlock()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := docs[:0]
	for _, d := range docs {
		if d.data != nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// Sweep removes the snapshot files that no description names and that
// are older than age: those of writers killed between a file and its
// description, or of uploads that failed with S3 down. A file younger
// than age may belong to an upload in progress. It returns how many it
// removed.
func (s *Store) Sweep(ctx context.Context, age time.Duration) (int, error) {
	removed := 0
	described := map[string]string{} // ID -> the key its description names, "" for none
	for o := range s.c.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key("snapshot-data") + "/", Recursive: true}) {
		if o.Err != nil {
			return removed, s.fail("sweep", o.Err)
		}
		name := strings.TrimPrefix(o.Key, s.prefix)
		id, _, ok := strings.Cut(path.Base(name), ".")
		if !ok || store.CheckID(id) != nil || time.Since(o.LastModified) < age {
			continue
		}
		data, ok := described[id]
		if !ok {
			d, err := s.description(ctx, id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return removed, err
			}
			data, described[id] = d.Data, d.Data
		}
		if data == name {
			continue
		}
		if err := s.c.RemoveObject(ctx, s.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return removed, s.fail("sweep", err)
		}
		removed++
	}
	return removed, nil
}
