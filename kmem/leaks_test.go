package kmem

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// The synthetic alloc_traces (debugfs, with a stack) and alloc_calls (sysfs)
// of testdata/alloc-traces, written in mm/slub.c's format.
func TestParseAllocCalls(t *testing.T) {
	f, err := os.Open("testdata/alloc-traces/sys/kernel/debug/slab/kmalloc-64/alloc_traces")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseAllocCalls(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []AllocSite{
		{Objects: 40, Caller: "__alloc_skb+0x8e/0x1a0",
			Fields: map[string]string{"waste": "960/24", "age": "18/3012/9000", "pid": "0-412", "cpus": "0-1"},
			Stack:  []string{"__alloc_skb+0x8e/0x1a0", "__napi_alloc_skb+0x4a/0xe0", "virtnet_poll+0x3a1/0x5d0", "__napi_poll+0x2b/0x1b0", "net_rx_action+0x2a4/0x370"}},
		{Objects: 2, Caller: "<not-available>", Fields: map[string]string{"age": "4294967295", "pid": "0"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseAllocCallsLines(t *testing.T) {
	tests := []struct {
		text    string
		want    []AllocSite
		wantErr string
	}{
		{"No data\n", nil, ""},
		{"      7 fuse_alloc_inode+0x1e/0x90 [fuse] age=5 pid=9\n",
			[]AllocSite{{Objects: 7, Caller: "fuse_alloc_inode+0x1e/0x90 [fuse]", Module: "fuse", Fields: map[string]string{"age": "5", "pid": "9"}}}, ""},
		{"seven f+0x1/0x2 age=1 pid=1\n", nil, `line 1: count "seven" is not a number`},
		{"      7 age=1 pid=1\n", nil, `no caller before "age=1"`},
		{"      7 f+0x1/0x2 age pid=1\n", nil, `"age" is not key=value`},
	}
	for _, tt := range tests {
		got, err := ParseAllocCalls(strings.NewReader(tt.text))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.text, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v, %v; want %+v", tt.text, got, err, tt.want)
		}
	}
}

// The real kmemleak reports of syzkaller's logs 309, 310, 312 and 55.
func TestParseKmemleakReal(t *testing.T) {
	f, err := os.Open("testdata/kmemleak-syzkaller/sys/kernel/debug/kmemleak")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	leaks, err := ParseKmemleak(f)
	if err != nil {
		t.Fatal(err)
	}
	type head struct {
		addr, size uint64
		comm       string
		pid        int
		jiffies    uint64
		age        string
		frames     int
		first      string
	}
	want := []head{
		{0xffff88006b006340, 32, "swapper/0", 1, 4294937368, "128.520s", 16, "kmem_cache_alloc_node_trace+0x1d3/0x3f0"},
		{0xffff88005a065340, 576, "syz-executor1", 8262, 4294976807, "33.830s", 16, "kmem_cache_alloc+0x1bb/0x3d0"},
		{0xffff88005f7ac800, 2048, "syz-executor0", 6839, 4294947130, "39.460s", 11, "__kmalloc+0x14f/0x2a0"},
		{0xdb8040c0, 20, "swapper", 0, 4294667296, "", 6, "kmemleak_alloc+0x193/0x2b8"},
	}
	var got []head
	for _, l := range leaks {
		got = append(got, head{l.Addr, l.Size, l.Comm, l.PID, l.Jiffies, l.Age, len(l.Backtrace), l.Backtrace[0]})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// The site is the first frame outside mm/'s allocators.
	groups := GroupLeaks(leaks)
	var sites []string
	for _, g := range groups {
		sites = append(sites, g.Site)
	}
	wantSites := []string{"htab_map_alloc+0x447/0x5c0", "radix_tree_node_alloc.constprop.16+0x1b4/0x330", "__list_lru_init+0x572/0x800", "debug_objects_mem_init+0x63/0x1d9"}
	if !reflect.DeepEqual(sites, wantSites) {
		t.Errorf("sites %q, want %q", sites, wantSites)
	}
}

func TestParseKmemleakFormats(t *testing.T) {
	// Recent kernels: "backtrace (crc ...)", frames with no address, and
	// percpu objects ("hex dump (first N bytes on cpu C)").
	text := `unreferenced object (percpu) 0x607f00000020 (size 8):
  comm "modprobe", pid 312, jiffies 4294893123
  hex dump (first 8 bytes on cpu 0):
    00 00 00 00 00 00 00 00                          ........
  backtrace (crc 0):
    pcpu_alloc_noprof+0x2f1/0x8d0
    leaky_init+0x34/0xff0 [leaky]
`
	got, err := ParseKmemleak(strings.NewReader(text))
	want := []Leak{{Addr: 0x607f00000020, Size: 8, PerCPU: true, Comm: "modprobe", PID: 312, Jiffies: 4294893123, CRC: "0",
		Backtrace: []string{"pcpu_alloc_noprof+0x2f1/0x8d0", "leaky_init+0x34/0xff0 [leaky]"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v\nwant %+v", got, err, want)
	}
	if g := GroupLeaks(got); g[0].Site != "leaky_init+0x34/0xff0 [leaky]" || g[0].Bytes != 8 {
		t.Errorf("group %+v", g)
	}
	errs := []struct{ text, wantErr string }{
		{"  comm \"x\", pid 1, jiffies 2\n", "line 1: not inside a report"},
		{"unreferenced object 0xzz (size 8):\n", `address "0xzz" is not hexadecimal`},
		{"unreferenced object 0x10 (size 8)\n", "want \"unreferenced object 0xADDR (size N):\""},
		{"unreferenced object 0x10 (size 8):\n  comm \"x\", pid one, jiffies 2\n", "line 2: pid \"one,\" is not a number"},
		{"unreferenced object 0x10 (size 8):\n  what\n", "line 2: unexpected line in a report"},
	}
	for _, tt := range errs {
		_, err := ParseKmemleak(strings.NewReader(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: error %v, want %q", tt.text, err, tt.wantErr)
		}
	}
}
