package elfnote

import (
	"encoding/binary"
	"testing"
)

// note builds one ELF note (synthetic: the format of the ELF gABI).
func note(bo binary.AppendByteOrder, name string, typ uint32, desc []byte) []byte {
	b := bo.AppendUint32(nil, uint32(len(name)))
	b = bo.AppendUint32(b, uint32(len(desc)))
	b = bo.AppendUint32(b, typ)
	b = append(b, name...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, desc...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestBuildID(t *testing.T) {
	id := []byte{0xeb, 0x4f, 0xbc, 0xd0, 0x37}
	le, be := binary.LittleEndian, binary.BigEndian
	xen := note(le, "Xen\x00", 1, []byte{1, 2, 3})
	tests := []struct {
		name string
		b    []byte
		bo   interface {
			binary.ByteOrder
			binary.AppendByteOrder
		}
		want string
	}{
		{"alone", note(le, "GNU\x00", 3, id), le, "eb4fbcd037"},
		{"after another note", append(xen, note(le, "GNU\x00", 3, id)...), le, "eb4fbcd037"},
		{"big endian", note(be, "GNU\x00", 3, id), be, "eb4fbcd037"},
		{"another type", note(le, "GNU\x00", 1, id), le, ""},
		{"another owner", note(le, "Linux\x00", 3, id), le, ""},
		{"empty description", note(le, "GNU\x00", 3, nil), le, ""},
		{"cut short", note(le, "GNU\x00", 3, id)[:18], le, ""},
		{"empty", nil, le, ""},
	}
	for _, tt := range tests {
		if got := BuildID(tt.b, tt.bo); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func FuzzBuildID(f *testing.F) {
	f.Add(note(binary.LittleEndian, "GNU\x00", 3, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		BuildID(b, binary.LittleEndian)
	})
}
