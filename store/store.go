// Package store keeps what ksym serve serves: symbol snapshots with their
// metadata, decoded reports behind permalinks, the occurrences that make
// crash buckets, and debug files by build ID.
//
// Store is the one interface every backend implements (store/local: a
// directory with metadata in SQLite; an S3 backend holds the same in
// objects). Its contract, which storetest.Run checks, is in docs/serve.md:
// every object is whole or absent, IDs are derived from content so that
// replicas agree without coordination, and nothing shared is rewritten
// (buckets are aggregated on read from one record per occurrence).
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors every backend returns (wrapped or not), so that the server maps
// them to HTTP statuses.
var (
	// ErrNotFound: no such object.
	ErrNotFound = errors.New("not found")
	// ErrInvalidID: an ID or build ID that is not of the accepted form; it
	// never reaches a file or object name.
	ErrInvalidID = errors.New("invalid ID")
	// ErrUnavailable: the backend cannot answer now (a server down, a disk
	// error); the caller may retry.
	ErrUnavailable = errors.New("store unavailable")
)

// Snapshot describes one stored snapshot (a .ksnap file as
// 'ksym snapshot save' writes it), from its manifest.
type Snapshot struct {
	ID       string    `json:"id"`
	BootID   string    `json:"boot_id,omitempty"`
	Release  string    `json:"release,omitempty"`
	BuildID  string    `json:"build_id,omitempty"`
	Hostname string    `json:"hostname,omitempty"`
	Arch     string    `json:"arch,omitempty"`
	Captured time.Time `json:"captured"`
	Uploaded time.Time `json:"uploaded"`
	Symbols  int       `json:"symbols"`
	Modules  int       `json:"modules"`
	Size     int64     `json:"size"`
	// NamesOnly: the table's addresses were hidden when it was saved.
	NamesOnly bool `json:"names_only"`
}

// SnapshotFilter selects snapshots; empty fields match any.
type SnapshotFilter struct {
	Release  string
	Hostname string
	BuildID  string
}

// Report is one stored report document: what a permalink shows.
type Report struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // "decode" (a decoded log) or "stacks" (a flame graph)
	Created time.Time `json:"created"`
	// Data is the document, opaque to the store (JSON written by the
	// server).
	Data []byte `json:"-"`
}

// Occurrence is one crash report seen in a stored report: what a bucket
// counts.
type Occurrence struct {
	Signature string    `json:"signature"` // decode.Signature.String()
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	Release   string    `json:"release,omitempty"`
	Hostname  string    `json:"hostname,omitempty"`
	ReportID  string    `json:"report_id"`
	Index     int       `json:"index"` // of the crash report in the stored report
	Seen      time.Time `json:"seen"`
}

// Bucket aggregates the occurrences of one signature.
type Bucket struct {
	Signature string    `json:"signature"`
	Kind      string    `json:"kind"`
	Title     string    `json:"title"` // of the latest occurrence
	Count     int       `json:"count"`
	First     time.Time `json:"first_seen"`
	Last      time.Time `json:"last_seen"`
	Kernels   []string  `json:"kernels"`
	Hosts     []string  `json:"hosts"`
	// PerDay counts the occurrences by UTC day ("2026-12-06").
	PerDay map[string]int `json:"per_day"`
	// LastReport is the report ID of the latest occurrence.
	LastReport string `json:"last_report"`
}

// Debug file kinds, as debuginfod names them.
const (
	DebugInfo  = "debuginfo"
	Executable = "executable"
)

