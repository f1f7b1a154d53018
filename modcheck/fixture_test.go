package modcheck

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/kmod"
)

const debian = "debian-6.1.0-56-amd64"

var boots = []string{"run1-A", "run2-B", "run3-C"}

// lkdtmPath is the real lkdtm.ko the boots loaded (see package kmod's tests).
const lkdtmPath = "../kmod/testdata/lkdtm.ko.gz"

// bootTable parses a boot's real /proc/kallsyms.
func bootTable(t testing.TB, boot string) *kallsyms.Table {
	t.Helper()
	tab, err := kallsyms.ParseBytes(fixture.Read(t, fixture.Path(debian+"/boots/"+boot+"/kallsyms.txt.gz")), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// coreTable parses a boot's table without its module lines: the kernel
// as it was before any module was loaded.
func coreTable(t testing.TB, boot string) *kallsyms.Table {
	t.Helper()
	var core []byte
	for _, line := range bytes.SplitAfter(fixture.Read(t, fixture.Path(debian+"/boots/"+boot+"/kallsyms.txt.gz")), []byte("\n")) {
		if !bytes.Contains(line, []byte("\t[")) {
			core = append(core, line...)
		}
	}
	tab, err := kallsyms.ParseBytes(core, kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// bootModules returns /proc/modules of a boot: name to used-by list.
func bootModules(t testing.TB, boot string) map[string][]string {
	t.Helper()
	mods := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(fixture.Read(t, fixture.Path(debian+"/boots/"+boot+"/modules.txt")))), "\n") {
		f := strings.Fields(line)
		var users []string
		for _, u := range strings.Split(f[3], ",") {
			if u != "" && u != "-" {
				users = append(users, u)
			}
		}
		mods[f[0]] = users
	}
	return mods
}

// kernelVermagic derives VERMAGIC_STRING (include/linux/vermagic.h) of the
// boots' kernel from its uname -r and .config: x86_64 adds nothing of its
// own, and RANDSTRUCT is off.
func kernelVermagic(t testing.TB) string {
	t.Helper()
	release := strings.Fields(string(fixture.Read(t, fixture.Path(debian+"/boots/run1-A/uname.txt"))))[2]
	config := string(fixture.Read(t, fixture.Path(debian+"/config.gz")))
	v := release + " "
	for _, f := range []struct{ option, word string }{
		{"CONFIG_SMP", "SMP "}, {"CONFIG_PREEMPT_BUILD", "preempt "}, {"CONFIG_MODULE_UNLOAD", "mod_unload "}, {"CONFIG_MODVERSIONS", "modversions "},
	} {
		if strings.Contains(config, "\n"+f.option+"=y\n") {
			v += f.word
		}
	}
	if strings.Contains(config, "\nCONFIG_RANDSTRUCT=y") {
		t.Fatal("RANDSTRUCT: vermagic has a seed hash")
	}
	return v
}

// loadedModuleFiles returns the files of the modules the boots loaded, by
// name, from loaded-modules-build-ids.tsv, after checking that each file
// has the build ID and size recorded there: they are the files the
// kernel loaded.
func loadedModuleFiles(t *testing.T) map[string]string {
	dir := fixture.DebianModules(t)
	files := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(fixture.Read(t, fixture.Path(debian+"/loaded-modules-build-ids.tsv"))))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		path := filepath.Join(dir, f[2])
		if f[0] == "lkdtm" {
			path = lkdtmPath
		}
		data, err := input.ReadAll(path)
		if err != nil {
			t.Fatal(err)
		}
		if size, _ := strconv.Atoi(f[3]); size != len(data) || buildID(t, data) != f[1] {
			t.Fatalf("%s: %d bytes, build ID %s; the boots loaded %s bytes, %s", path, len(data), buildID(t, data), f[3], f[1])
		}
		files[kmod.NameFromPath(f[0])] = path
	}
	if len(files) != 24 {
		t.Fatalf("%d modules in loaded-modules-build-ids.tsv, want 24", len(files))
	}
	return files
}

// buildID reads the GNU build ID note of an ELF file.
func buildID(t *testing.T, data []byte) string {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		return ""
	}
	b, err := s.Data()
	if err != nil || len(b) < 16 {
		t.Fatalf("build ID note: %v", err)
	}
	return hex.EncodeToString(b[16:])
}

func readModule(t testing.TB, path string) *kmod.Module {
	t.Helper()
	m, err := kmod.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func debianSymvers(t testing.TB) Symvers {
	s, err := ReadSymvers(filepath.Join(fixture.DebianModules(t), "usr/src/linux-headers-6.1.0-56-amd64/Module.symvers"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLoadedModulesLoad: every module the boots really loaded is said to
// load against that boot's table, with CRCs and namespaces checked against
// Module.symvers and vermagic against the kernel's.
func TestLoadedModulesLoad(t *testing.T) {
	files := loadedModuleFiles(t)
	symvers := debianSymvers(t)
	for _, boot := range boots {
		k := Kernel{Table: bootTable(t, boot), Vermagic: kernelVermagic(t), Symvers: symvers}
		loaded := bootModules(t, boot)
		if len(loaded) != 24 {
			t.Fatalf("%s: %d modules loaded", boot, len(loaded))
		}
		for name := range loaded {
			m := readModule(t, files[name])
			res, err := Check(k, []*kmod.Module{m})
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			if r.Verdict != Loads || len(r.Problems) != 0 || !r.AlreadyLoaded || r.LoadOrder != 1 {
				t.Errorf("%s %s: %s, problems %+v, already loaded %v", boot, name, r.Verdict, r.Problems, r.AlreadyLoaded)
			}
			if r.Unchecked != (Unchecked{}) || r.Resolved != len(m.Undefined) {
				t.Errorf("%s %s: unchecked %+v, resolved %d of %d", boot, name, r.Unchecked, r.Resolved, len(m.Undefined))
			}
		}
	}
}

// TestLoadedModulesLoadFromCore gives all 24 modules in one run against
// the kernel alone (the boot's table without module symbols): each must
// load, in an order where every module comes after the modules /proc/modules
// says use... are used by it.
func TestLoadedModulesLoadFromCore(t *testing.T) {
	files := loadedModuleFiles(t)
	k := Kernel{Table: coreTable(t, "run1-A"), Vermagic: kernelVermagic(t), Symvers: debianSymvers(t)}
	loaded := bootModules(t, "run1-A")
	var mods []*kmod.Module
	for name := range loaded {
		mods = append(mods, readModule(t, files[name]))
	}
	slices.SortFunc(mods, func(a, b *kmod.Module) int { return strings.Compare(a.Name, b.Name) })
	res, err := Check(k, mods)
	if err != nil {
		t.Fatal(err)
	}
	order := map[string]int{}
	for _, r := range res {
		if r.Verdict != Loads || r.AlreadyLoaded || r.LoadOrder == 0 {
			t.Errorf("%s: %s, problems %+v, order %d", r.Module.Name, r.Verdict, r.Problems, r.LoadOrder)
		}
		order[r.Module.Name] = r.LoadOrder
	}
	for name, users := range loaded {
		for _, u := range users {
			if order[u] <= order[name] {
				t.Errorf("%s (used by %s) loads at %d, %s at %d", name, u, order[name], u, order[u])
			}
		}
	}
}
