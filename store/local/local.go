// Package local is the store of ksym serve on one machine: files in a
// directory, written atomically, and their metadata in an embedded SQLite
// database (modernc.org/sqlite, pure Go).
//
// Layout under the directory:
//
//	meta.db                        the metadata (snapshots, reports, occurrences, debug files)
//	snapshots/ID.ksnap             snapshot files, mode 0600
//	reports/ID.json                report documents
//	debug/BUILDID/debuginfo        debug files by build ID (and /executable)
//
// A file is written beside its final name and renamed, and only then is its
// row inserted: a process killed in between leaves a file no row names,
// which nothing serves (and Open removes leftover temporary files). A
// delete removes the row first.
package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ksym-dev/ksym/internal/atomicfile"
	"github.com/ksym-dev/ksym/store"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// Store is a store.Store in a local directory.
type Store struct {
	dir string
	db  *sql.DB
	// put serializes PutSnapshot, so that two uploads of one boot cannot
	// leave one's file under the other's row.
	put sync.Mutex
}

var _ store.Store = (*Store)(nil)

const schema = `
CREATE TABLE IF NOT EXISTS snapshots (
	id TEXT PRIMARY KEY, boot_id TEXT NOT NULL, release TEXT NOT NULL, build_id TEXT NOT NULL,
	hostname TEXT NOT NULL, arch TEXT NOT NULL, captured INTEGER NOT NULL, uploaded INTEGER NOT NULL,
	symbols INTEGER NOT NULL, modules INTEGER NOT NULL, size INTEGER NOT NULL, names_only INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS snapshots_release ON snapshots(release);
CREATE INDEX IF NOT EXISTS snapshots_build_id ON snapshots(build_id);
CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, kind TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS occurrences (
	report_id TEXT NOT NULL, idx INTEGER NOT NULL, signature TEXT NOT NULL, kind TEXT NOT NULL,
	title TEXT NOT NULL, release TEXT NOT NULL, hostname TEXT NOT NULL, seen INTEGER NOT NULL,
	PRIMARY KEY (report_id, idx));
CREATE TABLE IF NOT EXISTS debug (build_id TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL,
	PRIMARY KEY (build_id, kind));
`

// Open opens (creating it when needed) the store in dir.
func Open(dir string) (*Store, error) {
	for _, sub := range []string{"", "snapshots", "reports", "debug"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("store %s: %w", dir, err)
		}
	}
	removeTemporaries(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "meta.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	// One connection: SQLite writes one at a time anyway, and this keeps
	// every statement of the process in order without busy retries.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	return &Store{dir: dir, db: db}, nil
}

// removeTemporaries removes the temporary files (".NAME.*") an upload
// killed before its rename left.
func removeTemporaries(dir string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".") {
			os.Remove(path)
		}
		return nil
	})
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) snapshotPath(id string) string {
	return filepath.Join(s.dir, "snapshots", id+".ksnap")
}

func (s *Store) reportPath(id string) string {
	return filepath.Join(s.dir, "reports", id+".json")
}

func (s *Store) debugPath(buildID, kind string) string {
	return filepath.Join(s.dir, "debug", buildID, kind)
}

// unavailable wraps an I/O or database error as store.ErrUnavailable.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidID) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
}

const snapshotColumns = `id, boot_id, release, build_id, hostname, arch, captured, uploaded, symbols, modules, size, names_only`

func scanSnapshot(row interface{ Scan(...any) error }) (store.Snapshot, error) {
	var m store.Snapshot
	var captured, uploaded int64
	err := row.Scan(&m.ID, &m.BootID, &m.Release, &m.BuildID, &m.Hostname, &m.Arch, &captured, &uploaded,
		&m.Symbols, &m.Modules, &m.Size, &m.NamesOnly)
	m.Captured, m.Uploaded = time.Unix(captured, 0).UTC(), time.Unix(0, uploaded).UTC()
	return m, err
}

