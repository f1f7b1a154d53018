package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/reportjson"
)

// lkdtmDebug is the LKDTM module with DWARF of the Debian boots.
const lkdtmDebug = "../../srcline/testdata/lkdtm.ko.xz"

// debianVmlinux returns the Debian kernel's DWARF fetched by
// scripts/fetch-debug.sh, or skips.
func debianVmlinux(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KSYM_DEBUG_CACHE")
	if dir == "" {
		// The cache directory the tests started with: TestMain replaces
		// XDG_CACHE_HOME.
		c := userCacheHome
		if !userCacheHomeSet {
			home, _ := os.UserHomeDir()
			c = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(c, "ksym-testdata")
	}
	p := filepath.Join(dir, "debian-6.1.0-56-amd64", "vmlinux-6.1.0-56-amd64")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s absent: run scripts/fetch-debug.sh", p)
	}
	return p
}

// TestAddrLinesModule is issue 15's frame: direct_entry.cold+0x18/0x24
// [lkdtm] as a return address is core.c:329 (addr2line -i -f -j
// .text.unlikely 0x17 on the module prints direct_entry at
// /usr/src/lkdtm-6.1/src/core.c:329; the tree the module was built in is
// /usr/src, where its source and the kernel headers it was compiled in
// meet). The module is found in a directory, by name.
func TestAddrLinesModule(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", "")
	dir := t.TempDir()
	abs, _ := filepath.Abs(lkdtmDebug)
	if err := os.Symlink(abs, filepath.Join(dir, "lkdtm.ko.xz")); err != nil {
		t.Fatal(err)
	}
	addr := only(t, "direct_entry.cold", "lkdtm").addr + 0x18
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "addr", "-r", "--lines", "--debuginfo", dir, fmt.Sprintf("%x", addr))
	want := fmt.Sprintf("0x%016x direct_entry.cold+0x18/0x24 [lkdtm]\n  direct_entry lkdtm-6.1/src/core.c:329\n", addr)
	if out != want || errs != "" || code != 0 {
		t.Errorf("got %q, stderr %q, exit %d\nwant %q", out, errs, code, want)
	}
	out, _, _ = run(t, "", "--kallsyms", kallsymsGz, "--json", "addr", "-r", "--lines", "--debuginfo", lkdtmDebug, fmt.Sprintf("%x", addr))
	var r addrResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	wantSrc := []reportjson.SourceLine{{Function: "direct_entry", File: "lkdtm-6.1/src/core.c", Line: 329}}
	if fmt.Sprint(r.Source) != fmt.Sprint(wantSrc) {
		t.Errorf("JSON source %+v, want %+v", r.Source, wantSrc)
	}
}

// TestAddrLinesNoDebug: an address whose kernel has no debug file gets its
// answer, one warning that says what to do, and exit status 0.
func TestAddrLinesNoDebug(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", "")
	s := only(t, "lkdtm_EXCEPTION", "lkdtm")
	core := only(t, "vfs_read", "")
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "addr", "--lines", "--debuginfo", t.TempDir(),
		fmt.Sprintf("%x", s.addr+5), fmt.Sprintf("%x", core.addr), fmt.Sprintf("%x", core.addr+1))
	want := fmt.Sprintf("0x%016x lkdtm_EXCEPTION+0x5/0x20 [lkdtm]\n0x%016x vfs_read+0x0/0x310\n0x%016x vfs_read+0x1/0x310\n", s.addr+5, core.addr, core.addr+1)
	if out != want || code != 0 {
		t.Errorf("got %q, exit %d\nwant %q", out, code, want)
	}
	for _, w := range []string{"no source lines for module lkdtm: module lkdtm: no debug file found", "no source lines for the kernel: vmlinux: no debug file found", "--debuginfo"} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr %q lacks %q", errs, w)
		}
	}
	if n := strings.Count(errs, "\n"); n != 2 {
		t.Errorf("%d warnings, want one per kernel or module:\n%s", n, errs)
	}
	if _, errs, code := run(t, "", "--kallsyms", kallsymsGz, "addr", "--debuginfo", "x", "0"); code != ExitUsage || !strings.Contains(errs, "--debuginfo is for --lines") {
		t.Errorf("--debuginfo without --lines: exit %d, %q", code, errs)
	}
}

