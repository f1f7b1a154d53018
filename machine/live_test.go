package machine

import (
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// The tests below read this machine's /proc and /sys and skip where the
// kernel does not provide what they need.

// liveTable skips unless /proc/kallsyms is readable with real addresses.
func liveTable(t *testing.T) {
	t.Helper()
	r, err := Default().Check()
	if err != nil || !r.KallsymsReadable {
		t.Skipf("/proc/kallsyms not readable: %v %v", err, r.Problems)
	}
	if !r.AddressesVisible {
		t.Skip("/proc/kallsyms addresses are all zero for this process")
	}
}

func TestLiveKallsyms(t *testing.T) {
	liveTable(t)
	tab, err := Default().Kallsyms()
	if err != nil {
		t.Fatal(err)
	}
	if tab.Hidden() || tab.Len() < 10000 {
		t.Fatalf("%d symbols, hidden %v", tab.Len(), tab.Hidden())
	}
	idx := tab.Find("_text")
	if len(idx) != 1 || tab.Addr(idx[0]) == 0 {
		t.Fatalf("_text: %v", idx)
	}
}

func TestLiveRelease(t *testing.T) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		t.Skip(err)
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	got, err := Default().Release()
	if errors.Is(err, os.ErrNotExist) {
		t.Skip(err)
	}
	if got != b.String() || err != nil {
		t.Fatalf("Release = %q, %v; uname(2) says %q", got, err, b.String())
	}
	if v, err := Default().Version(); err != nil || !strings.Contains(v, " version "+got+" ") {
		t.Errorf("Version = %q, %v", v, err)
	}
}

func TestLiveBuildID(t *testing.T) {
	id, err := Default().BuildID()
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := hex.DecodeString(id); err != nil || len(raw) < 8 {
		t.Fatalf("BuildID = %q", id)
	}
}

func TestLiveModules(t *testing.T) {
	mods, err := Default().Modules()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if m.Name == "" || m.Size == 0 || m.State == "" {
			t.Errorf("module %+v", m)
		}
	}
	if len(mods) == 0 {
		return
	}
	if id, err := Default().ModuleBuildID(mods[0].Name); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ModuleBuildID(%s) = %q, %v", mods[0].Name, id, err)
	}
	if os.Geteuid() == 0 && !AddressesHidden(mods) {
		secs, err := Default().ModuleSections(mods[0].Name)
		if err != nil || secs[".text"] != mods[0].Addr {
			t.Errorf("ModuleSections(%s): .text %#x, %v; /proc/modules %#x", mods[0].Name, secs[".text"], err, mods[0].Addr)
		}
	}
}

func TestLiveSmallFiles(t *testing.T) {
	fs := Default()
	if id, err := fs.BootID(); err == nil && len(id) != 36 {
		t.Errorf("BootID = %q", id)
	}
	if h, err := fs.Hostname(); err == nil {
		if want, _ := os.Hostname(); h != want {
			t.Errorf("Hostname = %q, os.Hostname %q", h, want)
		}
	}
	if k, err := fs.KptrRestrict(); err == nil && (k < 0 || k > 2) {
		t.Errorf("KptrRestrict = %d", k)
	}
}

func TestLiveUptime(t *testing.T) {
	up, err := Default().Uptime()
	if err != nil {
		t.Skipf("/proc/uptime: %v", err)
	}
	if up <= 0 {
		t.Errorf("uptime %v", up)
	}
}
