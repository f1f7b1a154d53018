package probe

import (
	"os"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/machine"
)

// TestLiveFilterFunctions reads this machine's available_filter_functions
// when tracefs is mounted and the kernel lets it be read (the development
// VM does neither: see machine/testdata/fc-6.18.44-tracing.md). Every
// function it lists is a text symbol of the live /proc/kallsyms (read here
// line by line), and Check agrees that ftrace can filter on it.
func TestLiveFilterFunctions(t *testing.T) {
	data, path, err := machine.Default().TracingFile("available_filter_functions")
	if err != nil {
		t.Skipf("available_filter_functions not readable here: %v", err)
	}
	ff, err := ParseFilterFunctions(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	raw, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Skip(err)
	}
	text := map[funcKey]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "t" && f[1] != "T" {
			continue
		}
		mod := ""
		if len(f) == 4 {
			mod = strings.Trim(f[3], "[]")
		}
		text[funcKey{f[2], mod}] = true
	}
	for k := range ff.counts {
		if !text[k] {
			t.Errorf("%s lists %s [%s], not a text symbol of /proc/kallsyms", path, k.name, k.module)
		}
	}
	tab, err := machine.Default().Kallsyms()
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Functions: ff}
	r, err := Check(tab, "vfs_read", env)
	if err != nil {
		t.Fatal(err)
	}
	if ff.Count("vfs_read", "") == 1 && verdict(r.Targets[0], Ftrace).Answer == No {
		t.Errorf("vfs_read is listed, but ftrace says no: %+v", r.Targets[0].Verdicts)
	}
}

func verdict(tg Target, m Mechanism) Verdict {
	for _, v := range tg.Verdicts {
		if v.Mechanism == m {
			return v
		}
	}
	return Verdict{}
}
