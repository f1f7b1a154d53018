package input

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// maxFuzzOutput bounds how much a fuzz input may expand to, so that
// decompression bombs do not stall the fuzzer.
const maxFuzzOutput = 16 << 20

// FuzzNewReader feeds arbitrary bytes to NewReader: it must never panic,
// plain input must come back unchanged, and every failure of a compressed
// input must be a *FormatError naming the detected format.
func FuzzNewReader(f *testing.F) {
	plain := head200(f)
	f.Add(plain)
	f.Add([]byte{})
	f.Add(gzipBytes(f, plain[:300]))
	f.Add(mustRead(f, head200XZ))
	f.Add(mustRead(f, head200Zstd))
	f.Add(xzBytes(f, plain[:2000], 512, 4096))
	f.Add(zstdBytes(f, plain[:300]))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{0xfd, '7', 'z', 'X', 'Z', 0x00})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, data []byte) {
		format := Detect(data)
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			checkFuzzError(t, format, err)
			return
		}
		defer r.Close()
		var out bytes.Buffer
		_, err = io.CopyN(&out, r, maxFuzzOutput)
		if err == io.EOF {
			err = nil
		}
		if err != nil {
			checkFuzzError(t, format, err)
			return
		}
		if format == Plain && !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("plain input changed: %d bytes in, %d out", len(data), out.Len())
		}
	})
}

func checkFuzzError(t *testing.T, format Format, err error) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Format != format || format == Plain {
		t.Fatalf("%v input: error %v (%T) is not a *FormatError for the format", format, err, err)
	}
}
