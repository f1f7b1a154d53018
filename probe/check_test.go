package probe

import (
	"io/fs"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
)

// The Debian 6.1 boot run1-A: a real table with data symbols
// (CONFIG_KALLSYMS_ALL), modules, and the build's real configuration.
const (
	debianKallsyms = "debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz"
	debianConfig   = "debian-6.1.0-56-amd64/config.gz"
)

var (
	debianOnce  sync.Once
	debianTable *kallsyms.Table
	debianCfg   *Config
	debianErr   error
)

func debian(t *testing.T) (*kallsyms.Table, *Config) {
	t.Helper()
	debianOnce.Do(func() {
		debianTable, debianErr = kallsyms.Open(fixture.Path(debianKallsyms))
		if debianErr == nil {
			debianCfg, debianErr = ParseConfig(fixture.Read(t, fixture.Path(debianConfig)))
		}
	})
	if debianErr != nil {
		t.Fatal(debianErr)
	}
	return debianTable, debianCfg
}

// rawLines returns the lines of the real table whose name matches re, read
// without package kallsyms.
func rawLines(t *testing.T, re string) []string {
	rx := regexp.MustCompile(re)
	var out []string
	for _, line := range strings.Split(string(fixture.Read(t, fixture.Path(debianKallsyms))), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && rx.MatchString(f[2]) {
			out = append(out, line)
		}
	}
	return out
}

// answers returns a target's answers in Mechanisms order.
func answers(tg Target) [3]Answer {
	var a [3]Answer
	for i, v := range tg.Verdicts {
		a[i] = v.Answer
	}
	return a
}

// Each case is a class of function the kernel treats its own way, with the
// Debian 6.1 source that makes it so. The environment is what a saved
// tree of that boot would give: the configuration, but no tracefs, no
// debugfs and no BTF file, so fentry and ftrace stay unknown unless
// something rules them out.
func TestCheckDebian(t *testing.T) {
	tab, cfg := debian(t)
	env := &Env{
		Config:       cfg,
		FunctionsErr: fs.ErrNotExist,
		BlacklistErr: fs.ErrNotExist,
		BTFErr:       fs.ErrNotExist,
		ModuleBTF:    func(string) error { return fs.ErrNotExist },
		Arch:         "x86_64",
	}
	U, N, Y := Unknown, No, Yes
	tests := []struct {
		query   string
		targets int
		first   [3]Answer // kprobe, fentry, ftrace of the first target
		reason  string    // in the first target's kprobe reasons
	}{
		// An ordinary exported function.
		{"vfs_read", 1, [3]Answer{Y, U, U}, "not NOKPROBE_SYMBOL nor in a blacklisted area"},
		// arch/x86/kernel/traps.c: NOKPROBE_SYMBOL(do_int3).
		{"do_int3", 1, [3]Answer{N, U, U}, "marked NOKPROBE_SYMBOL (the table has _kbl_addr_do_int3)"},
		// arch/x86/mm/fault.c: DEFINE_IDTENTRY_RAW_ERRORCODE, noinstr.
		{"exc_page_fault", 1, [3]Answer{N, U, U}, "in the noinstr text, which the kernel blacklists for kprobes"},
		// arch/x86/entry/entry_64.S, blacklisted by x86's
		// arch_populate_kprobe_blacklist.
		{"entry_SYSCALL_64", 1, [3]Answer{N, U, U}, "in the entry text, which the kernel blacklists for kprobes"},
		// init/main.c: asmlinkage __visible void __init start_kernel.
		{"start_kernel", 1, [3]Answer{N, N, N}, "in .init.text, freed after boot"},
		// A module's function; the tree has no /sys/kernel/btf/lkdtm.
		{"lkdtm:lkdtm_do_action", 1, [3]Answer{Y, U, U}, "the kernel has kprobes (CONFIG_KPROBES=y)"},
		// vmlinux: selects the core kernel.
		{"vmlinux:vfs_read", 1, [3]Answer{Y, U, U}, "not NOKPROBE_SYMBOL"},
		// Static functions of 17 files.
		{"type_show", 17, [3]Answer{Y, U, U}, "not NOKPROBE_SYMBOL"},
	}
	for _, tt := range tests {
		r, err := Check(tab, tt.query, env)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Found || len(r.Targets) != tt.targets {
			t.Errorf("%s: found %v, %d targets; want %d", tt.query, r.Found, len(r.Targets), tt.targets)
			continue
		}
		if got := answers(r.Targets[0]); got != tt.first {
			t.Errorf("%s: answers %v, want %v (%+v)", tt.query, got, tt.first, r.Targets[0].Verdicts)
		}
		if got := strings.Join(r.Targets[0].Verdicts[0].Reasons, "; "); !strings.Contains(got, tt.reason) {
			t.Errorf("%s: kprobe reasons %q, want %q", tt.query, got, tt.reason)
		}
	}
}

