package cli

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The kmem package's trees: a real copy of a 6.18 guest, synthetic growth
// samples made from it, real Debian module sizes (see kmem/testdata/README.md).
const (
	memVM     = "../../kmem/testdata/vm-6.18.44"
	memGrowth = "../../kmem/testdata/growth/"
	memDebian = "../../kmem/testdata/debian-modules"
	memLeaks  = "../../kmem/testdata/kmemleak-syzkaller"
)

// The expected numbers are awk's sums over the real files (bytes per $3 of
// vmallocinfo; $2*$4 and $3*$4 of slabinfo), divided by 1024 by hand.
func TestMemRealTree(t *testing.T) {
	want := `SOURCE       STATE
vmallocinfo  read ` + memVM + `/proc/vmallocinfo
slabinfo     read ` + memVM + `/proc/slabinfo
alloc_calls  unavailable: store_user is off in every cache: boot with slub_debug=U (all caches) or slub_debug=U,CACHE to record allocation sites (the command line has no slub_debug=)
kmemleak     unavailable: nothing saved under ` + memVM + `/sys/kernel/debug, or debugfs is not mounted at ` + memVM + `/sys/kernel/debug (mount -t debugfs none /sys/kernel/debug)
modules      unavailable: no ` + memVM + `/proc/modules: not saved in ` + memVM + `, or the kernel has no module support (CONFIG_MODULES off); /proc/config.gz: CONFIG_MODULES is not set

vmalloc: 21.0 MiB in 391 areas by 22 callers (top 3)
BYTES    AREAS  PAGES  KIND     CALLER
6.9 MiB  7      1751   vmalloc  htab_map_alloc+0x1bf/0x530
3.1 MiB  161    644    vmalloc  kernel_clone+0xb8/0x400
2.0 MiB  1      512    vmalloc  bpf_prog_pack_alloc+0x28b/0x3a0
callers not checked against a table: open ` + memVM + `/proc/kallsyms: no such file or directory (not a Linux /proc or /sys, or the kernel lacks this file); give --kallsyms with the table of the same boot

slab: 288.6 MiB in use of 295.3 MiB in 235 caches (top 3)
IN USE     TOTAL      OBJECTS        OBJSIZE  CACHE
161.7 MiB  161.9 MiB  150324/150542  1128     ext4_inode_cache
33.5 MiB   33.6 MiB   60185/60312    584      radix_tree_node
32.3 MiB   32.3 MiB   176307/176400  192      dentry
`
	out, errs, code := run(t, "", "--root", memVM, "mem", "--top", "3")
	if out != want || errs != "" || code != 0 {
		t.Errorf("got exit %d, stderr %q:\n%s\nwant:\n%s", code, errs, out, want)
	}
}

// The Firecracker table of testdata/fixtures is another build of 6.18.44:
// the callers whose function changed size are named (sizes by ksym lookup
// on that table: htab_map_alloc 0x5a0, pcpu_get_vm_areas 0x1050, fork_idle
// 0x150).
func TestMemCallersOtherBuild(t *testing.T) {
	fc := "../../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz"
	out, _, code := run(t, "", "--kallsyms", fc, "--root", memVM, "mem", "--top", "1")
	want := `WARNING: 4 of 21 callers checked against ` + fc + ` do not match it: the files and the table are of different kernel builds
  htab_map_alloc+0x1bf/0x530: the table's htab_map_alloc has size 0x5a0, the kernel printed 0x530
  pcpu_get_vm_areas+0x0/0x1060: the table's pcpu_get_vm_areas has size 0x1050, the kernel printed 0x1060
  htab_map_alloc+0xf6/0x530: the table's htab_map_alloc has size 0x5a0, the kernel printed 0x530
  fork_idle+0x9e/0x160: the table's fork_idle has size 0x150, the kernel printed 0x160
`
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d:\n%s\nwant:\n%s", code, out, want)
	}
}

