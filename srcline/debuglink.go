package srcline

import (
	"debug/elf"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// linkedDebugFile returns the separate debug file a stripped ELF file names
// in its .gnu_debuglink section, looked for where GDB looks: next to the
// file, in its .debug/ subdirectory, and under /usr/lib/debug/ with the
// file's directory. Only a file whose CRC-32 is the one recorded counts.
func linkedDebugFile(path string) (string, bool) {
	ef, err := elf.Open(path)
	if err != nil {
		return "", false
	}
	sec := ef.Section(".gnu_debuglink")
	if sec == nil {
		ef.Close()
		return "", false
	}
	b, err := sec.Data()
	bo := ef.ByteOrder
	ef.Close()
	if err != nil {
		return "", false
	}
	name, crc, ok := parseDebugLink(b, bo)
	if !ok || filepath.Base(name) != name {
		return "", false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	dir := filepath.Dir(abs)
	for _, p := range []string{
		filepath.Join(dir, name),
		filepath.Join(dir, ".debug", name),
		filepath.Join("/usr/lib/debug", dir, name),
	} {
		if p != abs && fileCRC(p) == crc {
			return p, true
		}
	}
	return "", false
}

// parseDebugLink splits a .gnu_debuglink section: a file name, NUL, padding
// to four bytes, the file's CRC-32.
func parseDebugLink(b []byte, bo interface{ Uint32([]byte) uint32 }) (string, uint32, bool) {
	for i, c := range b {
		if c != 0 {
			continue
		}
		if i == 0 {
			return "", 0, false
		}
		p := (i + 4) &^ 3
		if p+4 > len(b) {
			return "", 0, false
		}
		return string(b[:i]), bo.Uint32(b[p:]), true
	}
	return "", 0, false
}

// fileCRC returns the CRC-32 (IEEE) of a file, or 0 when it cannot be read
// (never the CRC of a real debug file in practice; a false match is then
// still checked by build ID or symbol table).
func fileCRC(path string) uint32 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, f); err != nil {
		return 0
	}
	return h.Sum32()
}
