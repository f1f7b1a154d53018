package srcline

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// TestSkimAgrees checks that skimFunctions indexes the same subprograms as
// the standard decoder, unit by unit, in the LKDTM module and, when
// fetched, 300 units spread over the Debian vmlinux.
func TestSkimAgrees(t *testing.T) {
	files := []string{"testdata/lkdtm.ko.xz"}
	if c, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(c, "ksym-testdata", "debian-6.1.0-56-amd64", "vmlinux-6.1.0-56-amd64")
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	for _, path := range files {
		o, err := openObject(path)
		if err != nil {
			t.Fatal(err)
		}
		offs, err := unitHeaders(o.secs[".debug_info"], o.ef.ByteOrder)
		if err != nil {
			t.Fatal(err)
		}
		if len(offs) > 300 { // 300 units spread over the file
			step := len(offs) / 300
			for i := range 300 {
				offs[i] = offs[i*step]
			}
			offs = offs[:300]
		}
		skimmedFuncs := 0
		for _, off := range offs {
			u, err := o.openUnit(off)
			if err != nil {
				t.Fatal(err)
			}
			want, err := u.walkFunctions()
			if err != nil {
				t.Fatal(err)
			}
			got, err := u.skimmed()
			if err != nil {
				t.Fatalf("%s: unit %#x: %v", path, off, err)
			}
			for _, fs := range [][]funcRange{want, got} {
				sort.Slice(fs, func(i, j int) bool {
					if fs[i].lo != fs[j].lo {
						return fs[i].lo < fs[j].lo
					}
					return fs[i].hi < fs[j].hi
				})
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: unit %#x: skimmed %d functions, the decoder %d", path, off, len(got), len(want))
			}
			skimmedFuncs += len(got)
		}
		o.close()
		if skimmedFuncs < 50 {
			t.Errorf("%s: only %d functions", path, skimmedFuncs)
		}
	}
}
