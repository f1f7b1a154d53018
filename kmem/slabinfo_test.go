package kmem

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseSlabinfoRealFixture(t *testing.T) {
	data, err := os.ReadFile(vmRoot + "/proc/slabinfo")
	if err != nil {
		t.Fatal(err)
	}
	caches, err := ParseSlabinfo(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(caches) != 235 {
		t.Fatalf("%d caches, want 235 (237 lines, 2 of them headers)", len(caches))
	}
	// Line 155 of the file:
	// dentry 176307 176400 192 21 1 : tunables 0 0 0 : slabdata 8400 8400 0
	want := SlabCache{Name: "dentry", ActiveObjs: 176307, NumObjs: 176400, ObjSize: 192, ObjPerSlab: 21, PagesPerSlab: 1, ActiveSlabs: 8400, NumSlabs: 8400}
	var in, total uint64
	found := false
	for _, c := range caches {
		if c == want {
			found = true
		}
		in += c.InUseBytes()
		total += c.ObjectBytes()
	}
	if !found {
		t.Errorf("no %+v", want)
	}
	if want.InUseBytes() != 176307*192 || want.ObjectBytes() != 176400*192 || want.SlabBytes(4096) != 8400*4096 {
		t.Errorf("dentry bytes %d %d %d", want.InUseBytes(), want.ObjectBytes(), want.SlabBytes(4096))
	}
	// Sums by awk: NR>2 {a+=$2*$4; t+=$3*$4}.
	if in != 302569160 || total != 309638224 {
		t.Errorf("in use %d, total %d; want 302569160, 309638224", in, total)
	}
	// awk 'NR>2 {print $2*$4, $1}' | sort -rn | head -3
	SortSlabByInUse(caches)
	top := []string{caches[0].Name, caches[1].Name, caches[2].Name}
	if strings.Join(top, " ") != "ext4_inode_cache radix_tree_node dentry" || caches[0].InUseBytes() != 169565472 {
		t.Errorf("largest caches %v (%d bytes)", top, caches[0].InUseBytes())
	}
}

// On this machine: every cache's bytes in use are active_objs*objsize of its
// line, computed here from the fields.
func TestParseSlabinfoLiveMachine(t *testing.T) {
	data, err := os.ReadFile("/proc/slabinfo")
	if err != nil {
		t.Skipf("this machine's /proc/slabinfo is unreadable: %v", err)
	}
	caches, err := ParseSlabinfo(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")[2:]
	if len(caches) != len(lines) {
		t.Fatalf("%d caches for %d lines", len(caches), len(lines))
	}
	for i, line := range lines {
		f := strings.Fields(line)
		active, _ := strconv.ParseUint(f[1], 10, 64)
		size, _ := strconv.ParseUint(f[3], 10, 64)
		if caches[i].Name != f[0] || caches[i].InUseBytes() != active*size {
			t.Errorf("%q: %s %d", line, caches[i].Name, caches[i].InUseBytes())
		}
	}
}

func TestParseSlabinfoErrors(t *testing.T) {
	const head = "slabinfo - version: 2.1\n# name <active_objs> ...\n"
	tests := []struct{ text, wantErr string }{
		{"", "empty"},
		{"slabinfo - version: 2.0\n", `line 1: "slabinfo - version: 2.0", want "slabinfo - version: 2.1"`},
		{head + "dentry 1 2 192 21 1 : tunables 0 0 0 : slabdata 1 1\n", "line 3: want NAME"},
		{head + "dentry x 2 192 21 1 : tunables 0 0 0 : slabdata 1 1 0\n", `line 3: "x" is not a count`},
		{head + "dentry 3 2 192 21 1 : tunables 0 0 0 : slabdata 1 1 0\n", "3 active objects of 2"},
		{head + "dentry 1 18446744073709551615 192 21 1 : tunables 0 0 0 : slabdata 1 1 0\n", "overflow 64 bits"},
	}
	for _, tt := range tests {
		_, err := ParseSlabinfo(strings.NewReader(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%q: error %v, want %q", tt.text, err, tt.wantErr)
		}
	}
}
