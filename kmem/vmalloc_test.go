package kmem

import (
	"bytes"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const vmRoot = "testdata/vm-6.18.44"

func readVmalloc(t *testing.T, path string) []VmallocArea {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	areas, err := ParseVmallocinfo(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return areas
}

// The biggest callers of the real file, as awk computed them from the file
// (see the commit): bytes, areas and pages per $3, "unpurged" kept together.
func TestByCallerRealFixture(t *testing.T) {
	areas := readVmalloc(t, vmRoot+"/proc/vmallocinfo")
	if len(areas) != 391 {
		t.Fatalf("%d areas, want 391 (lines of the file)", len(areas))
	}
	got := ByCaller(areas)
	want := []CallerUse{
		{Caller: "htab_map_alloc+0x1bf/0x530", Bytes: 7200768, Areas: 7, Pages: 1751, Kinds: []string{"vmalloc"}},
		{Caller: "kernel_clone+0xb8/0x400", Bytes: 3297280, Areas: 161, Pages: 644, Kinds: []string{"vmalloc"}},
		{Caller: "bpf_prog_pack_alloc+0x28b/0x3a0", Bytes: 2101248, Areas: 1, Pages: 512, Kinds: []string{"vmalloc"}},
		{Caller: "pcpu_create_chunk+0x217/0x230", Bytes: 2101248, Areas: 1, Pages: 512, Kinds: []string{"vmalloc"}},
		{Caller: "pcpu_get_vm_areas+0x0/0x1060", Bytes: 2097152, Areas: 1, Pages: 0, Kinds: []string{"vmalloc"}},
		{Caller: "<unpurged vm_area>", Bytes: 1822720, Areas: 89, Pages: 0, Kinds: []string{"unpurged vm_area"}},
		{Caller: "htab_map_alloc+0xf6/0x530", Bytes: 1126400, Areas: 3, Pages: 272, Kinds: []string{"vmalloc"}},
		{Caller: "pci_mmcfg_arch_map+0x2b/0x60", Bytes: 1052672, Areas: 1, Pages: 0, Kinds: []string{"ioremap"}},
	}
	if len(got) != 22 {
		t.Errorf("%d callers, want 22", len(got))
	}
	if !reflect.DeepEqual(got[:len(want)], want) {
		t.Errorf("top callers:\n got %+v\nwant %+v", got[:len(want)], want)
	}
	var total uint64
	for _, c := range got {
		total += c.Bytes
	}
	if total != 22061056 {
		t.Errorf("total %d, want 22061056 (sum of the size column)", total)
	}
}

// On this machine: the totals per caller equal the sums of the size column
// of /proc/vmallocinfo, computed here by splitting each line into fields.
// The file is read once, since it changes at every fork.
func TestByCallerLiveMachine(t *testing.T) {
	data, err := os.ReadFile("/proc/vmallocinfo")
	if err != nil {
		t.Skipf("this machine's /proc/vmallocinfo is unreadable: %v", err)
	}
	areas, err := ParseVmallocinfo(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	wantAreas := map[string]int{}
	var wantTotal uint64
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		size, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatalf("size of %q: %v", line, err)
		}
		key := "<none>"
		switch {
		case len(f) >= 4 && f[2] == "unpurged" && f[3] == "vm_area":
			key = "<unpurged vm_area>"
		case len(f) == 3 && f[2] == "vm_map_ram":
			key = "<vm_map_ram>"
		case len(f) >= 3 && strings.Contains(f[2], "+0x"):
			key = f[2]
			if len(f) >= 4 && strings.HasPrefix(f[3], "[") {
				key += " " + f[3]
			}
		}
		want[key] += size
		wantAreas[key]++
		wantTotal += size
	}
	got := map[string]uint64{}
	gotAreas := map[string]int{}
	var gotTotal uint64
	for _, c := range ByCaller(areas) {
		got[c.Caller] = c.Bytes
		gotAreas[c.Caller] = c.Areas
		gotTotal += c.Bytes
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotAreas, wantAreas) {
		t.Errorf("per caller:\n got %v %v\nwant %v %v", got, gotAreas, want, wantAreas)
	}
	if gotTotal != wantTotal {
		t.Errorf("total %d, want %d", gotTotal, wantTotal)
	}
	t.Logf("%d areas, %d callers, %d bytes", len(areas), len(got), gotTotal)
}

func TestParseVmallocLine(t *testing.T) {
	tests := []struct {
		line    string
		want    VmallocArea
		wantErr string
	}{
		// Real lines of this machine's file (Linux 6.18).
		{"0x00000000d731ddbf-0x000000005446d7de   20480 kernel_clone+0xb8/0x400 pages=4 vmalloc N0=4",
			VmallocArea{Size: 20480, Caller: "kernel_clone+0xb8/0x400", Pages: 4, Kind: "vmalloc"}, ""},
		{"0x00000000f357251e-0x000000002a6de709    8192 acpi_os_map_iomem+0x1bc/0x1e0 phys=0x00000000000a0000 ioremap",
			VmallocArea{Size: 8192, Caller: "acpi_os_map_iomem+0x1bc/0x1e0", Phys: "0x00000000000a0000", Kind: "ioremap"}, ""},
		{"0x0000000055e78088-0x000000006318e39c 2367488 htab_map_alloc+0x1bf/0x530 pages=577 vmalloc vpages N0=577",
			VmallocArea{Size: 2367488, Caller: "htab_map_alloc+0x1bf/0x530", Pages: 577, Kind: "vmalloc", VPages: true}, ""},
		{"0x000000002acde899-0x00000000f357251e   20480 irq_init_percpu_irqstack+0xed/0x120 vmap",
			VmallocArea{Size: 20480, Caller: "irq_init_percpu_irqstack+0xed/0x120", Kind: "vmap"}, ""},
		{"0x00000000f3cabe66-0x00000000ca9b74a6   20480 unpurged vm_area",
			VmallocArea{Size: 20480, Kind: "unpurged vm_area"}, ""},
		// From the kernel's format (mm/vmalloc.c), not seen on this machine.
		{"0xffffc90000000000-0xffffc90000005000   20480 vm_map_ram",
			VmallocArea{Size: 20480, Kind: "vm_map_ram"}, ""},
		{"0xffffc90000000000-0xffffc90000005000   20480 loop_add+0x1c6/0x320 [loop] pages=4 vmalloc user N0=2 N1=2",
			VmallocArea{Size: 20480, Caller: "loop_add+0x1c6/0x320 [loop]", Module: "loop", Pages: 4, Kind: "vmalloc user"}, ""},
		{"0xffffc90000000000-0xffffc90000005000   20480 pages=4 vmalloc",
			VmallocArea{Size: 20480, Pages: 4, Kind: "vmalloc"}, ""},
		// The 2008 announcement of the file (Linux 2.6.25): phys without 0x.
		{"0xffffc20000c0a000-0xffffc20000c0c000    8192 acpi_os_map_memory+0x13/0x1c phys=cff68000 ioremap",
			VmallocArea{Size: 8192, Caller: "acpi_os_map_memory+0x13/0x1c", Phys: "cff68000", Kind: "ioremap"}, ""},
		{"0x1-0x2", VmallocArea{}, "want an address range and a size"},
		{"garbage 20480 x", VmallocArea{}, "not an address range"},
		{"0x1-0x2 big x", VmallocArea{}, "size \"big\" is not a number"},
		{"0x1-0x2 4096 f+0x1/0x2 pages=x vmalloc", VmallocArea{}, "pages \"x\" is not a number"},
	}
	for _, tt := range tests {
		got, err := ParseVmallocinfo(strings.NewReader(tt.line + "\n"))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "line 1") {
				t.Errorf("%q: error %v, want one with %q and the line number", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
			t.Errorf("%q:\n got %+v, %v\nwant %+v", tt.line, got, err, tt.want)
		}
	}
}
