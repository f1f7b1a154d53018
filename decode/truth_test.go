package decode

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// symbolText matches a func+0xoff/0xsize text, independently of package
// klog. The module suffix is left out: a log may print a build ID in it.
var symbolText = regexp.MustCompile(`[A-Za-z0-9_.$]+\+0x[0-9a-f]+/0x[0-9a-f]+`)

// crashlogs returns the real crash logs of many kernels (3.18 to 6.16,
// x86_64, arm64, arm, riscv, powerpc) of testdata/fixtures/crashlogs.
func crashlogs(tb testing.TB) []string {
	tb.Helper()
	var out []string
	root := fixture.Path("crashlogs/syzkaller")
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil || len(out) < 100 {
		tb.Fatalf("crash logs: %d files, %v", len(out), err)
	}
	sort.Strings(out)
	return out
}

// truthCount counts what a run of logs against a table gave.
type truthCount struct {
	reports, logOnly, frames, fromTable int
}

// checkTruth decodes the log at path with a new Decoder for t and fails for
// every answer that is neither the log's own text nor confirmed by t: in a
// report that t does not match (any report, when mismatched is set: t is
// known to be of another kernel), a func+0xoff/0xsize in a frame's text, a
// register annotation, the title or the guilty frame that the log does not
// print, and a frame's address that the log does not print.
func checkTruth(t *testing.T, path string, tab *kallsyms.Table, opts Options, mismatched bool, n *truthCount) {
	t.Helper()
	log := string(fixture.Read(t, path))
	lower := strings.ToLower(log)
	d := New(tab, opts)
	for _, r := range klog.Parse(log) {
		res := d.Decode(r)
		n.reports++
		if res.LogOnly {
			n.logOnly++
		}
		texts := []string{res.Summary.Title, res.Summary.Guilty}
		for _, reg := range res.Registers {
			texts = append(texts, reg.Text)
		}
		for _, f := range res.Frames {
			n.frames++
			texts = append(texts, f.Text)
			if f.Status == StatusOK || f.Status == StatusResolved {
				n.fromTable++
			}
			printed := strings.Contains(lower, strconv.FormatUint(f.Addr, 16))
			if f.HasAddr && !printed && (res.LogOnly || mismatched) {
				t.Errorf("%s: %s: address 0x%x (%s) is not the log's", path, f.Printed, f.Addr, f.Status)
			}
		}
		if !res.LogOnly && !mismatched {
			continue // t matches: its answers are confirmed
		}
		for _, s := range texts {
			for _, m := range symbolText.FindAllString(s, -1) {
				if !strings.Contains(log, m) {
					t.Errorf("%s: %q: %s is not what the kernel printed", path, s, m)
				}
			}
		}
	}
}

// TestWrongTablesNeverMix runs every real crash log against tables of
// other kernels (run2-B's Debian 6.1 kallsyms and System.map, the 6.18
// Firecracker kallsyms), and the Debian boots' logs against the 6.18
// table: no text may mix the log with the table (before issue 14, 2,723
// such texts in 125 of the 144 logs against run2-B's table, e.g.
// blk_request_module+0x111/0x60 for the kernel's
// blk_request_module+0x111/0x1d0), no address may come from the table, no
// register be annotated. Every report with a frame is found not to match.
func TestWrongTablesNeverMix(t *testing.T) {
	fc := loadTable(t, "firecracker-6.18.44/kallsyms.txt.gz")
	var debianLogs []string
	for _, b := range boots {
		debianLogs = append(debianLogs, crashFiles(t, b.name)...)
		debianLogs = append(debianLogs, fixture.Path(filepath.Join(debian, "boots", b.name, "dmesg-raw.txt.gz")))
	}
	runs := []struct {
		name string
		logs []string
		tab  *kallsyms.Table
		opts Options
	}{
		{"crashlogs/debian-kallsyms", crashlogs(t), bootTable(t, "run2-B"), Options{}},
		{"crashlogs/debian-System.map", crashlogs(t), systemMap(t), Options{SystemMap: true}},
		{"crashlogs/firecracker-6.18", crashlogs(t), fc, Options{}},
		{"debian/firecracker-6.18", debianLogs, fc, Options{}},
	}
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			var n truthCount
			for _, path := range run.logs {
				checkTruth(t, path, run.tab, run.opts, true, &n)
			}
			t.Logf("%d reports, %d decoded from the log alone; %d frames, %d of them from the table", n.reports, n.logOnly, n.frames, n.fromTable)
			if n.fromTable != 0 {
				t.Errorf("%d frames decoded with a table of another kernel", n.fromTable)
			}
			if n.frames < 1000 {
				t.Errorf("only %d frames: the logs were not read", n.frames)
			}
		})
	}
}

// TestRightTablesStillDecode: the Debian boots' logs against their own
// tables are never decoded from the log alone (TestNamedFramesDecodeExactly
// checks their texts).
func TestRightTablesStillDecode(t *testing.T) {
	for _, b := range boots {
		var n truthCount
		for _, path := range crashFiles(t, b.name) {
			checkTruth(t, path, bootTable(t, b.name), Options{}, false, &n)
		}
		if n.logOnly != 0 || n.fromTable == 0 {
			t.Errorf("%s: %d of %d reports decoded from the log alone, %d frames from the table", b.name, n.logOnly, n.reports, n.fromTable)
		}
	}
}
