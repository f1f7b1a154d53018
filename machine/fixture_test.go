package machine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// The miniature machine roots under testdata/ are generated from the real
// captures in ../testdata/fixtures by expectedTree; TestFixtureTree fails if
// they drift. Regenerate with: go test ./machine -run TestFixtureTree -update
var update = flag.Bool("update", false, "rewrite machine/testdata from ../testdata/fixtures")

const debianDir = "../testdata/fixtures/debian-6.1.0-56-amd64"

// boots are the three real boots of the Debian kernel.
var boots = []string{"run1-A", "run2-B", "run3-C"}

// treeModules are the modules whose sysfs directories the roots carry.
var treeModules = []string{"lkdtm", "bridge", "crc32c_intel", "libcrc32c"}

// rootKallsymsHead is how many leading lines of the real table the roots keep
// (the per-CPU symbols, _text and the first text symbols); every lkdtm line
// follows them.
const rootKallsymsHead = 400

// unprivilegedRoot is run1-A as an unprivileged user saw it.
const unprivilegedRoot = "run1-A-unprivileged"

// expectedTree derives a machine root from a boot's capture: relative path ->
// content.
func expectedTree(t testing.TB, boot string) map[string][]byte {
	dir := filepath.Join(debianDir, "boots", boot)
	uname := strings.Fields(string(fixture.Read(t, filepath.Join(dir, "uname.txt"))))
	tree := map[string][]byte{
		"proc/kallsyms":                 kallsymsExcerpt(t, filepath.Join(dir, "kallsyms.txt.gz")),
		"proc/modules":                  fixture.Read(t, filepath.Join(dir, "modules.txt")),
		"proc/version":                  bannerFromDmesg(t, filepath.Join(dir, "dmesg-raw.txt.gz")),
		"proc/sys/kernel/kptr_restrict": fixture.Read(t, filepath.Join(dir, "kptr_restrict.txt")),
		"proc/sys/kernel/osrelease":     []byte(uname[2] + "\n"),
		"proc/sys/kernel/hostname":      []byte(uname[1] + "\n"),
		"sys/kernel/notes":              parseHexdump(t, fixture.Read(t, filepath.Join(dir, "notes.hex"))),
	}
	for _, line := range strings.Split(string(fixture.Read(t, filepath.Join(dir, "module-sections.txt"))), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && contains(treeModules, f[0]) {
			tree["sys/module/"+f[0]+"/sections/"+f[1]] = []byte(f[2] + "\n")
		}
	}
	for mod, id := range moduleBuildIDs(t) {
		if contains(treeModules, mod) {
			tree["sys/module/"+mod+"/notes/.note.gnu.build-id"] = buildIDNote(t, id)
		}
	}
	return tree
}

// expectedUnprivilegedTree is run1-A's table as a user without CAP_SYSLOG read
// it (all addresses zero), with the real sysctl and release.
func expectedUnprivilegedTree(t testing.TB) map[string][]byte {
	dir := filepath.Join(debianDir, "boots", "run1-A")
	uname := strings.Fields(string(fixture.Read(t, filepath.Join(dir, "uname.txt"))))
	return map[string][]byte{
		"proc/kallsyms":                 fixture.Read(t, filepath.Join(dir, "kallsyms-nonroot-head.txt")),
		"proc/sys/kernel/kptr_restrict": fixture.Read(t, filepath.Join(dir, "kptr_restrict.txt")),
		"proc/sys/kernel/osrelease":     []byte(uname[2] + "\n"),
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// kallsymsExcerpt keeps the first rootKallsymsHead lines and every lkdtm line.
func kallsymsExcerpt(t testing.TB, path string) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(fixture.Read(t, path)))
	for n := 1; sc.Scan(); n++ {
		if n <= rootKallsymsHead || strings.HasSuffix(sc.Text(), "\t[lkdtm]") {
			out.WriteString(sc.Text() + "\n")
		}
	}
	return out.Bytes()
}

// bannerFromDmesg returns the "Linux version ..." boot line: the kernel
// prints linux_banner there, and /proc/version prints the same string.
func bannerFromDmesg(t testing.TB, path string) []byte {
	for _, line := range strings.Split(string(fixture.Read(t, path)), "\n") {
		if i := strings.Index(line, "] Linux version "); i >= 0 {
			return []byte(line[i+2:] + "\n")
		}
	}
	t.Fatalf("%s: no Linux version line", path)
	return nil
}

// parseHexdump turns `hexdump -C` output back into bytes, "*" lines
// (repetitions of the line before) included.
func parseHexdump(t testing.TB, dump []byte) []byte {
	var out, prev []byte
	repeat := false
	for _, line := range strings.Split(string(dump), "\n") {
		if line == "*" {
			repeat = true
			continue
		}
		f := strings.Fields(strings.SplitN(line, "|", 2)[0])
		if len(f) == 0 {
			continue
		}
		off, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			t.Fatalf("hexdump line %q", line)
		}
		for repeat && uint64(len(out)) < off {
			out = append(out, prev...)
		}
		repeat = false
		prev, err = hex.DecodeString(strings.Join(f[1:], ""))
		if err != nil {
			t.Fatalf("hexdump line %q: %v", line, err)
		}
		out = append(out, prev...)
	}
	return out
}

// moduleBuildIDs reads loaded-modules-build-ids.tsv: sysfs module name ->
// build ID.
func moduleBuildIDs(t testing.TB) map[string]string {
	ids := map[string]string{}
	for _, line := range strings.Split(string(fixture.Read(t, filepath.Join(debianDir, "loaded-modules-build-ids.tsv"))), "\n") {
		f := strings.Split(line, "\t")
		if len(f) >= 2 && !strings.HasPrefix(line, "#") {
			ids[strings.ReplaceAll(f[0], "-", "_")] = f[1]
		}
	}
	return ids
}

// buildIDNote encodes a build ID as the .note.gnu.build-id section holds it
// (little-endian x86_64): namesz 4, descsz, type 3, "GNU\0", the ID. The real
// module notes were not captured; this is their standard encoding of the real
// IDs readelf printed.
func buildIDNote(t testing.TB, id string) []byte {
	desc, err := hex.DecodeString(id)
	if err != nil {
		t.Fatal(err)
	}
	b := binary.LittleEndian.AppendUint32(nil, 4)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(desc)))
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = append(b, "GNU\x00"...)
	return append(b, desc...)
}

// readTree reads every file under root: relative path -> content.
func readTree(t testing.TB, root string) map[string][]byte {
	tree := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		tree[filepath.ToSlash(rel)] = fixture.Read(t, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func writeTree(t testing.TB, root string, tree map[string][]byte) {
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	for rel, data := range tree {
		path := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFixtureTree checks that the checked-in roots are exactly what the real
// captures give (and rewrites them with -update).
func TestFixtureTree(t *testing.T) {
	roots := map[string]map[string][]byte{unprivilegedRoot: expectedUnprivilegedTree(t)}
	for _, boot := range boots {
		roots[boot] = expectedTree(t, boot)
	}
	for name, want := range roots {
		root := filepath.Join("testdata", name)
		if *update {
			writeTree(t, root, want)
		}
		got := readTree(t, root)
		for rel, data := range want {
			if !bytes.Equal(got[rel], data) {
				t.Errorf("%s/%s differs from the real capture (run with -update)", root, rel)
			}
		}
		for rel := range got {
			if _, ok := want[rel]; !ok {
				t.Errorf("%s/%s is not derived from the real capture", root, rel)
			}
		}
	}
}
