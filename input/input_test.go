package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/internal/fixture"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Real tables from the fixtures.
const (
	firecrackerGz = "../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz"
	run1AGz       = "../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz"
	// Made with the xz 5.4.1 and zstd 1.5.4 command line tools from the first
	// 200 lines of run1-A's /proc/kallsyms.
	head200XZ   = "testdata/kallsyms-run1-A-head200.txt.xz"
	head200Zstd = "testdata/kallsyms-run1-A-head200.txt.zst"
)

// Independently measured with `zcat kallsyms.txt.gz | sha256sum` and `wc -lc`.
const (
	firecrackerSHA256 = "01c0522ab66859ab853ebc505cbb4fea53cf971c55775cd3ed4c0a3f7e231431"
	firecrackerBytes  = 5414749
	firecrackerLines  = 122165
	head200SHA256     = "34ed0fbb6c9ea2f379a3bac016624c89ab49f8e9be04cbbec31473f118a72861"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// head200 returns the first 200 lines of run1-A's table, as the checked-in
// .xz and .zst files hold them.
func head200(t testing.TB) []byte {
	t.Helper()
	all := fixture.Read(t, run1AGz)
	end := 0
	for range 200 {
		end += bytes.IndexByte(all[end:], '\n') + 1
	}
	b := all[:end]
	if sha(b) != head200SHA256 {
		t.Fatalf("fixture changed: sha256 of the first 200 lines is %s", sha(b))
	}
	return b
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// xzBytes compresses b with the xz library; blockSize and dictCap 0 mean the
// library's defaults (one block, 8 MiB dictionary).
func xzBytes(t testing.TB, b []byte, blockSize int64, dictCap int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.WriterConfig{BlockSize: blockSize, DictCap: dictCap}.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(b, nil)
}

// decompress runs NewReader over b and reads everything.
func decompress(b []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in   []byte
		want Format
	}{
		{nil, Plain},
		{[]byte{0x1f}, Plain},
		{[]byte{0x1f, 0x8b}, Gzip},
		{[]byte{0x1f, 0x8b, 0x08, 0x00}, Gzip},
		{[]byte{0xfd, '7', 'z', 'X', 'Z'}, Plain},
		{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, XZ},
		{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x01}, Plain},
		{[]byte{0x28, 0xb5, 0x2f}, Plain},
		{[]byte{0x28, 0xb5, 0x2f, 0xfd, 0x04}, Zstd},
		{[]byte("ffffffff81000000 T _text\n"), Plain},
		{[]byte("BZh91AY&SY"), Plain}, // bzip2 is not decompressed
	}
	for _, tt := range tests {
		if got := Detect(tt.in); got != tt.want {
			t.Errorf("Detect(% x) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFormatString(t *testing.T) {
	tests := []struct {
		f    Format
		want string
	}{{Plain, "plain"}, {Gzip, "gzip"}, {XZ, "xz"}, {Zstd, "zstd"}, {Format(42), "plain"}}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Format(%d).String() = %q, want %q", int(tt.f), got, tt.want)
		}
	}
}

// TestCheckedInCLIFiles decompresses files made by the reference xz and zstd
// tools, so the expected bytes do not come from the libraries under test.
func TestCheckedInCLIFiles(t *testing.T) {
	want := head200(t)
	for _, path := range []string{head200XZ, head200Zstd} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got, err := ReadAll(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes (sha256 %s), want %d bytes", len(got), sha(got), len(want))
			}
		})
	}
}

func TestReadAllRealGzip(t *testing.T) {
	got, err := ReadAll(firecrackerGz)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != firecrackerBytes || bytes.Count(got, []byte("\n")) != firecrackerLines || sha(got) != firecrackerSHA256 {
		t.Fatalf("got %d bytes, %d lines, sha256 %s", len(got), bytes.Count(got, []byte("\n")), sha(got))
	}
}

