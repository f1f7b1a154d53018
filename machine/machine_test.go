package machine

import (
	"github.com/ksym-dev/ksym/internal/fixture"

	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Facts of the Debian captures, copied from the fixture files by hand (the
// README, build-id.txt, uname.txt, modules.txt, the dmesg banner).
const (
	debianBuildID = "eb4fbcd037e7253717950bf2b93bd5566f47c56f"
	debianRelease = "6.1.0-56-amd64"
	debianVersion = "Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)"
	lkdtmBuildID  = "d2c12d420606aae7228cb06fbf317c458f7a82bb"
)

func root(t testing.TB, name string) FS {
	t.Helper()
	fs, err := NewFS(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestNewFS(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		root, wantRoot, wantErr string
	}{
		{"", "/", ""},
		{"/", "/", ""},
		{"testdata/run1-A/", "testdata/run1-A", ""},
		{file, "", "is not a directory"},
		{"testdata/nonexistent", "", "no such file or directory"},
	}
	for _, tt := range tests {
		fs, err := NewFS(tt.root)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewFS(%q) error = %v, want %q", tt.root, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fs.Root() != tt.wantRoot {
			t.Errorf("NewFS(%q) = %q, %v; want %q", tt.root, fs.Root(), err, tt.wantRoot)
		}
	}
	if (FS{}).KallsymsPath() != "/proc/kallsyms" || Default().KallsymsPath() != "/proc/kallsyms" {
		t.Errorf("zero FS reads %s", FS{}.KallsymsPath())
	}
	if got := root(t, "run1-A").KallsymsPath(); got != "testdata/run1-A/proc/kallsyms" {
		t.Errorf("KallsymsPath = %s", got)
	}
}

func TestKernelFacts(t *testing.T) {
	hosts := map[string]string{"run1-A": "kdata-A", "run2-B": "kdata-B", "run3-C": "kdata-C"}
	for _, boot := range boots {
		fs := root(t, boot)
		checkString(t, boot+" Release", fs.Release, debianRelease)
		checkString(t, boot+" Version", fs.Version, debianVersion)
		checkString(t, boot+" BuildID", fs.BuildID, debianBuildID)
		checkString(t, boot+" Hostname", fs.Hostname, hosts[boot])
		checkString(t, boot+" ModuleBuildID", func() (string, error) { return fs.ModuleBuildID("lkdtm") }, lkdtmBuildID)
		if k, err := fs.KptrRestrict(); k != 0 || err != nil {
			t.Errorf("%s KptrRestrict = %d, %v", boot, k, err)
		}
		// boot_id and perf_event_paranoid were not captured.
		if _, err := fs.BootID(); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s BootID error = %v", boot, err)
		}
		if _, err := fs.PerfEventParanoid(); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s PerfEventParanoid error = %v", boot, err)
		}
	}
}

func checkString(t *testing.T, what string, f func() (string, error), want string) {
	t.Helper()
	if got, err := f(); got != want || err != nil {
		t.Errorf("%s = %q, %v; want %q", what, got, err, want)
	}
}

func TestBuildIDFromRealNotesMatchesBuildIDFile(t *testing.T) {
	want := strings.TrimSpace(string(fixture.Read(t, filepath.Join(debianDir, "build-id.txt"))))
	got, err := root(t, "run2-B").BuildID()
	if got != want || err != nil {
		t.Fatalf("BuildID = %q, %v; build-id.txt says %q", got, err, want)
	}
}

// realNotes lists the notes of the Debian kernel's /sys/kernel/notes, read
// off notes.hex by hand.
var realNotes = []struct {
	name    string
	typ     uint32
	descLen int
}{
	{"Xen", 6, 6}, {"Xen", 7, 4}, {"Xen", 5, 8}, {"Xen", 3, 8}, {"Xen", 15, 8},
	{"Xen", 1, 8}, {"Xen", 10, 41}, {"Xen", 17, 4}, {"Xen", 9, 4}, {"Xen", 8, 8},
	{"Xen", 13, 16}, {"Xen", 14, 4}, {"Xen", 16, 4}, {"Xen", 12, 8}, {"Xen", 4, 8},
	{"GNU", 3, 20}, {"Linux", 0x101, 4}, {"Linux", 0x100, 15}, {"Xen", 18, 8},
}

