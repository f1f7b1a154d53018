// Package elfnote reads the GNU build ID from ELF notes: the contents of an
// SHT_NOTE section or a PT_NOTE segment.
package elfnote

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
)

// typeGNUBuildID is the note type of a GNU build ID (NT_GNU_BUILD_ID).
const typeGNUBuildID = 3

// BuildID returns the NT_GNU_BUILD_ID of owner "GNU" among the notes in b,
// in lowercase hex, or "" when there is none or the notes are malformed
// before it.
func BuildID(b []byte, bo binary.ByteOrder) string {
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		name, desc := (namesz+3)&^3, (descsz+3)&^3
		if 12+name+desc > uint64(len(b)) || 12+name+descsz > uint64(len(b)) {
			return ""
		}
		if typ == typeGNUBuildID && namesz == 4 && bytes.Equal(b[12:16], []byte("GNU\x00")) && descsz > 0 {
			return hex.EncodeToString(b[12+name : 12+name+descsz])
		}
		b = b[12+name+desc:]
	}
	return ""
}
