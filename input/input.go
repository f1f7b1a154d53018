// Package input opens the files ksym reads — a saved /proc/kallsyms, a
// System.map, a copy of /proc/modules — and decompresses them transparently.
//
// The format is recognised by its magic bytes, never by the file name: gzip
// (1f 8b), xz (fd 37 7a 58 5a 00) and zstd (28 b5 2f fd). Anything else is
// passed through unchanged, so plain text, an empty file or a file that merely
// ends in ".gz" behave as expected. The path "-" means standard input.
//
// OpenTable (and ReadTable, for a stream) is the one way to turn what a user
// names as a symbol table into a *kallsyms.Table: a text table (kallsyms or
// System.map), a snapshot or an index, compressed or not, with the snapshot's
// description when there is one. For that, input sits above packages
// kallsyms and snapshot in the import graph.
//
// Errors state what went wrong, as the standard library's do, and leave what
// to do about it to the program: a missing or unreadable file (the
// *fs.PathError of os.Open), a directory given as a file (ErrIsDir), or a
// compressed stream that is truncated (ErrTruncated) or corrupt (a
// *FormatError naming the format). Nothing in the package panics on bad
// input.
package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Stdin is the path that names standard input.
const Stdin = "-"

// peekSize is the bufio buffer placed in front of every input; large enough
// that pass-through reads of text are not slowed down.
const peekSize = 64 << 10

// Open opens path for reading and decompresses it if it is gzip, xz or zstd.
// The path "-" reads standard input; closing the result then leaves os.Stdin
// open. The caller must Close the result.
func Open(path string) (io.ReadCloser, error) {
	if path == Stdin {
		r, err := NewReader(os.Stdin)
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		return r, nil
	}
	f, _, err := openFile(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &fileReader{ReadCloser: r, file: f}, nil
}

// openFile opens a regular file (or a procfs/sysfs/device file) and refuses
// directories (ErrIsDir). It returns the file's FileInfo too.
func openFile(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, nil, &os.PathError{Op: "open", Path: path, Err: ErrIsDir}
	}
	return f, st, nil
}

// ErrIsDir is returned (wrapped in an *os.PathError) when a directory is given
// where a file is expected.
var ErrIsDir = errors.New("is a directory")

// fileReader closes both the decompressor and the file under it.
type fileReader struct {
	io.ReadCloser
	file *os.File
}

// Close closes the decompressor, then the file.
func (r *fileReader) Close() error {
	err := r.ReadCloser.Close()
	if ferr := r.file.Close(); err == nil {
		err = ferr
	}
	return err
}

// ReadAll reads the whole of path ("-" for standard input), decompressed. Files
// from procfs, whose size is not known in advance, are read with one large
// buffer rather than grown from a small one. An empty input gives an empty
// slice and no error.
func ReadAll(path string) ([]byte, error) {
	hint := 0
	if path != Stdin {
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			hint = int(min(st.Size(), 1<<30))
		}
	}
	rc, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := readAll(rc, hint)
	if err != nil {
		name := path
		if path == Stdin {
			name = "standard input"
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// readAll reads r to the end into one buffer. hint is the size on disk (0 when
// unknown); compressed data usually grows about 4 to 6 times, and files of
// unknown size (procfs) start from a buffer big enough for a kallsyms table.
func readAll(r io.Reader, hint int) ([]byte, error) {
	size := 8 << 20
	if hint > 0 {
		size = hint + bytes.MinRead
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}