func checkRealNotes(t *testing.T, notes []Note) {
	t.Helper()
	if len(notes) != len(realNotes) {
		t.Fatalf("%d notes, want %d", len(notes), len(realNotes))
	}
	for i, w := range realNotes {
		n := notes[i]
		if n.Name != w.name || n.Type != w.typ || len(n.Desc) != w.descLen {
			t.Errorf("note %d = %q type %d, %d bytes; want %q type %d, %d bytes", i, n.Name, n.Type, len(n.Desc), w.name, w.typ, w.descLen)
		}
	}
	if got := string(notes[17].Desc); got != debianRelease+"\x00" {
		t.Errorf("Linux note 0x100 = %q", got)
	}
	if got := string(notes[6].Desc); got != "!writable_page_tables|pae_pgdir_above_4gb" {
		t.Errorf("Xen note 10 = %q", got)
	}
}

func TestParseNotesReal(t *testing.T) {
	data := fixture.Read(t, "testdata/run1-A/sys/kernel/notes")
	notes, err := ParseNotes(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRealNotes(t, notes)
	// Alignment padding after the last note is ignored.
	notes, err = ParseNotes(append(append([]byte(nil), data...), make([]byte, 16)...))
	if err != nil {
		t.Fatal(err)
	}
	checkRealNotes(t, notes)
}

// TestParseNotesOtherByteOrder swaps every header word of the real notes, as a
// machine of the other byte order would have written them.
func TestParseNotesOtherByteOrder(t *testing.T) {
	data := append([]byte(nil), fixture.Read(t, "testdata/run1-A/sys/kernel/notes")...)
	for off := 0; off < len(data); {
		namesz := binary.LittleEndian.Uint32(data[off:])
		descsz := binary.LittleEndian.Uint32(data[off+4:])
		for w := 0; w < 3; w++ {
			word := data[off+4*w : off+4*w+4]
			binary.BigEndian.PutUint32(word, binary.LittleEndian.Uint32(word))
		}
		off += 12 + int(align4(uint64(namesz))+align4(uint64(descsz)))
	}
	notes, err := ParseNotes(data)
	if err != nil {
		t.Fatal(err)
	}
	checkRealNotes(t, notes)
	if id, err := BuildIDOf(notes); id != debianBuildID || err != nil {
		t.Fatalf("BuildIDOf = %q, %v", id, err)
	}
}

// Synthetic notes for the damage real data does not show.
func TestParseNotesErrors(t *testing.T) {
	note := buildIDNote(t, lkdtmBuildID)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"cut in header", note[:7], "7 stray bytes at offset 0"},
		{"cut in payload", note[:len(note)-1], "runs past the end"},
		{"huge payload size", append(bytes.Repeat([]byte{0xff}, 8), note[8:]...), "runs past the end"},
		{"stray bytes after a note", append(append([]byte(nil), note...), 1, 2, 3), "3 stray bytes at offset 36"},
	}
	for _, tt := range tests {
		_, err := ParseNotes(tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if notes, err := ParseNotes(nil); len(notes) != 0 || err != nil {
		t.Errorf("ParseNotes(nil) = %v, %v", notes, err)
	}
	if _, err := BuildIDOf([]Note{{Name: "Linux", Type: 3, Desc: []byte{1}}}); !errors.Is(err, ErrNoBuildID) {
		t.Errorf("BuildIDOf without GNU note: %v", err)
	}
}

func TestModulesReal(t *testing.T) {
	mods, err := root(t, "run1-A").Modules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 24 || AddressesHidden(mods) {
		t.Fatalf("%d modules, hidden %v", len(mods), AddressesHidden(mods))
	}
	// Lines 1, 7, 8, 18 and 24 of run1-A's modules.txt.
	want := map[int]Module{
		0:  {Name: "lkdtm", Size: 65536, Refcount: 0, State: "Live", Addr: 0xffffffffc085b000, Taints: "OE"},
		6:  {Name: "stp", Size: 16384, Refcount: 1, Deps: []string{"bridge"}, State: "Live", Addr: 0xffffffffc07a8000},
		7:  {Name: "llc", Size: 16384, Refcount: 2, Deps: []string{"bridge", "stp"}, State: "Live", Addr: 0xffffffffc079e000},
		17: {Name: "libcrc32c", Size: 16384, Refcount: 2, Deps: []string{"nf_tables", "xfs"}, State: "Live", Addr: 0xffffffffc0434000},
		23: {Name: "crc32c_intel", Size: 24576, Refcount: 2, State: "Live", Addr: 0xffffffffc03f9000},
	}
	for i, w := range want {
		if !reflect.DeepEqual(mods[i], w) {
			t.Errorf("module %d = %+v, want %+v", i, mods[i], w)
		}
	}
}

// Synthetic lines for the formats the captures lack: no CONFIG_MODULE_UNLOAD,
// [permanent], hidden and old NULL addresses, other states.
func TestParseModules(t *testing.T) {
	tests := []struct {
		line string
		want Module
	}{
		{"lkdtm 65536 0 - Live 0xffffffffc085b000 (OE)", Module{Name: "lkdtm", Size: 65536, State: "Live", Addr: 0xffffffffc085b000, Taints: "OE"}},
		{"lkdtm 65536 0 - Live 0x0000000000000000 (OE)", Module{Name: "lkdtm", Size: 65536, State: "Live", Taints: "OE"}},
		{"foo 16384 - - Live 0xffffffffc0000000", Module{Name: "foo", Size: 16384, Refcount: -1, State: "Live", Addr: 0xffffffffc0000000}},
		{"foo 16384 0 [permanent], Live 0xffffffffc0000000", Module{Name: "foo", Size: 16384, Perm: true, State: "Live", Addr: 0xffffffffc0000000}},
		{"foo 16384 1 bar,[permanent], Unloading 0x(null)", Module{Name: "foo", Size: 16384, Refcount: 1, Deps: []string{"bar"}, Perm: true, State: "Unloading"}},
		{"foo 16384 0 - Loading (null) (P)", Module{Name: "foo", Size: 16384, State: "Loading", Taints: "P"}},
		{"  foo 1 0 - Live 0x1  ", Module{Name: "foo", Size: 1, State: "Live", Addr: 1}},
	}
	for _, tt := range tests {
		mods, err := ParseModules(strings.NewReader(tt.line + "\n"))
		if err != nil || len(mods) != 1 || !reflect.DeepEqual(mods[0], tt.want) {
			t.Errorf("ParseModules(%q) = %+v, %v; want %+v", tt.line, mods, err, tt.want)
		}
	}
}

func TestParseModulesErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"lkdtm 65536 0 - Live\n", "modules line 1: want 6 or 7 fields, found 5"},
		{"\nlkdtm x 0 - Live 0x0\n", "modules line 2: size \"x\" is not a number"},
		{"lkdtm 1 y - Live 0x0\n", "reference count \"y\" is not a number"},
		{"lkdtm 1 0 - Live 0xzz\n", "address \"0xzz\" is not hexadecimal"},
		{"lkdtm 1 0 - Live 0x0 OE\n", "taint flags \"OE\" are not in parentheses"},
		{"lkdtm 1 0 - Live 0x0 (OE) extra\n", "want 6 or 7 fields, found 8"},
	}
	for _, tt := range tests {
		_, err := ParseModules(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseModules(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	if mods, err := ParseModules(strings.NewReader("")); mods != nil || err != nil {
		t.Errorf("empty: %v, %v", mods, err)
	}
}

func TestAddressesHidden(t *testing.T) {
	tests := []struct {
		mods []Module
		want bool
	}{
		{nil, false},
		{[]Module{{Addr: 0}, {Addr: 0}}, true},
		{[]Module{{Addr: 0}, {Addr: 0xffffffffc0000000}}, false},
	}
	for _, tt := range tests {
		if got := AddressesHidden(tt.mods); got != tt.want {
			t.Errorf("AddressesHidden(%v) = %v", tt.mods, got)
		}
	}
}

// TestModuleSectionsMatchModules: for each real boot, a module's .text
// section is where /proc/modules says the module starts.
func TestModuleSectionsMatchModules(t *testing.T) {
	for _, boot := range boots {
		fs := root(t, boot)
		mods, err := fs.Modules()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mods {
			if !contains(treeModules, m.Name) {
				continue
			}
			secs, err := fs.ModuleSections(m.Name)
			if err != nil {
				t.Fatal(err)
			}
			if secs[".text"] != m.Addr {
				t.Errorf("%s %s: .text %#x, /proc/modules %#x", boot, m.Name, secs[".text"], m.Addr)
			}
		}
	}
}

func TestModuleSections(t *testing.T) {
	fs := root(t, "run1-A")
	secs, err := fs.ModuleSections("lkdtm")
	if err != nil {
		t.Fatal(err)
	}
	// From run1-A's module-sections.txt.
	want := map[string]uint64{".text": 0xffffffffc085b000, ".init.text": 0xffffffffc086c000, ".data": 0xffffffffc08660e0, ".bss": 0xffffffffc0867880, "__bug_table": 0xffffffffc0866000}
	if len(secs) != 29 {
		t.Errorf("%d sections, want 29", len(secs))
	}
	for name, addr := range want {
		if secs[name] != addr {
			t.Errorf("%s = %#x, want %#x", name, secs[name], addr)
		}
	}
	// The kernel spells module names with underscores; dashes are accepted.
	if secs, err := fs.ModuleSections("crc32c-intel"); err != nil || secs[".text"] != 0xffffffffc03f9000 {
		t.Errorf("crc32c-intel: %#x, %v", secs[".text"], err)
	}
}

func TestModuleErrors(t *testing.T) {
	fs := root(t, "run1-A")
	builtin := t.TempDir()
	if err := os.MkdirAll(filepath.Join(builtin, "sys/module/block"), 0o755); err != nil {
		t.Fatal(err)
	}
	bfs, _ := NewFS(builtin)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nosuch", modErr(fs.ModuleSections("nosuch")), "module nosuch is not loaded (no testdata/run1-A/sys/module/nosuch)"},
		{"../../proc", modErr(fs.ModuleSections("../../proc")), "invalid module name"},
		{"..", modErr(fs.ModuleSections("..")), "invalid module name"},
		{"", modErr(fs.ModuleSections("")), "invalid module name"},
		{"build ID nosuch", strErr(fs.ModuleBuildID("nosuch")), "module nosuch is not loaded"},
		{"built-in", modErr(bfs.ModuleSections("block")), "it is built into the kernel, not loaded"},
		{"no notes", strErr(bfs.ModuleBuildID("block")), "no such file or directory"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, tt.err, tt.want)
		}
	}
}

