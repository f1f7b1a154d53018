package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// userCacheHome is XDG_CACHE_HOME as the tests found it, for the go command
// that buildKsym runs (go finds its build cache there too).
var userCacheHome, userCacheHomeSet = os.LookupEnv("XDG_CACHE_HOME")

// TestMain keeps every test's cache of the live table out of the user's
// cache directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ksym-cli-test-cache")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// machineRoot is the real Debian boot run1-A laid out as /proc and /sys.
const machineRoot = "../../machine/testdata/run1-A"

// liveRoot copies machineRoot to a temporary root with a boot ID and
// perf_event_paranoid (which the fixture lacks), so that the cache of the
// live table can be keyed, and points the cache at a fresh directory.
func liveRoot(t *testing.T) string {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(machineRoot)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "proc/sys/kernel/random/boot_id"), "2f7c5a0e-3c1b-4d55-9a57-0d2b8d1c9e11\n")
	writeFile(t, filepath.Join(root, "proc/sys/kernel/perf_event_paranoid"), "2\n")
	return root
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSnapshotSaveShowAndUse saves a snapshot of the fixture machine, shows
// it, indexes it, and checks that addr answers the same from the text table,
// the snapshot and the index.
func TestSnapshotSaveShowAndUse(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "run1.ksnap")
	out, errOut, code := run(t, "", "--root", machineRoot, "snapshot", "save", "-o", snap)
	if code != 0 || !strings.HasPrefix(out, snap+": ") || !strings.Contains(errOut, "reveals this boot's KASLR offset") {
		t.Fatalf("save: %d\n%s\n%s", code, out, errOut)
	}
	if fi, err := os.Stat(snap); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot mode %v %v", fi.Mode(), err)
	}
	out, _, code = run(t, "", "snapshot", "show", snap)
	for _, want := range []string{"(snapshot)", "release:        6.1.0-56-amd64", "build ID:       eb4fbcd037e7253717950bf2b93bd5566f47c56f"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	idx := filepath.Join(dir, "run1.ksymidx")
	if _, errOut, code := run(t, "", "--kallsyms", snap, "snapshot", "index", "-o", idx); code != 0 {
		t.Fatalf("index: %d %s", code, errOut)
	}
	if fi, err := os.Stat(idx); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("index mode %v %v", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	out, _, _ = run(t, "", "--json", "snapshot", "show", idx)
	var res showResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Kind != "index" || res.Info == nil || res.Info.Release != "6.1.0-56-amd64" {
		t.Fatalf("show index: %v %+v", err, res)
	}
	// lkdtm_EXCEPTION in the fixture root's table: its address + 0x10, and
	// an address past the module area.
	text := filepath.Join(machineRoot, "proc/kallsyms")
	args := []string{"addr", "0xffffffffc085b4b0", "0xffffffff81000000", "0xffffffffff000000"}
	want, _, wantCode := run(t, "", append([]string{"--kallsyms", text}, args...)...)
	for _, in := range []string{snap, idx} {
		got, _, code := run(t, "", append([]string{"--kallsyms", in}, args...)...)
		if got != want || code != wantCode {
			t.Errorf("--kallsyms %s: %d\n%s\nwant %d\n%s", in, code, got, wantCode, want)
		}
		// diff takes them too: the same table, equivalent.
		if out, errOut, code := run(t, "", "diff", in, text); code != 0 || !strings.Contains(out, "equivalent") {
			t.Errorf("diff %s %s: %d\n%s%s", in, text, code, out, errOut)
		}
	}
}

// TestSnapshotShowInputs: show reads a snapshot from standard input too,
// and refuses a text table, saying what it is.
func TestSnapshotShowInputs(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "run1.ksnap")
	if _, errOut, code := run(t, "", "--root", machineRoot, "snapshot", "save", "-o", snap); code != 0 {
		t.Fatalf("save: %d %s", code, errOut)
	}
	data, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, string(data), "snapshot", "show", "-")
	if code != 0 || !strings.HasPrefix(out, "file:           - (snapshot)\n") || !strings.Contains(out, "release:        6.1.0-56-amd64") {
		t.Errorf("show -: %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = run(t, "", "snapshot", "show", kallsymsGz)
	if code != ExitUsage || out != "" || errOut != "ksym: "+kallsymsGz+": a text symbol table, not a snapshot or an index\n" {
		t.Errorf("show of a text table: %d %q %q", code, out, errOut)
	}
}

// TestSnapshotSaveRefusesHidden: an unprivileged table is refused with what
// to do; --names-only saves it.
func TestSnapshotSaveRefusesHidden(t *testing.T) {
	root := t.TempDir()
	head, err := os.ReadFile(nonroot)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "proc/kallsyms"), string(head))
	snap := filepath.Join(t.TempDir(), "x.ksnap")
	_, errOut, code := run(t, "", "--root", root, "snapshot", "save", "-o", snap)
	if code != ExitUsage || !strings.Contains(errOut, "run as root, or pass --names-only") {
		t.Fatalf("%d %s", code, errOut)
	}
	if _, errOut, code := run(t, "", "--root", root, "snapshot", "save", "--names-only", "-o", snap); code != 0 {
		t.Fatalf("--names-only: %d %s", code, errOut)
	}
}

