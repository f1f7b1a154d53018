package modcheck

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/kmod"
)

func TestParseSymvers(t *testing.T) {
	// Lines of the real Debian 6.1.0-56 Module.symvers.
	in := "0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n" +
		"0x669aff23\tcrypto_cipher_setkey\tvmlinux\tEXPORT_SYMBOL_GPL\tCRYPTO_INTERNAL\n" +
		"0x2559e4dd\tmd_integrity_add_rdev\tdrivers/md/md-mod\tEXPORT_SYMBOL\t\n"
	got, err := ParseSymvers(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Symvers{
		"phys_base":             {CRC: 0x4c9d28b0, Module: "vmlinux"},
		"crypto_cipher_setkey":  {CRC: 0x669aff23, Module: "vmlinux", GPLOnly: true, Namespace: "CRYPTO_INTERNAL"},
		"md_integrity_add_rdev": {CRC: 0x2559e4dd, Module: "md_mod"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	for _, bad := range []string{
		"0x4c9d28b0 phys_base vmlinux EXPORT_SYMBOL\n",
		"0xzz\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n",
		"0x1\tphys_base\tvmlinux\tEXPORT_SYMBOL_GPL_FUTURE\t\n",
		"0x100000000\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n",
	} {
		if _, err := ParseSymvers(strings.NewReader(bad)); err == nil || !strings.HasPrefix(err.Error(), "line 1: ") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}

func TestSameMagic(t *testing.T) {
	const k = "6.1.0-56-amd64 SMP preempt mod_unload modversions "
	tests := []struct {
		module  string
		hasCRCs bool
		want    bool
	}{
		{k, true, true},
		{k, false, true},
		{"6.1.0-47-amd64 SMP preempt mod_unload modversions ", true, true},
		{"6.1.0-47-amd64 SMP preempt mod_unload modversions ", false, false},
		{"6.1.0-56-amd64 SMP mod_unload modversions ", true, false},
		{"6.1.0-56-amd64", true, false},
		{"", true, false},
	}
	for _, tt := range tests {
		if got := sameMagic(tt.module, k, tt.hasCRCs); got != tt.want {
			t.Errorf("sameMagic(%q, crcs %v) = %v", tt.module, tt.hasCRCs, got)
		}
	}
}

// TestNoDataSymbols: the real Firecracker 6.18 table has no
// CONFIG_KALLSYMS_ALL, so no __ksymtab_ symbols: exports are unknown, and
// Check says so instead of calling every symbol unknown.
func TestNoDataSymbols(t *testing.T) {
	tab, err := kallsyms.ParseBytes(fixture.Read(t, fixture.Path("firecracker-6.18.44/kallsyms.txt.gz")), kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := kmod.Read(lkdtmPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(Kernel{Table: tab}, []*kmod.Module{m}); !errors.Is(err, ErrNoExports) {
		t.Errorf("error %v, want ErrNoExports", err)
	}
}

// TestSymversWithoutDataSymbols: with Module.symvers the exports of
// vmlinux come from it when the table has no data symbols. The Debian
// table with its data symbols removed stands for such a kernel; the real
// lkdtm.ko still loads against it, with every CRC checked.
func TestSymversWithoutDataSymbols(t *testing.T) {
	var text []byte
	for _, line := range strings.SplitAfter(string(fixture.Read(t, fixture.Path(debian+"/boots/run1-A/kallsyms.txt.gz"))), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && strings.ContainsAny(f[1], "tTwW") {
			text = append(text, line...)
		}
	}
	tab, err := kallsyms.ParseBytes(text, kallsyms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tab.HasDataSymbols() {
		t.Fatal("text-only table has data symbols")
	}
	m, err := kmod.Read(lkdtmPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Check(Kernel{Table: tab, Symvers: debianSymvers(t), Vermagic: kernelVermagic(t)}, []*kmod.Module{m})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Verdict != Loads || r.Unchecked != (Unchecked{}) || r.Resolved != len(m.Undefined) {
		t.Errorf("%s %+v %+v", r.Verdict, r.Problems, r.Unchecked)
	}
}
