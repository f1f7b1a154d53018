package srcline_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/srcline"
)

// FuzzOpenLookup feeds arbitrary files to Open and, when they open, to
// every lookup: errors are fine, panics and hangs are not. The seeds are
// small objects compiled from testdata/inline.c when gcc is there (the real
// LKDTM module, 1 MB, is too large for the fuzzer to mutate usefully), and
// the first bytes of the module.
func FuzzOpenLookup(f *testing.F) {
	ko, err := input.ReadAll("testdata/lkdtm.ko.xz")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ko[:4096], uint64(0))
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"), uint64(1))
	if _, err := exec.LookPath("gcc"); err == nil {
		for _, args := range [][]string{{"-gdwarf-5", "-c", "-Os"}, {"-gdwarf-4", "-c", "-Os", "-gz=zlib"}} {
			obj, err := os.ReadFile(build(f, "seed.o", args))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(obj, uint64(0x10))
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, addr uint64) {
		p := filepath.Join(dir, "f.ko")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := srcline.Open(p)
		if err != nil {
			return
		}
		defer s.Close()
		s.Lookup(addr, false)
		s.Lookup(addr, true)
		s.LookupSection(".text", addr&0xffff, true)
		s.LookupSymbol("direct_entry.cold", addr&0xff, true)
		s.BuildID()
		s.Symbols()
	})
}
