package srcline

import (
	"bytes"
	"compress/zlib"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ksym-dev/ksym/input"
)

// Errors of Open. Each is wrapped with the file's path.
var (
	// ErrNotELF: the file is not an ELF object (nor a compressed one).
	ErrNotELF = errors.New("not an ELF file")
	// ErrNoDWARF: the ELF file has no DWARF line information: a stripped
	// vmlinux or module, or the wrong file (a bzImage, a vmlinuz).
	ErrNoDWARF = errors.New("no DWARF debug information (stripped?): need .debug_info and .debug_line")
	// ErrTruncated: a section lies past the end of the file.
	ErrTruncated = errors.New("truncated ELF file: a section ends past the end of the file")
)

// dwarfSections are the sections a lookup reads, by their .debug_ names.
var dwarfSections = []string{
	".debug_info", ".debug_abbrev", ".debug_line", ".debug_str",
	".debug_ranges", ".debug_aranges", ".debug_addr", ".debug_line_str",
	".debug_str_offsets", ".debug_rnglists",
}

// object is an ELF file's bytes and its DWARF sections, relocated when the
// file is relocatable.
type object struct {
	path  string
	data  []byte // the whole file: mapped, or decompressed into memory
	unmap func() error
	ef    *elf.File
	// bases are the addresses at which the allocated sections of a
	// relocatable object are laid out (by section index), as binutils lays
	// them out: one after the other, each aligned, from 0.
	bases map[int]uint64
	secs  map[string][]byte
	whole *dwarf.Data // all of .debug_info, for units that need it
	syms  *symtab     // .symtab, once read
}

// openObject opens path: mapped when it is a plain file, decompressed into
// memory when it is gzip, xz or zstd (a .ko.xz).
func openObject(path string) (*object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: %w", path, input.ErrIsDir)
	}
	var head [6]byte
	n, _ := io.ReadFull(f, head[:])
	o := &object{path: path, unmap: func() error { return nil }}
	if input.Detect(head[:n]) != input.Plain {
		if o.data, err = input.ReadAll(path); err != nil {
			return nil, err
		}
	} else if o.data, o.unmap, err = mapFile(f, st.Size()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := guard(path, func() error { return o.load(st.Size()) }); err != nil {
		o.close()
		return nil, err
	}
	// The size again: a file truncated while it was being opened is refused
	// now rather than faulting later.
	if st2, err := os.Stat(path); err == nil && input.Detect(head[:n]) == input.Plain && st2.Size() < st.Size() {
		o.close()
		return nil, fmt.Errorf("%s: %w", path, ErrFileChanged)
	}
	return o, nil
}

func (o *object) close() error {
	if o.unmap == nil {
		return nil
	}
	err := o.unmap()
	o.unmap, o.data = nil, nil
	return err
}

// load parses the ELF headers and finds (and for a relocatable object,
// relocates) the DWARF sections.
func (o *object) load(size int64) error {
	if len(o.data) < 4 || string(o.data[:4]) != elf.ELFMAG {
		return fmt.Errorf("%s: %w", o.path, ErrNotELF)
	}
	ef, err := elf.NewFile(bytes.NewReader(o.data))
	if err != nil {
		return fmt.Errorf("%s: %w: %v", o.path, ErrNotELF, err)
	}
	o.ef = ef
	o.secs = make(map[string][]byte)
	for _, s := range ef.Sections {
		name := s.Name
		if strings.HasPrefix(name, ".zdebug_") {
			name = ".debug_" + name[len(".zdebug_"):]
		}
		if !isWanted(name) || s.Type == elf.SHT_NOBITS {
			continue
		}
		b, err := o.sectionData(s)
		if err != nil {
			return fmt.Errorf("%s: section %s: %w", o.path, s.Name, err)
		}
		o.secs[name] = b
	}
	if len(o.secs[".debug_info"]) == 0 || len(o.secs[".debug_line"]) == 0 {
		return fmt.Errorf("%s: %w", o.path, ErrNoDWARF)
	}
	if ef.Type == elf.ET_REL {
		o.layOut()
		return o.relocate()
	}
	return nil
}

func isWanted(name string) bool {
	for _, w := range dwarfSections {
		if w == name {
			return true
		}
	}
	return false
}

// sectionData returns the bytes of a section: a slice of the file when
// stored plainly, else decompressed (SHF_COMPRESSED with zlib or zstd, or a
// .zdebug_ section).
func (o *object) sectionData(s *elf.Section) ([]byte, error) {
	end := s.Offset + s.FileSize
	if end < s.Offset || end > uint64(len(o.data)) {
		return nil, ErrTruncated
	}
	raw := o.data[s.Offset:end]
	switch {
	case s.Flags&elf.SHF_COMPRESSED != 0:
		r := s.Open()
		return readLimited(r, s.Size)
	case strings.HasPrefix(s.Name, ".zdebug_"):
		if len(raw) < 12 || string(raw[:4]) != "ZLIB" {
			return nil, errors.New("compressed section without its ZLIB header")
		}
		size := binary.BigEndian.Uint64(raw[4:12])
		zr, err := zlib.NewReader(bytes.NewReader(raw[12:]))
		if err != nil {
			return nil, err
		}
		return readLimited(zr, size)
	}
	return raw, nil
}

// readLimited reads a decompressed section of the size its header states,
// refusing more or less.
func readLimited(r io.Reader, size uint64) ([]byte, error) {
	if size > 1<<34 {
		return nil, fmt.Errorf("decompressed size %d is not believable", size)
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, int64(size)+1))
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	if uint64(n) != size {
		return nil, fmt.Errorf("decompressed %d bytes, header says %d", n, size)
	}
	return buf.Bytes(), nil
}

// layOut gives each allocated section of a relocatable object its own
// address range, one after the other, aligned, from 0: in a .ko every
// section starts at 0, and .text, .text.unlikely, .init.text and .exit.text
// would otherwise overlap.
func (o *object) layOut() {
	o.bases = make(map[int]uint64)
	var next uint64
	for i, s := range o.ef.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		if a := s.Addralign; a > 1 {
			next = (next + a - 1) / a * a
		}
		o.bases[i] = next
		next += s.Size
	}
}

// sectionBase returns where the section named name was laid out.
func (o *object) sectionBase(name string) (uint64, *elf.Section, bool) {
	for i, s := range o.ef.Sections {
		if s.Name != name || s.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		if o.bases == nil {
			return s.Addr, s, true
		}
		return o.bases[i], s, true
	}
	return 0, nil, false
}