// TestCorruptIndexRejected: a damaged index given to --kallsyms is an error
// that says so, exit status 2.
func TestCorruptIndexRejected(t *testing.T) {
	dir := t.TempDir()
	idx := filepath.Join(dir, "t.ksymidx")
	if _, errOut, code := run(t, "", "--kallsyms", kallsymsGz, "snapshot", "index", "-o", idx); code != 0 {
		t.Fatal(errOut)
	}
	b, _ := os.ReadFile(idx)
	os.WriteFile(idx, b[:len(b)/2], 0o600)
	_, errOut, code := run(t, "", "--kallsyms", idx, "addr", "0xffffffff81000000")
	if code != ExitUsage || !strings.Contains(errOut, "not a usable ksym index: truncated") ||
		!strings.Contains(errOut, "(rebuild it from the symbol table: ksym --kallsyms TABLE snapshot index)") {
		t.Fatalf("%d %s", code, errOut)
	}
}

// TestCacheOfLiveTable: the first addr reads the live table and writes the
// cache; later ones answer from it (shown by changing the live table behind
// the cache's back); a miss and a pseudo-module answer are re-checked live;
// --no-cache and a changed module list read the live table.
func TestCacheOfLiveTable(t *testing.T) {
	root := liveRoot(t)
	const addr = "0xffffffffc085b4b0" // lkdtm_EXCEPTION+0x10 in the fixture
	first, _, code := run(t, "", "--root", root, "addr", addr)
	if code != 0 || !strings.Contains(first, "lkdtm_EXCEPTION+0x10/") {
		t.Fatalf("first run: %d %s", code, first)
	}
	if out, _, _ := run(t, "", "--root", root, "cache", "status"); !strings.Contains(out, ": valid (") {
		t.Fatalf("cache status after the first run: %s", out)
	}
	var st cacheStatus
	out, _, _ := run(t, "", "--root", root, "--json", "cache", "status")
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.State != "valid" || !strings.HasSuffix(st.File, "/ksym/live.ksymidx") {
		t.Fatalf("cache status --json: %v %+v", err, st)
	}
	// Synthetic change of the live table that no key notices: a renamed
	// function and a new BPF program.
	kpath := filepath.Join(root, "proc/kallsyms")
	text, _ := os.ReadFile(kpath)
	changed := strings.Replace(string(text), " lkdtm_EXCEPTION\t[lkdtm]", " lkdtm_RENAMED\t[lkdtm]", 1) +
		"ffffffffc0f00000 t bpf_prog_6deef7357e7b4530_sd_fw_egress\t[bpf]\n"
	writeFile(t, kpath, changed)
	if out, _, _ := run(t, "", "--root", root, "addr", addr); out != first {
		t.Errorf("cached answer %q, want the cached %q", out, first)
	}
	if out, _, _ := run(t, "", "--root", root, "--no-cache", "addr", addr); !strings.Contains(out, "lkdtm_RENAMED+0x10/") {
		t.Errorf("--no-cache: %q", out)
	}
	// The BPF program is missing from the cache: re-checked live, found,
	// and the cache refreshed (so the rename shows from now on).
	out, _, code = run(t, "", "--root", root, "addr", "0xffffffffc0f00010")
	if code != 0 || !strings.Contains(out, "bpf_prog_6deef7357e7b4530_sd_fw_egress+0x10") {
		t.Errorf("BPF address: %d %q", code, out)
	}
	if out, _, _ := run(t, "", "--root", root, "addr", addr); !strings.Contains(out, "lkdtm_RENAMED+0x10/") {
		t.Errorf("after the refresh: %q", out)
	}
	// lookup of a name only the live table has is re-checked too.
	writeFile(t, kpath, changed+"ffffffffc0f01000 t bpf_prog_1111111111111111_new\t[bpf]\n")
	if out, _, code := run(t, "", "--root", root, "lookup", "bpf_prog_1111111111111111_new"); code != 0 || !strings.Contains(out, "bpf_prog_1111111111111111_new [bpf]") {
		t.Errorf("lookup of a new BPF program: %d %q", code, out)
	}
	// Unloading a module changes the key: the cache is stale.
	mods, _ := os.ReadFile(filepath.Join(root, "proc/modules"))
	writeFile(t, filepath.Join(root, "proc/modules"), strings.Replace(string(mods), "lkdtm 65536 0 - Live 0xffffffffc085b000 (OE)\n", "", 1))
	if out, _, _ := run(t, "", "--root", root, "cache", "status"); !strings.Contains(out, ": stale") {
		t.Errorf("after unloading a module: %s", out)
	}
	if out, _, _ := run(t, "", "--root", root, "cache", "clear"); !strings.HasPrefix(out, "removed ") {
		t.Errorf("clear: %s", out)
	}
	if out, _, _ := run(t, "", "--root", root, "cache", "status"); !strings.Contains(out, ": missing") {
		t.Errorf("after clear: %s", out)
	}
}
