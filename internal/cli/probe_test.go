package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/machine"
)

// fcTree is the development VM's saved tree (real files; see
// machine/testdata/fc-6.18.44-tracing.md): no kprobes in that kernel, and
// no available_filter_functions (the kernel refused it even to root).
const fcTree = "../../machine/testdata/fc-6.18.44-tracing"

// The expected outputs follow from the tree's files: the addresses and
// sections from its proc/kallsyms excerpt (start_kernel lies between
// _sinittext and _einittext), "# CONFIG_KPROBES is not set" and
// CONFIG_DEBUG_INFO_BTF=y from its config.gz, and the absence of
// available_filter_functions and of sys/kernel/btf.
func TestProbeSavedTree(t *testing.T) {
	notRead := "available_filter_functions was not read (open " + fcTree + "/sys/kernel/tracing/available_filter_functions: no such file or directory)"
	ftraceUnknown := "  ftrace  unknown  " + notRead + "\n"
	noKprobes := "kernel built without CONFIG_KPROBES (no kprobes at all)"
	btfMissing := "the kernel has BTF (CONFIG_DEBUG_INFO_BTF=y) but /sys/kernel/btf/vmlinux was not found"
	ifAllowed := "   # if the unknowns above allow\n"
	note := "notes:\n  the saved tree has no available_filter_functions: save sys/kernel/tracing/available_filter_functions with it (as root, tracefs mounted)\n"
	filter := func(name string) string {
		return "    echo '" + name + "' > /sys/kernel/tracing/set_ftrace_filter && echo function > /sys/kernel/tracing/current_tracer" + ifAllowed
	}
	tests := []struct {
		name string
		want string
		code int
	}{
		{"vfs_read", "vfs_read: cannot tell whether it can be traced\n" +
			"function vfs_read at ffffffff816dbaf0 (T, text)\n" +
			"  kprobe  no       " + noKprobes + "\n" +
			"  fentry  unknown  " + btfMissing + "; " + notRead + "\n" +
			ftraceUnknown +
			"  commands:\n" +
			"    bpftrace -e 'fentry:vfs_read { @[kstack] = count(); }'" + ifAllowed +
			filter("vfs_read") +
			note, 2},
		{"start_kernel", "start_kernel: cannot be traced\n" +
			"function start_kernel at ffffffff83576b10 (T, init text)\n" +
			"  kprobe  no       in .init.text, freed after boot; " + noKprobes + "\n" +
			"  fentry  no       in .init.text, freed after boot\n" +
			"  ftrace  no       in .init.text, freed after boot\n", 1},
		{"exc_page_fault", "exc_page_fault: cannot tell whether it can be traced\n" +
			"function exc_page_fault at ffffffff82242400 (T, text)\n" +
			"  kprobe  no       " + noKprobes + "; in the noinstr text, which the kernel blacklists for kprobes\n" +
			"  fentry  unknown  " + btfMissing + "; " + notRead + "\n" +
			ftraceUnknown +
			"  commands:\n" +
			"    bpftrace -e 'fentry:exc_page_fault { @[kstack] = count(); }'" + ifAllowed +
			filter("exc_page_fault") +
			note, 2},
		{"___ratelimit", "___ratelimit: cannot tell whether it can be traced\n" +
			"function ___ratelimit at ffffffff82227f90 (T, text)\n" +
			"  kprobe  no       " + noKprobes + "\n" +
			"  fentry  unknown  " + btfMissing + "; " + notRead + "\n" +
			ftraceUnknown +
			"  commands:\n" +
			"    bpftrace -e 'fentry:___ratelimit { @[kstack] = count(); }'" + ifAllowed +
			filter("___ratelimit") +
			"compiler clones of ___ratelimit beside it:\n" +
			"  ___ratelimit.cold at ffffffff81247fff: the cold part (rarely run branches moved out); never the entry: do not use\n" +
			note, 2},
		{"HUF_decompress4X1_usingDTable_internal_default", "HUF_decompress4X1_usingDTable_internal_default: cannot tell whether it can be traced\n" +
			"  no function HUF_decompress4X1_usingDTable_internal_default in the table, but the compiler made clones of it:\n" +
			"  HUF_decompress4X1_usingDTable_internal_default.part.0 at ffffffff81c53e80: the out-of-line rest; the first part is inlined into the callers, so only calls that get past it arrive here: use it, knowing it misses the rest\n" +
			"function HUF_decompress4X1_usingDTable_internal_default.part.0 at ffffffff81c53e80 (t, text)\n" +
			"  kprobe  no       " + noKprobes + "\n" +
			"  fentry  no       a clone has no BTF FUNC entry of its own (BTF names functions as the source does)\n" +
			ftraceUnknown +
			"  commands:\n" +
			filter("HUF_decompress4X1_usingDTable_internal_default.part.0") +
			note, 2},
		{"__pfx_vfs_read", "__pfx_vfs_read: cannot be traced\n" +
			"function __pfx_vfs_read at ffffffff816dbae0 (T, text)\n" +
			"  kprobe  no       padding before a function (CFI/call-depth preamble), not its entry; use vfs_read; " + noKprobes + "\n" +
			"  fentry  no       padding before a function (CFI/call-depth preamble), not its entry; use vfs_read\n" +
			"  ftrace  no       padding before a function (CFI/call-depth preamble), not its entry; use vfs_read\n", 1},
		{"inlined_or_gone", "inlined_or_gone: no such function\n" +
			"  no function inlined_or_gone in the table: it was likely inlined into its callers, or static and removed as unused;\n" +
			"  a tracepoint or a probe on its callers may see it (ksym search '*inlined_or_gone*' lists similar names)\n", 1},
	}
	for _, tt := range tests {
		out, errs, code := run(t, "", "--root", fcTree, "probe", tt.name)
		if out != tt.want || errs != "" || code != tt.code {
			t.Errorf("probe %s: exit %d, stderr %q, output:\n%s\nwant exit %d, output:\n%s", tt.name, code, errs, out, tt.code, tt.want)
		}
	}
}