func TestCheckAttachPoints(t *testing.T) {
	tab, cfg := debian(t)
	env := &Env{Config: cfg, FunctionsErr: fs.ErrNotExist, BlacklistErr: fs.ErrNotExist, BTFErr: fs.ErrNotExist, Arch: "x86_64"}
	r, err := Check(tab, "lkdtm:lkdtm_do_action", env)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range r.Targets[0].Verdicts {
		got = append(got, v.AttachPoint)
	}
	want := []string{"kprobe:lkdtm:lkdtm_do_action", "fentry:lkdtm:lkdtm_do_action", "lkdtm_do_action:mod:lkdtm"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attach points %q, want %q", got, want)
	}
}

// A name only the compiler's clones carry: the targets are the clones,
// read from the raw table.
func TestCheckClonesOnly(t *testing.T) {
	tab, cfg := debian(t)
	env := &Env{Config: cfg, FunctionsErr: fs.ErrNotExist, BlacklistErr: fs.ErrNotExist, BTFErr: fs.ErrNotExist, Arch: "x86_64"}
	r, err := Check(tab, "rht_key_get_hash", env)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawLines(t, `^rht_key_get_hash\.`)
	sort.Strings(raw) // the table's order is the addresses' (16 hex digits each)
	if r.Found || len(r.Targets) != len(raw) || len(raw) != 14 {
		t.Fatalf("found %v, %d targets; the table has %d clones (want 14)", r.Found, len(r.Targets), len(raw))
	}
	for i, tg := range r.Targets {
		f := strings.Fields(raw[i])
		if tg.Name != f[2] || addrHex(tg.Addr) != f[0] {
			t.Errorf("target %d = %s at %x, want %s", i, tg.Name, tg.Addr, raw[i])
		}
		if tg.Clone == nil || !tg.Clone.ArgsChanged || tg.Clone.Cold {
			t.Errorf("%s: clone %+v", tg.Name, tg.Clone)
		}
	}
	if r.Attachable() != Yes {
		t.Errorf("Attachable = %s, want yes (kprobe on a clone)", r.Attachable())
	}
}

func addrHex(a uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[a&15]
		a >>= 4
	}
	return string(b)
}

// A variable and a name nothing has.
func TestCheckNotAFunction(t *testing.T) {
	tab, cfg := debian(t)
	env := &Env{Config: cfg, FunctionsErr: fs.ErrNotExist, BlacklistErr: fs.ErrNotExist, BTFErr: fs.ErrNotExist}
	r, err := Check(tab, "jiffies", env)
	if err != nil {
		t.Fatal(err)
	}
	if r.Found || len(r.Targets) != 0 || len(r.NotFunctions) != 1 || r.NotFunctions[0].Type != "D" || r.Attachable() != No {
		t.Errorf("jiffies: %+v", r)
	}
	r, err = Check(tab, "lkdtm:vfs_read", env) // a core function asked of a module
	if err != nil || r.Found || len(r.Targets) != 0 || r.Attachable() != No {
		t.Errorf("lkdtm:vfs_read: %+v, %v", r, err)
	}
	r, err = Check(tab, "no_such_function_anywhere", env)
	if err != nil {
		t.Fatal(err)
	}
	if r.Found || len(r.Targets)+len(r.NotFunctions)+len(r.Clones) != 0 || r.Attachable() != No {
		t.Errorf("no_such_function_anywhere: %+v", r)
	}
	for _, q := range []string{"", "lkdtm:", "two words"} {
		if _, err := Check(tab, q, env); err == nil {
			t.Errorf("Check(%q) did not fail", q)
		}
	}
}

