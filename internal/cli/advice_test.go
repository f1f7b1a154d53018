package cli

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/snapshot"
)

// TestFileAdvice: a file the user named that cannot be read is reported as
// the library states it, followed by what to do; the same wherever the
// file is named (--kallsyms, decode's inputs, diff, snapshot show).
func TestFileAdvice(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	gz := readFile(t, kallsymsGz)
	cut := filepath.Join(dir, "cut.gz")
	if err := os.WriteFile(cut, gz[:len(gz)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
	}{
		{missing, "open " + missing + ": no such file or directory (check the path; use - for standard input)"},
		{dir, "open " + dir + ": is a directory: give the path of a file inside it"},
		{cut, cut + ": gzip stream truncated (the file was cut short: copy it again)"},
	}
	for _, tt := range tests {
		for _, args := range [][]string{
			{"--kallsyms", tt.path, "addr", "0x1"},
			{"decode", "--system-map", tt.path, oops03},
			{"--kallsyms", kallsymsGz, "decode", tt.path},
			{"diff", kallsymsGz, tt.path},
			{"snapshot", "show", tt.path},
		} {
			if args[2] == "decode" && tt.path == dir {
				continue // decode reads the files of a directory (TestDecodeInputErrors)
			}
			out, errs, code := run(t, "", args...)
			if args[2] == "decode" && tt.path == cut {
				// decode passes the log through as it reads it: the lines
				// before the damage are printed.
				if !strings.HasPrefix(string(gunzipPrefix(t, gz)), out) || !strings.HasSuffix(out, "\n") || len(out) < len(gz) {
					t.Errorf("%v: stdout is not the start of the table (%d bytes)", args, len(out))
				}
				out = ""
			}
			if code != ExitUsage || out != "" || errs != "ksym: "+tt.want+"\n" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", args, code, out, errs, tt.want)
			}
		}
	}
	// A modules file: missing, a directory, cut short.
	mods := gzipBytes(t, readFile(t, bootDir+"modules.txt"))
	cutMods := filepath.Join(dir, "modules.gz")
	if err := os.WriteFile(cutMods, mods[:len(mods)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		missing: tests[0].want,
		dir:     tests[1].want,
		cutMods: cutMods + ": modules: gzip stream truncated (the file was cut short: copy it again)",
	} {
		args := []string{"--kallsyms", kallsymsGz, "decode", "--modules", path, oops03}
		out, errs, code := run(t, "", args...)
		if code != ExitUsage || out != "" || errs != "ksym: "+want+"\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", args, code, out, errs, want)
		}
	}
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAdviceOnPermission: os.Open's error for a file the user cannot read
// gets the advice for a named file or for the machine's /proc. (Root reads
// any file, so the errors are made here, as os.Open makes them.)
func TestAdviceOnPermission(t *testing.T) {
	err := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}
	if got := fileAdvice(err); !errors.Is(got, fs.ErrPermission) || got.Error() != "open /x: permission denied: run as root (sudo), or copy the file to a place you can read" {
		t.Errorf("fileAdvice: %v", got)
	}
	if got := machineAdvice(err); !errors.Is(got, fs.ErrPermission) || got.Error() != "open /x: permission denied: run as root (sudo)" {
		t.Errorf("machineAdvice: %v", got)
	}
	if got := fileAdvice(machineAdvice(err)); got.Error() != "open /x: permission denied: run as root (sudo)" {
		t.Errorf("advice given twice: %v", got)
	}
	if os.Geteuid() == 0 {
		t.Skip("running as root: file permissions do not apply")
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	want := "ksym: open " + secret + ": permission denied: run as root (sudo), or copy the file to a place you can read\n"
	if _, errs, code := run(t, "", "--kallsyms", secret, "addr", "0x1"); code != ExitUsage || errs != want {
		t.Errorf("exit %d, stderr %q; want %q", code, errs, want)
	}
}

