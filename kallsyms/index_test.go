package kallsyms_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

// Header offsets and section ids from docs/snapshots.md, written down
// here independently of the package.
const (
	offVersion   = 8
	offFileSize  = 16
	offSections  = 24
	offBodyCRC   = 32
	offHdrCRC    = 36
	headerLen    = 64
	dirEntryLen  = 24
	secAddrLo    = 3
	secNameOff   = 6
	secRuns      = 8
	secNameSlots = 12
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// fixChecksums rewrites the size and both checksums of an index so that a
// deliberately damaged file reaches the structural checks.
func fixChecksums(b []byte) {
	if len(b) < headerLen {
		return
	}
	binary.LittleEndian.PutUint64(b[offFileSize:], uint64(len(b)))
	binary.LittleEndian.PutUint32(b[offBodyCRC:], crc32.Checksum(b[headerLen:], crc32c))
	binary.LittleEndian.PutUint32(b[offHdrCRC:], crc32.Checksum(b[:offHdrCRC], crc32c))
}

// sectionBytes returns the bytes of section id inside an index file.
func sectionBytes(tb testing.TB, b []byte, id uint32) []byte {
	n := int(binary.LittleEndian.Uint32(b[offSections:]))
	for i := range n {
		e := b[headerLen+dirEntryLen*i:]
		if binary.LittleEndian.Uint32(e) == id {
			off, size := binary.LittleEndian.Uint64(e[8:]), binary.LittleEndian.Uint64(e[16:])
			return b[off : off+size]
		}
	}
	tb.Fatalf("no section %d", id)
	return nil
}

// TestOpenIndexAnswersAsParsed writes each real table's index to a file,
// opens it, and checks that every symbol's address lookups (at the symbol,
// inside it and just before it, %pS and %pB), name lookups and modules give
// the parsed table's answers.
func TestOpenIndexAnswersAsParsed(t *testing.T) {
	for _, path := range []string{bootTable("run2-B"), firecrackerTable, systemMapPath} {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			want := openTable(t, path)
			file := filepath.Join(t.TempDir(), "table.ksymidx")
			if err := os.WriteFile(file, indexOf(t, want, []byte(`{"k":1}`)), 0o600); err != nil {
				t.Fatal(err)
			}
			x, err := kallsyms.OpenIndex(file)
			if err != nil {
				t.Fatal(err)
			}
			if string(x.Meta) != `{"k":1}` || x.Table.Source() != want.Source() || x.Table.Len() != want.Len() {
				t.Fatalf("meta %q source %q len %d", x.Meta, x.Table.Source(), x.Table.Len())
			}
			compareTables(t, x.Table, want)
		})
	}
}

func compareTables(t *testing.T, got, want *kallsyms.Table) {
	t.Helper()
	bad := 0
	for i := 0; i < want.Len() && bad < 10; i++ {
		if got.Name(i) != want.Name(i) || got.Addr(i) != want.Addr(i) || got.Type(i) != want.Type(i) ||
			got.ModuleName(i) != want.ModuleName(i) {
			t.Errorf("symbol %d: %v, want %v", i, got.Symbol(i), want.Symbol(i))
			bad++
		}
		for _, a := range []uint64{want.Addr(i), want.Addr(i) + 1, want.Addr(i) - 1} {
			if g, w := locText(got.Lookup(a))(got), locText(want.Lookup(a))(want); g != w {
				t.Errorf("Lookup(%#x) = %s, want %s", a, g, w)
				bad++
			}
			if g, w := locText(got.LookupReturn(a))(got), locText(want.LookupReturn(a))(want); g != w {
				t.Errorf("LookupReturn(%#x) = %s, want %s", a, g, w)
				bad++
			}
		}
		if g, w := got.Find(want.Name(i)), want.Find(want.Name(i)); !equalInts(g, w) {
			t.Errorf("Find(%q) = %v, want %v", want.Name(i), g, w)
			bad++
		}
	}
	if g, w := got.Modules(), want.Modules(); len(g) != len(w) {
		t.Errorf("%d modules, want %d", len(g), len(w))
	}
}

