package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Format is the compression format of an input.
type Format int

// Formats recognised by Detect.
const (
	Plain Format = iota // not compressed (or not a format this package knows)
	Gzip                // gzip, RFC 1952
	XZ                  // xz, the .xz container of LZMA2
	Zstd                // Zstandard, RFC 8878
)

// String returns the usual name of the format: "plain", "gzip", "xz", "zstd".
func (f Format) String() string {
	switch f {
	case Gzip:
		return "gzip"
	case XZ:
		return "xz"
	case Zstd:
		return "zstd"
	}
	return "plain"
}

// Magic numbers, as written at the start of each format's files.
var (
	magicGzip = []byte{0x1f, 0x8b}
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// magicLen is the length of the longest magic number.
const magicLen = 6

// Detect returns the format whose magic number starts b. A prefix too short to
// hold a whole magic number is Plain.
func Detect(b []byte) Format {
	switch {
	case bytes.HasPrefix(b, magicGzip):
		return Gzip
	case bytes.HasPrefix(b, magicXZ):
		return XZ
	case bytes.HasPrefix(b, magicZstd):
		return Zstd
	}
	return Plain
}

// maxZstdWindow bounds the memory a zstd frame may ask for: 128 MiB, the
// limit the zstd command line tool itself applies without --long or --memory.
const maxZstdWindow = 1 << 27

// ErrTruncated is matched (errors.Is) by a *FormatError whose compressed
// stream ended early.
var ErrTruncated = errors.New("compressed stream truncated")

// FormatError reports a compressed input that cannot be decompressed.
type FormatError struct {
	Format    Format
	Truncated bool  // the stream ended before its end marker
	Err       error // the decompressor's own error
}

// Error reads "xz stream truncated" or "gzip stream corrupt: ...".
func (e *FormatError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("%s stream truncated", e.Format)
	}
	return fmt.Sprintf("%s stream corrupt: %v", e.Format, e.Err)
}

// Unwrap returns the decompressor's error, and ErrTruncated when truncated.
func (e *FormatError) Unwrap() []error {
	if e.Truncated {
		return []error{ErrTruncated, e.Err}
	}
	return []error{e.Err}
}

// formatError wraps a decompressor error; nil and io.EOF pass unchanged.
func formatError(f Format, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	return &FormatError{Format: f, Truncated: errors.Is(err, io.ErrUnexpectedEOF), Err: err}
}

// NewReader returns a reader of r's content, decompressed when it starts with
// the magic number of gzip, xz or zstd, unchanged otherwise (no byte is lost
// to the detection). Closing the result releases the decompressor but does not
// close r. Gzip and xz headers are read at once, so a bad header is reported
// here; other damage is reported by Read as a *FormatError.
func NewReader(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, peekSize)
	f, err := detectPrefix(br)
	if err != nil {
		return nil, err
	}
	if f == Plain {
		return io.NopCloser(br), nil
	}
	dec, err := newDecompressor(f, br)
	if err != nil {
		return nil, formatError(f, err)
	}
	return &reader{format: f, dec: dec}, nil
}

// detectPrefix finds the format of br's content from its first bytes,
// reading no more of them than it takes to decide: text whose first byte
// starts no magic number is Plain at once, so that a pipe that delivers a
// short line and then waits (dmesg -w, tail -f) is not held until more
// comes.
func detectPrefix(br *bufio.Reader) (Format, error) {
	for n := 1; n <= magicLen; n++ {
		head, err := br.Peek(n)
		if err == io.EOF {
			return Plain, nil
		}
		if err != nil {
			return Plain, err
		}
		if f := Detect(head); f != Plain {
			return f, nil
		}
		if !magicPrefix(head) {
			return Plain, nil
		}
	}
	return Plain, nil
}

// magicPrefix reports whether b is the start of some magic number.
func magicPrefix(b []byte) bool {
	for _, m := range [][]byte{magicGzip, magicXZ, magicZstd} {
		if bytes.HasPrefix(m, b) {
			return true
		}
	}
	return false
}

// newDecompressor starts the decompressor for f (not Plain) over br.
func newDecompressor(f Format, br *bufio.Reader) (io.ReadCloser, error) {
	switch f {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return zr, err
	case XZ:
		return newXZReader(br)
	case Zstd:
		zr, err := zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("no decompressor for %s", f)
}

// reader turns the decompressors' errors into *FormatError.
type reader struct {
	format Format
	dec    io.ReadCloser
}

// Read reads decompressed bytes.
func (r *reader) Read(p []byte) (int, error) {
	n, err := r.dec.Read(p)
	return n, formatError(r.format, err)
}

// Close releases the decompressor.
func (r *reader) Close() error {
	return r.dec.Close()
}
