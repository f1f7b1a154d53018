package kcache_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/kcache"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
)

// machineRoot copies the real Debian boot's /proc and /sys (the machine
// package's fixture root) into a temporary root and adds the files that root
// lacks (boot ID, perf_event_paranoid), so that each test can change one
// fact of the machine.
func machineRoot(t *testing.T) (root string, fsys machine.FS) {
	t.Helper()
	root = t.TempDir()
	if err := os.CopyFS(root, os.DirFS("../../machine/testdata/run1-A")); err != nil {
		t.Fatal(err)
	}
	write(t, root, "proc/sys/kernel/random/boot_id", "2f7c5a0e-3c1b-4d55-9a57-0d2b8d1c9e11\n")
	write(t, root, "proc/sys/kernel/perf_event_paranoid", "2\n")
	fsys, err := machine.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, fsys
}

func write(t *testing.T, root, rel, text string) {
	t.Helper()
	path := filepath.Join(root, rel)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, root, rel string) string {
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stored writes the live table of fsys to a fresh cache and returns the
// cache directory.
func stored(t *testing.T, fsys machine.FS) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ksym")
	tab, err := fsys.Kallsyms()
	if err != nil {
		t.Fatal(err)
	}
	key, err := kcache.CurrentKey(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if err := kcache.Store(dir, tab, key); err != nil {
		t.Fatal(err)
	}
	return dir
}

// load reads the machine's key now and loads the cache under it.
func load(t *testing.T, dir string, fsys machine.FS) error {
	t.Helper()
	key, err := kcache.CurrentKey(fsys)
	if err != nil {
		t.Fatal(err)
	}
	_, err = kcache.Load(dir, key)
	return err
}

// TestStaleRules changes one fact of the machine at a time and checks whether
// the cache is still used.
func TestStaleRules(t *testing.T) {
	lkdtmLine := "lkdtm 65536 0 - Live 0xffffffffc085b000 (OE)\n"
	tests := []struct {
		name   string
		change func(t *testing.T, root string)
		stale  bool
	}{
		{"nothing changed", func(*testing.T, string) {}, false},
		{"reboot (new boot ID)", func(t *testing.T, root string) {
			write(t, root, "proc/sys/kernel/random/boot_id", "00000000-0000-4000-8000-000000000001\n")
		}, true},
		{"another kernel release", func(t *testing.T, root string) {
			write(t, root, "proc/sys/kernel/osrelease", "6.1.0-57-amd64\n")
		}, true},
		{"module loaded", func(t *testing.T, root string) {
			write(t, root, "proc/modules", "dummy 16384 0 - Live 0xffffffffc0900000\n"+read(t, root, "proc/modules"))
		}, true},
		{"module unloaded", func(t *testing.T, root string) {
			write(t, root, "proc/modules", strings.Replace(read(t, root, "proc/modules"), lkdtmLine, "", 1))
		}, true},
		{"module reloaded elsewhere", func(t *testing.T, root string) {
			write(t, root, "proc/modules", strings.Replace(read(t, root, "proc/modules"), lkdtmLine,
				"lkdtm 65536 0 - Live 0xffffffffc0a00000 (OE)\n", 1))
		}, true},
		{"rebuilt module reloaded at the same address and size (new build ID)", func(t *testing.T, root string) {
			note := []byte(read(t, root, "sys/module/lkdtm/notes/.note.gnu.build-id"))
			note[len(note)-1] ^= 0xff
			write(t, root, "sys/module/lkdtm/notes/.note.gnu.build-id", string(note))
		}, true},
		{"module reloaded at the same address, same build ID (new sysfs directory)", func(t *testing.T, root string) {
			dir := filepath.Join(root, "sys/module/lkdtm")
			os.Rename(dir, dir+".old")
			if err := os.CopyFS(dir, os.DirFS(dir+".old")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"module still loading", func(t *testing.T, root string) {
			write(t, root, "proc/modules", strings.Replace(read(t, root, "proc/modules"), lkdtmLine,
				"lkdtm 65536 0 - Loading 0xffffffffc085b000 (OE)\n", 1))
		}, true},
		{"kptr_restrict changed", func(t *testing.T, root string) {
			write(t, root, "proc/sys/kernel/kptr_restrict", "1\n")
		}, true},
		{"perf_event_paranoid changed", func(t *testing.T, root string) {
			write(t, root, "proc/sys/kernel/perf_event_paranoid", "1\n")
		}, true},
		{"a module gained a user (reference count and users only)", func(t *testing.T, root string) {
			write(t, root, "proc/modules", strings.Replace(read(t, root, "proc/modules"), lkdtmLine,
				"lkdtm 65536 1 fuse, Live 0xffffffffc085b000 (OE)\n", 1))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, fsys := machineRoot(t)
			dir := stored(t, fsys)
			tt.change(t, root)
			err := load(t, dir, fsys)
			if tt.stale && !errors.Is(err, kcache.ErrStale) || !tt.stale && err != nil {
				t.Fatalf("Load: %v, want stale=%v", err, tt.stale)
			}
		})
	}
}

// TestLoadAnswersAsLive: a cache hit is the live table.
func TestLoadAnswersAsLive(t *testing.T) {
	_, fsys := machineRoot(t)
	dir := stored(t, fsys)
	key, _ := kcache.CurrentKey(fsys)
	x, err := kcache.Load(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := fsys.Kallsyms()
	if x.Table.Len() != live.Len() {
		t.Fatalf("%d symbols, live %d", x.Table.Len(), live.Len())
	}
	for i := range live.Len() {
		if x.Table.Addr(i) != live.Addr(i) || x.Table.Name(i) != live.Name(i) || x.Table.ModuleName(i) != live.ModuleName(i) {
			t.Fatalf("symbol %d: %v, live %v", i, x.Table.Symbol(i), live.Symbol(i))
		}
	}
}

// TestLoadRefusesUnsafe: the cache is only read when it is this user's own.
func TestLoadRefusesUnsafe(t *testing.T) {
	_, fsys := machineRoot(t)
	key, _ := kcache.CurrentKey(fsys)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  error
		root  bool // needs root (chown)
	}{
		{"no cache", func(t *testing.T, dir string) { os.RemoveAll(dir) }, kcache.ErrMiss, false},
		{"directory writable by others", func(t *testing.T, dir string) { os.Chmod(dir, 0o777) }, kcache.ErrUnsafe, false},
		{"file is a symbolic link", func(t *testing.T, dir string) {
			f := filepath.Join(dir, kcache.FileName)
			os.Rename(f, f+".real")
			os.Symlink(f+".real", f)
		}, kcache.ErrUnsafe, false},
		{"file written by another user", func(t *testing.T, dir string) {
			if err := os.Chown(filepath.Join(dir, kcache.FileName), 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, kcache.ErrUnsafe, true},
		{"directory of another user", func(t *testing.T, dir string) {
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, kcache.ErrForeign, true},
		{"corrupted file", func(t *testing.T, dir string) {
			f := filepath.Join(dir, kcache.FileName)
			b, _ := os.ReadFile(f)
			b[len(b)/2] ^= 1
			os.WriteFile(f, b, 0o600)
		}, kcache.ErrStale, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && os.Geteuid() != 0 {
				t.Skip("needs root to give a file to another user")
			}
			dir := stored(t, fsys)
			tt.setup(t, dir)
			x, err := kcache.Load(dir, key)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load: %v, want %v", err, tt.want)
			}
			if x != nil {
				t.Fatal("got a table")
			}
		})
	}
}

// TestStoreModes: the directory is 0700, the file 0600; a hidden table is
// not stored.
func TestStoreModes(t *testing.T) {
	_, fsys := machineRoot(t)
	dir := stored(t, fsys)
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, kcache.FileName): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}
	// Synthetic: a table as an unprivileged reader sees it.
	hidden, err := kallsyms.ParseBytes([]byte("0000000000000000 T _stext\n0000000000000000 t foo\n"), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "ksym")
	if err := kcache.Store(empty, hidden, kcache.Key{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(empty, kcache.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a hidden table was stored: %v", err)
	}
}

// TestNeedsLive: misses and pseudo-module symbols are re-checked, real
// module and core symbols are not. Synthetic table: the fixtures' boots ran
// no BPF programs.
func TestNeedsLive(t *testing.T) {
	tab, err := kallsyms.ParseBytes([]byte("ffffffff81000000 T _stext\nffffffff81000100 T _etext\n"+
		"ffffffffc0201000 t bpf_prog_6deef7357e7b4530_sd_fw_egress\t[bpf]\n"+
		"ffffffffc0300000 t ftrace_trampoline\t[__builtin__ftrace]\n"+
		"ffffffffc0400000 t kprobe_insn_page\t[__builtin__kprobes]\n"+
		"ffffffffc0500000 t real_fn\t[realmod]\n"), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		found bool
		want  bool
	}{
		{"_stext", true, false}, {"real_fn", true, false},
		{"bpf_prog_6deef7357e7b4530_sd_fw_egress", true, true},
		{"ftrace_trampoline", true, true}, {"kprobe_insn_page", true, true},
		{"missing", false, true},
	} {
		idx := -1
		if c.found {
			idx = tab.Find(c.name)[0]
		}
		if got := kcache.NeedsLive(tab, c.found, idx); got != c.want {
			t.Errorf("%s: NeedsLive = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestStoreNotInOthersDirectory: root with another user's HOME (sudo) does
// not create a cache the user could then never use.
func TestStoreNotInOthersDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to own a directory as another user")
	}
	_, fsys := machineRoot(t)
	home := t.TempDir()
	if err := os.Chown(home, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	tab, _ := fsys.Kallsyms()
	key, _ := kcache.CurrentKey(fsys)
	dir := filepath.Join(home, ".cache", "ksym")
	if err := kcache.Store(dir, tab, key); !errors.Is(err, kcache.ErrForeign) {
		t.Fatalf("Store: %v, want ErrForeign", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the directory was created: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("its parent was created: %v", err)
	}
}
