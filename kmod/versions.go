package kmod

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// VersionEntrySize is the size of one __versions entry, struct
// modversion_info { unsigned long crc; char name[MODULE_NAME_LEN]; } with
// MODULE_NAME_LEN = 64 - sizeof(unsigned long): 64 bytes on 32- and 64-bit
// kernels alike. (Kernels from 6.14 with CONFIG_EXTENDED_MODVERSIONS may
// write __version_ext_crcs/__version_ext_names instead for long names;
// those are not read here.)
const VersionEntrySize = 64

// Version is one __versions entry: the CRC of an exported symbol's
// prototype as the module was built against it.
type Version struct {
	Name string
	// CRC is the stored unsigned long; the kernel compares it with the
	// export's 32-bit CRC, so a value above 32 bits never matches.
	CRC uint64
}

// ErrVersions is wrapped by the errors of ParseVersions.
var ErrVersions = errors.New("malformed __versions")

// ParseVersions parses a __versions section. is64 selects an 8-byte CRC
// field (64-bit kernels) instead of a 4-byte one; order is the ELF file's
// byte order. A section whose size is not a multiple of 64 bytes, or a name
// that fills its field without a NUL, is an error; the entries before the
// fault are returned.
func ParseVersions(b []byte, order binary.ByteOrder, is64 bool) ([]Version, error) {
	crcSize := 4
	if is64 {
		crcSize = 8
	}
	var out []Version
	for off := 0; off+VersionEntrySize <= len(b); off += VersionEntrySize {
		e := b[off : off+VersionEntrySize]
		var crc uint64
		if is64 {
			crc = order.Uint64(e)
		} else {
			crc = uint64(order.Uint32(e))
		}
		field := e[crcSize:]
		n := bytes.IndexByte(field, 0)
		if n < 0 {
			return out, fmt.Errorf("%w: entry %d: the name has no terminating NUL", ErrVersions, off/VersionEntrySize)
		}
		out = append(out, Version{Name: string(field[:n]), CRC: crc})
	}
	if r := len(b) % VersionEntrySize; r != 0 {
		return out, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte entries", ErrVersions, len(b), VersionEntrySize)
	}
	return out, nil
}
