// Package atomicfile replaces a file in one step: the new content is written
// to a temporary file in the target's directory and renamed over the target.
// A reader sees the old file or the new one, never a part of either, and a
// process that has the old file open or mapped keeps the old content.
package atomicfile

import (
	"bufio"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write creates or replaces the file at path with the bytes write writes,
// with permission perm. The temporary file, named "." + the target's name +
// a random suffix in the same directory, is set to perm before anything is
// written, closed, and renamed over path; on any error it is removed and
// path is left as it was. The content is not synced to the disk: after a
// crash the file may be the old one.
func Write(path string, perm fs.FileMode, write func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		bw := bufio.NewWriterSize(f, 64<<10)
		if err = write(bw); err == nil {
			err = bw.Flush()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