// TestWholeTableEveryFormat compresses the real 6.18 table in each format
// (with the CLI tools when installed, else with the Go libraries) and checks
// the exact bytes come back through Open and ReadAll.
func TestWholeTableEveryFormat(t *testing.T) {
	plain := fixture.Read(t, firecrackerGz)
	dir := t.TempDir()
	plainPath := filepath.Join(dir, "kallsyms.txt")
	if err := os.WriteFile(plainPath, plain, 0o644); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"plain": plain,
		"gzip":  mustRead(t, firecrackerGz),
		"xz":    compressCLI(t, "xz", plainPath, func() []byte { return xzBytes(t, plain, 0, 0) }),
		"zstd":  compressCLI(t, "zstd", plainPath, func() []byte { return zstdBytes(t, plain) }),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "table."+name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadAll(path)
			if err != nil {
				t.Fatal(err)
			}
			if sha(got) != firecrackerSHA256 {
				t.Fatalf("ReadAll: got %d bytes, sha256 %s", len(got), sha(got))
			}
			rc, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			n := 0
			sc := bufio.NewScanner(rc)
			for sc.Scan() {
				n++
			}
			if err := sc.Err(); err != nil || n != firecrackerLines {
				t.Fatalf("Open: %d lines, err %v", n, err)
			}
		})
	}
}

// compressCLI compresses path with the named tool to stdout, or falls back.
func compressCLI(t *testing.T, tool, path string, fallback func() []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Logf("%s not installed: compressing with the Go library", tool)
		return fallback()
	}
	out, err := exec.Command(tool, "-1", "-c", "-q", path).Output()
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return out
}

func TestConcatenatedStreams(t *testing.T) {
	a, b := []byte("ffffffff81000000 T _text\n"), []byte("ffffffffc0000000 t foo\t[mod]\n")
	want := append(append([]byte(nil), a...), b...)
	tests := map[string][]byte{
		"gzip": append(gzipBytes(t, a), gzipBytes(t, b)...),
		"xz":   append(xzBytes(t, a, 0, 0), xzBytes(t, b, 0, 0)...),
		"zstd": append(zstdBytes(t, a), zstdBytes(t, b)...),
		// xz stream padding (multiples of four zero bytes) is allowed.
		"xz padded": append(append(xzBytes(t, a, 0, 0), 0, 0, 0, 0), xzBytes(t, b, 0, 0)...),
	}
	for name, in := range tests {
		got, err := decompress(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, want)
		}
	}
}

// TestTruncated cuts real compressed tables at (nearly) every length and
// expects a truncation error naming the format, never silently short output.
// One xz input has small blocks so that cuts fall on block boundaries too, and
// a small dictionary so that cutting it 3,000 times stays fast; the xz CLI's
// file asks for an 8 MiB dictionary, so it is cut at fewer places.
func TestTruncated(t *testing.T) {
	plain := head200(t)
	tests := []struct {
		format Format
		data   []byte
		minLen int // shorter prefixes do not hold the whole magic: plain text
		step   int
	}{
		{Gzip, gzipBytes(t, plain), 2, 1},
		{XZ, mustRead(t, head200XZ), 6, 61},
		{XZ, xzBytes(t, plain, 1024, 64<<10), 6, 1},
		{Zstd, mustRead(t, head200Zstd), 4, 1},
	}
	for _, tt := range tests {
		if got, err := decompress(tt.data); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%v: whole stream: %d bytes, %v", tt.format, len(got), err)
		}
		want := tt.format.String() + " stream truncated"
		for n := tt.minLen; n < len(tt.data); n += tt.step {
			_, err := decompress(tt.data[:n])
			var fe *FormatError
			if !errors.Is(err, ErrTruncated) || !errors.As(err, &fe) || fe.Format != tt.format ||
				!strings.HasPrefix(err.Error(), want) {
				t.Fatalf("%v cut to %d of %d bytes: err = %v, want %q", tt.format, n, len(tt.data), err, want)
			}
		}
	}
}

