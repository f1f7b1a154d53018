package kmem

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/machine"
)

// The real tree of this machine: vmallocinfo and slabinfo read; no store_user,
// no debugfs, no modules, each with the reason that is true of that kernel
// (its /proc/cmdline has no slub_debug, its config.gz has no CONFIG_MODULES).
func TestReadRealTree(t *testing.T) {
	s, err := Read(mustFS(t, vmRoot))
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{Name: SourceVmalloc, Path: vmRoot + "/proc/vmallocinfo", Available: true},
		{Name: SourceSlab, Path: vmRoot + "/proc/slabinfo", Available: true},
		{Name: SourceSites, Path: vmRoot + "/sys/kernel/slab/*/alloc_calls",
			Reason: "store_user is off in every cache: boot with slub_debug=U (all caches) or slub_debug=U,CACHE to record allocation sites (the command line has no slub_debug=)"},
		{Name: SourceKmemleak, Path: vmRoot + "/sys/kernel/debug/kmemleak",
			Reason: "nothing saved under " + vmRoot + "/sys/kernel/debug, or debugfs is not mounted at " + vmRoot + "/sys/kernel/debug (mount -t debugfs none /sys/kernel/debug)"},
		{Name: SourceModules, Path: vmRoot + "/proc/modules",
			Reason: "no " + vmRoot + "/proc/modules: not saved in " + vmRoot + ", or the kernel has no module support (CONFIG_MODULES off); /proc/config.gz: CONFIG_MODULES is not set"},
	}
	if !reflect.DeepEqual(s.Sources, want) {
		t.Errorf("sources:\n got %+v\nwant %+v", s.Sources, want)
	}
	if len(s.Vmalloc) != 391 || len(s.Slab) != 235 || s.Sites != nil || s.Leaks != nil || s.Modules != nil {
		t.Errorf("%d areas, %d caches, %v, %v, %v", len(s.Vmalloc), len(s.Slab), s.Sites, s.Leaks, s.Modules)
	}
}

func TestReadAllocTraces(t *testing.T) {
	s, err := Read(mustFS(t, "testdata/alloc-traces"))
	if err != nil {
		t.Fatal(err)
	}
	if src := s.Source(SourceSites); !src.Available || src.Reason != "" || src.Note != "" {
		t.Errorf("alloc_calls source %+v", src)
	}
	// kmalloc-128 has the sysfs file, kmalloc-64 the debugfs one; dentry
	// has store_user off.
	var got []string
	for _, cs := range s.Sites {
		for _, site := range cs.Sites {
			got = append(got, cs.Cache+" "+site.Caller)
		}
	}
	want := []string{"kmalloc-128 kernfs_new_node+0x5e/0x80", "kmalloc-128 seq_open+0x2b/0x80", "kmalloc-64 __alloc_skb+0x8e/0x1a0", "kmalloc-64 <not-available>"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sites %q, want %q", got, want)
	}
}

func TestReadKmemleakTree(t *testing.T) {
	s, err := Read(mustFS(t, "testdata/kmemleak-syzkaller"))
	if err != nil {
		t.Fatal(err)
	}
	if src := s.Source(SourceKmemleak); !src.Available || len(s.Leaks) != 4 {
		t.Errorf("kmemleak %+v, %d leaks", src, len(s.Leaks))
	}
}

