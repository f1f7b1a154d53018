package modcheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/kmod"
)

// run1A is the kernel of boot run1-A with its Module.symvers and vermagic.
func run1A(t *testing.T) Kernel {
	return Kernel{Table: bootTable(t, "run1-A"), Vermagic: kernelVermagic(t), Symvers: debianSymvers(t)}
}

func debianModule(t *testing.T, rel string) string {
	return filepath.Join(fixture.DebianModules(t), "lib/modules/6.1.0-56-amd64/kernel", rel)
}

// edited writes a copy of the module at path with old replaced by new (of
// the same length) and reads it.
func edited(t *testing.T, path string, old, new []byte) *kmod.Module {
	t.Helper()
	if len(old) != len(new) {
		t.Fatalf("edit changes the length: %q -> %q", old, new)
	}
	data, err := input.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(data, old) != 1 {
		t.Fatalf("%s: %q occurs %d times", path, old, bytes.Count(data, old))
	}
	p := filepath.Join(t.TempDir(), filepath.Base(strings.TrimSuffix(path, ".gz")))
	if err := os.WriteFile(p, bytes.Replace(data, old, new, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return readModule(t, p)
}

func checkOne(t *testing.T, k Kernel, m *kmod.Module) Result {
	t.Helper()
	res, err := Check(k, []*kmod.Module{m})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// summary renders problems as "kind symbol" lines, sorted.
func summary(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %s%s", p.Kind, p.Symbol, p.Dependency))
	}
	slices.Sort(out)
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestOtherKernelsModule checks a real module of another kernel: dummy.ko
// of Debian's 6.1.0-47-amd64 (6.1.170-3). It has __versions, so the kernel
// does not compare the release in vermagic, and the rest of vermagic is
// equal; the CRCs decide. The expected mismatches were computed with
// objcopy -O binary --only-section=__versions and the 6.1.0-56 headers'
// Module.symvers, not with this package.
func TestOtherKernelsModule(t *testing.T) {
	path := filepath.Join(fixture.DebianModules(t), "other/lib/modules/6.1.0-47-amd64/kernel/drivers/net/dummy.ko")
	m := readModule(t, path)
	r := checkOne(t, run1A(t), m)
	var want []string
	for _, s := range strings.Fields(`module_layout netif_carrier_on netif_carrier_off dev_lstats_read skb_clone_tx_timestamp consume_skb
		skb_tstamp_tx __rtnl_link_register alloc_netdev_mqs register_netdevice free_netdev __rtnl_link_unregister
		rtnl_link_unregister ether_setup dev_addr_mod param_ops_int ethtool_op_get_ts_info eth_mac_addr eth_validate_addr`) {
		want = append(want, "bad_crc "+s)
	}
	sameLines(t, "problems", summary(r.Problems), want)
	if r.Verdict != WillNotLoad {
		t.Errorf("verdict %s", r.Verdict)
	}
	for _, p := range r.Problems {
		if p.Symbol == "register_netdevice" && (p.ModuleCRC != 0xf9987923 || p.KernelCRC != 0x63f19d79 || p.Owner != "vmlinux") {
			t.Errorf("register_netdevice: %+v", p)
		}
	}
	if got := r.Problems[0].KernelMessages("dummy"); !slices.Equal(got, []string{"dummy: disagrees about version of symbol module_layout"}) {
		t.Errorf("first problem says %q", got)
	}
}

// TestVermagic: synthetic edits of the vermagic of a copy of the real
// dummy.ko (6.1.0-56): the release alone differs, which the kernel does
// not compare for a module with __versions; then the preempt flag.
func TestVermagic(t *testing.T) {
	path := debianModule(t, "drivers/net/dummy.ko")
	k := run1A(t)
	m := edited(t, path, []byte("vermagic=6.1.0-56-amd64 SMP preempt "), []byte("vermagic=6.1.0-99-amd64 SMP preempt "))
	if r := checkOne(t, k, m); r.Verdict != Loads || len(r.Problems) != 0 {
		t.Errorf("release only: %s %+v", r.Verdict, r.Problems)
	}
	m = edited(t, path, []byte("vermagic=6.1.0-56-amd64 SMP preempt "), []byte("vermagic=6.1.0-56-rt SMP preempt_rt "))
	r := checkOne(t, k, m)
	want := []string{"dummy: version magic '6.1.0-56-rt SMP preempt_rt mod_unload modversions ' should be '6.1.0-56-amd64 SMP preempt mod_unload modversions '"}
	if r.Verdict != WillNotLoad || len(r.Problems) != 1 || !slices.Equal(r.Problems[0].KernelMessages("dummy"), want) {
		t.Errorf("preempt_rt: %s %+v", r.Verdict, r.Problems)
	}
	// Without __versions the whole string is compared.
	m.HasVersions, m.Versions = false, nil
	m.Info.Vermagic = "6.1.0-99-amd64 SMP preempt mod_unload modversions "
	r = checkOne(t, k, m)
	if !slices.Contains(summary(r.Problems), "bad_vermagic ") {
		t.Errorf("no __versions, other release: %+v", r.Problems)
	}
}

// TestProprietaryLicense: a copy of the real lkdtm.ko with its license
// edited to "Proprietary" (synthetic). The kernel hides GPL-only exports
// from it: each symbol it uses that Module.symvers lists as
// EXPORT_SYMBOL_GPL must be reported unknown, and nothing else.
func TestProprietaryLicense(t *testing.T) {
	k := run1A(t)
	m := edited(t, lkdtmPath, []byte("description=Kernel crash testing module\x00license=GPL\x00"),
		[]byte("description=Kernel crash test\x00license=Proprietary\x00\x00\x00"))
	if m.Info.License != "Proprietary" {
		t.Fatalf("license %q", m.Info.License)
	}
	var want []string
	for _, u := range m.Undefined {
		if k.Symvers[u.Name].GPLOnly {
			want = append(want, "unknown_symbol "+u.Name)
		}
	}
	if len(want) == 0 {
		t.Fatal("lkdtm uses no GPL-only export?")
	}
	r := checkOne(t, k, m)
	sameLines(t, "problems", summary(r.Problems), want)
	for _, p := range r.Problems {
		if !p.GPLOnly || p.License != "Proprietary" || p.Owner != "vmlinux" {
			t.Errorf("%+v", p)
		}
	}
	// A weak reference to a GPL-only export stays unresolved, which the
	// kernel allows (synthetic: the first one made weak).
	for i, u := range m.Undefined {
		if u.Name == strings.Fields(want[0])[1] {
			m.Undefined[i].Weak = true
		}
	}
	r = checkOne(t, k, m)
	sameLines(t, "problems with a weak reference", summary(r.Problems), want[1:])
	for i := range m.Undefined {
		m.Undefined[i].Weak = false
	}
	// The same answer from kallsyms alone: the __start/__stop___ksymtab_gpl
	// range, without Module.symvers.
	k.Symvers = nil
	r = checkOne(t, k, m)
	sameLines(t, "problems without Module.symvers", summary(r.Problems), want)
}

// TestMissingDependency: the real vxlan.ko depends on udp_tunnel and
// ip6_udp_tunnel, which no boot loaded. Alone it cannot load; the symbols
// it lacks are those Module.symvers says the two export. Given with them
// in one run, all three load, the two first.
func TestMissingDependency(t *testing.T) {
	k := run1A(t)
	vxlan := readModule(t, debianModule(t, "drivers/net/vxlan/vxlan.ko"))
	want := []string{"missing_dependency udp_tunnel", "missing_dependency ip6_udp_tunnel"}
	for _, u := range vxlan.Undefined {
		if mod := k.Symvers[u.Name].Module; mod == "udp_tunnel" || mod == "ip6_udp_tunnel" {
			want = append(want, "unknown_symbol "+u.Name)
		}
	}
	r := checkOne(t, k, vxlan)
	sameLines(t, "problems", summary(r.Problems), want)
	for _, p := range r.Problems {
		if p.Kind == UnknownSymbol && (!p.OwnerNotLoaded || p.InTable) {
			t.Errorf("%+v", p)
		}
	}
	udp := readModule(t, debianModule(t, "net/ipv4/udp_tunnel.ko"))
	udp6 := readModule(t, debianModule(t, "net/ipv6/ip6_udp_tunnel.ko"))
	res, err := Check(k, []*kmod.Module{vxlan, udp, udp6})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Verdict != Loads || len(r.Problems) != 0 || r.Unchecked != (Unchecked{}) {
			t.Errorf("%s: %s %+v %+v", r.Module.Name, r.Verdict, r.Problems, r.Unchecked)
		}
	}
	if res[0].LoadOrder != 3 {
		t.Errorf("vxlan loads at %d", res[0].LoadOrder)
	}
}

// TestMissingNamespace: the real ansi_cprng.ko imports CRYPTO_INTERNAL and
// loads; a copy with the import renamed (synthetic) must be refused for
// each symbol Module.symvers puts in that namespace.
func TestMissingNamespace(t *testing.T) {
	k := run1A(t)
	path := debianModule(t, "crypto/ansi_cprng.ko")
	if r := checkOne(t, k, readModule(t, path)); r.Verdict != Loads || len(r.Problems) != 0 {
		t.Errorf("ansi_cprng: %s %+v", r.Verdict, r.Problems)
	}
	m := edited(t, path, []byte("import_ns=CRYPTO_INTERNAL\x00"), []byte("import_ns=CRYPTO_INTERNAX\x00"))
	var want []string
	for _, u := range m.Undefined {
		if k.Symvers[u.Name].Namespace == "CRYPTO_INTERNAL" {
			want = append(want, "missing_namespace "+u.Name)
		}
	}
	if len(want) == 0 {
		t.Fatal("ansi_cprng uses nothing of CRYPTO_INTERNAL?")
	}
	r := checkOne(t, k, m)
	sameLines(t, "problems", summary(r.Problems), want)
	msgs := r.Problems[0].KernelMessages("ansi_cprng")
	wantMsgs := []string{
		"ansi_cprng: module uses symbol (" + r.Problems[0].Symbol + ") from namespace CRYPTO_INTERNAL, but does not import it.",
		"ansi_cprng: Unknown symbol " + r.Problems[0].Symbol + " (err -22)",
	}
	if !slices.Equal(msgs, wantMsgs) {
		t.Errorf("messages %q", msgs)
	}
	// Without Module.symvers the namespaces are unknown: said, not guessed.
	k.Symvers = nil
	r = checkOne(t, k, m)
	if r.Verdict != Loads || r.Unchecked.Namespaces != len(m.Undefined) {
		t.Errorf("without Module.symvers: %s, unchecked %+v", r.Verdict, r.Unchecked)
	}
}

// TestCRCMismatch: a copy of the real dummy.ko with the __versions CRC of
// register_netdevice (0x63f19d79, little-endian in the file) changed
// (synthetic).
func TestCRCMismatch(t *testing.T) {
	m := edited(t, debianModule(t, "drivers/net/dummy.ko"),
		[]byte("\x79\x9d\xf1\x63\x00\x00\x00\x00register_netdevice\x00"), []byte("\x78\x9d\xf1\x63\x00\x00\x00\x00register_netdevice\x00"))
	r := checkOne(t, run1A(t), m)
	sameLines(t, "problems", summary(r.Problems), []string{"bad_crc register_netdevice"})
	want := []string{"dummy: disagrees about version of symbol register_netdevice", "dummy: Unknown symbol register_netdevice (err -22)"}
	if got := r.Problems[0].KernelMessages("dummy"); !slices.Equal(got, want) || r.Verdict != WillNotLoad {
		t.Errorf("%s %q", r.Verdict, got)
	}
}

// TestHiddenAddresses: the run1-A table with every address zeroed
// (synthetic: what a reader without CAP_SYSLOG sees) no longer places
// vmlinux's exports in the GPL-only range. For a module that is not
// GPL-compatible every export it uses is then of unknown status, and the
// verdict is "cannot tell"; Module.symvers settles it.
func TestHiddenAddresses(t *testing.T) {
	var hidden []byte
	for _, line := range strings.SplitAfter(string(fixture.Read(t, fixture.Path(debian+"/boots/run1-A/kallsyms.txt.gz"))), "\n") {
		if len(line) > 16 {
			line = "0000000000000000" + line[16:]
		}
		hidden = append(hidden, line...)
	}
	tab, err := kallsyms.ParseBytes(hidden, kallsyms.Options{})
	if err != nil || !tab.Hidden() {
		t.Fatalf("hidden table: %v", err)
	}
	m := edited(t, lkdtmPath, []byte("description=Kernel crash testing module\x00license=GPL\x00"),
		[]byte("description=Kernel crash test\x00license=Proprietary\x00\x00\x00"))
	r := checkOne(t, Kernel{Table: tab}, m)
	if r.Verdict != CannotTell || len(r.Problems) != len(m.Undefined) {
		t.Errorf("%s, %d problems for %d symbols", r.Verdict, len(r.Problems), len(m.Undefined))
	}
	for _, p := range r.Problems {
		if p.Kind != GPLUnknown || p.Certain || p.Owner != "vmlinux" {
			t.Errorf("%+v", p)
		}
	}
	symvers := debianSymvers(t)
	var want []string
	for _, u := range m.Undefined {
		if symvers[u.Name].GPLOnly {
			want = append(want, "unknown_symbol "+u.Name)
		}
	}
	r = checkOne(t, Kernel{Table: tab, Symvers: symvers}, m)
	sameLines(t, "with Module.symvers", summary(r.Problems), want)
}