// TestCorrupt flips bytes inside real compressed data: every case must end in
// an error naming the format (checksums catch what decoding does not).
func TestCorrupt(t *testing.T) {
	plain := head200(t)
	tests := []struct {
		format Format
		data   []byte
	}{
		{Gzip, gzipBytes(t, plain)},
		{XZ, mustRead(t, head200XZ)},
		{Zstd, mustRead(t, head200Zstd)},
	}
	for _, tt := range tests {
		for _, pos := range []int{len(tt.data) / 3, len(tt.data) / 2, len(tt.data) - 5} {
			bad := append([]byte(nil), tt.data...)
			bad[pos] ^= 0x5a
			_, err := decompress(bad)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Format != tt.format || !strings.HasPrefix(err.Error(), tt.format.String()+" stream") {
				t.Errorf("%v with byte %d flipped: err = %v", tt.format, pos, err)
			}
		}
	}
}

func TestCorruptHeaderMessage(t *testing.T) {
	// Gzip magic followed by an invalid compression method.
	_, err := decompress([]byte{0x1f, 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0xff, 'x'})
	if err == nil || err.Error() != "gzip stream corrupt: gzip: invalid header" {
		t.Fatalf("err = %v", err)
	}
}

func TestPassThrough(t *testing.T) {
	tests := map[string][]byte{
		"empty":            {},
		"one byte":         {0x1f},
		"xz magic prefix":  {0xfd, '7', 'z', 'X', 'Z'},
		"text":             []byte("0000000000000000 A fixed_percpu_data\n"),
		"binary garbage":   {0x00, 0xff, 0x13, 0x37, 0x8b, 0x1f, 0xfd},
		"bigger than peek": bytes.Repeat([]byte("ffffffff81000000 T _text\n"), 10000),
	}
	for name, in := range tests {
		got, err := decompress(in)
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("%s: got %d bytes, %v; want the %d input bytes", name, len(got), err, len(in))
		}
	}
}

func TestReadAllEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(path)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %q, %v", got, err)
	}
}

// TestOpenErrors: the errors state the fact alone, as os.Open does, and
// stay testable with errors.Is; what to do is the program's to say.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.txt")
	tests := []struct {
		path string
		is   error
		msg  string
	}{
		{missing, fs.ErrNotExist, "open " + missing + ": no such file or directory"},
		{dir, ErrIsDir, "open " + dir + ": is a directory"},
	}
	for _, tt := range tests {
		for name, open := range map[string]func(string) error{
			"Open":      func(p string) error { _, err := Open(p); return err },
			"ReadAll":   func(p string) error { _, err := ReadAll(p); return err },
			"OpenTable": func(p string) error { _, err := OpenTable(p); return err },
		} {
			err := open(tt.path)
			var pe *fs.PathError
			if !errors.Is(err, tt.is) || !errors.As(err, &pe) || pe.Path != tt.path || err.Error() != tt.msg {
				t.Errorf("%s(%s) = %v, want %v reading %q", name, tt.path, err, tt.is, tt.msg)
			}
		}
	}
}

// TestPermissionError: an unreadable file is os.Open's *fs.PathError,
// unchanged.
func TestPermissionError(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: file permissions do not apply")
	}
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if !errors.Is(err, fs.ErrPermission) || err.Error() != "open "+path+": permission denied" {
		t.Fatalf("err = %v", err)
	}
}

// withStdin replaces os.Stdin with a file holding data for the test.
func withStdin(t *testing.T, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })
	return f
}

func TestStdin(t *testing.T) {
	plain := head200(t)
	f := withStdin(t, mustRead(t, head200Zstd))
	rc, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(); err != nil {
		t.Fatalf("closing the reader closed os.Stdin: %v", err)
	}
}