// With the tracing files read, the list and the blacklist decide. Their
// lines are written in the kernel's format (see parse_test.go: the
// fixtures hold neither file); the names and addresses are the table's.
func TestCheckWithTracingFiles(t *testing.T) {
	tab, cfg := debian(t)
	ff, err := ParseFilterFunctions([]byte("vfs_read\ntype_show\nlkdtm_do_action [lkdtm]\n"))
	if err != nil {
		t.Fatal(err)
	}
	bl, err := ParseBlacklist([]byte("0xffffffff999669e0-0xffffffff99966b40\tvfs_read\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Config: cfg, Functions: ff, Blacklist: bl, BTFErr: fs.ErrNotExist,
		ModuleBTF: func(string) error { return nil }, Arch: "x86_64"}
	U, N, Y := Unknown, No, Yes
	tests := []struct {
		query string
		want  [3]Answer
	}{
		{"vfs_read", [3]Answer{N, U, Y}},              // blacklisted here, listed for ftrace
		{"lkdtm:lkdtm_do_action", [3]Answer{Y, Y, Y}}, // module BTF present
		{"type_show", [3]Answer{Y, U, U}},             // listed once, 17 in the table
		{"tcp_v4_connect", [3]Answer{Y, N, N}},        // not in the list
	}
	for _, tt := range tests {
		r, err := Check(tab, tt.query, env)
		if err != nil {
			t.Fatal(err)
		}
		if got := answers(r.Targets[0]); got != tt.want {
			t.Errorf("%s: %v, want %v: %+v", tt.query, got, tt.want, r.Targets[0].Verdicts)
		}
	}
}

func TestParseClone(t *testing.T) {
	tests := []struct {
		name, base string
		clone      Clone
		ok         bool
	}{
		// Real names from the Debian 6.1 and 6.18 tables.
		{"rht_key_get_hash.isra.0", "rht_key_get_hash", Clone{Suffix: ".isra.0", ArgsChanged: true}, true},
		{"cpumask_weight.constprop.0", "cpumask_weight", Clone{Suffix: ".constprop.0", ArgsChanged: true}, true},
		{"__rhashtable_insert_fast.constprop.0.isra.0", "__rhashtable_insert_fast", Clone{Suffix: ".constprop.0.isra.0", ArgsChanged: true}, true},
		{"HUF_decompress4X1_usingDTable_internal_default.part.0", "HUF_decompress4X1_usingDTable_internal_default", Clone{Suffix: ".part.0", Partial: true}, true},
		{"___ratelimit.cold", "___ratelimit", Clone{Suffix: ".cold", Cold: true}, true},
		// Forms of other compilers' versions (GCC 8's numbered .cold,
		// clang's ThinLTO rename), not in the fixtures.
		{"foo.cold.3", "foo", Clone{Suffix: ".cold.3", Cold: true}, true},
		{"foo.llvm.8371239012", "foo", Clone{Suffix: ".llvm.8371239012"}, true},
		{"foo.part.0.cold", "foo", Clone{Suffix: ".part.0.cold", Partial: true, Cold: true}, true},
		// Not clones.
		{"vfs_read", "vfs_read", Clone{}, false},
		{"foo.isra", "foo.isra", Clone{}, false},
		{"foo.bar.0", "foo.bar.0", Clone{}, false},
		{".isra.0", ".isra.0", Clone{}, false},
	}
	for _, tt := range tests {
		base, c, ok := ParseClone(tt.name)
		if base != tt.base || c != tt.clone || ok != tt.ok {
			t.Errorf("ParseClone(%q) = %q, %+v, %v; want %q, %+v, %v", tt.name, base, c, ok, tt.base, tt.clone, tt.ok)
		}
	}
}

// With addresses, the patch sites tell which of 17 type_show functions
// ftrace can filter on: the two listed, not the others.
func TestCheckFilterSites(t *testing.T) {
	tab, cfg := debian(t)
	ff, err := ParseFilterFunctionsAddrs([]byte("ffffffff99639ea0 type_show\nffffffff996d47e0 type_show\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Config: cfg, Functions: ff, BlacklistErr: fs.ErrNotExist, BTFErr: fs.ErrNotExist, Arch: "x86_64"}
	r, err := Check(tab, "type_show", env)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[uint64]bool{0xffffffff99639ea0: true, 0xffffffff996d47e0: true}
	if len(r.Targets) != 17 {
		t.Fatalf("%d targets", len(r.Targets))
	}
	for _, tg := range r.Targets {
		want := No
		if listed[tg.Addr] {
			want = Yes
		}
		if got := verdict(tg, Ftrace).Answer; got != want {
			t.Errorf("type_show at %x: ftrace %s, want %s (%v)", tg.Addr, got, want, verdict(tg, Ftrace).Reasons)
		}
	}
}

// Without a configuration, the perf kprobe event source tells whether
// bpftrace and perf can create kprobes (the development VM has none: see
// machine/testdata/fc-6.18.44-tracing.md).
func TestCheckKprobePMU(t *testing.T) {
	tab, _ := debian(t)
	yes, no := true, false
	tests := []struct {
		pmu  *bool
		want Answer
	}{
		{&yes, Yes},
		{&no, No},
		{nil, Unknown},
	}
	for _, tt := range tests {
		env := &Env{ConfigErr: fs.ErrNotExist, FunctionsErr: fs.ErrNotExist, BlacklistErr: fs.ErrNotExist, BTFErr: fs.ErrNotExist, KprobePMU: tt.pmu, Arch: "x86_64"}
		r, err := Check(tab, "vfs_read", env)
		if err != nil {
			t.Fatal(err)
		}
		if got := verdict(r.Targets[0], Kprobe); got.Answer != tt.want {
			t.Errorf("PMU %v: kprobe %s, want %s (%v)", tt.pmu, got.Answer, tt.want, got.Reasons)
		}
	}
}

// An unprivileged reader sees the same table with every address zero (the
// kernel prints them so: see the fixture's kallsyms-nonroot-head.txt);
// here the whole run1-A table is zeroed the same way. Names still decide
// what they can (the NOKPROBE_SYMBOL marker); what needs an address is
// unknown.
func TestCheckHiddenTable(t *testing.T) {
	_, cfg := debian(t)
	var b strings.Builder
	for _, line := range strings.Split(string(fixture.Read(t, fixture.Path(debianKallsyms))), "\n") {
		if len(line) > 16 {
			line = "0000000000000000" + line[16:]
		}
		b.WriteString(line + "\n")
	}
	tab, err := kallsyms.ParseBytes([]byte(b.String()), kallsyms.Options{Source: "hidden"})
	if err != nil || !tab.Hidden() {
		t.Fatalf("hidden table: %v, hidden %v", err, tab != nil && tab.Hidden())
	}
	env := &Env{Config: cfg, FunctionsErr: fs.ErrNotExist, BlacklistErr: fs.ErrNotExist, BTFErr: fs.ErrNotExist, Arch: "x86_64"}
	tests := []struct {
		query  string
		kprobe Answer
		reason string
	}{
		{"do_int3", No, "marked NOKPROBE_SYMBOL (the table has _kbl_addr_do_int3)"},
		{"vfs_read", Unknown, "the table's addresses are hidden (all zero): the section cannot be told"},
	}
	for _, tt := range tests {
		r, err := Check(tab, tt.query, env)
		if err != nil {
			t.Fatal(err)
		}
		v := verdict(r.Targets[0], Kprobe)
		if v.Answer != tt.kprobe || !strings.Contains(strings.Join(v.Reasons, "; "), tt.reason) {
			t.Errorf("%s: kprobe %s %q, want %s with %q", tt.query, v.Answer, v.Reasons, tt.kprobe, tt.reason)
		}
	}
}

// nmi_handle, nmi_handle.part.0 and nmi_handle.part.0.cold exist (run1-A); asked by its own name, the clone is the target, its cold part
// is listed beside it, and no fentry is possible on a clone.
func TestCheckCloneByName(t *testing.T) {
	tab, cfg := debian(t)
	env := &Env{Config: cfg, FunctionsErr: fs.ErrNotExist, BlacklistErr: fs.ErrNotExist, BTFErr: fs.ErrNotExist, Arch: "x86_64"}
	r, err := Check(tab, "nmi_handle.part.0", env)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Found || len(r.Targets) != 1 || r.Targets[0].Clone == nil || !r.Targets[0].Clone.Partial {
		t.Fatalf("targets %+v", r.Targets)
	}
	if len(r.Clones) != 1 || r.Clones[0].Name != "nmi_handle.part.0.cold" || !r.Clones[0].Clone.Cold || r.Clones[0].Clone.Suffix != ".cold" {
		t.Errorf("clones %+v", r.Clones)
	}
	if v := verdict(r.Targets[0], Fentry); v.Answer != No {
		t.Errorf("fentry on a clone: %s %v", v.Answer, v.Reasons)
	}
	r, err = Check(tab, "nmi_handle", env)
	if err != nil {
		t.Fatal(err)
	}
	// nmi_handle exists too: its clones are listed beside it, the entry
	// clone first.
	var names []string
	for _, tg := range r.Clones {
		names = append(names, tg.Name)
	}
	if !r.Found || len(r.Targets) != 1 || !reflect.DeepEqual(names, []string{"nmi_handle.part.0", "nmi_handle.part.0.cold"}) {
		t.Errorf("nmi_handle: found %v, %d targets, clones %q", r.Found, len(r.Targets), names)
	}
}
