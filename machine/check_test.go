package machine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Synthetic credential files: the captures hold no /proc/self/status, uid_map
// or perf_event_paranoid. The status lines have the kernel's layout; the
// CapEff values are root's full set on this kernel generation and an ordinary
// user's empty set.
const (
	statusRoot   = "Name:\tksym\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
	statusUser   = "Name:\tksym\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n"
	uidMapInit   = "         0          0 4294967295\n"
	uidMapRootle = "         0     100000      65536\n"
)

// checkRoot builds a machine root from a real fixture root plus the given
// files (relative path -> content; "" deletes).
func checkRoot(t *testing.T, base string, files map[string]string) FS {
	t.Helper()
	dir := t.TempDir()
	tree := readTree(t, filepath.Join("testdata", base))
	for rel, s := range files {
		if s == "" {
			delete(tree, rel)
		} else {
			tree[rel] = []byte(s)
		}
	}
	writeTree(t, dir, tree)
	fs, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func creds(status, uidMap, kptr, paranoid string) map[string]string {
	return map[string]string{
		"proc/self/status":                    status,
		"proc/self/uid_map":                   uidMap,
		"proc/sys/kernel/kptr_restrict":       kptr,
		"proc/sys/kernel/perf_event_paranoid": paranoid,
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		base     string // root view ("run1-A") or unprivileged view of the table
		files    map[string]string
		expected *bool
		visible  bool
		reason   string
		advice   int
		problem  string // a problem that must be listed besides the missing boot ID
	}{
		{"root with CAP_SYSLOG", "run1-A", creds(statusRoot, uidMapInit, "0\n", "2\n"),
			ptr(true), true, "kernel.kptr_restrict=0 with kernel.perf_event_paranoid >= 2 (or unknown) shows addresses only to holders of CAP_SYSLOG, and this process has it", 0, ""},
		{"user, Debian's paranoid 3", unprivilegedRoot, creds(statusUser, uidMapInit, "0\n", "3\n"),
			ptr(false), false, "kernel.kptr_restrict=0 with kernel.perf_event_paranoid >= 2 (or unknown) shows addresses only to holders of CAP_SYSLOG, and this process lacks it", 2, ""},
		{"user, kptr_restrict 1", unprivilegedRoot, creds(statusUser, uidMapInit, "1\n", "1\n"),
			ptr(false), false, "kernel.kptr_restrict=1 shows addresses only to holders of CAP_SYSLOG, and this process lacks it", 1, ""},
		{"user, paranoid 1", "run1-A", creds(statusUser, uidMapInit, "0\n", "1\n"),
			ptr(true), true, "kernel.kptr_restrict=0 and kernel.perf_event_paranoid=1 (<= 1) show addresses to every reader", 0, ""},
		{"root, kptr_restrict 2", unprivilegedRoot, creds(statusRoot, uidMapInit, "2\n", "-1\n"),
			ptr(false), false, "kernel.kptr_restrict=2 hides kernel addresses from every reader, root included", 1, ""},
		{"root in a rootless container", unprivilegedRoot, creds(statusRoot, uidMapRootle, "1\n", "2\n"),
			ptr(false), false, "kernel.kptr_restrict=1 shows addresses only to holders of CAP_SYSLOG; this process has CAP_SYSLOG only inside a user namespace (a rootless container?), and the kernel wants it in the initial one", 1, ""},
		{"rule and kernel disagree", unprivilegedRoot, creds(statusRoot, uidMapInit, "1\n", "2\n"),
			ptr(true), false, "kernel.kptr_restrict=1 shows addresses only to holders of CAP_SYSLOG, and this process has it", 0, "an LSM (SELinux, AppArmor) may deny CAP_SYSLOG"},
		{"credentials unknown", "run1-A", creds("", "", "1\n", "2\n"),
			nil, true, "visible (observed; this process's capabilities are unknown)", 0, "credentials: open"},
		{"kptr_restrict unknown", unprivilegedRoot, creds(statusUser, uidMapInit, "", "2\n"),
			nil, false, "hidden (observed; kernel.kptr_restrict is unknown)", 0, "kptr_restrict: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := checkRoot(t, tt.base, tt.files).Check()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Expected, tt.expected) || r.AddressesVisible != tt.visible || !r.KallsymsReadable {
				t.Errorf("expected %v, visible %v, readable %v; want %v, %v", deref(r.Expected), r.AddressesVisible, r.KallsymsReadable, deref(tt.expected), tt.visible)
			}
			if r.Reason != tt.reason || len(r.Advice) != tt.advice {
				t.Errorf("reason %q, advice %q; want %q and %d pieces of advice", r.Reason, r.Advice, tt.reason, tt.advice)
			}
			if !hasProblem(r.Problems, "boot ID: open") || (tt.problem != "" && !hasProblem(r.Problems, tt.problem)) {
				t.Errorf("problems %q, want one starting %q", r.Problems, tt.problem)
			}
		})
	}
}