// Store is the storage of ksym serve. Implementations are safe for
// concurrent use, and several processes may share one backend (see
// docs/serve.md for what each method promises).
type Store interface {
	// PutSnapshot stores a snapshot file, data, described by s (s.ID is
	// ignored: the ID is SnapshotID(s.BootID, data)). A snapshot of a boot
	// already stored is not stored again: the stored one is returned with
	// created false.
	PutSnapshot(ctx context.Context, s Snapshot, data []byte) (stored Snapshot, created bool, err error)
	// Snapshot returns a snapshot's description.
	Snapshot(ctx context.Context, id string) (Snapshot, error)
	// SnapshotData returns a snapshot's file.
	SnapshotData(ctx context.Context, id string) ([]byte, error)
	// Snapshots lists the snapshots f selects, the latest captured first.
	Snapshots(ctx context.Context, f SnapshotFilter) ([]Snapshot, error)
	// DeleteSnapshot removes a snapshot; ErrNotFound when there is none.
	DeleteSnapshot(ctx context.Context, id string) error

	// PutReport stores a report document and its occurrences. The ID is
	// the caller's (ReportID of the content), so storing the same report
	// again changes nothing and counts nothing twice.
	PutReport(ctx context.Context, r Report, occs []Occurrence) error
	// Report returns a stored report with its Data.
	Report(ctx context.Context, id string) (Report, error)
	// Buckets aggregates every occurrence by signature, the most
	// frequent first (then the latest seen, then the signature).
	Buckets(ctx context.Context) ([]Bucket, error)

	// PutDebug stores a debug file of a build ID; kind is DebugInfo or
	// Executable. It replaces a file stored before.
	PutDebug(ctx context.Context, buildID, kind string, r io.Reader) error
	// OpenDebug opens a stored debug file and returns its size.
	OpenDebug(ctx context.Context, buildID, kind string) (io.ReadCloser, int64, error)

	// Close releases the store.
	Close() error
}

// SnapshotID is the ID of a snapshot: derived from its boot ID when it has
// one (so that every replica deduplicates the same boot to the same ID
// without asking another), else from its content. 32 hex digits.
func SnapshotID(bootID string, data []byte) string {
	if bootID != "" {
		return hashID("boot\x00" + bootID)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// ReportID is the ID of a report document: derived from what it was made
// of (the input and what decoded it), so that the same input stored twice
// is one report. 32 hex digits.
func ReportID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func hashID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// CheckID returns ErrInvalidID unless id is 32 lower-case hex digits, the
// form of SnapshotID and ReportID.
func CheckID(id string) error {
	if len(id) != 32 || !isHex(id) {
		return fmt.Errorf("%w: %.80q is not 32 lower-case hex digits", ErrInvalidID, id)
	}
	return nil
}

// CheckBuildID returns ErrInvalidID unless id is a build ID: an even
// number of lower-case hex digits, 2 to 128 (a GNU build ID is usually 40,
// sometimes 32 or 16).
func CheckBuildID(id string) error {
	if len(id) < 2 || len(id) > 128 || len(id)%2 != 0 || !isHex(id) {
		return fmt.Errorf("%w: %.80q is not a build ID (lower-case hex digits)", ErrInvalidID, id)
	}
	return nil
}

// CheckDebugKind returns ErrInvalidID unless kind is DebugInfo or
// Executable.
func CheckDebugKind(kind string) error {
	if kind != DebugInfo && kind != Executable {
		return fmt.Errorf("%w: debug file kind %.40q (debuginfo or executable)", ErrInvalidID, kind)
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Aggregate builds buckets from occurrences, as Buckets returns them: a
// backend that keeps one record per occurrence calls it on read.
// Occurrences of the same report and index count once.
func Aggregate(occs []Occurrence) []Bucket {
	type key struct {
		report string
		index  int
	}
	seen := map[key]bool{}
	byS := map[string]*Bucket{}
	kernels := map[string]map[string]bool{}
	hosts := map[string]map[string]bool{}
	var order []string
	for _, o := range occs {
		k := key{o.ReportID, o.Index}
		if seen[k] {
			continue
		}
		seen[k] = true
		b := byS[o.Signature]
		if b == nil {
			b = &Bucket{Signature: o.Signature, Kind: o.Kind, First: o.Seen, Last: o.Seen, PerDay: map[string]int{}}
			byS[o.Signature] = b
			kernels[o.Signature], hosts[o.Signature] = map[string]bool{}, map[string]bool{}
			order = append(order, o.Signature)
		}
		b.Count++
		b.PerDay[o.Seen.UTC().Format(time.DateOnly)]++
		if o.Seen.Before(b.First) {
			b.First = o.Seen
		}
		if !o.Seen.Before(b.Last) {
			b.Last, b.Title, b.LastReport = o.Seen, o.Title, o.ReportID
		}
		if o.Release != "" {
			kernels[o.Signature][o.Release] = true
		}
		if o.Hostname != "" {
			hosts[o.Signature][o.Hostname] = true
		}
	}
	out := make([]Bucket, 0, len(order))
	for _, s := range order {
		b := byS[s]
		b.Kernels, b.Hosts = sortedKeys(kernels[s]), sortedKeys(hosts[s])
		out = append(out, *b)
	}
	sortBuckets(out)
	return out
}
