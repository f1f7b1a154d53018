package kmem

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
)

func parseTable(t *testing.T, data []byte, source string) *kallsyms.Table {
	t.Helper()
	tab, err := kallsyms.Parse(bytes.NewReader(data), kallsyms.Options{Source: source})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func callerNames(areas []VmallocArea) []string {
	var out []string
	for _, c := range ByCaller(areas) {
		out = append(out, c.Caller)
	}
	return out
}

// The Firecracker 6.18.44 table of testdata/fixtures is another build of the
// same release as this machine's kernel: the callers whose functions kept
// their size match, the others are caught.
func TestCheckCallersOtherBuild(t *testing.T) {
	tab := parseTable(t, fixture.Read(t, fixture.Path("firecracker-6.18.44/kallsyms.txt.gz")), "firecracker")
	checked, bad := CheckCallers(tab, []string{
		"kernel_clone+0xb8/0x400",    // 0x400 in that table too
		"htab_map_alloc+0x1bf/0x530", // 0x5a0 in that table
		"no_such_function+0x1/0x10",
		"<unpurged vm_area>",
		"loop_add+0x1/0x10 [loop]",
	})
	want := []CallerMismatch{
		{"htab_map_alloc+0x1bf/0x530", "the table's htab_map_alloc has size 0x5a0, the kernel printed 0x530"},
		{"no_such_function+0x1/0x10", "the table has no no_such_function in vmlinux"},
		{"loop_add+0x1/0x10 [loop]", "the table has no loop_add in loop"},
	}
	if checked != 4 || !reflect.DeepEqual(bad, want) {
		t.Errorf("checked %d, bad %+v", checked, bad)
	}
}

// The Debian boot's table confirms the module callers of debian-modules,
// whose sizes were taken from it.
func TestCheckCallersModules(t *testing.T) {
	tab := parseTable(t, fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz")), "run1-A")
	callers := callerNames(readVmalloc(t, "testdata/debian-modules/proc/vmallocinfo"))
	checked, bad := CheckCallers(tab, callers)
	if checked != 5 || bad != nil {
		t.Errorf("checked %d of %q, bad %+v", checked, callers, bad)
	}
}

// On this machine: every caller of /proc/vmallocinfo is confirmed by
// /proc/kallsyms, both read now.
func TestCheckCallersLiveMachine(t *testing.T) {
	vm, err := os.ReadFile("/proc/vmallocinfo")
	if err != nil {
		t.Skipf("unreadable: %v", err)
	}
	ks, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Skipf("unreadable: %v", err)
	}
	tab := parseTable(t, ks, "/proc/kallsyms")
	if tab.Hidden() {
		t.Skip("this reader sees no kernel addresses")
	}
	areas, err := ParseVmallocinfo(bytes.NewReader(vm))
	if err != nil {
		t.Fatal(err)
	}
	checked, bad := CheckCallers(tab, callerNames(areas))
	if checked == 0 || bad != nil {
		t.Errorf("checked %d, bad %+v", checked, bad)
	}
	t.Logf("%d callers confirmed", checked)
}
