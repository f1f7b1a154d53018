package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/machine"
)

// symbolText matches a func+0xoff/0xsize text, independently of the
// packages under test (the module suffix left out: a log may print a build
// ID in it).
var symbolText = regexp.MustCompile(`[A-Za-z0-9_.$]+\+0x[0-9a-f]+/0x[0-9a-f]+`)

// crashlogDir holds real crash reports of many kernels (3.18 to 6.16).
const crashlogDir = "../../testdata/fixtures/crashlogs/syzkaller"

// crashlogFiles returns the real crash logs and their contents.
func crashlogFiles(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	var paths []string
	logs := map[string]string{}
	err := filepath.WalkDir(crashlogDir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		paths, logs[p] = append(paths, p), string(data)
		return err
	})
	if err != nil || len(paths) < 100 {
		t.Fatalf("crash logs: %d files, %v", len(paths), err)
	}
	sort.Strings(paths)
	return paths, logs
}

// reportOut is what the truth checks read of a --json report.
type reportOut struct {
	File    string `json:"file"`
	Title   string `json:"title"`
	LogOnly bool   `json:"log_only"`
	Frames  []struct {
		Printed string `json:"printed"`
		Text    string `json:"text"`
		Address string `json:"address"`
		Status  string `json:"status"`
	} `json:"frames"`
	Registers []struct {
		Text string `json:"text"`
	} `json:"registers"`
	Summary struct {
		Title   string `json:"title"`
		Guilty  string `json:"guilty"`
		Release string `json:"release"`
	} `json:"summary"`
}

// checkJSONTruth reads ksym decode --json output and fails for every answer
// of a report decoded from the log alone (every report, when all is set)
// that is not the log's own: a func+0xoff/0xsize in a frame's text, a
// register, the title or the guilty frame that its log does not print, a
// frame decoded from a table, an address the log does not print. It
// returns the reports.
func checkJSONTruth(t *testing.T, out string, logs map[string]string, all bool) []reportOut {
	t.Helper()
	var reps []reportOut
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var r reportOut
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		reps = append(reps, r)
		if !r.LogOnly && !all {
			continue
		}
		log, ok := logs[r.File]
		if !ok {
			t.Fatalf("report of unknown file %q", r.File)
		}
		texts := []string{r.Title, r.Summary.Title, r.Summary.Guilty}
		for _, reg := range r.Registers {
			texts = append(texts, reg.Text)
		}
		for _, f := range r.Frames {
			texts = append(texts, f.Text)
			if f.Status == "ok" || f.Status == "resolved" {
				t.Errorf("%s: %s decoded with a table of another kernel: %s %q", r.File, f.Printed, f.Status, f.Text)
			}
			if f.Address != "" && !strings.Contains(strings.ToLower(log), strings.TrimPrefix(f.Address, "0x")) {
				t.Errorf("%s: %s: address %s is not the log's", r.File, f.Printed, f.Address)
			}
		}
		for _, s := range texts {
			for _, m := range symbolText.FindAllString(s, -1) {
				if !strings.Contains(log, m) {
					t.Errorf("%s: %q: %s is not what the kernel printed", r.File, s, m)
				}
			}
		}
	}
	return reps
}

// TestDecodeWrongTablesCLI: every real crash log against tables of other
// kernels (run2-B's Debian 6.1, the Firecracker 6.18), in one invocation
// each: the annotated log, --summary and --json hold no func+0xoff/0xsize
// that no log printed, no frame or register decoded with the table, and
// the mismatch is a warning once per file with exit status 1 (the table
// was given as the crashed kernel's).
func TestDecodeWrongTablesCLI(t *testing.T) {
	paths, logs := crashlogFiles(t)
	printed := map[string]bool{}
	for _, log := range logs {
		for _, m := range symbolText.FindAllString(log, -1) {
			printed[m] = true
		}
	}
	for _, table := range []string{kallsymsGz, "../../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz"} {
		for _, mode := range [][]string{nil, {"--summary"}, {"--json"}} {
			args := append(append([]string{"--kallsyms", table, "decode"}, mode...), paths...)
			out, errs, code := run(t, "", args...)
			if code != ExitNotFound {
				t.Errorf("%s %q: status %d, want %d", table, mode, code, ExitNotFound)
			}
			for _, m := range symbolText.FindAllString(out, -1) {
				if !printed[m] {
					t.Errorf("%s %q: %s is in no log", table, mode, m)
				}
			}
			said := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSuffix(errs, "\n"), "\n") {
				file, _, _ := strings.Cut(strings.TrimPrefix(l, "ksym: warning: "), ": ")
				if !strings.HasPrefix(l, "ksym: warning: ") || !strings.HasSuffix(l, ": decoded from the log alone") || said[file] {
					t.Errorf("%s %q: stderr line %q", table, mode, l)
				}
				said[file] = true
			}
			if len(mode) > 0 && mode[0] == "--json" {
				checkJSONTruth(t, out, logs, true)
			}
		}
	}
}

// TestDecodeForeignLogs: every real crash log with no table given, the
// running kernel being a real Debian 6.1 boot (machine/testdata/run1-A)
// and, when /proc/kallsyms is readable with addresses, this machine's: a
// report that prints another release is decoded from the log alone, no
// answer comes from the running kernel's table, each file with such a
// report gets one note saying which table would make it exact, and the
// exit status is 0 (issue 14: before, MISMATCH on every frame and exit 1).
func TestDecodeForeignLogs(t *testing.T) {
	paths, logs := crashlogFiles(t)
	roots := []string{machineRoot}
	if live, err := machine.NewFS("/"); err == nil {
		if tab, err := live.Kallsyms(); err == nil && !tab.Hidden() {
			roots = append(roots, "/")
		} else {
			t.Logf("live table not used: %v", err)
		}
	}
	for _, root := range roots {
		fs, err := machine.NewFS(root)
		if err != nil {
			t.Fatal(err)
		}
		release, err := fs.Release()
		if err != nil {
			t.Fatal(err)
		}
		out, errs, code := run(t, "", append([]string{"--root", root, "decode", "--json"}, paths...)...)
		if code != ExitOK {
			t.Errorf("root %s: status %d", root, code)
		}
		foreign := 0
		noted := map[string]bool{}
		for _, r := range checkJSONTruth(t, out, logs, false) {
			if r.Summary.Release != "" && r.Summary.Release != release {
				foreign++
				if !r.LogOnly {
					t.Errorf("root %s: %s: a report of %s decoded with the table of %s", root, r.File, r.Summary.Release, release)
				}
			}
			if r.LogOnly {
				noted[r.File] = true
			}
		}
		for _, l := range strings.Split(strings.TrimSuffix(errs, "\n"), "\n") {
			file, _, _ := strings.Cut(strings.TrimPrefix(l, "ksym: "), ": ")
			if !noted[file] || !strings.HasSuffix(l, ": decoded from the log alone; "+exactAdvice) {
				t.Errorf("root %s: stderr line %q", root, l)
			}
			delete(noted, file)
		}
		if len(noted) > 0 {
			t.Errorf("root %s: no note for %d files decoded from the log alone", root, len(noted))
		}
		t.Logf("root %s (%s): %d reports of another release, in %d files", root, release, foreign, len(paths))
		if foreign < 100 {
			t.Errorf("root %s: only %d reports of another release", root, foreign)
		}
	}
}
