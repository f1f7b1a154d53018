package kmod

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// versionEntry builds one synthetic __versions entry.
func versionEntry(crc uint64, name string, is64 bool) []byte {
	e := make([]byte, VersionEntrySize)
	off := 4
	if is64 {
		binary.LittleEndian.PutUint64(e, crc)
		off = 8
	} else {
		binary.LittleEndian.PutUint32(e, uint32(crc))
	}
	copy(e[off:], name)
	return e
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestParseVersions(t *testing.T) {
	long := "a_name_of_exactly_fifty_six_bytes_which_fills_the_field" // 55 bytes + NUL fits
	tests := []struct {
		name    string
		in      []byte
		is64    bool
		want    []Version
		wantErr bool
	}{
		// The first entry of the real lkdtm.ko (readelf -x __versions):
		// 489fdb88 00000000 "__check_object_size".
		{name: "real first entry", is64: true,
			in:   cat([]byte{0x48, 0x9f, 0xdb, 0x88, 0, 0, 0, 0}, []byte("__check_object_size"), make([]byte, 64-8-19)),
			want: []Version{{"__check_object_size", 0x88db9f48}}},
		{name: "two 64-bit", is64: true, in: cat(versionEntry(1, "a", true), versionEntry(0x9060323f, "module_layout", true)),
			want: []Version{{"a", 1}, {"module_layout", 0x9060323f}}},
		{name: "32-bit layout", in: cat(versionEntry(7, "printk", false)), want: []Version{{"printk", 7}}},
		{name: "longest name", is64: true, in: versionEntry(3, long, true), want: []Version{{long, 3}}},
		{name: "crc above 32 bits kept", is64: true, in: versionEntry(1<<40, "x", true), want: []Version{{"x", 1 << 40}}},
		{name: "empty", is64: true, in: nil, want: nil},
		{name: "partial entry", is64: true, in: cat(versionEntry(1, "a", true), make([]byte, 10)),
			want: []Version{{"a", 1}}, wantErr: true},
		{name: "name without NUL", is64: true, in: cat(versionEntry(1, "a", true), cat(make([]byte, 8), []byte(long + "xx")[:56])),
			want: []Version{{"a", 1}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVersions(tt.in, binary.LittleEndian, tt.is64)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrVersions)) {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
