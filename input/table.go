package input

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/snapshot"
)

// TableKind says what held a table that OpenTable or ReadTable read.
type TableKind int

// The kinds of table input.
const (
	// TableText is a kallsyms or System.map text table, compressed or not.
	TableText TableKind = iota
	// TableSnapshot is a snapshot (package snapshot).
	TableSnapshot
	// TableIndex is an index file (kallsyms.Table.WriteIndex), compressed
	// or not.
	TableIndex
)

// String returns "text", "snapshot" or "index".
func (k TableKind) String() string {
	switch k {
	case TableSnapshot:
		return "snapshot"
	case TableIndex:
		return "index"
	}
	return "text"
}

// Table is a symbol table read by OpenTable or ReadTable, with what is known
// of where it came from.
type Table struct {
	// Table is the symbol table.
	Table *kallsyms.Table
	// Source names the input in errors and output: the path, or
	// "standard input".
	Source string
	// Kind says what held the table.
	Kind TableKind
	// Info describes the boot the table was saved from: set for a snapshot
	// and for an index built from one (whose metadata is a snapshot's
	// Info), nil otherwise.
	Info *snapshot.Info
}

// headSize is how much of a file OpenTable reads to tell what it is.
const headSize = 32

// OpenTable reads the symbol table in the file at path, whatever the file
// holds: a kallsyms or System.map text table, a snapshot or an index,
// compressed with gzip, xz or zstd or not. The path "-" reads standard
// input (see ReadTable). The content is recognised by its first bytes,
// never by the file name: a regular file that is an index is read by
// kallsyms.OpenIndex, one that is an uncompressed text table is streamed by
// kallsyms.Open, and anything else (pipes and devices included) is read
// whole, decompressed and recognised again: an index, a snapshot, or else a
// text table. A directory is refused (ErrIsDir).
//
// Package input imports package snapshot for this; snapshot must therefore
// never import input.
func OpenTable(path string) (*Table, error) {
	if path == Stdin {
		return ReadTable(os.Stdin, "standard input")
	}
	f, st, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// A pipe or a device cannot be opened again without losing the head:
	// it is read here, whatever it holds.
	regular := st.Mode().IsRegular()
	switch {
	case regular && kallsyms.IsIndex(head):
		x, err := kallsyms.OpenIndex(path)
		if err != nil {
			return nil, err
		}
		return &Table{Table: x.Table, Source: path, Kind: TableIndex, Info: infoFromMeta(x.Meta)}, nil
	case regular && looksLikeTextTable(head):
		t, err := kallsyms.Open(path)
		if err != nil {
			return nil, err
		}
		return &Table{Table: t, Source: path, Kind: TableText}, nil
	}
	hint := 0
	if regular {
		hint = int(min(st.Size(), 1<<30))
	}
	return readTable(io.MultiReader(bytes.NewReader(head), f), path, hint)
}

// ReadTable reads a symbol table from r, as OpenTable reads a file it
// cannot hand to kallsyms: the whole input, decompressed when it is gzip, xz or zstd,
// then an index, a snapshot or else a text table. source names the input
// in errors and in the result ("standard input", a path). r is not closed.
func ReadTable(r io.Reader, source string) (*Table, error) {
	return readTable(r, source, 0)
}

// readTable is ReadTable with the size of the input on disk (0 when
// unknown), to size the buffer. A text table is parsed as it is read, so
// that an endless or garbage input (/dev/zero, a wrong pipe) ends in a parse
// error at its first line, not in reading it all; an index or a snapshot is
// read whole.
func readTable(r io.Reader, source string, hint int) (*Table, error) {
	rc, err := NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, tarHeaderSize)
	if head, _ := br.Peek(tarHeaderSize); !kallsyms.IsIndex(head) && !snapshot.IsTar(head) {
		t, err := kallsyms.Parse(br, kallsyms.Options{Source: source})
		if err != nil {
			return nil, err
		}
		return &Table{Table: t, Source: source, Kind: TableText}, nil
	}
	data, err := readAll(br, hint)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return tableOf(data, source)
}

// tarHeaderSize is how much of a snapshot's start tells it from a text
// table (snapshot.IsTar).
const tarHeaderSize = 512

// tableOf turns decompressed bytes into a table: an index (used in place:
// data must not be modified afterwards), a snapshot, or a text table.
func tableOf(data []byte, source string) (*Table, error) {
	switch {
	case kallsyms.IsIndex(data):
		x, err := kallsyms.LoadIndex(data, source)
		if err != nil {
			return nil, err
		}
		return &Table{Table: x.Table, Source: source, Kind: TableIndex, Info: infoFromMeta(x.Meta)}, nil
	case snapshot.IsTar(data):
		s, err := snapshot.ReadTar(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		t, err := s.Table(source)
		if err != nil {
			return nil, err
		}
		return &Table{Table: t, Source: source, Kind: TableSnapshot, Info: &s.Info}, nil
	}
	t, err := kallsyms.ParseBytes(data, kallsyms.Options{Source: source})
	if err != nil {
		return nil, err
	}
	return &Table{Table: t, Source: source, Kind: TableText}, nil
}

// infoFromMeta returns the snapshot Info an index's metadata holds, or nil.
func infoFromMeta(meta []byte) *snapshot.Info {
	if info, ok := snapshot.InfoFromMeta(meta); ok {
		return &info
	}
	return nil
}

// looksLikeTextTable reports whether head starts like an uncompressed
// kallsyms or System.map line: 8 or 16 hex digits, a space, a type letter, a
// space. (Compressed files, snapshots and indexes start otherwise.)
func looksLikeTextTable(head []byte) bool {
	for _, digits := range []int{16, 8} {
		if len(head) > digits+2 && head[digits] == ' ' && head[digits+2] == ' ' && isHex(head[:digits]) {
			return true
		}
	}
	return false
}

// isHex reports whether s is all hexadecimal digits.
func isHex(s []byte) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