func TestReadAllStdin(t *testing.T) {
	withStdin(t, mustRead(t, firecrackerGz))
	got, err := ReadAll("-")
	if err != nil || sha(got) != firecrackerSHA256 {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
}

func TestReadAllStdinTruncated(t *testing.T) {
	gz := mustRead(t, firecrackerGz)
	withStdin(t, gz[:len(gz)/2])
	_, err := ReadAll("-")
	if !errors.Is(err, ErrTruncated) || err.Error() != "standard input: gzip stream truncated" {
		t.Fatalf("err = %v", err)
	}
}

func TestReadAllProcKallsyms(t *testing.T) {
	const path = "/proc/kallsyms"
	head, err := os.ReadFile(path)
	if err != nil || len(head) == 0 {
		t.Skipf("%s not readable: %v", path, err)
	}
	got, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	firstLine := head[:bytes.IndexByte(head, '\n')+1]
	if !bytes.HasPrefix(got, firstLine) || got[len(got)-1] != '\n' || len(got) < len(head)/2 {
		t.Fatalf("got %d bytes starting %q; os.ReadFile gave %d", len(got), got[:min(len(got), 40)], len(head))
	}
}

// patchXZDict sets the dictionary size code of the LZMA2 filter in the block
// header at off (as the xz file format lays it out: size byte, flags 0x00,
// filter ID 0x21, properties size 1, dictionary code) and fixes its CRC32.
func patchXZDict(t *testing.T, b []byte, off int, code byte) {
	t.Helper()
	hdrLen := (int(b[off]) + 1) * 4
	h := b[off : off+hdrLen]
	if h[1] != 0 || h[2] != 0x21 || h[3] != 0x01 {
		t.Fatalf("unexpected block header % x", h)
	}
	h[4] = code
	binary.LittleEndian.PutUint32(h[hdrLen-4:], crc32.ChecksumIEEE(h[:hdrLen-4]))
}

// TestXZDictionaryLimit: a tiny file must not make the reader allocate
// gigabytes. The big dictionary is put in the first block of the first stream,
// and in the first block of a second stream behind a valid multi-block one (so
// the container walk must cross blocks, index, footer and padding to find it).
func TestXZDictionaryLimit(t *testing.T) {
	plain := head200(t)
	first := xzBytes(t, plain, 1024, 64<<10)
	tests := []struct {
		name string
		code byte // 40 = 4 GiB - 1, 36 = 1 GiB, 32 = 256 MiB, 30 = 128 MiB
		off  func() ([]byte, int)
		ok   bool
	}{
		{"first stream 4GiB", 40, func() ([]byte, int) { return mustRead(t, head200XZ), 12 }, false},
		{"first stream 1GiB", 36, func() ([]byte, int) { return mustRead(t, head200XZ), 12 }, false},
		{"first stream 256MiB", 32, func() ([]byte, int) { return mustRead(t, head200XZ), 12 }, false},
		{"first stream 128MiB", 30, func() ([]byte, int) { return mustRead(t, head200XZ), 12 }, true},
		{"second stream 4GiB", 40, func() ([]byte, int) {
			b := append(append(append([]byte(nil), first...), 0, 0, 0, 0), mustRead(t, head200XZ)...)
			return b, len(first) + 4 + 12
		}, false},
	}
	for _, tt := range tests {
		b, off := tt.off()
		patchXZDict(t, b, off, tt.code)
		_, err := decompress(b)
		var fe *FormatError
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case !tt.ok && (!errors.As(err, &fe) || fe.Format != XZ || !strings.Contains(err.Error(), "MiB allowed")):
			t.Errorf("%s: err = %v, want the dictionary limit error", tt.name, err)
		}
	}
}

// blockingReader serves data, then blocks on its gate channel until the
// test closes it, and ends: a pipe whose writer pauses.
type blockingReader struct {
	data string
	gate chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		<-r.gate
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestNewReaderShortStart: a stream that starts with fewer bytes than the
// longest magic number and then waits is recognised as plain text without
// waiting, when its first bytes start no magic number ("a\n", as from
// (echo a; sleep 3; echo b)); a stream whose first bytes may still be a
// magic number is read on until it is decided.
func TestNewReaderShortStart(t *testing.T) {
	gate := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		r, err := NewReader(&blockingReader{data: "a\n", gate: gate})
		if err == nil {
			buf := make([]byte, 8)
			var n int
			n, err = r.Read(buf)
			if err == nil && string(buf[:n]) != "a\n" {
				err = fmt.Errorf("read %q, want \"a\\n\"", buf[:n])
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Error("NewReader waited for more than the first two bytes of plain text")
	}
	close(gate)
	for _, data := range []string{"\x1f", "\xfd7z"} { // gzip and xz prefixes, then the end
		r, err := NewReader(strings.NewReader(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != data {
			t.Errorf("%q: read %q, %v", data, got, err)
		}
	}
}