// PutSnapshot implements store.Store.
func (s *Store) PutSnapshot(ctx context.Context, m store.Snapshot, data []byte) (store.Snapshot, bool, error) {
	m.ID = store.SnapshotID(m.BootID, data)
	s.put.Lock()
	defer s.put.Unlock()
	if old, err := s.Snapshot(ctx, m.ID); err == nil {
		return old, false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Snapshot{}, false, err
	}
	m.Size = int64(len(data))
	if m.Uploaded.IsZero() {
		m.Uploaded = time.Now().UTC()
	}
	err := atomicfile.Write(s.snapshotPath(m.ID), 0o600, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return store.Snapshot{}, false, unavailable(err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO snapshots (`+snapshotColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		m.ID, m.BootID, m.Release, m.BuildID, m.Hostname, m.Arch, m.Captured.Unix(), m.Uploaded.UnixNano(),
		m.Symbols, m.Modules, m.Size, m.NamesOnly)
	if err != nil {
		return store.Snapshot{}, false, unavailable(err)
	}
	if n, _ := res.RowsAffected(); n == 0 { // stored meanwhile by another request
		old, err := s.Snapshot(ctx, m.ID)
		return old, false, err
	}
	m.Captured = time.Unix(m.Captured.Unix(), 0).UTC()
	return m, true, nil
}

// Snapshot implements store.Store.
func (s *Store) Snapshot(ctx context.Context, id string) (store.Snapshot, error) {
	if err := store.CheckID(id); err != nil {
		return store.Snapshot{}, err
	}
	m, err := scanSnapshot(s.db.QueryRowContext(ctx, `SELECT `+snapshotColumns+` FROM snapshots WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Snapshot{}, fmt.Errorf("snapshot %s: %w", id, store.ErrNotFound)
	}
	return m, unavailable(err)
}

// SnapshotData implements store.Store.
func (s *Store) SnapshotData(ctx context.Context, id string) ([]byte, error) {
	if _, err := s.Snapshot(ctx, id); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.snapshotPath(id))
	if errors.Is(err, fs.ErrNotExist) { // deleted meanwhile
		return nil, fmt.Errorf("snapshot %s: %w", id, store.ErrNotFound)
	}
	return data, unavailable(err)
}

// Snapshots implements store.Store.
func (s *Store) Snapshots(ctx context.Context, f store.SnapshotFilter) ([]store.Snapshot, error) {
	q := `SELECT ` + snapshotColumns + ` FROM snapshots WHERE 1`
	var args []any
	for _, c := range []struct{ col, v string }{{"release", f.Release}, {"hostname", f.Hostname}, {"build_id", f.BuildID}} {
		if c.v != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY captured DESC, uploaded DESC, id`, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []store.Snapshot{}
	for rows.Next() {
		m, err := scanSnapshot(rows)
		if err != nil {
			return nil, unavailable(err)
		}
		out = append(out, m)
	}
	return out, unavailable(rows.Err())
}

// DeleteSnapshot implements store.Store.
func (s *Store) DeleteSnapshot(ctx context.Context, id string) error {
	if err := store.CheckID(id); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM snapshots WHERE id = ?`, id)
	if err != nil {
		return unavailable(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("snapshot %s: %w", id, store.ErrNotFound)
	}
	if err := os.Remove(s.snapshotPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return unavailable(err)
	}
	return nil
}

// PutReport implements store.Store.
func (s *Store) PutReport(ctx context.Context, r store.Report, occs []store.Occurrence) error {
	if err := store.CheckID(r.ID); err != nil {
		return err
	}
	if r.Created.IsZero() {
		r.Created = time.Now().UTC()
	}
	var exists int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM reports WHERE id = ?`, r.ID).Scan(&exists); err != nil {
		return unavailable(err)
	}
	if exists > 0 {
		return nil
	}
	err := atomicfile.Write(s.reportPath(r.ID), 0o600, func(w io.Writer) error {
		_, err := w.Write(r.Data)
		return err
	})
	if err != nil {
		return unavailable(err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO reports (id, kind, created) VALUES (?,?,?)`, r.ID, r.Kind, r.Created.UnixNano()); err != nil {
		return unavailable(err)
	}
	for _, o := range occs {
		seen := o.Seen
		if seen.IsZero() {
			seen = r.Created
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO occurrences (report_id, idx, signature, kind, title, release, hostname, seen) VALUES (?,?,?,?,?,?,?,?)`,
			r.ID, o.Index, o.Signature, o.Kind, o.Title, o.Release, o.Hostname, seen.UnixNano()); err != nil {
			return unavailable(err)
		}
	}
	return unavailable(tx.Commit())
}

// Report implements store.Store.
func (s *Store) Report(ctx context.Context, id string) (store.Report, error) {
	if err := store.CheckID(id); err != nil {
		return store.Report{}, err
	}
	r := store.Report{ID: id}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT kind, created FROM reports WHERE id = ?`, id).Scan(&r.Kind, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("report %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return r, unavailable(err)
	}
	r.Created = time.Unix(0, created).UTC()
	r.Data, err = os.ReadFile(s.reportPath(id))
	return r, unavailable(err)
}

// Buckets implements store.Store.
func (s *Store) Buckets(ctx context.Context) ([]store.Bucket, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT report_id, idx, signature, kind, title, release, hostname, seen FROM occurrences ORDER BY seen, report_id, idx`)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	var occs []store.Occurrence
	for rows.Next() {
		var o store.Occurrence
		var seen int64
		if err := rows.Scan(&o.ReportID, &o.Index, &o.Signature, &o.Kind, &o.Title, &o.Release, &o.Hostname, &seen); err != nil {
			return nil, unavailable(err)
		}
		o.Seen = time.Unix(0, seen).UTC()
		occs = append(occs, o)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	return store.Aggregate(occs), nil
}

// PutDebug implements store.Store.
func (s *Store) PutDebug(ctx context.Context, buildID, kind string, r io.Reader) error {
	if err := store.CheckBuildID(buildID); err != nil {
		return err
	}
	if err := store.CheckDebugKind(kind); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "debug", buildID), 0o700); err != nil {
		return unavailable(err)
	}
	var size int64
	err := atomicfile.Write(s.debugPath(buildID, kind), 0o600, func(w io.Writer) error {
		n, err := io.Copy(w, r)
		size = n
		return err
	})
	if err != nil {
		return unavailable(err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT OR REPLACE INTO debug (build_id, kind, size) VALUES (?,?,?)`, buildID, kind, size)
	return unavailable(err)
}

// OpenDebug implements store.Store.
func (s *Store) OpenDebug(ctx context.Context, buildID, kind string) (io.ReadCloser, int64, error) {
	if err := store.CheckBuildID(buildID); err != nil {
		return nil, 0, err
	}
	if err := store.CheckDebugKind(kind); err != nil {
		return nil, 0, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM debug WHERE build_id = ? AND kind = ?`, buildID, kind).Scan(&n); err != nil {
		return nil, 0, unavailable(err)
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("%s %s: %w", kind, buildID, store.ErrNotFound)
	}
	f, err := os.Open(s.debugPath(buildID, kind))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("%s %s: %w", kind, buildID, store.ErrNotFound)
		}
		return nil, 0, unavailable(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, unavailable(err)
	}
	return f, st.Size(), nil
}