// Two functions named NF_HOOK.constprop.0 and no NF_HOOK: the clones are
// the targets, and the name is ambiguous.
func TestProbeAmbiguousClones(t *testing.T) {
	out, _, code := run(t, "", "--root", fcTree, "probe", "NF_HOOK")
	for _, want := range []string{
		"  NF_HOOK.constprop.0 at ffffffff82154bd0: a copy of the whole function",
		"  NF_HOOK.constprop.0 at ffffffff82164cc0: a copy of the whole function",
		"function NF_HOOK.constprop.0 at ffffffff82154bd0 (t, text)\n",
		"function NF_HOOK.constprop.0 at ffffffff82164cc0 (t, text)\n",
		"to pick one of several functions named NF_HOOK.constprop.0:\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("probe NF_HOOK: no %q in\n%s", want, out)
		}
	}
	if code != 2 || strings.Contains(out, "a module's function alone") {
		t.Errorf("probe NF_HOOK: exit %d (want 2), or module advice without modules:\n%s", code, out)
	}
}

// The Debian 6.1 run2-B table with its build's real configuration in a
// tree of its own (no tracefs, debugfs or BTF saved).
func debianTree(t *testing.T) string {
	root := t.TempDir()
	cfg, err := os.ReadFile("../../testdata/fixtures/debian-6.1.0-56-amd64/config.gz")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/config.gz"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestProbeDebian(t *testing.T) {
	root := debianTree(t)
	vfsRead := only(t, "vfs_read", "")
	doAction := only(t, "lkdtm_do_action", "lkdtm")
	tests := []struct {
		name  string
		code  int
		wants []string
	}{
		{"vfs_read", 0, []string{
			"vfs_read: can be traced (kprobe)\n",
			"function vfs_read at " + addr16(vfsRead.addr) + " (T, text)\n",
			"  kprobe  yes      the kernel has kprobes (CONFIG_KPROBES=y); not NOKPROBE_SYMBOL nor in a blacklisted area (from the table; the blacklist file was not read)\n",
			"    bpftrace -e 'kprobe:vfs_read { @[kstack] = count(); }'\n    perf probe -a vfs_read\n",
			"  the saved tree has no kprobe blacklist: save sys/kernel/debug/kprobes/blacklist with it (as root, debugfs mounted)\n",
		}},
		{"lkdtm:lkdtm_do_action", 0, []string{
			"function lkdtm_do_action [lkdtm] at " + addr16(doAction.addr) + " (t, module)\n",
			"    bpftrace -e 'kprobe:lkdtm:lkdtm_do_action { @[kstack] = count(); }'\n    perf probe -m lkdtm -a lkdtm_do_action\n",
			"  fentry  unknown  modules have BTF (CONFIG_DEBUG_INFO_BTF_MODULES=y) but /sys/kernel/btf/lkdtm was not found",
		}},
		// arch/x86/kernel/traps.c: NOKPROBE_SYMBOL(do_int3).
		{"do_int3", 2, []string{"  kprobe  no       marked NOKPROBE_SYMBOL (the table has _kbl_addr_do_int3)\n"}},
		{"entry_SYSCALL_64", 2, []string{"  kprobe  no       in the entry text, which the kernel blacklists for kprobes\n"}},
		{"jiffies", 1, []string{"jiffies: no such function\n", " is a variable (type D), not a function: nothing attaches to it\n"}},
	}
	for _, tt := range tests {
		out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "--root", root, "probe", tt.name)
		if code != tt.code || errs != "" {
			t.Errorf("probe %s: exit %d (want %d), stderr %q\n%s", tt.name, code, tt.code, errs, out)
		}
		for _, want := range tt.wants {
			if !strings.Contains(out, want) {
				t.Errorf("probe %s: no %q in\n%s", tt.name, want, out)
			}
		}
	}
}

