package decode

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/klog"
)

// TestHeldoutAgreement measures, on a directory of syzkaller report tests
// that are not in the repository (KSYM_HELDOUT=dir; skipped without it),
// how often the function of syzkaller's TITLE appears in ksym's first
// summary line (docs/decode.md, "Agreement with syzkaller's titles");
// KSYM_HELDOUT may list several directories (dir1:dir2). It
// prints the agreement and every miss; it asserts nothing, because the
// files are not part of the repository. Run it with -count=1: the test
// cache does not notice files added to a directory.
func TestHeldoutAgreement(t *testing.T) {
	dirs := os.Getenv("KSYM_HELDOUT")
	if dirs == "" {
		t.Skip("KSYM_HELDOUT not set")
	}
	var files []string
	for _, dir := range filepath.SplitList(dirs) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	tab := emptyTable(t)
	var misses []string
	named, agree := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		l, ok := parseSyzTest(filepath.Base(f), string(data))
		if !ok || l.fn == "" {
			continue
		}
		named++
		line := firstSummaryLine(tab, l.text)
		if mentions(line, l.fn) {
			agree++
			continue
		}
		misses = append(misses, l.name+"\t"+l.title+"\t"+line)
	}
	sort.Strings(misses)
	for _, m := range misses {
		t.Log("miss:", m)
	}
	if named > 0 {
		t.Logf("held-out: %d of %d titles that name a function agree (%.1f%%)", agree, named,
			100*float64(agree)/float64(named))
	}
}

// parseSyzTest splits a syzkaller report test into its TITLE, the function
// the title names ("" for "in corrupted") and the console text.
func parseSyzTest(name, data string) (syzLog, bool) {
	hdr, text, _ := strings.Cut(data, "\n\n")
	l := syzLog{name: name, text: text}
	for _, line := range strings.Split(hdr, "\n") {
		if v, ok := strings.CutPrefix(line, "TITLE: "); ok {
			l.title = v
		}
	}
	i := strings.LastIndex(l.title, " in ")
	if i < 0 {
		return l, false
	}
	// The first function named: "in A / B" (KCSAN), "in A/B" (a caller and
	// the generic function that warned), "in A (size N)".
	l.fn, _, _ = strings.Cut(l.title[i+4:], " ")
	l.fn, _, _ = strings.Cut(l.fn, "/")
	if l.fn == "corrupted" {
		l.fn = ""
	}
	return l, true
}

// firstSummaryLine is the summary line of the first report of a log, ""
// when there is none.
func firstSummaryLine(tab *kallsyms.Table, text string) string {
	reps := klog.Parse(text)
	if len(reps) == 0 {
		return ""
	}
	return New(tab, Options{}).Decode(reps[0]).Summary.Line()
}

// mentions reports whether a summary line names the function fn of a
// syzkaller title: one of its words is fn after undoing syzkaller's
// renames (see canonical).
func mentions(line, fn string) bool {
	words := strings.FieldsFunc(line, func(r rune) bool {
		return !(r == '_' || r == '.' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	for _, w := range words {
		if sameFunction(fn, w) {
			return true
		}
	}
	return false
}
