package decode

import (
	"path/filepath"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/klog"
)

// TestSummaryGolden checks the summary lines of a few reports, written by
// hand from the logs: the title line, the first frame that is not reporting
// or entry code, the CPU:/Tainted: line.
func TestSummaryGolden(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"run2-B/oops-03-lkdtm-EXCEPTION.txt",
			"null-deref\tBUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]\tlkdtm_EXCEPTION+0x5/0x20 [lkdtm]\tCPU 1 PID 797 sh\t6.1.0-56-amd64\tG D OE\tuncertain: 2 unreliable (?) frames"},
		{"run1-A/oops-01-lkdtm-WARNING.txt",
			"warning\tWARNING in lkdtm_WARNING [lkdtm]\tlkdtm_WARNING+0x13/0x20 [lkdtm]\tCPU 1 PID 788 sh\t6.1.0-56-amd64\tG OE\tuncertain: 7 unreliable (?) frames"},
		{"run2-B/oops-01-lkdtm-HUNG_TASK.txt",
			"hung-task\tINFO: task hung in direct_entry.cold [lkdtm]\tdirect_entry.cold+0x18/0x24 [lkdtm]\tPID 780 sh\t6.1.0-56-amd64\tG OE\tuncertain: 4 unreliable (?) frames"},
		{"run2-B/oops-04-lkdtm-USERCOPY_SLAB_SIZE_TO.txt",
			"usercopy\tusercopy: Kernel memory exposure attempt detected from SLUB object 'kmalloc-1k' in do_usercopy_slab_size.cold [lkdtm]\tdo_usercopy_slab_size.cold+0x18d/0x1a6 [lkdtm]\tCPU 1 PID 801 sh\t6.1.0-56-amd64\tG D OE\tuncertain: 4 unreliable (?) frames"},
		{"run3-C/oops-06-lkdtm-SLAB_FREE_DOUBLE.txt",
			"slub\tBUG lkdtm-heap-double_free: Slab has 0 allocated objects but 1 are to be freed in direct_entry.cold [lkdtm]\tdirect_entry.cold+0x18/0x24 [lkdtm]\tCPU 1 PID 808 sh\t6.1.0-56-amd64\tG B D OE\tuncertain: 11 unreliable (?) frames"},
		{"run1-A/oops-05-sysrq-c.txt",
			"panic\tKernel panic - not syncing: sysrq triggered crash in sysrq_handle_crash\tsysrq_handle_crash+0x16/0x20\tCPU 1 PID 1 init\t6.1.0-56-amd64\tG W OE\tuncertain: 11 unreliable (?) frames"},
		{"run2-B/oops-10-lkdtm-SOFTLOCKUP.txt",
			"soft-lockup\tBUG: soft lockup in lkdtm_SOFTLOCKUP [lkdtm]\tlkdtm_SOFTLOCKUP+0xe/0x10 [lkdtm]\tCPU 0 PID 825 sh\t6.1.0-56-amd64\tG D OE\tuncertain: 8 unreliable (?) frames"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			boot := filepath.Dir(tc.file)
			log := string(fixture.Read(t, fixture.Path(filepath.Join(debian, "boots", tc.file))))
			reps := klog.Parse(log)
			if len(reps) == 0 {
				t.Fatal("no report")
			}
			got := New(bootTable(t, boot), Options{}).Decode(reps[0]).Summary
			if got.Line() != tc.want {
				t.Errorf("got  %q\nwant %q", got.Line(), tc.want)
			}
		})
	}
}

func TestSummaryFields(t *testing.T) {
	log := string(fixture.Read(t, fixture.Path(filepath.Join(debian, "boots/run2-B/oops-03-lkdtm-EXCEPTION.txt"))))
	s := New(bootTable(t, "run2-B"), Options{}).Decode(klog.Parse(log)[0]).Summary
	if s.Module != "lkdtm" || s.ModuleTaint != "OE" || s.GuiltyFunc != "lkdtm_EXCEPTION" {
		t.Errorf("module %q taint %q func %q", s.Module, s.ModuleTaint, s.GuiltyFunc)
	}
	want := []string{"D: kernel died recently (oops or BUG)", "O: out-of-tree module loaded", "E: unsigned module loaded"}
	if len(s.TaintWords) != len(want) {
		t.Fatalf("taint words %q, want %q", s.TaintWords, want)
	}
	for i := range want {
		if s.TaintWords[i] != want[i] {
			t.Errorf("taint word %d: %q, want %q", i, s.TaintWords[i], want[i])
		}
	}
}

func TestNeverGuilty(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"dump_stack_lvl", true}, {"panic", true}, {"__warn", true}, {"report_bug", true},
		{"handle_bug", true}, {"exc_invalid_op", true}, {"asm_exc_page_fault", true},
		{"page_fault_oops", true}, {"_raw_spin_lock_irqsave", true}, {"kmem_cache_free", true},
		{"refcount_warn_saturate", true}, {"__list_add_valid.cold", true}, {"usercopy_abort", true},
		{"entry_SYSCALL_64_after_hwframe", true}, {"do_syscall_64", true}, {"ret_from_fork", true},
		{"lkdtm_EXCEPTION", false}, {"vfs_write", false}, {"direct_entry.cold", false},
		{"sysrq_handle_crash", false}, {"panicking", false},
	}
	for _, tc := range tests {
		if got := NeverGuilty(tc.name); got != tc.want {
			t.Errorf("NeverGuilty(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRustTitle: a real 6.12 report of a Rust panic (syzkaller test 748)
// names its guilty function by its demangled path, as syzkaller's TITLE
// does, while the guilty frame stays the symbol the kernel printed.
func TestRustTitle(t *testing.T) {
	log := string(fixture.Read(t, fixture.Path("crashlogs/syzkaller/linux/report/748")))
	s := New(emptyTable(t), Options{}).Decode(klog.Parse(log)[0]).Summary
	const want = "kernel BUG in <rust_binder::process::Process>::update_ref"
	if s.Title != want {
		t.Errorf("title %q, want %q", s.Title, want)
	}
	const guilty = "_RNvMs3_NtCshgDM7dBCdno_11rust_binder7processNtB5_7Process10update_ref+0x17e5/0x1860"
	if s.Guilty != guilty {
		t.Errorf("guilty %q, want %q", s.Guilty, guilty)
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"_RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt", "core::panicking::panic_fmt"},
		{"_RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt.llvm.42", "core::panicking::panic_fmt"},
		{"_Rgarbage", "_Rgarbage"}, // not a v0 symbol: as printed
		{"_raw_spin_lock", "_raw_spin_lock"},
		{"_Z8fakeNameiii", "_Z8fakeNameiii"}, // C++ is not demangled: the kernel has none
	}
	for _, tt := range tests {
		if got := displayName(tt.in); got != tt.want {
			t.Errorf("displayName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