// Seventeen static functions named type_show in the core kernel: each is
// listed with commands by address, and the advice says how to pick.
func TestProbeDuplicates(t *testing.T) {
	var dups []rawSym
	for _, s := range fixture(t) {
		if s.name == "type_show" && (s.typ == "t" || s.typ == "T") {
			dups = append(dups, s)
		}
	}
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "--root", debianTree(t), "--json", "probe", "type_show")
	var got struct {
		Attachable string `json:"attachable"`
		Targets    []struct {
			Name, Module, Address string
			Commands              []string
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if code != 0 || got.Attachable != "yes" || len(got.Targets) != len(dups) || len(dups) != 17 {
		t.Fatalf("exit %d, attachable %s, %d targets, %d in the table (want 17)", code, got.Attachable, len(got.Targets), len(dups))
	}
	for i, tg := range got.Targets {
		addr := hex0x(dups[i].addr)
		if tg.Address != addr || len(tg.Commands) < 2 ||
			tg.Commands[0] != "bpftrace -e 'kprobe:"+addr+" { @[kstack] = count(); }'   # by address: this boot only" {
			t.Errorf("target %d: %+v, want address %s", i, tg, addr)
		}
	}
}

// A saved table without --root: the live machine's files are not read.
func TestProbeKallsymsWithoutRoot(t *testing.T) {
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "probe", "vfs_read")
	for _, want := range []string{
		"  kprobe  unknown  whether the kernel has kprobes is unknown: no kernel configuration (not read: a saved table and no --root); not NOKPROBE_SYMBOL nor in a blacklisted area (from the table; the blacklist file was not read)\n",
		"  ftrace  unknown  whether the kernel has the function tracer is unknown: no kernel configuration (not read: a saved table and no --root); available_filter_functions was not read (not read: a saved table and no --root)\n",
		"notes:\n  --kallsyms names a saved table, so this machine's configuration, tracing files and BTF were not read (they may belong to another kernel): give --root DIR with the saved /proc and /sys of the same boot\n",
	} {
		if code != 2 || !strings.Contains(out, want) {
			t.Errorf("exit %d (want 2), no %q in\n%s", code, want, out)
		}
	}
}

func TestProbeUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"probe"}, "ksym: probe: missing one function NAME (see 'ksym probe --help')\n"},
		{[]string{"probe", "a", "b"}, "ksym: probe: too many arguments: want one function NAME (see 'ksym probe --help')\n"},
		{[]string{"probe", "lkdtm:"}, "ksym: probe: \"lkdtm:\" is not a function name (NAME or MODULE:NAME)\n"},
		{[]string{"--root", "/no/such/dir", "probe", "vfs_read"}, "ksym: machine root: stat /no/such/dir: no such file or directory"},
	}
	for _, tt := range tests {
		_, errs, code := run(t, "", tt.args...)
		if code != 2 || !strings.HasPrefix(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2, %q", tt.args, code, errs, tt.want)
		}
	}
}

func TestTracingAdvice(t *testing.T) {
	tests := []struct {
		err  error
		live bool
		want string
	}{
		{machine.ErrTracefsNotMounted, true, "tracefs is not mounted: mount it with `mount -t tracefs nodev /sys/kernel/tracing` (as root)"},
		{machine.ErrTracefsNotMounted, false, "the saved tree has no available_filter_functions: save sys/kernel/tracing/available_filter_functions with it (as root, tracefs mounted)"},
		{&fs.PathError{Op: "open", Path: "/sys/kernel/tracing/available_filter_functions", Err: fs.ErrNotExist}, true, "tracefs has no available_filter_functions"},
		{errors.New("other"), true, ""},
	}
	for _, tt := range tests {
		if got := tracingAdvice(tt.err, nil, tt.live); got != tt.want {
			t.Errorf("tracingAdvice(%v, live %v) = %q, want %q", tt.err, tt.live, got, tt.want)
		}
	}
}

