package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/input"
)

// lkdtmKo is the real lkdtm.ko that boot run2-B loaded (debug sections
// stripped, gzip'ed; see package kmod's tests).
const lkdtmKo = "../../kmod/testdata/lkdtm.ko.gz"

func TestModcheckLoads(t *testing.T) {
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "modcheck", lkdtmKo)
	want := "kernel:   " + kallsymsGz + "\n" +
		"vermagic: unknown (give --vermagic): not checked\n" +
		"symvers:  none (give --symvers FILE): CRCs and namespaces of exports known only from the modules given\n" +
		"\n" + lkdtmKo + ": loads (lkdtm, license 'GPL', 67 of 67 symbols found exported, load order 1); a module lkdtm is already loaded: the kernel refuses a second one (File exists)\n" +
		// 67 undefined symbols and module_layout (readelf -s, -x __versions).
		"  not checked: CRCs of 68 symbols (kallsyms does not hold CRCs: give --symvers FILE)\n" +
		"  not checked: namespaces of 67 symbols (kallsyms does not hold namespaces: give --symvers FILE)\n"
	if out != want || errs != "" || code != 0 {
		t.Errorf("got %q, stderr %q, exit %d\nwant %q", out, errs, code, want)
	}
}

// TestModcheckProprietary: a copy of lkdtm.ko with its license edited to
// "Proprietary" (synthetic). The GPL-only exports it uses are found here
// from the fixture's text, without the code under test: core
// __ksymtab_<name> symbols between __start___ksymtab_gpl and
// __stop___ksymtab_gpl.
func TestModcheckProprietary(t *testing.T) {
	data, err := input.ReadAll(lkdtmKo)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("description=Kernel crash testing module\x00license=GPL\x00"),
		[]byte("description=Kernel crash test\x00license=Proprietary\x00\x00\x00"), 1)
	path := filepath.Join(t.TempDir(), "lkdtm.ko")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var start, stop uint64
	ksymtab := map[string]uint64{}
	for _, s := range fixture(t) {
		switch {
		case s.mod != "":
		case s.name == "__start___ksymtab_gpl":
			start = s.addr
		case s.name == "__stop___ksymtab_gpl":
			stop = s.addr
		case strings.HasPrefix(s.name, "__ksymtab_"):
			ksymtab[strings.TrimPrefix(s.name, "__ksymtab_")] = s.addr
		}
	}
	var want []string
	for _, name := range strings.Fields("register_kprobe unregister_kprobe init_uts_ns access_process_vm debugfs_create_file debugfs_create_dir debugfs_remove vm_mmap vm_munmap kmem_cache_create_usercopy simple_read_from_buffer") {
		if a, ok := ksymtab[name]; ok && a >= start && a < stop {
			want = append(want, "  lkdtm: Unknown symbol "+name+" (err -2)\n    "+name+" is a GPL-only export of vmlinux (EXPORT_SYMBOL_GPL), hidden from this module: its license 'Proprietary' is not GPL-compatible\n")
		}
	}
	if len(want) < 3 {
		t.Fatalf("only %d GPL-only exports among those named", len(want))
	}
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "modcheck", path)
	if code != 1 || !strings.Contains(out, path+": will not load (lkdtm, license 'Proprietary'") {
		t.Errorf("exit %d, output %s", code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q", w)
		}
	}
	// The JSON says the same.
	out, _, code = run(t, "", "--kallsyms", kallsymsGz, "--json", "modcheck", path)
	var res struct {
		Modules []struct {
			Verdict  string
			Problems []struct {
				Kind     string
				Symbol   string
				GPLOnly  bool `json:"gpl_only"`
				Messages []string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || len(res.Modules) != 1 || res.Modules[0].Verdict != "will_not_load" {
		t.Fatalf("json: %v, exit %d: %s", err, code, out)
	}
	for _, p := range res.Modules[0].Problems {
		if p.Kind != "unknown_symbol" || !p.GPLOnly || p.Messages[0] != "lkdtm: Unknown symbol "+p.Symbol+" (err -2)" {
			t.Errorf("json problem %+v", p)
		}
	}
}

func TestModcheckBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.ko")
	os.WriteFile(text, []byte("license=GPL\n"), 0o644)
	data, _ := input.ReadAll(lkdtmKo)
	cut := filepath.Join(dir, "cut.ko")
	os.WriteFile(cut, data[:len(data)/3], 0o644)
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--kallsyms", kallsymsGz, "modcheck"}, "ksym: modcheck: missing module FILE"},
		{[]string{"--kallsyms", kallsymsGz, "modcheck", text}, "ksym: " + text + ": not a kernel module: not an ELF file"},
		{[]string{"--kallsyms", kallsymsGz, "modcheck", cut}, "ksym: " + cut + ": not a kernel module: "},
		{[]string{"--kallsyms", kallsymsGz, "modcheck", filepath.Join(dir, "none.ko")}, "no such file or directory"},
		{[]string{"--kallsyms", kallsymsGz, "modcheck", "--symvers", text, lkdtmKo}, "line 1: 1 tab-separated columns"},
		// The real Firecracker table has no data symbols.
		{[]string{"--kallsyms", "../../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz", "modcheck", lkdtmKo},
			"the table has no data symbols (the kernel lacks CONFIG_KALLSYMS_ALL), so it does not tell which symbols are exported; exports are unknown: give --symvers FILE"},
	}
	for _, tt := range tests {
		out, errs, code := run(t, "", tt.args...)
		if out != "" || code != 2 || !strings.Contains(errs, tt.wantErr) {
			t.Errorf("%v: out %q, stderr %q, exit %d; want stderr ~ %q, exit 2", tt.args, out, errs, code, tt.wantErr)
		}
	}
}