// A corrupt file is an error naming the file and the line, not an answer.
func TestReadCorrupt(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(root+"/proc", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root+"/proc/vmallocinfo", []byte("0x1-0x2 4096 f+0x1/0x2 vmalloc\nnot a line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(mustFS(t, root))
	want := root + `/proc/vmallocinfo: vmallocinfo line 2: "not" is not an address range 0xSTART-0xEND: "not a line"`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

// On this machine, every source is either read or has a reason.
func TestReadLiveMachine(t *testing.T) {
	s, err := Read(machine.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range s.Sources {
		if src.Available == (src.Reason != "") {
			t.Errorf("source %+v: available with a reason, or unavailable without one", src)
		}
		t.Logf("%+v", src)
	}
	if os.Geteuid() == 0 && !s.Source(SourceVmalloc).Available {
		t.Errorf("root cannot read vmallocinfo: %+v", s.Source(SourceVmalloc))
	}
}

// The growth samples: the real tree, then the synthetic edits of make.sh.
// Expected values are computed from what make.sh adds, by hand.
func TestGrow(t *testing.T) {
	var snaps []*Snapshot
	for _, root := range []string{vmRoot, "testdata/growth/s2", "testdata/growth/s3", "testdata/growth/s4"} {
		s, err := Read(mustFS(t, root))
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
	}
	got := Grow(snaps)
	want := []Growth{
		// 2 real areas (94208 bytes), then one 49152-byte area per sample.
		{Source: SourceVmalloc, Name: "queue_stack_map_alloc+0x34/0xa0", Unit: "bytes",
			Values: []uint64{94208, 143360, 192512, 241664}, Growth: 147456, Intervals: 3, Grew: 3, Steadiness: 1, Monotonic: true},
		// 733184 real, +2*8192, back, +3*8192.
		{Source: SourceVmalloc, Name: "bpf_prog_alloc_no_stats+0x39/0x230", Unit: "bytes",
			Values: []uint64{733184, 749568, 733184, 757760}, Growth: 24576, Intervals: 3, Grew: 2, Shrank: 1, Steadiness: 2.0 / 3},
		// 176307, 176400, 176000, 176390 objects of 192 bytes.
		{Source: SourceSlab, Name: "dentry", Unit: "bytes",
			Values: []uint64{33850944, 33868800, 33792000, 33866880}, Growth: 15936, Intervals: 3, Grew: 2, Shrank: 1, Steadiness: 2.0 / 3},
		// 944, 960, 976, 992 objects of 256 bytes.
		{Source: SourceSlab, Name: "kmalloc-256", Unit: "bytes",
			Values: []uint64{241664, 245760, 249856, 253952}, Growth: 12288, Intervals: 3, Grew: 3, Steadiness: 1, Monotonic: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("growth:\n got %+v\nwant %+v", got, want)
	}
	if Grow(snaps[:1]) != nil {
		t.Error("one snapshot has a growth")
	}
}

func TestByModule(t *testing.T) {
	fs := mustFS(t, "testdata/debian-modules")
	snap, err := Read(fs)
	if err != nil {
		t.Fatal(err)
	}
	got := ByModule(snap.Modules, snap.Vmalloc)
	if len(got) != 24 {
		t.Errorf("%d modules, want the 24 of modules.txt", len(got))
	}
	// Sizes from modules.txt; vmalloc bytes from the synthetic vmallocinfo;
	// in the order of size plus vmalloc bytes.
	want := []ModuleUse{
		{Name: "xfs", Loaded: true, Size: 1970176, VmallocBytes: 135168 + 69632, VmallocAreas: 2},
		{Name: "loop", Loaded: true, Size: 32768, VmallocBytes: 1052672, VmallocAreas: 1},
		{Name: "ext4", Loaded: true, Size: 983040},
		{Name: "nf_tables", Loaded: true, Size: 307200, VmallocBytes: 36864, VmallocAreas: 1},
		{Name: "bridge", Loaded: true, Size: 319488},
	}
	if !reflect.DeepEqual(got[:5], want) {
		t.Errorf("top modules:\n got %+v\nwant %+v", got[:5], want)
	}
}

// writeTree writes files under a new root: path -> content.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := root + "/" + p
		if err := os.MkdirAll(full[:strings.LastIndexByte(full, '/')], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// Allocation sites grow in objects, or in bytes when /proc/slabinfo gives
// the cache's object size. Synthetic: this machine has no slub_debug=U.
func TestGrowAllocSites(t *testing.T) {
	const slab = "slabinfo - version: 2.1\n# name ...\nkmalloc-64 100 128 64 64 1 : tunables 0 0 0 : slabdata 2 2 0\n"
	tree := func(objects string, withSlab bool) *Snapshot {
		files := map[string]string{
			"sys/kernel/slab/kmalloc-64/store_user":  "1\n",
			"sys/kernel/slab/kmalloc-64/alloc_calls": "      " + objects + " leaky_open+0x1a/0x60 [leaky] age=1 pid=1\n",
		}
		if withSlab {
			files["proc/slabinfo"] = slab
		}
		s, err := Read(mustFS(t, writeTree(t, files)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	got := Grow([]*Snapshot{tree("5", false), tree("9", false), tree("12", false)})
	want := []Growth{{Source: SourceSites, Name: "kmalloc-64 leaky_open+0x1a/0x60 [leaky]", Unit: "objects",
		Values: []uint64{5, 9, 12}, Growth: 7, Intervals: 2, Grew: 2, Steadiness: 1, Monotonic: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("objects:\n got %+v\nwant %+v", got, want)
	}
	got = Grow([]*Snapshot{tree("5", true), tree("9", true)})
	if len(got) != 1 || got[0].Unit != "bytes" || !reflect.DeepEqual(got[0].Values, []uint64{5 * 64, 9 * 64}) {
		t.Errorf("bytes: %+v", got)
	}
}

// Unpurged areas are freed address space: their growth is not a leak.
// Synthetic vmallocinfo lines in the 6.18 format.
func TestGrowSkipsUnpurged(t *testing.T) {
	snap := func(unpurged, clones int) *Snapshot {
		var b strings.Builder
		for i := 0; i < unpurged; i++ {
			b.WriteString("0x0000000000000001-0x0000000000000002   20480 unpurged vm_area\n")
		}
		for i := 0; i < clones; i++ {
			b.WriteString("0x0000000000000003-0x0000000000000004   20480 kernel_clone+0xb8/0x400 pages=4 vmalloc N0=4\n")
		}
		s, err := Read(mustFS(t, writeTree(t, map[string]string{"proc/vmallocinfo": b.String()})))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	got := Grow([]*Snapshot{snap(1, 1), snap(50, 2), snap(90, 3)})
	want := []Growth{{Source: SourceVmalloc, Name: "kernel_clone+0xb8/0x400", Unit: "bytes",
		Values: []uint64{20480, 40960, 61440}, Growth: 40960, Intervals: 2, Grew: 2, Steadiness: 1, Monotonic: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// The reasons for a kernel whose debugfs is mounted but has no kmemleak, and
// whose slab directories have no store_user, confirmed or contradicted by
// the real config.gz of vm-6.18.44 (CONFIG_DEBUG_KMEMLEAK is not set,
// CONFIG_SLUB_DEBUG=y). Synthetic trees around the real config.
func TestReadReasonsFromConfig(t *testing.T) {
	config, err := os.ReadFile(vmRoot + "/proc/config.gz")
	if err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, map[string]string{
		"proc/config.gz":                   string(config),
		"sys/kernel/debug/tracing/README":  "",
		"sys/kernel/slab/kmalloc-64/order": "0\n",
	})
	s, err := Read(mustFS(t, root))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		SourceKmemleak: "no " + root + "/sys/kernel/debug/kmemleak: not saved in " + root + ", or the kernel has no kmemleak (CONFIG_DEBUG_KMEMLEAK off); /proc/config.gz: CONFIG_DEBUG_KMEMLEAK is not set",
		SourceSites:    "no " + root + "/sys/kernel/slab/*/store_user: not saved in " + root + ", or SLUB debugging is not built in (CONFIG_SLUB_DEBUG off); but /proc/config.gz has CONFIG_SLUB_DEBUG=y",
	}
	for name, reason := range want {
		if got := s.Source(name); got.Available || got.Reason != reason {
			t.Errorf("%s:\n got %+v\nwant reason %s", name, got, reason)
		}
	}
}
