//go:build unix

package input

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
)

// TestOpenTablePipe: a named pipe is read once, its first bytes included
// (it cannot be opened again to be parsed or mapped).
func TestOpenTablePipe(t *testing.T) {
	text := head200(t)
	for name, data := range map[string][]byte{"plain": text, "zstd": zstdBytes(t, text)} {
		path := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		go func() {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.Write(data)
			f.Close()
		}()
		got, err := OpenTable(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := kallsyms.ParseBytes(text, kallsyms.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameTable(t, name+" pipe", got.Table, want)
	}
}
