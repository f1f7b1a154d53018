//go:build linux

package kallsyms

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// tempTable writes data to a file and opens it.
func tempTable(t *testing.T, data []byte) (*os.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, path
}

// sameTable fails unless a and b hold the same symbols in the same order.
// Called on a table parsed from a mapping after it is unmapped, it also shows
// that the table keeps nothing of the mapping (reading it would fault).
func sameTable(t *testing.T, a, b *Table) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("%d symbols, want %d", a.Len(), b.Len())
	}
	for i := range a.Len() {
		if a.Symbol(i) != b.Symbol(i) {
			t.Fatalf("symbol %d: %+v, want %+v", i, a.Symbol(i), b.Symbol(i))
		}
	}
}

// TestParseFileMapped: a regular file parsed through its mapping, from its
// start or from an offset past the first page (mappings start on a page), is
// the table of the same bytes in memory, and the file is left at its end, as
// reading it would.
func TestParseFileMapped(t *testing.T) {
	defer func(async func([]byte)) { unmap = async }(unmap)
	unmap = func(m []byte) { syscall.Munmap(m) } // gone before the table is read
	data := fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz"))
	for _, skip := range []int{0, 4096, 10000, len(data) - 100} {
		cut := 0
		if skip > 0 {
			cut = skip + bytes.IndexByte(data[skip:], '\n') + 1
		}
		f, _ := tempTable(t, data)
		if _, err := f.Seek(int64(cut), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, mapped, err := parseFile(f, int64(len(data)), Options{})
		if err != nil || !mapped {
			t.Fatalf("from byte %d: mapped %v, %v", cut, mapped, err)
		}
		want, err := ParseBytes(data[cut:], Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameTable(t, got, want)
		if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
			t.Errorf("from byte %d: file left at %d, want its end %d", cut, pos, len(data))
		}
	}
}

// TestParseMappedShrunk: a file that shrinks while it is mapped makes reading
// its mapping fault (SIGBUS); the parse returns ErrFileChanged, whether the
// fault hits the calling goroutine or one parsing another part, instead of
// crashing. The shrinking is made to happen between mapping and parsing.
func TestParseMappedShrunk(t *testing.T) {
	data := fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz"))
	small := data[:bytes.IndexByte(data[100000:], '\n')+100001] // one part, not parallel
	cases := []struct {
		name string
		data []byte
		keep int64
	}{
		{"whole table, emptied", data, 0},
		{"whole table, cut in half", data, int64(len(data) / 2)},
		{"whole table, last pages cut", data, int64(len(data) - 3*4096)},
		{"small table, emptied", small, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, path := tempTable(t, c.data)
			m, mapping, err := mapFile(f, int64(len(c.data)))
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Munmap(mapping)
			if err := os.Truncate(path, c.keep); err != nil {
				t.Fatal(err)
			}
			tab, err := parseMapped(m, Options{Source: path})
			if !errors.Is(err, ErrFileChanged) || tab != nil {
				t.Fatalf("got %v, %v; want ErrFileChanged", tab, err)
			}
		})
	}
}

// TestForEachHoldsFault: a fault reading a shrunk mapping in a goroutine
// forEach started, or on the calling goroutine, panics on the calling
// goroutine only after every function has returned.
func TestForEachHoldsFault(t *testing.T) {
	for _, faulty := range []int{0, 1, 2} {
		f, path := tempTable(t, bytes.Repeat([]byte("x"), 3*4096))
		m, mapping, err := mapFile(f, 3*4096)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Munmap(mapping)
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		var done [3]bool
		var read [3]byte
		r := func() (r any) {
			defer func() { r = recover() }()
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			forEach(3, func(i int) {
				if i == faulty {
					read[i] = m[i*4096] // faults: the file is empty now
				} else {
					time.Sleep(10 * time.Millisecond)
				}
				done[i] = true
			})
			return nil
		}()
		if !isFault(r) {
			t.Fatalf("fault in f(%d): recovered %v, want a fault", faulty, r)
		}
		for i, d := range done {
			if d == (i == faulty) {
				t.Errorf("fault in f(%d): f(%d) done = %v", faulty, i, d)
			}
		}
	}
}