func ptr(b bool) *bool { return &b }

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func hasProblem(problems []string, prefix string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, prefix) || strings.Contains(p, prefix) {
			return true
		}
	}
	return false
}

// TestCheckJSON pins the JSON field names the CLI prints.
func TestCheckJSON(t *testing.T) {
	fs := checkRoot(t, "run1-A", creds(statusRoot, uidMapInit, "0\n", "2\n"))
	r, err := fs.Check()
	if err != nil {
		t.Fatal(err)
	}
	r.Root, r.Problems = "/", nil
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "root": "/",
  "release": "6.1.0-56-amd64",
  "version": "` + debianVersion + `",
  "build_id": "eb4fbcd037e7253717950bf2b93bd5566f47c56f",
  "modules": 24,
  "kallsyms_readable": true,
  "addresses_visible": true,
  "addresses_expected": true,
  "reason": "kernel.kptr_restrict=0 with kernel.perf_event_paranoid \u003e= 2 (or unknown) shows addresses only to holders of CAP_SYSLOG, and this process has it",
  "kptr_restrict": 0,
  "kptr_restrict_meaning": "addresses shown to readers with CAP_SYSLOG, and to every reader when perf_event_paranoid \u003c= 1",
  "perf_event_paranoid": 2,
  "uid": 0,
  "cap_eff": "000001ffffffffff",
  "cap_syslog": true,
  "user_namespace": "initial"
}`
	if string(got) != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", got, want)
	}
}

func TestCheckNoProc(t *testing.T) {
	_, err := FS{root: t.TempDir()}.Check()
	if err == nil || !strings.Contains(err.Error(), "no /proc under") {
		t.Fatalf("err = %v", err)
	}
}

func TestKptrRestrictMeaning(t *testing.T) {
	tests := []struct {
		v    int
		want string
	}{
		{0, "addresses shown to readers with CAP_SYSLOG, and to every reader when perf_event_paranoid <= 1"},
		{1, "addresses shown only to readers with CAP_SYSLOG in the initial user namespace"},
		{2, "addresses hidden from every reader, root included"},
	}
	for _, tt := range tests {
		if got := KptrRestrictMeaning(tt.v); got != tt.want {
			t.Errorf("KptrRestrictMeaning(%d) = %q", tt.v, got)
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in        string
		euid      int
		capSyslog bool
		err       string
	}{
		{statusRoot, 0, true, ""},
		{statusUser, 1000, false, ""},
		// Root with every capability but CAP_SYSLOG (bit 34) dropped.
		{"Uid:\t0\t0\t0\t0\nCapEff:\t000001fbffffffff\n", 0, false, ""},
		{"Uid:\t0\t0\t0\t0\n", 0, false, "no Uid or CapEff line"},
		{"Uid:\tx\tx\nCapEff:\t0\n", 0, false, "bad Uid line"},
		{"Uid:\t0\t0\nCapEff:\tzz\n", 0, false, "bad CapEff line"},
	}
	for _, tt := range tests {
		st, err := parseStatus("status", []byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseStatus(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || *st.EUID != tt.euid || st.HasCap(capSyslog) != tt.capSyslog {
			t.Errorf("parseStatus(%q) = %+v, %v", tt.in, st, err)
		}
	}
	if (Status{}).HasCap(64) {
		t.Error("HasCap(64) is true")
	}
}

func TestCheckLive(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	r, err := Default().Check()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.UID == nil || *r.UID != os.Geteuid() {
		t.Errorf("uid %v, want %d", r.UID, os.Geteuid())
	}
	if r.KallsymsReadable && r.Expected != nil && *r.Expected != r.AddressesVisible {
		t.Errorf("rule predicts %v, kernel shows %v: %s", *r.Expected, r.AddressesVisible, r.Reason)
	}
}
