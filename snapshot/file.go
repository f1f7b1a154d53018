package snapshot

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/ksym-dev/ksym/internal/atomicfile"
)

// Limits on what Read accepts: far above any real kernel (a 6.x table is
// 5 to 6 MB of text), low enough that a hostile file cannot exhaust memory.
const (
	maxMember   = 256 << 20
	maxManifest = 1 << 20
	maxWindow   = 64 << 20 // zstd window (decoder memory)
)

// WriteTo writes the snapshot as a zstd-compressed tar archive. It fills in
// Info.Files (sizes and SHA-256 of the members).
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := zstd.NewWriter(cw, zstd.WithEncoderCRC(true), zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return 0, err
	}
	members := []struct {
		name string
		data []byte
	}{{KallsymsName, s.Kallsyms}}
	if s.Modules != nil {
		members = append(members, struct {
			name string
			data []byte
		}{ModulesName, s.Modules})
	}
	s.Info.Files = s.Info.Files[:0]
	for _, m := range members {
		sum := sha256.Sum256(m.data)
		s.Info.Files = append(s.Info.Files, File{Name: m.name, Size: int64(len(m.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	manifest, err := json.MarshalIndent(s.Info, "", "  ")
	if err != nil {
		return cw.n, err
	}
	tw := tar.NewWriter(zw)
	err = s.addMember(tw, ManifestName, append(manifest, '\n'))
	for _, m := range members {
		if err == nil {
			err = s.addMember(tw, m.name, m.data)
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	return cw.n, err
}

func (s *Snapshot) addMember(tw *tar.Writer, name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: s.Info.Captured}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteFile writes the snapshot to path with mode 0600 (it reveals the
// kernel's KASLR offset), atomically: a new file is renamed over path.
func (s *Snapshot) WriteFile(path string) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := s.WriteTo(w)
		return err
	})
}

// Open reads the snapshot file at path (see Read).
func Open(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Read reads a snapshot: zstd-compressed tar, as WriteTo writes it.
func Read(r io.Reader) (*Snapshot, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderMaxWindow(maxWindow), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	defer zr.Close()
	return ReadTar(zr)
}

// IsTar reports whether data, already decompressed, starts with a snapshot's
// manifest: the tar header of ksym-snapshot.json.
func IsTar(data []byte) bool {
	return len(data) >= 512 && bytes.HasPrefix(data, []byte(ManifestName+"\x00")) &&
		string(data[257:262]) == "ustar"
}

// ReadTar reads a snapshot from its decompressed tar archive, checking the
// manifest's format and version and every member's size and SHA-256.
func ReadTar(r io.Reader) (*Snapshot, error) {
	s, err := readTar(tar.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	return s, nil
}

func readTar(tr *tar.Reader) (*Snapshot, error) {
	hdr, err := tr.Next()
	if err != nil {
		return nil, describeEOF(err)
	}
	if hdr.Name != ManifestName {
		return nil, fmt.Errorf("first member is %q, not %s", hdr.Name, ManifestName)
	}
	s := &Snapshot{}
	if err := readManifest(tr, hdr, &s.Info); err != nil {
		return nil, err
	}
	want := make(map[string]File, len(s.Info.Files))
	for _, f := range s.Info.Files {
		want[f.Name] = f
	}
	got := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, describeEOF(err)
		}
		f, known := want[hdr.Name]
		if !known {
			continue // a member a later version added
		}
		data, err := readMember(tr, hdr, f)
		if err != nil {
			return nil, err
		}
		got[hdr.Name] = data
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			return nil, fmt.Errorf("member %s is missing: the file is truncated", name)
		}
	}
	s.Kallsyms, s.Modules = got[KallsymsName], got[ModulesName]
	if s.Kallsyms == nil {
		return nil, errors.New("the manifest lists no kallsyms member")
	}
	return s, nil
}

func readManifest(tr *tar.Reader, hdr *tar.Header, info *Info) error {
	if hdr.Size > maxManifest {
		return fmt.Errorf("manifest of %d bytes", hdr.Size)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return describeEOF(err)
	}
	if err := json.Unmarshal(data, info); err != nil {
		return fmt.Errorf("manifest: %v", err)
	}
	if info.Format != Format {
		return fmt.Errorf("manifest format %q, want %q", info.Format, Format)
	}
	if info.Version != Version {
		return fmt.Errorf("snapshot version %d, this ksym reads version %d", info.Version, Version)
	}
	return nil
}

func readMember(tr *tar.Reader, hdr *tar.Header, f File) ([]byte, error) {
	if hdr.Size != f.Size || hdr.Size > maxMember {
		return nil, fmt.Errorf("member %s has %d bytes, the manifest says %d", hdr.Name, hdr.Size, f.Size)
	}
	data := make([]byte, hdr.Size)
	if _, err := io.ReadFull(tr, data); err != nil {
		return nil, fmt.Errorf("member %s: %v", hdr.Name, describeEOF(err))
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, fmt.Errorf("member %s: SHA-256 mismatch: the file is corrupted", hdr.Name)
	}
	return data, nil
}

// describeEOF turns the end of a cut archive into a clear message.
func describeEOF(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("the file ends too early: it is truncated")
	}
	return err
}