func modErr(_ map[string]uint64, err error) error { return err }
func strErr(_ string, err error) error            { return err }

func TestModulesMissing(t *testing.T) {
	// A kernel without modules has no /proc/modules: no modules, no error.
	mods, err := root(t, unprivilegedRoot).Modules()
	if mods != nil || err != nil {
		t.Fatalf("Modules = %v, %v", mods, err)
	}
}

func TestKallsymsRoots(t *testing.T) {
	tests := []struct {
		root   string
		len    int
		hidden bool
	}{
		{"run1-A", rootKallsymsHead + 232, false}, // 232 lkdtm lines
		{unprivilegedRoot, 200, true},
	}
	for _, tt := range tests {
		tab, err := root(t, tt.root).Kallsyms()
		if err != nil {
			t.Fatalf("%s: %v", tt.root, err)
		}
		if tab.Len() != tt.len || tab.Hidden() != tt.hidden {
			t.Errorf("%s: %d symbols, hidden %v; want %d, %v", tt.root, tab.Len(), tab.Hidden(), tt.len, tt.hidden)
		}
	}
	// A missing table is os.Open's error, the fact alone: what to do is
	// the program's to say.
	empty := t.TempDir()
	_, err := FS{root: empty}.Kallsyms()
	if !errors.Is(err, os.ErrNotExist) || err.Error() != "open "+filepath.Join(empty, "proc/kallsyms")+": no such file or directory" {
		t.Errorf("missing kallsyms: %v", err)
	}
}

