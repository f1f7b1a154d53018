package serve_test

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/serve"
	"github.com/ulikunitz/xz"
)

// lkdtmKo is the real lkdtm.ko of run2-B's boot, with DWARF
// (srcline/testdata/lkdtm.ko.xz), decompressed.
func lkdtmKo(t *testing.T) []byte {
	t.Helper()
	f, err := os.Open("../srcline/testdata/lkdtm.ko.xz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := xz.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var sourceRE = regexp.MustCompile(`(?s)<dd class="source">(.*?)</dd>`)

// symbolPageSource is the source line a symbol page shows, as text.
func symbolPageSource(t *testing.T, e *env, snapshotID, name string) string {
	t.Helper()
	code, page := e.do("GET", "/symbol?snapshot="+snapshotID+"&name="+name, "", nil)
	if code != http.StatusOK {
		t.Fatalf("symbol page of %s: %d %s", name, code, page)
	}
	m := sourceRE.FindSubmatch(page)
	if m == nil {
		t.Fatalf("symbol page of %s has no source line:\n%s", name, page)
	}
	return strings.TrimSpace(html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(string(m[1]), "")))
}

// TestSymbolPageSourceLine: the symbol page shows the source line of the
// symbol's first instruction when the server has the debug file of its
// module, from --debuginfo DIR or uploaded; else it says there is none.
// lkdtm_EXCEPTION is at .text+0x4a0 in lkdtm.ko; 'addr2line -e lkdtm.ko
// -j .text -f 0x4a0' answers lkdtm_EXCEPTION at
// /usr/src/lkdtm-6.1/src/bugs.c:94 (the tree file is the path under the
// module's source tree, as ksym decode --lines prints it).
func TestSymbolPageSourceLine(t *testing.T) {
	const want = "lkdtm-6.1/src/bugs.c:94 lkdtm_EXCEPTION"
	t.Run("debuginfo-dir", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "lkdtm.ko"), lkdtmKo(t), 0o644); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, serve.Config{DebugInfoDir: dir})
		snap := e.push("run2-B")
		if got := symbolPageSource(t, e, snap.ID, "lkdtm_EXCEPTION"); got != want {
			t.Errorf("source %q, want %q", got, want)
		}
		// No vmlinux in the directory: the core symbol has none.
		if got, w := symbolPageSource(t, e, snap.ID, "vfs_write"), "none: no debug file of the kernel's vmlinux with DWARF on this server (upload it: POST /api/v1/debuginfo, or start with --debuginfo DIR)"; got != w {
			t.Errorf("vfs_write: source %q, want %q", got, w)
		}
	})
	t.Run("uploaded", func(t *testing.T) {
		e := newEnv(t, serve.Config{})
		snap := e.push("run2-B")
		if got, w := symbolPageSource(t, e, snap.ID, "lkdtm_EXCEPTION"), "none: no debug file of module lkdtm's .ko with DWARF on this server (upload it: POST /api/v1/debuginfo, or start with --debuginfo DIR)"; got != w {
			t.Errorf("before the upload: source %q, want %q", got, w)
		}
		if code, body := e.do("POST", "/api/v1/debuginfo", writeToken, lkdtmKo(t)); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("upload: %d %s", code, body)
		} else if !bytes.Contains(body, []byte(`"debuginfo"`)) {
			t.Fatalf("upload: %s", body)
		}
		if got := symbolPageSource(t, e, snap.ID, "lkdtm_EXCEPTION"); got != want {
			t.Errorf("after the upload: source %q, want %q", got, want)
		}
	})
}