// TestAddrLinesVmlinux: a core address through the Debian vmlinux, placed
// with the boot's KASLR offset found by matching the tables. The expected
// chain is llvm-symbolizer --inlining's (and addr2line -i -f's) for the
// link-time address minus one, the comp_dir
// (debian/build/build_amd64_none_amd64) taken off the files.
func TestAddrLinesVmlinux(t *testing.T) {
	t.Setenv("DEBUGINFOD_URLS", "")
	vmlinux := debianVmlinux(t)
	addr := only(t, "schedule", "").addr + 0x40
	out, errs, code := run(t, "", "--kallsyms", kallsymsGz, "addr", "-r", "--lines", "--debuginfo", vmlinux, fmt.Sprintf("%x", addr))
	want := fmt.Sprintf("0x%016x schedule+0x40/0xd0\n", addr) +
		"  blk_flush_plug include/linux/blkdev.h:1026 [inline]\n" +
		"  sched_submit_work kernel/sched/core.c:6640 [inline]\n" +
		"  schedule kernel/sched/core.c:6657\n"
	if out != want || errs != "" || code != 0 {
		t.Errorf("got %q, stderr %q, exit %d\nwant %q", out, errs, code, want)
	}
	// Another kernel's table: refused, with one message, nothing printed.
	out, errs, _ = run(t, "", "--kallsyms", "../../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz", "addr", "--lines", "--debuginfo", vmlinux, "ffffffff81000000")
	if strings.Count(out, "\n") != 1 || !strings.Contains(errs, "does not match the core kernel") || strings.Count(errs, "\n") != 1 {
		t.Errorf("other kernel: out %q, stderr %q", out, errs)
	}
}

// TestAddrLinesDebuginfod fetches the LKDTM module by its build ID from a
// debuginfod server (an httptest one serving the file) when the table's
// source knows the ID (a snapshot's notes; here set directly), and refuses
// a server's file of another build.
func TestAddrLinesDebuginfod(t *testing.T) {
	data, err := input.ReadAll(lkdtmDebug)
	if err != nil {
		t.Fatal(err)
	}
	const id = "d2c12d420606aae7228cb06fbf317c458f7a82bb" // readelf -n on the module
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/buildid/"+id+"/debuginfo" || r.URL.Path == "/buildid/"+strings.Repeat("ab", 20)+"/debuginfo" {
			w.Write(data)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	t.Setenv("DEBUGINFOD_URLS", srv.URL)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	a := &app{stderr: &strings.Builder{}}
	tab, _, err := (&app{kallsymsPath: kallsymsGz}).table()
	if err != nil {
		t.Fatal(err)
	}
	s := only(t, "direct_entry.cold", "lkdtm")
	r := resolve(tab, addrOpts{ret: true}, fmt.Sprintf("%x", s.addr+0x18))
	for _, c := range []struct {
		id, want string
	}{
		{id, "[{direct_entry /usr/src/lkdtm-6.1/src/core.c lkdtm-6.1/src/core.c 329 2 false}]"},
		{strings.Repeat("ab", 20), "[]"},
	} {
		f := a.newLineFinder(nil, tab, identity{moduleIDs: map[string]string{"lkdtm": c.id}})
		got := fmt.Sprint(f.source(r, true, r.offset))
		if got != c.want {
			t.Errorf("build ID %s: %s, want %s", c.id, got, c.want)
		}
		f.close()
	}
	if errs := a.stderr.(*strings.Builder).String(); !strings.Contains(errs, "the server sent a file of another build ID") {
		t.Errorf("stderr %q does not say the file was of another build", errs)
	}
}