// TestKallsymsLookupReal resolves lkdtm's entry point in the excerpt: the
// address /proc/modules gives for lkdtm is lkdtm_debugfs_open, the first
// function of its text (lines of run1-A's kallsyms.txt).
func TestKallsymsLookupReal(t *testing.T) {
	tab, err := root(t, "run1-A").Kallsyms()
	if err != nil {
		t.Fatal(err)
	}
	loc, err := tab.Lookup(0xffffffffc085b000 + 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.FormatLocation(loc); got != "lkdtm_debugfs_open+0x4/0x10 [lkdtm]" {
		t.Fatalf("FormatLocation = %q", got)
	}
}

func TestReadIntErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "proc/sys/kernel/kptr_restrict")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := FS{root: dir}.KptrRestrict()
	if err == nil || !strings.HasSuffix(err.Error(), `/proc/sys/kernel/kptr_restrict: "two" is not a number`) {
		t.Fatalf("err = %v", err)
	}
}

// TestUptime reads /proc/uptime as the kernel writes it ("350.12 690.30":
// up, idle), refuses what is not a number, and errs when it is missing.
// (Synthetic: the fixture roots have no /proc/uptime.)
func TestUptime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "proc/uptime")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := (FS{root: dir}).Uptime(); err == nil {
		t.Error("missing /proc/uptime: no error")
	}
	for _, tc := range []struct {
		text string
		up   float64
		err  string
	}{
		{"350.12 690.30\n", 350.12, ""},
		{"-1.00 0.00\n", 0, `/proc/uptime: "-1.00 0.00" is not an uptime`},
		{"up 0.00\n", 0, `/proc/uptime: "up 0.00" is not an uptime`},
	} {
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		up, err := FS{root: dir}.Uptime()
		if up != tc.up || (err == nil) != (tc.err == "") || err != nil && !strings.HasSuffix(err.Error(), tc.err) {
			t.Errorf("%q: %v %v, want %v %q", tc.text, up, err, tc.up, tc.err)
		}
	}
}
