package input

import (
	"github.com/ksym-dev/ksym/internal/fixture"

	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadAll decompresses the real 5.4 MB 6.18 table in each format.
func BenchmarkReadAll(b *testing.B) {
	plain := fixture.Read(b, firecrackerGz)
	dir := b.TempDir()
	files := map[string][]byte{
		"plain": plain,
		"gzip":  mustRead(b, firecrackerGz),
		"xz":    xzBytes(b, plain, 0, 0),
		"zstd":  zstdBytes(b, plain),
	}
	for _, name := range []string{"plain", "gzip", "xz", "zstd"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(plain)))
			for b.Loop() {
				if _, err := ReadAll(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
