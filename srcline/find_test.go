package srcline_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/srcline"
)

// place copies or links src to root/rel.
func place(t *testing.T, root, rel, src string) string {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(src)
	if err := os.Symlink(abs, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFindModule finds the LKDTM module in the layouts --debuginfo
// directories have, and refuses files of another build or module.
func TestFindModule(t *testing.T) {
	const rel = "6.1.0-56-amd64"
	cases := []struct {
		name   string
		at     string // where the module is put
		target srcline.Target
		err    string // "" when found
	}{
		{"distro debug tree", "usr/lib/debug/lib/modules/" + rel + "/updates/dkms/lkdtm.ko.xz", srcline.Target{Module: "lkdtm", Release: rel, BuildID: lkdtmBuildID}, ""},
		{"modules tree", "lib/modules/" + rel + "/kernel/drivers/misc/lkdtm/lkdtm.ko.xz", srcline.Target{Module: "lkdtm", Release: rel}, ""},
		{"build-id tree", ".build-id/" + lkdtmBuildID[:2] + "/" + lkdtmBuildID[2:] + ".debug", srcline.Target{Module: "lkdtm", BuildID: lkdtmBuildID}, ""},
		{"flat directory", "lkdtm.ko.xz", srcline.Target{Module: "lkdtm"}, ""},
		{"other build", "lkdtm.ko.xz", srcline.Target{Module: "lkdtm", BuildID: "0123456789abcdef0123456789abcdef01234567"},
			"build ID " + lkdtmBuildID + ", want 0123456789abcdef0123456789abcdef01234567"},
		{"other module", "lib/modules/" + rel + "/kernel/fs/ext4/ext4.ko.xz", srcline.Target{Module: "ext4", Release: rel}, "it is module lkdtm, not ext4"},
		{"nothing", "unrelated/lkdtm.ko.xz", srcline.Target{Module: "lkdtm", Release: rel}, "no debug file found"},
		{"module for vmlinux", "vmlinux", srcline.Target{Release: rel}, "a relocatable object (a module?), not a vmlinux"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			want := place(t, root, c.at, "testdata/lkdtm.ko.xz")
			s, err := srcline.Find([]string{root}, c.target, nil)
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if s.Path() != want {
					t.Errorf("found %s, want %s", s.Path(), want)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("found %s", s.Path())
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %q does not say %q", err, c.err)
			}
		})
	}
}

// bootTable returns the kallsyms table of a Debian boot.
func bootTable(t *testing.T, boot string) *kallsyms.Table {
	t.Helper()
	tab, err := kallsyms.Open(fixture.Path("debian-6.1.0-56-amd64/boots/" + boot + "/kallsyms.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestMatchKallsymsModule checks the LKDTM module against the module
// symbols of a Debian boot's kallsyms: it agrees with lkdtm's, not with
// another module's.
func TestMatchKallsymsModule(t *testing.T) {
	s, err := srcline.Open("testdata/lkdtm.ko.xz")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tab := bootTable(t, "run1-A")
	if _, err := s.MatchKallsyms(tab, "lkdtm"); err != nil {
		t.Errorf("lkdtm: %v", err)
	}
	if _, err := s.MatchKallsyms(tab, "ext4"); !errors.Is(err, srcline.ErrMismatch) {
		t.Errorf("ext4: %v, want ErrMismatch", err)
	}
	if name := s.ModuleName(); name != "lkdtm" {
		t.Errorf("ModuleName = %q", name)
	}
}

// TestMatchVmlinux checks the Debian vmlinux: its build ID is the one of
// build-id.txt, its symbol table agrees with each boot's kallsyms at the
// boot's KASLR offset (from testdata/fixtures/README.md), and not with the
// Firecracker kernel's.
func TestMatchVmlinux(t *testing.T) {
	vmlinux := debianVmlinux(t)
	s, err := srcline.Open(vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := strings.TrimSpace(string(fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/build-id.txt"))))
	if err := s.MatchBuildID(id); err != nil {
		t.Error(err)
	}
	if err := s.MatchBuildID("0123456789abcdef0123456789abcdef01234567"); !errors.Is(err, srcline.ErrMismatch) {
		t.Errorf("other build ID: %v", err)
	}
	for boot, want := range map[string]uint64{"run1-A": 0x18600000, "run2-B": 0x5800000, "run3-C": 0x3e00000} {
		slide, err := s.MatchKallsyms(bootTable(t, boot), "")
		if err != nil || slide != want {
			t.Errorf("%s: slide %#x, %v; want %#x", boot, slide, err, want)
		}
	}
	fc, err := kallsyms.Open(fixture.Path("firecracker-6.18.44/kallsyms.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MatchKallsyms(fc, ""); !errors.Is(err, srcline.ErrMismatch) {
		t.Errorf("Firecracker table: %v, want ErrMismatch", err)
	}
	root := t.TempDir()
	want := place(t, root, "usr/lib/debug/boot/vmlinux-"+debianRelease, vmlinux)
	place(t, root, "usr/lib/debug/lib/modules/"+debianRelease+"/kernel/lkdtm.ko.xz", "testdata/lkdtm.ko.xz")
	f, err := srcline.Find([]string{root}, srcline.Target{Release: debianRelease, BuildID: id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Path() != want {
		t.Errorf("found %s, want %s", f.Path(), want)
	}
}

// TestFindDebugLink follows the .gnu_debuglink of a stripped executable
// (synthetic: compiled from testdata/inline.c, then split with objcopy as
// distributions split their packages) to its debug file, next to it or in
// .debug/.
func TestFindDebugLink(t *testing.T) {
	for _, sub := range []string{"", ".debug"} {
		exe := build(t, "prog", []string{"-gdwarf-5"})
		dir := filepath.Dir(exe)
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		debug := filepath.Join(dir, sub, "prog.debug")
		for _, args := range [][]string{
			{"objcopy", "--only-keep-debug", exe, debug},
			{"strip", "--strip-debug", exe},
			{"objcopy", "--add-gnu-debuglink=" + debug, exe},
		} {
			if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				t.Skipf("%v: %v\n%s", args, err, b)
			}
		}
		if _, err := srcline.Open(exe); !errors.Is(err, srcline.ErrNoDWARF) {
			t.Fatalf("the stripped file opens: %v", err)
		}
		s, err := srcline.Find([]string{exe}, srcline.Target{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Path() != debug {
			t.Errorf("found %s, want %s", s.Path(), debug)
		}
		s.Close()
	}
}
