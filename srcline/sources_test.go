package srcline_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ksym-dev/ksym/srcline"
)

// TestSources looks up running addresses of run1-A (KASLR offset
// 0x18600000) through Sources: a core frame placed by matching the table
// with the vmlinux (expected chain: llvm-symbolizer --inlining on the
// link-time address minus one), an LKDTM frame, and a module without a
// debug file, whose ObjectError names it.
func TestSources(t *testing.T) {
	tab := bootTable(t, "run1-A")
	src := &srcline.Sources{Paths: []string{"testdata/lkdtm.ko.xz"}, Table: tab}
	defer src.Close()
	fs, err := src.LookupModule("lkdtm", "direct_entry.cold", 0x18, true)
	if got := fmt.Sprint(fs); err != nil || got != "[{direct_entry /usr/src/lkdtm-6.1/src/core.c lkdtm-6.1/src/core.c 329 2 false}]" {
		t.Errorf("lkdtm: %s, %v", got, err)
	}
	_, err = src.LookupModule("ext4", "ext4_file_write_iter", 0, false)
	var oe *srcline.ObjectError
	if !errors.As(err, &oe) || oe.Object != "module ext4" || !errors.Is(err, srcline.ErrNotFound) {
		t.Errorf("ext4: %v", err)
	}
	if _, err := src.LookupCore(0xffffffff9a052e10, true); !errors.Is(err, srcline.ErrNotFound) {
		t.Errorf("core without vmlinux: %v", err)
	}
	vmlinux := debianVmlinux(t)
	src2 := &srcline.Sources{Paths: []string{vmlinux}, Table: tab}
	defer src2.Close()
	schedule := tab.Find("schedule")
	if len(schedule) != 1 {
		t.Fatal("schedule not once in the table")
	}
	fs, err = src2.LookupCore(tab.Addr(schedule[0])+0x40, true)
	if err != nil {
		t.Fatal(err)
	}
	want := "blk_flush_plug debian/build/build_amd64_none_amd64/include/linux/blkdev.h:1026:3\n" +
		"sched_submit_work debian/build/build_amd64_none_amd64/kernel/sched/core.c:6640:2\n" +
		"schedule debian/build/build_amd64_none_amd64/kernel/sched/core.c:6657:2\n"
	if got := chain(fs, true); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}