// TestModcheckUnreadableAmongOthers: a module that cannot be read is said on
// stderr and the others are still checked; the status is then 2 (cannot
// tell for that one) unless another will not load.
func TestModcheckUnreadableAmongOthers(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.ko")
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "modcheck", missing, lkdtmKo)
	if code != 2 || !strings.Contains(errs, "none.ko") || strings.Count(errs, "\n") != 1 ||
		!strings.Contains(out, lkdtmKo+": loads (lkdtm,") {
		t.Errorf("out %q, stderr %q, exit %d: want lkdtm checked, one error, exit 2", out, errs, code)
	}
}

// TestModcheckLive reads the kernel from a machine root built from boot
// run2-B's real files: /proc/kallsyms, /proc/modules, the release of
// uname.txt, and lkdtm.ko installed under /lib/modules/<release>/extra as
// the module whose vermagic is the kernel's. A copy of lkdtm.ko with its
// vermagic edited to an RT kernel's (synthetic) is refused in the
// kernel's words.
func TestModcheckLive(t *testing.T) {
	root := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) []byte {
		b, err := input.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	release := strings.Fields(string(read(bootDir + "uname.txt")))[2]
	write("proc/kallsyms", read(kallsymsGz))
	write("proc/modules", read(bootDir+"modules.txt"))
	write("proc/sys/kernel/osrelease", []byte(release+"\n"))
	lkdtm := read(lkdtmKo)
	write("lib/modules/"+release+"/extra/lkdtm.ko", lkdtm)
	write("lib/modules/"+release+"/modules.dep", []byte("extra/lkdtm.ko:\n"))
	rt := bytes.Replace(lkdtm, []byte("vermagic=6.1.0-56-amd64 SMP preempt "), []byte("vermagic=6.1.0-56-rt SMP preempt_rt "), 1)
	rtPath := filepath.Join(t.TempDir(), "lkdtm.ko")
	if err := os.WriteFile(rtPath, rt, 0o644); err != nil {
		t.Fatal(err)
	}

	out, errs, code := run(t, "", "--root", root, "--no-cache", "modcheck", lkdtmKo)
	vermagic := "vermagic: 6.1.0-56-amd64 SMP preempt mod_unload modversions  (" + filepath.Join(root, "lib/modules", release, "extra/lkdtm.ko") + ")\n"
	if code != 0 || errs != "" || !strings.HasPrefix(out, "kernel:   "+filepath.Join(root, "proc/kallsyms")+" (release 6.1.0-56-amd64)\n"+vermagic) {
		t.Errorf("exit %d, stderr %q, output:\n%s", code, errs, out)
	}
	out, _, code = run(t, "", "--root", root, "--no-cache", "modcheck", rtPath)
	want := "  lkdtm: version magic '6.1.0-56-rt SMP preempt_rt mod_unload modversions ' should be '6.1.0-56-amd64 SMP preempt mod_unload modversions '\n"
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}
