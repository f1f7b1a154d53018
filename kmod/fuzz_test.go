package kmod

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/ksym-dev/ksym/input"
)

func FuzzParseModinfo(f *testing.F) {
	f.Add([]byte("license=GPL\x00depends=a,b\x00import_ns=NS\x00name=m\x00vermagic=6.1 SMP \x00"))
	f.Add([]byte("license=GPL"))
	f.Add([]byte("\x00\x00=\x00=="))
	f.Fuzz(func(t *testing.T, b []byte) {
		mi, err := ParseModinfo(b)
		if err == nil && len(b) > 0 && b[len(b)-1] != 0 {
			t.Fatalf("no error for a section without a final NUL")
		}
		for _, d := range mi.Depends {
			if d == "" {
				t.Fatalf("empty dependency in %q", b)
			}
		}
	})
}

func FuzzParseVersions(f *testing.F) {
	f.Add(versionEntry(0x9060323f, "module_layout", true), true)
	f.Add(versionEntry(7, "printk", false), false)
	f.Add([]byte{1, 2, 3}, true)
	f.Fuzz(func(t *testing.T, b []byte, is64 bool) {
		vs, err := ParseVersions(b, binary.LittleEndian, is64)
		if len(vs) > len(b)/VersionEntrySize {
			t.Fatalf("%d entries from %d bytes", len(vs), len(b))
		}
		if err == nil && len(b)%VersionEntrySize != 0 {
			t.Fatalf("no error for %d bytes", len(b))
		}
	})
}

func FuzzParse(f *testing.F) {
	if b, err := input.ReadAll(lkdtmPath); err == nil {
		f.Add(b)
		f.Add(b[:4096])
	}
	if exe, err := os.ReadFile("/proc/self/exe"); err == nil && len(exe) > 1<<16 {
		f.Add(exe[:1<<16])
	}
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, "fuzz.ko")
		if (m == nil) == (err == nil) {
			t.Fatalf("Parse returned module %v and error %v", m, err)
		}
	})
}
