package kallsyms_test

import (
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
)

// TestExportOfSymbol checks export status per symbol on run2-B's real table:
// module symbols by the case of the letter the kernel printed (T fuse_mount_destroy
// [fuse] is exported, t lkdtm_BUG [lkdtm] is not), core symbols by __ksymtab_*.
func TestExportOfSymbol(t *testing.T) {
	tab, err := kallsyms.Open(fixture.Path("debian-6.1.0-56-amd64/boots/run2-B/kallsyms.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want kallsyms.Export
	}{
		{"fuse:fuse_mount_destroy", kallsyms.Exported},
		{"sha3_generic:crypto_sha3_init", kallsyms.Exported},
		{"lkdtm:lkdtm_BUG", kallsyms.NotExported},
		{"vmlinux:kernel_read", kallsyms.Exported},
		{"vmlinux:register_kprobe", kallsyms.ExportedGPL},
		{"vmlinux:vfs_read", kallsyms.NotExported},
	} {
		idx := tab.Find(tc.name)
		if len(idx) != 1 {
			t.Fatalf("Find(%q) = %v, want one symbol", tc.name, idx)
		}
		if got := tab.ExportOfSymbol(idx[0]); got != tc.want {
			t.Errorf("ExportOfSymbol(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