// locText renders a lookup's answer for comparison.
func locText(loc kallsyms.Location, err error) func(*kallsyms.Table) string {
	return func(t *kallsyms.Table) string {
		if err != nil {
			return err.Error()
		}
		return t.FormatLocation(loc)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// smallIndex is the index of a slice of a real table (its first 400 lines:
// per-CPU offsets, the start of the text) and some module lines.
func smallIndex(tb testing.TB) []byte {
	seeds := fuzzSeeds(tb)
	text := seeds[0] + seeds[3] + seeds[4]
	tab, err := kallsyms.ParseBytes([]byte(text), kallsyms.Options{Source: "small"})
	if err != nil {
		tb.Fatal(err)
	}
	return indexOf(tb, tab, nil)
}

// indexOf returns the index file of tab.
func indexOf(tb testing.TB, tab *kallsyms.Table, meta []byte) []byte {
	var b bytes.Buffer
	if _, err := tab.WriteIndex(&b, meta); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// usedSlots returns the positions of the non-empty slots in s.
func usedSlots(s []byte) []int {
	var used []int
	for i := 0; i+4 <= len(s); i += 4 {
		if binary.LittleEndian.Uint32(s[i:]) != 0 {
			used = append(used, i/4)
		}
	}
	return used
}

// sharedNameIndex returns the index of a small table with a name that two
// symbols share, and one that one symbol has.
func sharedNameIndex(tb testing.TB) []byte {
	text := "ffffffff81000000 t dup\nffffffff81000010 t dup\nffffffff81000020 T one\n"
	tab, err := kallsyms.ParseBytes([]byte(text), kallsyms.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return indexOf(tb, tab, nil)
}

// TestLoadIndexRejects checks the error for each kind of damage.
func TestLoadIndexRejects(t *testing.T) {
	good := smallIndex(t)
	damage := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	refix := func(f func(b []byte)) []byte {
		return damage(func(b []byte) []byte { f(b); fixChecksums(b); return b })
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no index magic"},
		{"text table", []byte("ffffffff81000000 T _stext\n"), "no index magic"},
		{"magic only", good[:8], "truncated: 8 bytes"},
		{"header only", good[:headerLen], "truncated or extended"},
		{"truncated by one", good[:len(good)-1], "truncated or extended"},
		{"extended", append(bytes.Clone(good), 0), "truncated or extended"},
		{"body byte flipped", damage(func(b []byte) []byte { b[len(b)/2] ^= 1; return b }), "checksum mismatch: the file is corrupted"},
		{"header byte flipped", damage(func(b []byte) []byte { b[offFileSize] ^= 1; return b }), "header checksum mismatch"},
		{"future version", refix(func(b []byte) { b[offVersion] = kallsyms.IndexVersion + 1 }),
			fmt.Sprintf("format version %d, this ksym reads version %d", kallsyms.IndexVersion+1, kallsyms.IndexVersion)},
		{"older version", refix(func(b []byte) { b[offVersion] = kallsyms.IndexVersion - 1 }),
			fmt.Sprintf("format version %d, this ksym reads version %d", kallsyms.IndexVersion-1, kallsyms.IndexVersion)},
		{"section missing", refix(func(b []byte) { b[headerLen] = 99 }), "section 1 is missing"},
		{"name offsets fall", refix(func(b []byte) {
			s := sectionBytes(t, b, secNameOff)
			binary.LittleEndian.PutUint32(s[8:], 0xffff)
		}), "name offsets fall"},
		{"run names a missing module", refix(func(b []byte) {
			s := sectionBytes(t, b, secRuns)
			s[len(s)-4] = 0xee
		}), "names module"},
		{"addresses fall", refix(func(b []byte) {
			s := sectionBytes(t, b, secAddrLo)
			binary.LittleEndian.PutUint32(s, 0xffffffff) // symbol 0 above symbol 1, in the same run
		}), "addresses fall at symbol 1"},
		{"name slot beyond the table", refix(func(b []byte) {
			s := sectionBytes(t, b, secNameSlots)
			binary.LittleEndian.PutUint32(s[4*usedSlots(s)[0]:], 0xffffff)
		}), "a name slot holds symbol"},
		{"no empty name slot", refix(func(b []byte) {
			s := sectionBytes(t, b, secNameSlots)
			for i := 0; i < len(s); i += 4 {
				binary.LittleEndian.PutUint32(s[i:], 1)
			}
		}), "no empty name slot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kallsyms.LoadIndex(tt.data, "x.ksymidx")
			if err == nil || !errors.Is(err, kallsyms.ErrBadIndex) || !strings.Contains(err.Error(), tt.want) ||
				!strings.HasPrefix(err.Error(), "x.ksymidx: not a usable ksym index: ") {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestOpenIndexErrors: a missing file and a short one.
func TestOpenIndexErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := kallsyms.OpenIndex(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("KSYMIDX"), 0o600)
	if _, err := kallsyms.OpenIndex(short); !errors.Is(err, kallsyms.ErrBadIndex) {
		t.Errorf("short file: %v", err)
	}
}

// TestLoadIndexUnaligned: an index at an odd address in memory still loads.
func TestLoadIndexUnaligned(t *testing.T) {
	good := smallIndex(t)
	buf := make([]byte, len(good)+1)
	copy(buf[1:], good)
	x, err := kallsyms.LoadIndex(buf[1:], "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := kallsyms.LoadIndex(good, "")
	compareTables(t, x.Table, want.Table)
}

// FuzzLoadIndex: LoadIndex never panics, with or without valid checksums
// (the first input byte chooses), and a table it accepts answers lookups
// without panicking.
func FuzzLoadIndex(f *testing.F) {
	good := smallIndex(f)
	f.Add(append([]byte{0}, good...))
	f.Add(append([]byte{1}, good...))
	f.Add(append([]byte{1}, sharedNameIndex(f)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		in := bytes.Clone(data[1:])
		if data[0]&1 != 0 {
			fixChecksums(in)
		}
		x, err := kallsyms.LoadIndex(in, "")
		if err != nil {
			if !errors.Is(err, kallsyms.ErrBadIndex) {
				t.Fatalf("error does not wrap ErrBadIndex: %v", err)
			}
			return
		}
		tab := x.Table
		for i := range tab.Len() {
			checkLookup(t, tab, tab.Addr(i), false)
			checkLookup(t, tab, tab.Addr(i)+1, true)
			tab.Find(tab.Name(i))
			tab.Symbol(i)
		}
		tab.Modules()
		_, _ = tab.Search(kallsyms.Query{Pattern: "*a*"})
	})
}
