package snapshot_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ksym-dev/ksym/snapshot"
)

// FuzzRead: Read never panics, and every error wraps ErrBadSnapshot. Seeds:
// a small snapshot (synthetic: three lines of table, so that the fuzzer can
// reach every part of it) compressed and not.
func FuzzRead(f *testing.F) {
	s := &snapshot.Snapshot{
		Info:     snapshot.Info{Format: snapshot.Format, Version: snapshot.Version, Release: "6.1.0"},
		Kallsyms: []byte("ffffffff81000000 T _stext\nffffffff81000010 t foo\nffffffffc0000000 t bar\t[m]\n"),
		Modules:  []byte("m 16384 0 - Live 0xffffffffc0000000\n"),
	}
	var b bytes.Buffer
	if _, err := s.WriteTo(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := snapshot.Read(bytes.NewReader(data)); err != nil && !errors.Is(err, snapshot.ErrBadSnapshot) {
			t.Fatalf("error does not wrap ErrBadSnapshot: %v", err)
		}
		if _, err := snapshot.ReadTar(bytes.NewReader(data)); err != nil && !errors.Is(err, snapshot.ErrBadSnapshot) {
			t.Fatalf("error does not wrap ErrBadSnapshot: %v", err)
		}
	})
}
