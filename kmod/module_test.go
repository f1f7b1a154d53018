package kmod

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ulikunitz/xz"
)

// lkdtmPath is the real lkdtm.ko the Debian boots of
// testdata/fixtures/debian-6.1.0-56-amd64 loaded (built out of tree for
// that kernel), with its debug sections stripped and gzip'ed: 127,720 bytes
// and build ID d2c12d42..., as loaded-modules-build-ids.tsv records.
const lkdtmPath = "testdata/lkdtm.ko.gz"

// lkdtmUndefined is readelf -s of the file: its UND symbols, in order.
var lkdtmUndefined = strings.Fields(`__check_object_size _copy_from_user strim vm_munmap scnprintf memcpy kfree
vm_mmap free_pages kmem_cache_create _raw_spin_lock_irqsave _raw_spin_lock fortify_panic __fentry__
__x86_indirect_thunk_rax _printk schedule __stack_chk_fail refcount_warn_saturate __get_free_pages
__copy_overflow strnlen access_process_vm kmem_cache_alloc vzalloc init_task page_offset_base
__list_add_valid memchr kmem_cache_create_usercopy init_uts_ns kmem_cache_free __x86_indirect_thunk_rbx
debugfs_remove folio_alloc strncpy panic __list_del_entry_valid current_task _raw_spin_unlock_irqrestore
memset param_ops_charp __x86_return_thunk _copy_to_user kasprintf strcmp kstrdup pv_ops vmemmap_base
strscpy __preempt_count debugfs_create_file vfree __folio_put __warn_printk register_kprobe
unregister_kprobe kmalloc_trace strlen param_ops_int vmalloc debugfs_create_dir generic_file_llseek
simple_read_from_buffer __kmalloc kmalloc_caches kmem_cache_destroy`)

func TestReadLkdtm(t *testing.T) {
	m, err := Read(lkdtmPath)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "lkdtm" || m.Info.License != "GPL" || m.Info.Vermagic != "6.1.0-56-amd64 SMP preempt mod_unload modversions " {
		t.Errorf("name %q license %q vermagic %q", m.Name, m.Info.License, m.Info.Vermagic)
	}
	if !m.Is64 || m.Machine.String() != "EM_X86_64" || len(m.Info.Depends) != 0 || len(m.Exports) != 0 {
		t.Errorf("is64 %v machine %v depends %v exports %v", m.Is64, m.Machine, m.Info.Depends, m.Exports)
	}
	var und []string
	for _, u := range m.Undefined {
		if u.Weak {
			t.Errorf("%s is weak; readelf says GLOBAL", u.Name)
		}
		und = append(und, u.Name)
	}
	if strings.Join(und, " ") != strings.Join(lkdtmUndefined, " ") {
		t.Errorf("undefined:\n got %v\nwant %v", und, lkdtmUndefined)
	}
	// __versions is 0x1100 bytes: 68 entries, the 67 undefined symbols
	// and module_layout (readelf -x __versions).
	if !m.HasVersions || len(m.Versions) != 68 {
		t.Fatalf("versions: %v, %d", m.HasVersions, len(m.Versions))
	}
	if v := m.Versions[0]; v != (Version{"__check_object_size", 0x88db9f48}) {
		t.Errorf("first version %v", v)
	}
	if v := m.Versions[67]; v != (Version{"module_layout", 0x9060323f}) {
		t.Errorf("last version %v", v)
	}
}

