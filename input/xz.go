package input

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// footerLen is the size of an xz stream footer: CRC32, backward size, stream
// flags and the magic "YZ".
const footerLen = 12

// xzReader decompresses xz and checks that the input really ended with a
// stream footer. The xz library reports io.EOF, not an error, when a stream is
// cut exactly between two blocks; the footer check turns that into a
// truncation error.
type xzReader struct {
	xr   *xz.Reader
	tail *tailTracker
}

// newXZReader reads all of the compressed input r into memory (kernel tables
// compress to a megabyte or two), checks the dictionary size of every block
// and reads the first stream header.
func newXZReader(r io.Reader) (io.ReadCloser, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if err := checkXZDicts(data, maxXZDict); err != nil {
		return nil, err
	}
	tail := &tailTracker{r: bytes.NewReader(data)}
	// A small DictCap makes the reader allocate only the dictionary the
	// stream asks for, not the library's 8 MiB default.
	xr, err := xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(tail)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	return &xzReader{xr: xr, tail: tail}, nil
}

// Read reads decompressed bytes.
func (r *xzReader) Read(p []byte) (int, error) {
	n, err := r.xr.Read(p)
	if err == io.EOF && !r.tail.endsWithFooter() {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Close does nothing: the xz reader holds no resources.
func (r *xzReader) Close() error { return nil }

// tailTracker passes reads through and remembers the last footerLen bytes
// before the trailing run of zero bytes (xz stream padding).
type tailTracker struct {
	r     io.Reader
	last  []byte // at most footerLen bytes, ending with a non-zero byte
	zeros int    // zero bytes read after last
}

// Read reads from the underlying reader and records the bytes read.
func (t *tailTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.record(p[:n])
	return n, err
}

// record adds b to the remembered tail.
func (t *tailTracker) record(b []byte) {
	j := lastNonZero(b)
	if j < 0 {
		t.zeros += len(b)
		return
	}
	t.last = append(t.last, make([]byte, min(t.zeros, footerLen))...)
	t.last = append(t.last, b[max(0, j+1-footerLen):j+1]...)
	if len(t.last) > footerLen {
		t.last = append(t.last[:0], t.last[len(t.last)-footerLen:]...)
	}
	t.zeros = len(b) - 1 - j
}

// lastNonZero returns the index of the last non-zero byte of b, or -1.
func lastNonZero(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0 {
			return i
		}
	}
	return -1
}

// endsWithFooter reports whether the input read so far ends with a valid xz
// stream footer followed by padding: "YZ" magic and a matching CRC32 over the
// backward size and flags.
func (t *tailTracker) endsWithFooter() bool {
	f := t.last
	if len(f) != footerLen || t.zeros%4 != 0 || f[10] != 'Y' || f[11] != 'Z' {
		return false
	}
	return crc32.ChecksumIEEE(f[4:10]) == binary.LittleEndian.Uint32(f[0:4])
}
