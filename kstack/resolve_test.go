package kstack

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
)

// table parses a fixture table.
func table(t *testing.T, rel string) *kallsyms.Table {
	t.Helper()
	tab, err := kallsyms.ParseBytes(fixture.Read(t, fixture.Path(rel)), kallsyms.Options{Source: rel})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// symAddr finds a core symbol's address in a table's text, without package
// kallsyms.
func symAddr(t *testing.T, rel, name string) uint64 {
	t.Helper()
	for _, line := range strings.Split(string(fixture.Read(t, fixture.Path(rel))), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == name {
			a, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
	}
	t.Fatalf("%s not in %s", name, rel)
	return 0
}

const (
	tableA      = boots + "run1-A/kallsyms.txt.gz"
	tableB      = boots + "run2-B/kallsyms.txt.gz"
	firecracker = "firecracker-6.18.44/kallsyms.txt.gz"
)

// proc1 is run1-A's real /proc/1/stack, as printed.
var proc1 = []string{
	"do_wait+0x114/0x320", "kernel_wait4+0xb4/0x160", "__do_sys_wait4+0xa2/0xb0",
	"do_syscall_64+0x5d/0xb0", "entry_SYSCALL_64_after_hwframe+0x6e/0xd8",
}

// rawProc1 is proc1 as raw addresses of run1-A (synthetic: computed from
// run1-A's table text), with the first `named` frames printed by name as
// well, as older kernels did.
func rawProc1(t *testing.T, named int) []Stack {
	var b strings.Builder
	for i, fr := range proc1 {
		name, rest, _ := strings.Cut(fr, "+0x")
		off, _ := strconv.ParseUint(strings.Split(rest, "/")[0], 16, 64)
		a := symAddr(t, tableA, name) + off
		if i < named {
			fmt.Fprintf(&b, "[<%016x>] %s\n", a, fr)
		} else {
			fmt.Fprintf(&b, "[<0>] 0x%x\n", a)
		}
	}
	f, err := ReadFile(strings.NewReader(b.String()), "raw")
	if err != nil {
		t.Fatal(err)
	}
	return f.Stacks
}

func printed(s []Stack) string {
	var out []string
	for _, f := range s[0].Frames {
		out = append(out, f.String())
	}
	return strings.Join(out, " ")
}

func TestResolveMatching(t *testing.T) {
	f := readFixture(t, boots+"run1-A/proc-1-stack.txt")
	// Same kernel: both boots' tables agree (no address was printed).
	for _, rel := range []string{tableA, tableB} {
		r := Resolve(f.Stacks, table(t, rel))
		if r != (Resolution{Checked: 5}) {
			t.Errorf("%s: %+v", rel, r)
		}
	}
	// Raw addresses of run1-A, one frame printed by name too: the table is
	// confirmed and names the others exactly as the kernel printed them.
	s := rawProc1(t, 1)
	r := Resolve(s, table(t, tableA))
	if r != (Resolution{Checked: 1, Resolved: 4}) || printed(s) != strings.Join(proc1, " ") {
		t.Errorf("%+v %s", r, printed(s))
	}
	// Raw addresses alone: named, but nothing confirmed the table.
	s = rawProc1(t, 0)
	r = Resolve(s, table(t, tableA))
	if r != (Resolution{Resolved: 5, Unverified: true}) || printed(s) != strings.Join(proc1, " ") {
		t.Errorf("%+v %s", r, printed(s))
	}
}

// TestResolveOtherKernel: stacks of one kernel against another's table: the
// table is refused, said once, and no frame changes.
func TestResolveOtherKernel(t *testing.T) {
	f := readFixture(t, boots+"run1-A/proc-1-stack.txt")
	r := Resolve(f.Stacks, table(t, firecracker))
	// do_wait is 0x120 bytes in the Firecracker table (awk: the next
	// symbol's address minus its own, testdata/README.md).
	want := "do_wait+0x114/0x320: the table's do_wait has size 0x120: the table is not from the kernel that printed these stacks"
	if r.Mismatch != want || r.Checked != 1 {
		t.Errorf("%+v\nwant %q", r, want)
	}
	// One named frame decides for the raw ones: they stay raw.
	s := rawProc1(t, 1)
	r = Resolve(s, table(t, firecracker))
	if r.Mismatch == "" || r.Resolved != 0 || r.Unresolved != 4 || s[0].Frames[1].Name != "" {
		t.Errorf("%+v %s", r, printed(s))
	}
	// Another boot of the same kernel: the printed address disagrees.
	s = rawProc1(t, 5)
	r = Resolve(s, table(t, tableB))
	if !strings.HasSuffix(r.Mismatch, "the table is not from the boot that printed these stacks") || !strings.HasPrefix(r.Mismatch, "do_wait+0x114/0x320 was printed at 0x") {
		t.Errorf("%+v", r)
	}
	// This machine's tasks against the Firecracker fixture, the same release
	// (6.18.44) built elsewhere: its 26 named frames all have the printed
	// sizes, so sizes cannot tell these two builds apart (addresses could,
	// but [<0>] hides them). Nothing is named from it either: no frame is raw.
	res := sampleTree(t, liveTree, SampleOptions{})
	r = Resolve(res.Stacks, table(t, firecracker))
	if r != (Resolution{Checked: 26}) {
		t.Errorf("live tree: %+v", r)
	}
}

func TestResolveHidden(t *testing.T) {
	head := fixture.Read(t, fixture.Path(boots+"run1-A/kallsyms-nonroot-head.txt"))
	tab, err := kallsyms.Parse(bytes.NewReader(head), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := rawProc1(t, 0)
	if r := Resolve(s, tab); r != (Resolution{Hidden: true, Unresolved: 5}) {
		t.Errorf("%+v", r)
	}
}