// TestReadCompressed reads the same module as .ko, .ko.xz, .ko.zst and .ko.gz.
func TestReadCompressed(t *testing.T) {
	raw, err := input.ReadAll(lkdtmPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	compress := map[string]func([]byte) []byte{
		"lkdtm.ko":    func(b []byte) []byte { return b },
		"lkdtm.ko.gz": gzipped,
		"lkdtm.ko.xz": func(b []byte) []byte {
			var buf bytes.Buffer
			w, _ := xz.NewWriter(&buf)
			w.Write(b)
			w.Close()
			return buf.Bytes()
		},
		"lkdtm.ko.zst": func(b []byte) []byte {
			w, _ := zstd.NewWriter(nil)
			return w.EncodeAll(b, nil)
		},
	}
	for name, c := range compress {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c(raw), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Read(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m.Name != "lkdtm" || len(m.Versions) != 68 || len(m.Undefined) != len(lkdtmUndefined) {
			t.Errorf("%s: %s, %d versions, %d undefined", name, m.Name, len(m.Versions), len(m.Undefined))
		}
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestBadInput: files that are not modules give ErrNotModule and a message
// saying what is wrong, never a panic or a partial module.
func TestBadInput(t *testing.T) {
	raw, err := input.ReadAll(lkdtmPath)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile("/proc/self/exe") // an ELF executable
	if err != nil {
		t.Skip("no /proc/self/exe")
	}
	tests := []struct {
		name, want string
		data       []byte
	}{
		{"text", "not an ELF file", []byte("license=GPL\n")},
		{"empty", "not an ELF file", nil},
		{"truncated header", "corrupt or truncated ELF file", raw[:40]},
		{"truncated", "truncated", raw[:len(raw)/2]},
		{"executable", "ELF type ET_EXEC, a module is a relocatable object", exe},
	}
	for _, tt := range tests {
		m, err := Parse(tt.data, tt.name)
		if m != nil || !errors.Is(err, ErrNotModule) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: module %v, error %v; want %q", tt.name, m, err, tt.want)
		}
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.ko")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestNameFromPath(t *testing.T) {
	for in, want := range map[string]string{
		"/lib/modules/x/crc32c-intel.ko": "crc32c_intel", "lkdtm.ko.xz": "lkdtm", "a.b.ko": "a", "noext": "noext",
	} {
		if got := NameFromPath(in); got != want {
			t.Errorf("NameFromPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDebianExportsAgreeWithSymvers reads every module of Debian's real
// package and compares its exports with the package's own Module.symvers,
// which modpost wrote from the same build: each module's exports, their
// GPL-only flags, namespaces and CRCs must be exactly that file's lines.
func TestDebianExportsAgreeWithSymvers(t *testing.T) {
	dir := fixture.DebianModules(t)
	want := readSymversLines(t, filepath.Join(dir, "usr/src/linux-headers-6.1.0-56-amd64/Module.symvers"))
	got := map[string]string{}
	modules := 0
	root := filepath.Join(dir, "lib/modules/6.1.0-56-amd64/kernel")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".ko") {
			return err
		}
		m, err := Read(p)
		if err != nil {
			return err
		}
		modules++
		rel, _ := filepath.Rel(root, p)
		path := strings.TrimSuffix(rel, ".ko")
		for _, e := range m.Exports {
			kind := "EXPORT_SYMBOL"
			if e.GPLOnly {
				kind = "EXPORT_SYMBOL_GPL"
			}
			if !e.HasCRC {
				t.Errorf("%s: %s has no CRC", p, e.Name)
			}
			got[e.Name] = fmt.Sprintf("0x%08x\t%s\t%s\t%s\t%s", e.CRC, e.Name, path, kind, e.Namespace)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if modules != 4023 {
		t.Errorf("%d modules, the package has 4023", modules)
	}
	for name, line := range want {
		if strings.Contains(line, "\tvmlinux\t") {
			continue
		}
		if got[name] != line {
			t.Errorf("Module.symvers: %q\n         read: %q", line, got[name])
		}
		delete(got, name)
	}
	for _, line := range got {
		t.Errorf("export not in Module.symvers: %q", line)
	}
}

// readSymversLines reads Module.symvers into lines by symbol name.
func readSymversLines(t *testing.T, path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 5 {
			t.Fatalf("Module.symvers line %q", sc.Text())
		}
		if _, err := strconv.ParseUint(fields[0], 0, 32); err != nil {
			t.Fatalf("Module.symvers line %q: %v", sc.Text(), err)
		}
		lines[fields[1]] = sc.Text()
	}
	return lines
}
