package decode

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// syzLog is one syzkaller report test: its file name, the function its
// TITLE names ("" for "in corrupted") and its console text.
type syzLog struct {
	name, title, fn, text string
}

// syzkallerLogs reads the logs of crashlogs/syzkaller/linux/report whose
// TITLE names a function ("... in FUNC").
func syzkallerLogs(tb testing.TB) []syzLog {
	tb.Helper()
	root := fixture.Path("crashlogs/syzkaller/linux/report")
	ents, err := os.ReadDir(root)
	if err != nil {
		tb.Fatal(err)
	}
	var out []syzLog
	for _, e := range ents {
		data := string(fixture.Read(tb, filepath.Join(root, e.Name())))
		hdr, text, _ := strings.Cut(data, "\n\n")
		l := syzLog{name: e.Name(), text: text}
		for _, line := range strings.Split(hdr, "\n") {
			if v, ok := strings.CutPrefix(line, "TITLE: "); ok {
				l.title = v
			}
		}
		i := strings.LastIndex(l.title, " in ")
		if i < 0 {
			continue
		}
		l.fn, _, _ = strings.Cut(l.title[i+4:], " ")
		if l.fn == "corrupted" {
			l.fn = ""
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// syscallPrefixes are the names the kernel gives a system call's entry
// points and helpers; syzkaller titles name the bare call ("mremap") or
// "sys_" and the call.
var syscallPrefixes = []string{"__x64_sys_", "__ia32_sys_", "__arm64_sys_", "__riscv_sys_", "__s390x_sys_",
	"__se_compat_sys_", "__do_compat_sys_", "compat_sys_", "__se_sys_", "__do_sys_", "__sys_", "ksys_", "SyS_", "sys_"}

// canonical undoes syzkaller's renames of a function name: compiler
// suffixes, system call wrappers (__x64_sys_rmdir, __se_sys_mremap, SyS_,
// ksys_: "rmdir", "mremap"), the smp_call_function* family
// ("smp_call_function"), C++ mangling (_Z8fakeNameiii: "fakeName"), Rust
// paths (<a::B>::f: "f").
func canonical(name string) string {
	if i := strings.LastIndex(name, "::"); i >= 0 {
		return name[i+2:]
	}
	if rest, ok := strings.CutPrefix(name, "_Z"); ok {
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if l, err := strconv.Atoi(rest[:n]); err == nil && n+l <= len(rest) {
			name = rest[n : n+l]
		}
	}
	name = baseName(name)
	for _, p := range syscallPrefixes {
		if s, ok := strings.CutPrefix(name, p); ok {
			return s
		}
	}
	if strings.HasPrefix(name, "smp_call_function") {
		return "smp_call_function"
	}
	for _, p := range []string{"synchronize_rcu", "synchronize_srcu", "__synchronize_srcu", "synchronize_sched"} {
		if strings.HasPrefix(name, p) {
			return "synchronize_rcu" // syzkaller's bucket for every hang in an RCU grace-period wait
		}
	}
	return name
}

// sameFunction reports whether ksym's guilty function got is the function
// fn of a syzkaller title (see canonical); a Rust v0 symbol (_RNv...) is
// the function whose last path component it ends with.
func sameFunction(fn, got string) bool {
	want := canonical(fn)
	if strings.HasPrefix(got, "_R") {
		return strings.HasSuffix(got, strconv.Itoa(len(want))+want)
	}
	return got != "" && canonical(got) == want
}

// emptyTable returns a table without any of the logs' symbols: the frames
// keep the names they printed, raw addresses stay unresolved.
func emptyTable(tb testing.TB) *kallsyms.Table {
	tb.Helper()
	t, err := kallsyms.ParseBytes([]byte("ffffffff81000000 T _text\n"), kallsyms.Options{Source: "empty"})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// guiltyOf decodes the first report of a log and returns its guilty
// function and kind ("none" when the log has no report).
func guiltyOf(tab *kallsyms.Table, text string) (fn, kind string) {
	reps := klog.Parse(text)
	if len(reps) == 0 {
		return "", "none"
	}
	s := New(tab, Options{}).Decode(reps[0]).Summary
	return s.GuiltyFunc, string(s.Kind)
}

// syzDisagreements are the logs whose guilty function differs from the
// function of syzkaller's title, with ksym's guilty function ("" for none)
// and the cause; docs/decode.md explains each cause.
var syzDisagreements = map[string]struct{ got, cause string }{
	"0":   {"__memset", "title in corrupted"},
	"11":  {"", "title in corrupted"},
	"154": {"", "title in corrupted"},
	"235": {"", "title in corrupted"},
	"238": {"do_futex", "title in corrupted"},
	"239": {"finish_task_switch", "title in corrupted"},
	"244": {"sock_sendmsg", "title in corrupted"},
	"323": {"native_safe_halt", "title in corrupted"},
	"335": {"__tty_buffer_request_room", "title in corrupted"},
	"480": {"", "title in corrupted"},
	"718": {"get_signal", "title in corrupted"},
	"123": {"", "corrupted report"},
	"132": {"SyS_fcntl", "corrupted report"},
	"548": {"trace_hardirqs_off", "entry only"},
	"264": {"d_walk", "soft lockup RIP"},
	"309": {"sget_userns", "allocation helper"},
	"545": {"__virt_to_phys", "panic stack only"},
	"604": {"SyS_darby", "bad PC"},
	"753": {"rose_timer_expiry", "timer callback"},
	"612": {"ext4_page_mkwrite", "nested fault"},
}

// TestSyzkallerAgreement measures how often the guilty function of the
// first report of a syzkaller test log is the function its TITLE names
// (docs/decode.md, "Agreement with syzkaller's titles"), and fails when a
// log moves in or out of the expected disagreements.
func TestSyzkallerAgreement(t *testing.T) {
	const wantAgree = 104
	tab := emptyTable(t)
	logs := syzkallerLogs(t)
	agree, seen := 0, 0
	for _, l := range logs {
		got, kind := guiltyOf(tab, l.text)
		d, listed := syzDisagreements[l.name]
		if listed {
			seen++
		}
		same := l.fn != "" && sameFunction(l.fn, got)
		switch {
		case same:
			agree++
			if listed {
				t.Errorf("%s: now agrees (%s in %q): remove it from syzDisagreements", l.name, got, l.title)
			}
		case !listed:
			t.Errorf("%s: %s guilty %q, syzkaller %q", l.name, kind, got, l.title)
		case d.got != got:
			t.Errorf("%s: guilty %q, listed as %q", l.name, got, d.got)
		}
	}
	t.Logf("%d logs name a function; the guilty function agrees for %d", len(logs), agree)
	if seen != len(syzDisagreements) {
		t.Errorf("%d of the %d listed disagreements are logs that name a function", seen, len(syzDisagreements))
	}
	if len(logs) != 124 || agree != wantAgree {
		t.Errorf("%d logs, %d agree; want 124 logs, %d agree", len(logs), agree, wantAgree)
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ fn, got string }{
		{"sys_rmdir", "__x64_sys_rmdir"}, {"mremap", "__se_sys_mremap"}, {"mount", "ksys_mount"},
		{"sys_rt_sigreturn", "__arm64_sys_rt_sigreturn"}, {"smp_call_function", "smp_call_function_many"},
		{"fakeName", "_Z8fakeNameiii"}, {"_snd_timer_stop", "_snd_timer_stop.constprop.9"},
		{"<rust_binder::process::Process>::update_ref", "_RNvMs3_NtCshgDM7dBCdno_11rust_binder7processNtB5_7Process10update_ref"},
	}
	for _, tc := range tests {
		if !sameFunction(tc.fn, tc.got) {
			t.Errorf("sameFunction(%q, %q) = false", tc.fn, tc.got)
		}
	}
	if sameFunction("sysfs_create", "create") || sameFunction("foo", "") {
		t.Error("sameFunction matched different functions")
	}
}
