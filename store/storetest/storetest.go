// Package storetest is the conformance suite of store.Store: every backend
// runs Run in its tests (docs/serve.md has the contract it checks).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/store"
)

// Run checks the contract of store.Store on stores newStore makes; each
// subtest gets a fresh, empty store. newStore may register cleanups on t.
// The snapshot data here are opaque bytes: a store does not parse them.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"SnapshotRoundTrip", testSnapshotRoundTrip},
		{"SnapshotDedupByBootID", testSnapshotDedup},
		{"SnapshotFilter", testSnapshotFilter},
		{"SnapshotDelete", testSnapshotDelete},
		{"SnapshotConcurrentPuts", testSnapshotConcurrent},
		{"ReportsAndBuckets", testReportsAndBuckets},
		{"Debug", testDebug},
		{"InvalidIDs", testInvalidIDs},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			c.fn(t, s)
		})
	}
}

var ctx = context.Background()

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func snap(boot, release, host string, captured time.Time) store.Snapshot {
	return store.Snapshot{BootID: boot, Release: release, BuildID: "b" + release, Hostname: host, Arch: "x86_64",
		Captured: captured, Symbols: 100, Modules: 3}
}

func testSnapshotRoundTrip(t *testing.T, s store.Store) {
	data := []byte("snapshot one")
	m, created, err := s.PutSnapshot(ctx, snap("boot-1", "6.1.0-56-amd64", "h1", t0), data)
	if err != nil || !created {
		t.Fatalf("PutSnapshot = %v, %v", created, err)
	}
	if m.ID != store.SnapshotID("boot-1", data) || m.Size != int64(len(data)) || m.Uploaded.IsZero() {
		t.Errorf("stored %+v: want ID %s, size %d, an upload time", m, store.SnapshotID("boot-1", data), len(data))
	}
	got, err := s.Snapshot(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Captured.Equal(t0) || !got.Uploaded.Equal(m.Uploaded) {
		t.Errorf("times: got %v %v, want %v %v", got.Captured, got.Uploaded, t0, m.Uploaded)
	}
	got.Captured, got.Uploaded = m.Captured, m.Uploaded
	if !reflect.DeepEqual(got, m) {
		t.Errorf("Snapshot = %+v, want %+v", got, m)
	}
	b, err := s.SnapshotData(ctx, m.ID)
	if err != nil || !bytes.Equal(b, data) {
		t.Errorf("SnapshotData = %q, %v", b, err)
	}
}

func testSnapshotDedup(t *testing.T, s store.Store) {
	first, _, err := s.PutSnapshot(ctx, snap("boot-1", "r", "h", t0), []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := s.PutSnapshot(ctx, snap("boot-1", "r", "h", t0.Add(time.Hour)), []byte("second capture"))
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("same boot again: %+v created=%v err=%v, want %s not created", again, created, err, first.ID)
	}
	if b, _ := s.SnapshotData(ctx, first.ID); string(b) != "first" {
		t.Errorf("data after dedup = %q, want the first", b)
	}
	// No boot ID: deduplicated by content.
	a, created1, _ := s.PutSnapshot(ctx, snap("", "r", "h", t0), []byte("x"))
	b, created2, _ := s.PutSnapshot(ctx, snap("", "r", "h", t0), []byte("x"))
	c, created3, _ := s.PutSnapshot(ctx, snap("", "r", "h", t0), []byte("y"))
	if !created1 || created2 || !created3 || a.ID != b.ID || a.ID == c.ID {
		t.Errorf("without boot IDs: %v %v %v, IDs %s %s %s", created1, created2, created3, a.ID, b.ID, c.ID)
	}
}

func testSnapshotFilter(t *testing.T, s store.Store) {
	put := func(boot, rel, host string, at time.Time) string {
		m, _, err := s.PutSnapshot(ctx, snap(boot, rel, host, at), []byte(boot))
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	a := put("a", "6.1", "h1", t0)
	b := put("b", "6.1", "h2", t0.Add(time.Hour))
	c := put("c", "6.18", "h1", t0.Add(2*time.Hour))
	ids := func(f store.SnapshotFilter) []string {
		l, err := s.Snapshots(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, m := range l {
			out = append(out, m.ID)
		}
		return out
	}
	for _, c := range []struct {
		f    store.SnapshotFilter
		want []string
	}{
		{store.SnapshotFilter{}, []string{c, b, a}},
		{store.SnapshotFilter{Release: "6.1"}, []string{b, a}},
		{store.SnapshotFilter{Hostname: "h1"}, []string{c, a}},
		{store.SnapshotFilter{Release: "6.1", Hostname: "h1"}, []string{a}},
		{store.SnapshotFilter{BuildID: "b6.18"}, []string{c}},
		{store.SnapshotFilter{Release: "5.10"}, []string{}},
	} {
		if got := ids(c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Snapshots(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
}

func testSnapshotDelete(t *testing.T, s store.Store) {
	m, _, err := s.PutSnapshot(ctx, snap("boot-1", "r", "h", t0), []byte("data"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSnapshot(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snapshot(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Snapshot after delete: %v, want ErrNotFound", err)
	}
	if _, err := s.SnapshotData(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SnapshotData after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSnapshot(ctx, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if l, _ := s.Snapshots(ctx, store.SnapshotFilter{}); len(l) != 0 {
		t.Errorf("list after delete: %v", l)
	}
	// The boot may be uploaded again.
	if _, created, err := s.PutSnapshot(ctx, snap("boot-1", "r", "h", t0), []byte("data")); err != nil || !created {
		t.Errorf("put after delete: created=%v err=%v", created, err)
	}
}

func testSnapshotConcurrent(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	created := make(chan bool, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, c, err := s.PutSnapshot(ctx, snap("same-boot", "r", "h", t0), []byte("capture "+strings.Repeat("x", i)))
			if err != nil {
				t.Error(err)
			}
			created <- c
		}()
	}
	wg.Wait()
	close(created)
	n := 0
	for c := range created {
		if c {
			n++
		}
	}
	l, err := s.Snapshots(ctx, store.SnapshotFilter{})
	if err != nil || len(l) != 1 {
		t.Fatalf("eight puts of one boot: %d listed (%v)", len(l), err)
	}
	if n < 1 {
		t.Errorf("no put said it created the snapshot")
	}
	b, err := s.SnapshotData(ctx, l[0].ID)
	if err != nil || !strings.HasPrefix(string(b), "capture ") || int64(len(b)) != l[0].Size {
		t.Errorf("data %q, %v: want one whole capture, the one described (size %d)", b, err, l[0].Size)
	}
}

func testReportsAndBuckets(t *testing.T, s store.Store) {
	id1, id2 := store.ReportID("log one"), store.ReportID("log two")
	day2 := t0.Add(24 * time.Hour)
	occ := func(sig, title, rel, host, rep string, i int, at time.Time) store.Occurrence {
		return store.Occurrence{Signature: sig, Kind: "oops", Title: title, Release: rel, Hostname: host, ReportID: rep, Index: i, Seen: at}
	}
	if err := s.PutReport(ctx, store.Report{ID: id1, Kind: "decode", Created: t0, Data: []byte(`{"n":1}`)}, []store.Occurrence{
		occ("oops: f", "BUG in f", "6.1", "h1", id1, 0, t0),
		occ("oops: g", "BUG in g", "6.1", "h1", id1, 1, t0),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutReport(ctx, store.Report{ID: id2, Kind: "decode", Created: day2, Data: []byte(`{"n":2}`)}, []store.Occurrence{
		occ("oops: f", "BUG in f again", "6.18", "h2", id2, 0, day2),
	}); err != nil {
		t.Fatal(err)
	}
	// Stored again: nothing changes, nothing counts twice.
	if err := s.PutReport(ctx, store.Report{ID: id2, Kind: "decode", Created: day2.Add(time.Hour), Data: []byte(`{"n":2}`)}, []store.Occurrence{
		occ("oops: f", "BUG in f again", "6.18", "h2", id2, 0, day2.Add(time.Hour)),
	}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Report(ctx, id1)
	if err != nil || string(r.Data) != `{"n":1}` || r.Kind != "decode" || !r.Created.Equal(t0) {
		t.Errorf("Report = %+v %q, %v", r, r.Data, err)
	}
	got, err := s.Buckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Bucket{
		{Signature: "oops: f", Kind: "oops", Title: "BUG in f again", Count: 2, First: t0, Last: day2,
			Kernels: []string{"6.1", "6.18"}, Hosts: []string{"h1", "h2"},
			PerDay: map[string]int{"2026-12-01": 1, "2026-12-02": 1}, LastReport: id2},
		{Signature: "oops: g", Kind: "oops", Title: "BUG in g", Count: 1, First: t0, Last: t0,
			Kernels: []string{"6.1"}, Hosts: []string{"h1"}, PerDay: map[string]int{"2026-12-01": 1}, LastReport: id1},
	}
	for i := range got {
		got[i].First, got[i].Last = got[i].First.UTC(), got[i].Last.UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Buckets =\n%+v\nwant\n%+v", got, want)
	}
	if _, err := s.Report(ctx, store.ReportID("never stored")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing report: %v, want ErrNotFound", err)
	}
}

func testDebug(t *testing.T, s store.Store) {
	const id = "0123456789abcdef0123456789abcdef01234567"
	if _, _, err := s.OpenDebug(ctx, id, store.DebugInfo); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("before upload: %v, want ErrNotFound", err)
	}
	for _, content := range []string{"old debug info", "new debug info"} {
		if err := s.PutDebug(ctx, id, store.DebugInfo, strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		r, size, err := s.OpenDebug(ctx, id, store.DebugInfo)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if string(b) != content || size != int64(len(content)) {
			t.Errorf("OpenDebug = %q (%d), want %q", b, size, content)
		}
	}
	if _, _, err := s.OpenDebug(ctx, id, store.Executable); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("executable never uploaded: %v, want ErrNotFound", err)
	}
	// A failing upload leaves nothing.
	const id2 = "aabbccdd"
	err := s.PutDebug(ctx, id2, store.Executable, io.MultiReader(strings.NewReader("part"), errReader{}))
	if err == nil {
		t.Fatal("an upload whose reader fails succeeded")
	}
	if _, _, err := s.OpenDebug(ctx, id2, store.Executable); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a failed upload: %v, want ErrNotFound", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func testInvalidIDs(t *testing.T, s store.Store) {
	for _, id := range []string{"", "../../etc/passwd", "..", "0123456789abcdef0123456789abcdeF",
		"0123456789abcdef0123456789abcde/", "0123456789abcdef0123456789abcdef0", "a/../../b"} {
		if _, err := s.Snapshot(ctx, id); !errors.Is(err, store.ErrInvalidID) {
			t.Errorf("Snapshot(%q): %v, want ErrInvalidID", id, err)
		}
		if _, err := s.SnapshotData(ctx, id); !errors.Is(err, store.ErrInvalidID) {
			t.Errorf("SnapshotData(%q): %v, want ErrInvalidID", id, err)
		}
		if err := s.DeleteSnapshot(ctx, id); !errors.Is(err, store.ErrInvalidID) {
			t.Errorf("DeleteSnapshot(%q): %v, want ErrInvalidID", id, err)
		}
		if _, err := s.Report(ctx, id); !errors.Is(err, store.ErrInvalidID) {
			t.Errorf("Report(%q): %v, want ErrInvalidID", id, err)
		}
		if err := s.PutReport(ctx, store.Report{ID: id, Kind: "decode", Data: []byte("{}")}, nil); !errors.Is(err, store.ErrInvalidID) {
			t.Errorf("PutReport(%q): %v, want ErrInvalidID", id, err)
		}
	}
	for _, bid := range []string{"", "../x", "ABCD", "abc", "ab/cd", strings.Repeat("ab", 65)} {
		if err := s.PutDebug(ctx, bid, store.DebugInfo, strings.NewReader("x")); !errors.Is(err, store.ErrInvalidID) {
			t.Errorf("PutDebug(%q): %v, want ErrInvalidID", bid, err)
		}
		if _, _, err := s.OpenDebug(ctx, bid, store.DebugInfo); !errors.Is(err, store.ErrInvalidID) {
			t.Errorf("OpenDebug(%q): %v, want ErrInvalidID", bid, err)
		}
	}
	for _, kind := range []string{"", "source", "../debuginfo"} {
		if err := s.PutDebug(ctx, "abcd", kind, strings.NewReader("x")); !errors.Is(err, store.ErrInvalidID) {
			t.Errorf("PutDebug(kind %q): %v, want ErrInvalidID", kind, err)
		}
	}
}
