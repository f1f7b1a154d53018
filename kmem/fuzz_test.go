package kmem

import (
	"os"
	"strings"
	"testing"
)

func seed(f *testing.F, path string) {
	f.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
}

// FuzzParseVmallocinfo: no panic, and the callers' bytes add up to the
// areas' sizes.
func FuzzParseVmallocinfo(f *testing.F) {
	seed(f, vmRoot+"/proc/vmallocinfo")
	seed(f, "testdata/debian-modules/proc/vmallocinfo")
	f.Add("0x1-0x2 20480 vm_map_ram\n0x1-0x2 4096 pages=1 vmalloc\n")
	f.Fuzz(func(t *testing.T, text string) {
		areas, err := ParseVmallocinfo(strings.NewReader(text))
		if err != nil {
			return
		}
		var sum, bytes uint64
		for _, a := range areas {
			sum += a.Size
		}
		for _, c := range ByCaller(areas) {
			bytes += c.Bytes
		}
		if sum != bytes {
			t.Fatalf("areas %d bytes, callers %d", sum, bytes)
		}
		_ = ByModule(nil, areas)
	})
}

// FuzzParseSlabinfo: no panic, and no cache has more objects in use than
// objects.
func FuzzParseSlabinfo(f *testing.F) {
	seed(f, vmRoot+"/proc/slabinfo")
	f.Add("slabinfo - version: 2.1\nx 1 1 1 1 1 : tunables 0 0 0 : slabdata 1 1 0\n")
	f.Fuzz(func(t *testing.T, text string) {
		caches, err := ParseSlabinfo(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, c := range caches {
			if c.Name == "" || c.ActiveObjs > c.NumObjs || c.InUseBytes() > c.ObjectBytes() {
				t.Fatalf("cache %+v", c)
			}
		}
	})
}

// FuzzParseAllocCalls: no panic, and every site has a caller.
func FuzzParseAllocCalls(f *testing.F) {
	seed(f, "testdata/alloc-traces/sys/kernel/debug/slab/kmalloc-64/alloc_traces")
	seed(f, "testdata/alloc-traces/sys/kernel/slab/kmalloc-128/alloc_calls")
	f.Add("No data\n")
	f.Fuzz(func(t *testing.T, text string) {
		sites, err := ParseAllocCalls(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, s := range sites {
			if s.Caller == "" || strings.Contains(s.Caller, "=") {
				t.Fatalf("site %+v", s)
			}
		}
	})
}

// FuzzParseKmemleak: no panic, and the groups hold every leak.
func FuzzParseKmemleak(f *testing.F) {
	seed(f, "testdata/kmemleak-syzkaller/sys/kernel/debug/kmemleak")
	f.Fuzz(func(t *testing.T, text string) {
		leaks, err := ParseKmemleak(strings.NewReader(text))
		if err != nil {
			return
		}
		n := 0
		for _, g := range GroupLeaks(leaks) {
			n += g.Objects
		}
		if n != len(leaks) {
			t.Fatalf("%d leaks in groups, %d parsed", n, len(leaks))
		}
	})
}
