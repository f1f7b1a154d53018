package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/snapshot"
)

// More real tables from the fixtures.
var (
	run1ANonroot = fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms-nonroot-head.txt")
	systemMapGz  = fixture.Path("debian-6.1.0-56-amd64/System.map.gz")
)

// sameTable fails unless a and b hold the same symbols in the same order.
func sameTable(t *testing.T, what string, a, b *kallsyms.Table) {
	t.Helper()
	if a.Len() != b.Len() || a.Hidden() != b.Hidden() {
		t.Fatalf("%s: %d symbols (hidden %v), want %d (hidden %v)", what, a.Len(), a.Hidden(), b.Len(), b.Hidden())
	}
	for i := range a.Len() {
		if a.Addr(i) != b.Addr(i) || a.Type(i) != b.Type(i) || a.Name(i) != b.Name(i) || a.ModuleName(i) != b.ModuleName(i) {
			t.Fatalf("%s: symbol %d is %x %c %s [%s], want %x %c %s [%s]", what, i,
				a.Addr(i), a.Type(i), a.Name(i), a.ModuleName(i), b.Addr(i), b.Type(i), b.Name(i), b.ModuleName(i))
		}
	}
}

// writeTemp writes data to a new file named name in dir and returns its path.
func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// indexBytes is t's index file with meta.
func indexBytes(t *testing.T, tab *kallsyms.Table, meta []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := tab.WriteIndex(&buf, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// snapshotBytes is a snapshot file of the text table text, described by info.
func snapshotBytes(t *testing.T, text []byte, info snapshot.Info) []byte {
	t.Helper()
	s := &snapshot.Snapshot{Info: info, Kallsyms: text}
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestOpenTableEveryInput: run1-A's real table as every kind of input
// OpenTable takes gives the same symbols, the right kind, and the snapshot
// description where there is one.
func TestOpenTableEveryInput(t *testing.T) {
	text := fixture.Read(t, run1AGz)
	want, err := kallsyms.ParseBytes(text, kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := snapshot.Info{Format: snapshot.Format, Version: snapshot.Version, Release: "6.1.0-56-amd64",
		Captured: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Symbols: want.Len()}
	meta, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	index := indexBytes(t, want, meta)
	snap := snapshotBytes(t, text, info)
	snapTar, err := decompress(snap) // the tar archive the zstd frame holds
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte // nil: path is a fixture
		path     string
		kind     TableKind
		withInfo bool
	}{
		{name: "gzip text (fixture)", path: run1AGz, kind: TableText},
		{name: "plain text", data: text, kind: TableText},
		{name: "xz text", data: xzBytes(t, text, 0, 0), kind: TableText},
		{name: "zstd text", data: zstdBytes(t, text), kind: TableText},
		{name: "snapshot", data: snap, kind: TableSnapshot, withInfo: true},
		{name: "snapshot recompressed with gzip", data: gzipBytes(t, snapTar), kind: TableSnapshot, withInfo: true},
		{name: "index with a snapshot's Info", data: index, kind: TableIndex, withInfo: true},
		{name: "index without metadata", data: indexBytes(t, want, nil), kind: TableIndex},
		{name: "gzip index", data: gzipBytes(t, index), kind: TableIndex, withInfo: true},
		{name: "zstd index", data: zstdBytes(t, index), kind: TableIndex, withInfo: true},
	}
	for i, tt := range tests {
		path := tt.path
		if tt.data != nil {
			path = writeTemp(t, dir, strings.Repeat("x", i+1), tt.data)
		}
		got, err := OpenTable(path)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		sameTable(t, tt.name, got.Table, want)
		if got.Kind != tt.kind || got.Source != path || (got.Info != nil) != tt.withInfo {
			t.Errorf("%s: kind %v source %q info %v; want %v %q, info %v", tt.name, got.Kind, got.Source, got.Info, tt.kind, path, tt.withInfo)
		}
		if got.Info != nil && (got.Info.Release != info.Release || !got.Info.Captured.Equal(info.Captured)) {
			t.Errorf("%s: info %+v", tt.name, got.Info)
		}
		if tt.data == nil {
			continue
		}
		// The same bytes as a stream (standard input).
		got, err = ReadTable(bytes.NewReader(tt.data), "standard input")
		if err != nil {
			t.Fatalf("%s, ReadTable: %v", tt.name, err)
		}
		sameTable(t, tt.name+", ReadTable", got.Table, want)
		if got.Kind != tt.kind || got.Source != "standard input" || (got.Info != nil) != tt.withInfo {
			t.Errorf("%s, ReadTable: kind %v source %q info %v", tt.name, got.Kind, got.Source, got.Info)
		}
	}
}

// TestOpenTableSystemMap: a System.map (the real one, gzip) is a text table.
func TestOpenTableSystemMap(t *testing.T) {
	got, err := OpenTable(systemMapGz)
	if err != nil {
		t.Fatal(err)
	}
	want, err := kallsyms.ParseBytes(fixture.Read(t, systemMapGz), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameTable(t, "System.map", got.Table, want)
	if got.Kind != TableText || got.Info != nil || got.Table.Source() != systemMapGz {
		t.Errorf("kind %v info %v source %q", got.Kind, got.Info, got.Table.Source())
	}
}

// TestOpenTableHidden: a table read without privilege opens; its addresses
// are hidden (the callers decide what that means).
func TestOpenTableHidden(t *testing.T) {
	got, err := OpenTable(run1ANonroot)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Table.Hidden() || got.Table.Len() == 0 || got.Kind != TableText {
		t.Errorf("hidden %v, %d symbols, kind %v", got.Table.Hidden(), got.Table.Len(), got.Kind)
	}
}

// TestOpenTableStdin: "-" is standard input, read whole.
func TestOpenTableStdin(t *testing.T) {
	withStdin(t, mustRead(t, head200Zstd))
	got, err := OpenTable(Stdin)
	if err != nil {
		t.Fatal(err)
	}
	want, err := kallsyms.ParseBytes(head200(t), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameTable(t, "standard input", got.Table, want)
	if got.Source != "standard input" || got.Table.Source() != "standard input" {
		t.Errorf("source %q, table's %q", got.Source, got.Table.Source())
	}
}

// TestOpenTableErrors: each failure is reported with the input's name and
// stays testable with errors.Is.
func TestOpenTableErrors(t *testing.T) {
	dir := t.TempDir()
	text := head200(t)
	gz := gzipBytes(t, text)
	tab, err := kallsyms.ParseBytes(text, kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	index := indexBytes(t, tab, nil)
	snap, err := decompress(snapshotBytes(t, text, snapshot.Info{Format: snapshot.Format, Version: snapshot.Version}))
	if err != nil {
		t.Fatal(err)
	}
	snap[len(snap)/2] ^= 0xff // inside the kallsyms member: its SHA-256 no longer matches
	tests := []struct {
		name string
		path string
		is   error // nil: any error
	}{
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist},
		{"directory", dir, ErrIsDir},
		{"empty", writeTemp(t, dir, "empty", nil), kallsyms.ErrEmpty},
		{"not a table", writeTemp(t, dir, "garbage", []byte("garbage line\n")), nil},
		{"truncated gzip", writeTemp(t, dir, "cut.gz", gz[:len(gz)/2]), ErrTruncated},
		{"truncated index", writeTemp(t, dir, "cut.ksymidx", index[:len(index)/2]), kallsyms.ErrBadIndex},
		{"truncated gzip index", writeTemp(t, dir, "cut.ksymidx.gz", gzipBytes(t, index[:len(index)/2])), kallsyms.ErrBadIndex},
		{"corrupt snapshot", writeTemp(t, dir, "bad.ksnap", zstdBytes(t, snap)), snapshot.ErrBadSnapshot},
	}
	for _, tt := range tests {
		got, err := OpenTable(tt.path)
		if err == nil {
			t.Errorf("%s: no error, %d symbols", tt.name, got.Table.Len())
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.is)
		}
		if !strings.Contains(err.Error(), tt.path+":") && !strings.Contains(err.Error(), tt.path+" ") {
			t.Errorf("%s: %q does not name %s", tt.name, err, tt.path)
		}
	}
}

// TestLooksLikeTextTable: the heads of files OpenTable is given, told
// apart. The compressed and snapshot heads are the real magic bytes.
func TestLooksLikeTextTable(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{"ffffffff81000000 T _stext\n", true},
		{"0000000000000000 A fixed_percpu_data\n", true},
		{"c1000000 T _text\n", true},
		{"abcdef0123456789 t x\n", true},
		{"\x1f\x8b\x08\x00\x00\x00\x00\x00", false},     // gzip
		{"\x28\xb5\x2f\xfd\x04\x58\x00\x00", false},     // zstd
		{"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46", false}, // xz
		{"ksym-snapshot.json\x00\x00\x00\x00", false},   // tar member name
		{"ffffffff81000000", false},                     // cut short
		{"ffffffff8100000g T x\n", false},
		{"", false},
	} {
		if got := looksLikeTextTable([]byte(tc.head)); got != tc.want {
			t.Errorf("looksLikeTextTable(%q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}

// endless is a reader of zero bytes without end, counting what it gave.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.n += len(p)
	return len(p), nil
}

// TestReadTableEndless: a stream that is not a table and never ends (as
// /dev/zero given to --kallsyms) is refused at its first line after reading
// a few pieces, not read whole.
func TestReadTableEndless(t *testing.T) {
	r := &endless{}
	_, err := ReadTable(r, "zeros")
	var pe *kallsyms.ParseError
	if !errors.As(err, &pe) || pe.File != "zeros" || pe.Line != 1 {
		t.Fatalf("ReadTable = %v, want a ParseError at zeros:1", err)
	}
	if r.n > 4<<20 {
		t.Fatalf("read %d bytes of an endless stream", r.n)
	}
}
