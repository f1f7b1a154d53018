package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodeGroup: --group over a directory counts the reports by kind and
// guilty function, with the releases and the first and last place, the
// largest bucket first; --json gives the same as objects. The inputs are
// run2-B's oops-03 (a NULL pointer dereference in lkdtm_EXCEPTION, its
// report on line 2), also gzipped with its release changed to another
// (6.1.0-57-amd64, synthetic), and run1-A's oops-01 (a WARNING in
// lkdtm_WARNING, its report on line 2).
func TestDecodeGroup(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/a", 0o755); err != nil {
		t.Fatal(err)
	}
	oops := readFile(t, oops03)
	other := strings.ReplaceAll(string(oops), "6.1.0-56-amd64", "6.1.0-57-amd64")
	files := map[string][]byte{
		dir + "/a/1.txt":    oops,
		dir + "/a/2.txt":    readFile(t, "../../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A/oops-01-lkdtm-WARNING.txt"),
		dir + "/b.txt.gz":   gzipBytes(t, []byte(other)),
		dir + "/c-none.txt": []byte("no report here\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "decode", "--group", dir)
	want := "2\tnull-deref in lkdtm_EXCEPTION\t6.1.0-56-amd64,6.1.0-57-amd64\t" + dir + "/a/1.txt:2\t" + dir + "/b.txt.gz:2\n" +
		"1\twarning in lkdtm_WARNING\t6.1.0-56-amd64\t" + dir + "/a/2.txt:2\t" + dir + "/a/2.txt:2\n"
	if code != ExitOK || errs != "" || out != want {
		t.Errorf("status %d, stderr %q, stdout\n%s\nwant\n%s", code, errs, out, want)
	}
	out, _, code = run(t, "", "--kallsyms", kallsymsGz, "--json", "decode", "--group", filepath.Join(dir, "a"), filepath.Join(dir, "b.txt.gz"))
	want = `{"signature":"null-deref in lkdtm_EXCEPTION","kind":"null-deref","function":"lkdtm_EXCEPTION","count":2,"kernels":["6.1.0-56-amd64","6.1.0-57-amd64"],` +
		`"first":{"file":"` + dir + `/a/1.txt","line":2},"last":{"file":"` + dir + `/b.txt.gz","line":2}}` + "\n" +
		`{"signature":"warning in lkdtm_WARNING","kind":"warning","function":"lkdtm_WARNING","count":1,"kernels":["6.1.0-56-amd64"],` +
		`"first":{"file":"` + dir + `/a/2.txt","line":2},"last":{"file":"` + dir + `/a/2.txt","line":2}}` + "\n"
	if code != ExitOK || out != want {
		t.Errorf("--json: status %d, stdout\n%s\nwant\n%s", code, out, want)
	}
}

// TestHeldLines: lines held past holdLines or holdBytes are let go, oldest
// first, but never the last one.
func TestHeldLines(t *testing.T) {
	defer func(n, b int) { holdLines, holdBytes = n, b }(holdLines, holdBytes)
	holdLines, holdBytes = 3, 10
	var h heldLines
	tests := []struct {
		text  string
		spill int // the last line to let go
	}{
		{"aa", 0}, {"bb", 0}, {"cc", 0}, {"dd", 1}, {"eeeeeeee", 3}, {"ffffffffffff", 5},
	}
	for i, tc := range tests {
		if got := h.add(rawLine{i + 1, tc.text}); got != tc.spill {
			t.Errorf("line %d: let go up to %d, want %d", i+1, got, tc.spill)
		}
		h.take(tc.spill)
	}
	if h.last() != 6 || len(h.lines) != 1 || h.bytes != 12 {
		t.Errorf("held %+v", h)
	}
	if got := h.take(-1); len(got) != 1 || h.last() != 0 || h.bytes != 0 {
		t.Errorf("take(-1): %v, then %+v", got, h)
	}
}