func TestMemJSON(t *testing.T) {
	out, errs, code := run(t, "", "--root", memVM, "mem", "--json", "--top", "0")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, %s", code, errs)
	}
	var r memResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"caller": "<unpurged vm_area>"`) {
		t.Error("no unpurged areas in the list of every caller")
	}
	if r.Vmalloc.Bytes != 22061056 || r.Vmalloc.Areas != 391 || r.Vmalloc.Callers != 22 || len(r.Vmalloc.Top) != 22 {
		t.Errorf("vmalloc %+v", r.Vmalloc)
	}
	if r.Slab.InUseBytes != 302569160 || r.Slab.TotalBytes != 309638224 || len(r.Slab.Top) != 235 {
		t.Errorf("slab %d %d %d", r.Slab.InUseBytes, r.Slab.TotalBytes, len(r.Slab.Top))
	}
	if len(r.Sources) != 5 || r.Kmemleak != nil || r.Sites != nil || r.Modules != nil {
		t.Errorf("sources %+v", r.Sources)
	}
}

func TestMemUnpurgedNote(t *testing.T) {
	out, _, _ := run(t, "", "--root", memVM, "mem", "--top", "6")
	want := "1.7 MiB  89     0      unpurged vm_area  <unpurged vm_area>\n" +
		"callers not checked against a table"
	note := "<unpurged vm_area>: freed areas whose address space the kernel purges lazily; they hold no memory\n"
	if !strings.Contains(out, note) || !strings.Contains(strings.ReplaceAll(out, note, ""), want) {
		t.Errorf("got:\n%s\nwant the row and the note", out)
	}
}

func TestMemModulesAndKmemleak(t *testing.T) {
	out, _, code := run(t, "", "--root", memDebian, "mem", "--top", "3")
	if code != 0 || !strings.Contains(out, "xfs_buf_get_map+0x2c1/0x9b0 [xfs]") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	modules := out[strings.Index(out, "\nmodules (size"):]
	rows := strings.Split(strings.TrimSpace(modules), "\n")[2:]
	var got [][]string
	for _, r := range rows {
		got = append(got, strings.Fields(r))
	}
	// modules.txt sizes plus the synthetic vmallocinfo's areas per module:
	// xfs 1970176+204800, loop 32768+1052672, ext4 983040.
	wantRows := [][]string{
		{"2.1", "MiB", "1.9", "MiB", "200.0", "KiB", "2", "xfs"},
		{"1.0", "MiB", "32.0", "KiB", "1.0", "MiB", "1", "loop"},
		{"960.0", "KiB", "960.0", "KiB", "0", "B", "0", "ext4"},
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("module rows %q, want %q", got, wantRows)
	}

	out, _, code = run(t, "", "--root", memLeaks, "mem")
	wantLeaks := `kmemleak: 4 unreferenced objects, 2.6 KiB, from 4 stacks
BYTES    OBJECTS  SITE
2.0 KiB  1        htab_map_alloc+0x447/0x5c0
576 B    1        radix_tree_node_alloc.constprop.16+0x1b4/0x330
32 B     1        __list_lru_init+0x572/0x800
20 B     1        debug_objects_mem_init+0x63/0x1d9
`
	if code != 0 || !strings.HasSuffix(out, wantLeaks) {
		t.Errorf("exit %d:\n%s\nwant the end:\n%s", code, out, wantLeaks)
	}
}

func TestMemGrowthSamples(t *testing.T) {
	samples := memVM + "," + memGrowth + "s2," + memGrowth + "s3," + memGrowth + "s4"
	out, errs, code := run(t, "", "mem", "--samples", samples)
	// What growth/make.sh adds: one 48 KiB area per sample; 2, 0, 3 areas of
	// 8 KiB; 16 objects of 256 bytes per sample; dentry at 176307, 176400,
	// 176000, 176390 objects of 192 bytes.
	want := `
4 samples (3 intervals); steadiness: intervals in which it grew

vmalloc callers that grew:
GROWTH      FIRST      LAST       GREW  SHRANK  NAME
+144.0 KiB  92.0 KiB   236.0 KiB  3/3   0       queue_stack_map_alloc+0x34/0xa0
+24.0 KiB   716.0 KiB  740.0 KiB  2/3   1       bpf_prog_alloc_no_stats+0x39/0x230

