package machine

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Note is one ELF note: a name ("GNU", "Linux", "Xen"), a type and a payload.
type Note struct {
	Name string // without its terminating NUL
	Type uint32
	Desc []byte
}

// ntGNUBuildID is the type of the "GNU" note that holds the build ID.
const ntGNUBuildID = 3

// ErrNoBuildID is returned when the notes hold no GNU build ID.
var ErrNoBuildID = errors.New("no GNU build ID note (the kernel or module was built without --build-id)")

// noteHeaderLen is the size of Elf32_Nhdr and Elf64_Nhdr alike.
const noteHeaderLen = 12

// ParseNotes parses a sequence of ELF notes, as /sys/kernel/notes and
// /sys/module/*/notes/* hold them: each note is a header {namesz, descsz,
// type uint32} then the name and the payload, each padded to 4 bytes. The
// numbers are in the machine's byte order; data that does not parse that way
// is tried in the other byte order, so notes saved on a little-endian machine
// parse on a big-endian one and the reverse. Trailing zero bytes (alignment
// padding) are ignored.
func ParseNotes(data []byte) ([]Note, error) {
	notes, err := parseNotes(data, binary.NativeEndian)
	if err == nil {
		return notes, nil
	}
	if other, err2 := parseNotes(data, otherEndian()); err2 == nil {
		return other, nil
	}
	return nil, err
}

// otherEndian returns the byte order that is not the machine's.
func otherEndian() binary.ByteOrder {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// parseNotes parses notes in the byte order bo.
func parseNotes(data []byte, bo binary.ByteOrder) ([]Note, error) {
	var notes []Note
	for off := 0; off < len(data); {
		if allZero(data[off:]) {
			break
		}
		if len(data)-off < noteHeaderLen {
			return nil, fmt.Errorf("ELF notes: %d stray bytes at offset %d, too few for a note header", len(data)-off, off)
		}
		namesz := uint64(bo.Uint32(data[off:]))
		descsz := uint64(bo.Uint32(data[off+4:]))
		typ := bo.Uint32(data[off+8:])
		nameEnd := uint64(off+noteHeaderLen) + namesz
		descStart := align4(nameEnd)
		descEnd := descStart + descsz
		if descEnd > uint64(len(data)) {
			return nil, fmt.Errorf("ELF notes: note at offset %d (name size %d, payload size %d) runs past the end of the %d bytes", off, namesz, descsz, len(data))
		}
		name := strings.TrimRight(string(data[off+noteHeaderLen:nameEnd]), "\x00")
		notes = append(notes, Note{Name: name, Type: typ, Desc: data[descStart:descEnd:descEnd]})
		off = int(min(align4(descEnd), uint64(len(data))))
	}
	return notes, nil
}

// align4 rounds n up to a multiple of 4.
func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// BuildIDOf returns the lowercase hex of the GNU build ID among notes, or
// ErrNoBuildID.
func BuildIDOf(notes []Note) (string, error) {
	for _, n := range notes {
		if n.Name == "GNU" && n.Type == ntGNUBuildID && len(n.Desc) > 0 {
			return hex.EncodeToString(n.Desc), nil
		}
	}
	return "", ErrNoBuildID
}

// BuildID returns the running kernel's GNU build ID, in hex, from the ELF
// notes in /sys/kernel/notes. It identifies the exact vmlinux (and so the
// System.map and debug info) the kernel was built as.
func (fs FS) BuildID() (string, error) {
	return fs.notesBuildID("/sys/kernel/notes")
}

// ModuleBuildID returns the GNU build ID of a loaded module, from
// /sys/module/<module>/notes/.note.gnu.build-id. Dashes in the name are read
// as underscores, as the kernel names modules ("crc32c-intel" is
// "crc32c_intel").
func (fs FS) ModuleBuildID(module string) (string, error) {
	dir, err := fs.moduleDir(module)
	if err != nil {
		return "", err
	}
	return fs.notesBuildID(dir + "/notes/.note.gnu.build-id")
}

// notesBuildID reads a notes file and returns its build ID.
func (fs FS) notesBuildID(machinePath string) (string, error) {
	path := fs.Path(machinePath)
	data, err := readAll(path, 4096)
	if err != nil {
		return "", err
	}
	notes, err := ParseNotes(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	id, err := BuildIDOf(notes)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}