// TestAdviceKeepsErrorsTestable: the advised errors still match the
// libraries' sentinels.
func TestAdviceKeepsErrorsTestable(t *testing.T) {
	for _, tt := range []struct {
		err, is error
	}{
		{fileAdvice(&fs.PathError{Op: "open", Path: "/d", Err: input.ErrIsDir}), input.ErrIsDir},
		{fileAdvice(&input.FormatError{Format: input.XZ, Truncated: true}), input.ErrTruncated},
		{machineAdvice(snapshot.ErrHidden), snapshot.ErrHidden},
		{hiddenError("/x"), kallsyms.ErrAddressesHidden},
	} {
		if !errors.Is(tt.err, tt.is) {
			t.Errorf("%v is not %v", tt.err, tt.is)
		}
	}
}

// TestMachineAdvice: a --root without /proc/kallsyms is reported with what
// it may mean, by the commands that read the live table.
func TestMachineAdvice(t *testing.T) {
	root := t.TempDir()
	want := "ksym: open " + filepath.Join(root, "proc/kallsyms") + ": no such file or directory (not a Linux /proc or /sys, or the kernel lacks this file)\n"
	for _, args := range [][]string{
		{"--root", root, "--no-cache", "addr", "0x1"},
		{"--root", root, "addr", "0x1"},
		{"--root", root, "snapshot", "save", "-o", filepath.Join(root, "x.ksnap")},
		{"--root", root, "diff", "live", kallsymsGz},
	} {
		out, errs, code := run(t, "", args...)
		if code != ExitUsage || out != "" || errs != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", args, code, out, errs, want)
		}
	}
}

// TestSnapshotHiddenAdvice: snapshot save of a hidden table says the fact
// (snapshot.ErrHidden), why it matters and what to do, once.
func TestSnapshotHiddenAdvice(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "proc/kallsyms"), string(readFile(t, nonroot)))
	_, errs, code := run(t, "", "--root", root, "snapshot", "save", "-o", filepath.Join(root, "x.ksnap"))
	want := "ksym: " + filepath.Join(root, "proc/kallsyms") + ": the symbol table's addresses are hidden (all zero) from this reader, " +
		"so the snapshot could not decode any address: run as root, or pass --names-only to save the names alone\n"
	if code != ExitUsage || errs != want {
		t.Errorf("exit %d, stderr %q; want %q", code, errs, want)
	}
}

// TestHiddenAdviceOnce: a command that needs addresses says once what to
// do about hidden ones, whatever the library's message says.
func TestHiddenAdviceOnce(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "proc/kallsyms"), string(readFile(t, nonroot)))
	for _, args := range [][]string{
		{"--kallsyms", nonroot, "addr", "0xffffffff81000000"},
		{"--root", root, "--no-cache", "addr", "0xffffffff81000000"},
		{"--kallsyms", nonroot, "decode", oops03},
	} {
		_, errs, code := run(t, "", args...)
		if code != ExitUsage || strings.Count(errs, "kptr_restrict") != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, hiddenSentence) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

// TestCacheUnsafeAdvice: a cache directory others can write is not used,
// with a warning that says what to do.
func TestCacheUnsafeAdvice(t *testing.T) {
	root := liveRoot(t)
	const addr = "0xffffffffc085b4b0"
	want, _, _ := run(t, "", "--root", root, "--no-cache", "addr", addr)
	dir := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "ksym")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "", "--root", root, "addr", addr)
	wantErr := "ksym: warning: not using the cache: " + dir + ": cache is not private to this user: writable by others (mode -rwxrwxrwx) (remove it, or use --no-cache)\n"
	if code != 0 || out != want || errs != wantErr {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q and %q", code, out, errs, want, wantErr)
	}
	out, _, _ = run(t, "", "--root", root, "cache", "status")
	if wantOut := filepath.Join(dir, "live.ksymidx") + ": unsafe (" + dir + ": cache is not private to this user: writable by others (mode -rwxrwxrwx) (remove it, or use --no-cache))\n"; out != wantOut {
		t.Errorf("cache status %q, want %q", out, wantOut)
	}
}

// gunzipPrefix decompresses gzip data, all of it.
func gunzipPrefix(t *testing.T, gz []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