slab caches (bytes in use) that grew:
GROWTH     FIRST      LAST       GREW  SHRANK  NAME
+15.6 KiB  32.3 MiB   32.3 MiB   2/3   1       dentry
+12.0 KiB  236.0 KiB  248.0 KiB  3/3   0       kmalloc-256
`
	if code != 0 || errs != "" || !strings.HasSuffix(out, want) {
		t.Errorf("exit %d, stderr %q:\n%s\nwant the end:\n%s", code, errs, out, want)
	}

	out, _, _ = run(t, "", "mem", "--samples", samples, "--json", "--top", "1")
	var r growthResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Samples != 4 || len(r.Growth) != 2 || r.Growth[0].Growth != 147456 || r.Growth[1].Growth != 15936 ||
		!reflect.DeepEqual(r.Compared, []string{"vmallocinfo", "slabinfo"}) {
		t.Errorf("growth JSON %+v", r)
	}
}

// Live sampling of a saved tree: the same files twice, so nothing grew.
func TestMemIntervalNothingGrew(t *testing.T) {
	out, _, code := run(t, "", "--root", memVM, "mem", "--interval", "1ms", "--count", "2")
	want := "\n2 samples (1 interval, 1ms apart); steadiness: intervals in which it grew\n\nvmalloc callers that grew:\nGROWTH  FIRST  LAST  GREW  SHRANK  NAME\n(nothing grew)\n\nslab caches (bytes in use) that grew:\nGROWTH  FIRST  LAST  GREW  SHRANK  NAME\n(nothing grew)\n"
	if code != 0 || !strings.HasSuffix(out, want) {
		t.Errorf("exit %d:\n%q\nwant the end:\n%q", code, out, want)
	}
}

func TestMemErrors(t *testing.T) {
	empty := t.TempDir()
	corrupt := t.TempDir()
	if err := os.MkdirAll(corrupt+"/proc", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corrupt+"/proc/slabinfo", []byte("slabinfo - version: 1.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		wantErr  string
		wantCode int
	}{
		{[]string{"mem", "--interval", "1s"}, "ksym: mem: --interval needs --count 2 or more (the number of samples)", 2},
		{[]string{"mem", "--count", "3"}, "ksym: mem: --count needs --interval (the time between samples)", 2},
		{[]string{"mem", "--samples", "a"}, "ksym: mem: --samples needs 2 or more directories to compare", 2},
		{[]string{"mem", "--samples", "a,b", "--count", "2"}, "ksym: mem: --samples compares saved trees; it cannot be combined with --interval or --count", 2},
		{[]string{"mem", "--top", "-1"}, "ksym: mem: --top must be 0 or more, not -1", 2},
		{[]string{"mem", "--samples", memVM + ",/nonexistent"}, "ksym: machine root: stat /nonexistent: no such file or directory", 2},
		{[]string{"--root", corrupt, "mem"}, "ksym: " + corrupt + `/proc/slabinfo: slabinfo line 1: "slabinfo - version: 1.1", want "slabinfo - version: 2.1"`, 2},
		{[]string{"--root", empty, "mem"}, "ksym: mem: no source could be read (see the reasons above)", 1},
	}
	for _, tt := range tests {
		_, errs, code := run(t, "", tt.args...)
		if strings.TrimSpace(errs) != tt.wantErr || code != tt.wantCode {
			t.Errorf("%v: stderr %q, exit %d; want %q, %d", tt.args, errs, code, tt.wantErr, tt.wantCode)
		}
	}
}

// On this machine, as root: the live files are read and every vmalloc caller
// is confirmed by the live table.
func TestMemLiveMachine(t *testing.T) {
	if _, err := os.ReadFile("/proc/vmallocinfo"); err != nil {
		t.Skipf("this machine's /proc/vmallocinfo is unreadable: %v", err)
	}
	out, errs, code := run(t, "", "--no-cache", "mem", "--json", "--top", "0")
	var r memResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("exit %d, %v, stderr %s", code, err, errs)
	}
	if r.Vmalloc == nil || r.Check == nil || r.Check.Error != "" || r.Check.Checked == 0 || r.Check.Mismatches != nil {
		t.Errorf("vmalloc %+v, caller check %+v", r.Vmalloc, r.Check)
	}
	for _, s := range r.Sources {
		if s.Available == (s.Reason != "") {
			t.Errorf("source %+v", s)
		}
	}
}