// TestProbeLive asks about vfs_read on this machine and checks the answer
// against the live files, read here without packages machine and probe:
// the kprobe verdict follows CONFIG_KPROBES in /proc/config.gz, and an
// unmounted tracefs gets the mount advice.
func TestProbeLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the live table's addresses")
	}
	raw, err := os.ReadFile("/proc/config.gz")
	if err != nil {
		t.Skipf("no /proc/config.gz: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, "", "--no-cache", "probe", "vfs_read")
	var wants []string
	if bytes.Contains(cfg, []byte("\n# CONFIG_KPROBES is not set\n")) {
		wants = append(wants, "  kprobe  no       kernel built without CONFIG_KPROBES (no kprobes at all)\n")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err == nil {
		wants = append(wants, "; has a BTF entry (/sys/kernel/btf/vmlinux)\n")
	}
	if _, err := os.Stat("/sys/kernel/tracing/README"); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat("/sys/kernel/debug/tracing/README"); errors.Is(err, fs.ErrNotExist) {
			wants = append(wants, "  tracefs is not mounted: mount it with `mount -t tracefs nodev /sys/kernel/tracing` (as root)\n")
			if code == 0 && !strings.Contains(out, "kprobe  yes") {
				t.Errorf("exit 0 without a kprobe and without tracefs:\n%s", out)
			}
		}
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	t.Logf("exit %d\n%s", code, out)
}

// A snapshot of the Debian boot with the VM's tree: two kernels, refused.
func TestProbeSnapshotOfAnotherKernel(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "run1.ksnap")
	if _, errs, code := run(t, "", "--root", machineRoot, "snapshot", "save", "-o", snap); code != 0 {
		t.Fatalf("save: %d %s", code, errs)
	}
	_, errs, code := run(t, "", "--kallsyms", snap, "--root", fcTree, "probe", "vfs_read")
	want := "ksym: probe: " + snap + " is a table of Linux 6.1.0-56-amd64, but " + fcTree + " is of Linux 6.18.44-fc-v1272: give the tree saved with the table\n"
	if code != 2 || errs != want {
		t.Errorf("exit %d, stderr %q; want 2, %q", code, errs, want)
	}
	// With the tree it was saved from, the answer comes.
	if _, errs, code := run(t, "", "--kallsyms", snap, "--root", machineRoot, "probe", "lkdtm_do_action"); code == 2 && strings.Contains(errs, "give the tree") {
		t.Errorf("the snapshot's own tree refused: %s", errs)
	}
}

// parse_options: one in the core kernel, one in ext4, one in fat (run2-B).
// Each module's is unique within its module and is picked by module name;
// the core one shares its name with them, so by name the kernel cannot
// pick it: it gets the by-address commands.
func TestProbeCoreAndModuleDuplicates(t *testing.T) {
	var core, ext4, fat rawSym
	for _, s := range fixture(t) {
		if s.name != "parse_options" {
			continue
		}
		switch s.mod {
		case "":
			core = s
		case "ext4":
			ext4 = s
		case "fat":
			fat = s
		}
	}
	out, _, code := run(t, "", "--kallsyms", kallsymsGz, "--root", debianTree(t), "--json", "probe", "parse_options")
	var got struct {
		Targets []struct {
			Module, Address string
			Commands        []string
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 || len(got.Targets) != 3 {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	want := [][]string{
		{"bpftrace -e 'kprobe:" + hex0x(core.addr) + " { @[kstack] = count(); }'   # by address: this boot only",
			"echo 'p:ksym/parse_options_" + strconv.FormatUint(core.addr&0xfffff, 16) + " " + hex0x(core.addr) + "' >> /sys/kernel/tracing/kprobe_events   # by address: this boot only"},
		{"bpftrace -e 'kprobe:ext4:parse_options { @[kstack] = count(); }'", "perf probe -m ext4 -a parse_options"},
		{"bpftrace -e 'kprobe:fat:parse_options { @[kstack] = count(); }'", "perf probe -m fat -a parse_options"},
	}
	for i, s := range []rawSym{core, ext4, fat} {
		tg := got.Targets[i]
		if tg.Module != s.mod || tg.Address != hex0x(s.addr) || len(tg.Commands) < 2 || tg.Commands[0] != want[i][0] || tg.Commands[1] != want[i][1] {
			t.Errorf("target %d: %+v\nwant module %q at %s, commands %q", i, tg, s.mod, hex0x(s.addr), want[i])
		}
	}
}
