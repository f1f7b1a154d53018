package cli

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtureDir = "../../testdata/fixtures/debian-6.1.0-56-amd64/"

// fakeRoot builds a machine root from run2-B's captured files: its
// /proc/kallsyms as root or as an unprivileged user, modules, release and
// /sys/kernel/notes, with this process's credentials given by uid and capEff.
func fakeRoot(t *testing.T, privileged bool, kptr string) string {
	t.Helper()
	root := t.TempDir()
	kallsymsText, err := gunzip(kallsymsGz)
	if err != nil {
		t.Fatal(err)
	}
	status := "Name:\tksym\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n"
	if privileged {
		status = "Name:\tksym\nUid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n"
	} else {
		// What an unprivileged reader sees: the same lines, addresses zero
		// (compare kallsyms-nonroot-head.txt).
		kallsymsText = zeroAddresses(kallsymsText)
	}
	files := map[string][]byte{
		"proc/kallsyms":                       kallsymsText,
		"proc/modules":                        readFile(t, bootDir+"modules.txt"),
		"proc/version":                        []byte("Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2\n"),
		"proc/sys/kernel/osrelease":           []byte("6.1.0-56-amd64\n"),
		"proc/sys/kernel/kptr_restrict":       []byte(kptr + "\n"),
		"proc/sys/kernel/perf_event_paranoid": []byte("2\n"),
		"proc/sys/kernel/random/boot_id":      []byte("0b0e5c7e-0000-4000-8000-000000000002\n"),
		"proc/self/status":                    []byte(status),
		"proc/self/uid_map":                   []byte("         0          0 4294967295\n"),
		"sys/kernel/notes":                    hexdumpBytes(t, readFile(t, bootDir+"notes.hex")),
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func zeroAddresses(text []byte) []byte {
	lines := strings.SplitAfter(string(text), "\n")
	for i, l := range lines {
		if len(l) > 16 {
			lines[i] = "0000000000000000" + l[16:]
		}
	}
	return []byte(strings.Join(lines, ""))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hexdumpBytes turns `hexdump -C` output back into bytes.
func hexdumpBytes(t *testing.T, dump []byte) []byte {
	t.Helper()
	var out []byte
	for _, line := range strings.Split(string(dump), "\n") {
		if len(line) < 10 || !strings.Contains(line, "|") {
			continue
		}
		hexPart := strings.Join(strings.Fields(line[10:strings.Index(line, "|")]), "")
		b, err := hex.DecodeString(hexPart)
		if err != nil {
			t.Fatalf("notes.hex: %v", err)
		}
		out = append(out, b...)
	}
	return out
}

func TestCheckPrivileged(t *testing.T) {
	root := fakeRoot(t, true, "1")
	buildID := strings.TrimSpace(string(readFile(t, fixtureDir+"build-id.txt")))
	out, errs, code := run(t, "", "--root", root, "check")
	if code != 0 || errs != "" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"addresses            visible\n",
		"reason               kernel.kptr_restrict=1 shows addresses only to holders of CAP_SYSLOG, and this process has it\n",
		"kallsyms             " + filepath.Join(root, "proc/kallsyms") + ": 110254 symbols (94266 core, 15988 in 24 modules), data symbols (CONFIG_KALLSYMS_ALL)\n",
		"release              6.1.0-56-amd64\n",
		"build id             " + buildID + "\n",
		"modules loaded       24\n",
		"uid                  0\n",
		"cap_syslog           yes (initial user namespace)\n",
		"kptr_restrict        1 (",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "advice") || strings.Contains(out, "problem") {
		t.Errorf("no advice or problems expected:\n%s", out)
	}
}

func TestCheckUnprivilegedJSON(t *testing.T) {
	root := fakeRoot(t, false, "1")
	out, _, code := run(t, "", "--root", root, "--json", "check")
	if code != 1 {
		t.Errorf("exit %d, want 1 (addresses hidden)", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := map[string]any{
		"addresses_usable": false, "addresses_visible": false, "table_hidden": true, "kallsyms_readable": true,
		"uid": 1000.0, "cap_syslog": false, "kptr_restrict": 1.0, "modules": 24.0, "release": "6.1.0-56-amd64",
		"symbols": 110254.0, "build_id": strings.TrimSpace(string(readFile(t, fixtureDir+"build-id.txt"))),
		"kallsyms": filepath.Join(root, "proc/kallsyms"),
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if adv, _ := got["advice"].([]any); len(adv) == 0 {
		t.Errorf("no advice for hidden addresses: %s", out)
	}
	// addr on the same machine: the library's message, plus where to look.
	_, errs, code := run(t, "", "--root", root, "addr", "ffffffff81000000")
	if code != 2 || !strings.Contains(errs, "addresses are hidden") || !strings.Contains(errs, "'ksym check' tells why") {
		t.Errorf("addr: exit %d, stderr %q", code, errs)
	}
}

// TestZeroAddressesMatchesKernel checks the synthetic unprivileged table
// against the real one: the first 200 lines as the kernel printed them.
func TestZeroAddressesMatchesKernel(t *testing.T) {
	full, err := gunzip(kallsymsGz)
	if err != nil {
		t.Fatal(err)
	}
	head := readFile(t, nonroot)
	if got := zeroAddresses(full)[:len(head)]; string(got) != string(head) {
		t.Errorf("zeroed table differs from kallsyms-nonroot-head.txt")
	}
}

func TestCheckKptrRestrict2(t *testing.T) {
	root := fakeRoot(t, false, "2")
	out, _, code := run(t, "", "--root", root, "check")
	if code != 1 || !strings.Contains(out, "reason               kernel.kptr_restrict=2 hides kernel addresses from every reader, root included\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestCheckNoProc(t *testing.T) {
	_, errs, code := run(t, "", "--root", t.TempDir(), "check")
	if code != 2 || !strings.HasPrefix(errs, "ksym: no /proc under ") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	_, errs, code = run(t, "", "--root", "/nonexistent-root", "check")
	if code != 2 || !strings.HasPrefix(errs, "ksym: machine root: ") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
