package probe

import (
	"os"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// FuzzParseFilterFunctions: no panic; a parsed list counts every line that
// is not an invalid-address line, and finds each name it counted.
func FuzzParseFilterFunctions(f *testing.F) {
	f.Add([]byte("vfs_read\ntype_show\ntype_show\nlkdtm_do_action [lkdtm]\n__ftrace_invalid_address___620\n"))
	f.Add([]byte("foo [bar\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		ff, err := ParseFilterFunctions(data)
		if err != nil {
			return
		}
		lines := strings.Count(string(data), "\n")
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		if ff.Len()+ff.Invalid() != lines {
			t.Fatalf("%d functions + %d invalid, %d lines", ff.Len(), ff.Invalid(), lines)
		}
		for k, n := range ff.counts {
			if n <= 0 || ff.Count(k.name, k.module) != n || k.name == "" {
				t.Fatalf("count of %+v = %d", k, n)
			}
		}
	})
}

// FuzzParseFilterFunctionsAddrs: no panic; every function has as many
// sites as it is counted.
func FuzzParseFilterFunctionsAddrs(f *testing.F) {
	f.Add([]byte("ffffffff99639ea0 type_show\nffffffff996d47e0 type_show\nffffffffc085b090 lkdtm_do_action [lkdtm]\n"))
	f.Add([]byte("0 __ftrace_invalid_address___620\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ff, err := ParseFilterFunctionsAddrs(data)
		if err != nil {
			return
		}
		for k, n := range ff.counts {
			if sites, ok := ff.Sites(k.name, k.module); !ok || len(sites) != n {
				t.Fatalf("%+v: %d sites, counted %d", k, len(sites), n)
			}
		}
	})
}

// FuzzParseBlacklist: no panic; every entry has a name and a range that
// does not run backwards.
func FuzzParseBlacklist(f *testing.F) {
	f.Add([]byte("0xffffffff99632980-0xffffffff99632b20\tdo_int3\n0x0000000000000000-0x0000000000000000\texc_page_fault [x]\n"))
	f.Add([]byte("0x1-0x\tfoo\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bl, err := ParseBlacklist(data)
		if err != nil {
			return
		}
		for _, e := range bl.Entries {
			if e.Name == "" || e.End < e.Start || !bl.Listed(e.Name, e.Module) {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

// FuzzParseConfig: no panic; a parsed configuration has an option.
func FuzzParseConfig(f *testing.F) {
	f.Add(fixture.Read(f, "../machine/testdata/fc-6.18.44-tracing/proc/config.gz")[:2000])
	f.Add([]byte("# CONFIG_KPROBES is not set\nCONFIG_X=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if len(c.values) == 0 {
			t.Fatal("a configuration without options parsed")
		}
	})
}

// FuzzParseBTF: no panic on any blob, starting from the machine's real BTF
// (its first 4 KiB, with the header's lengths as they are) when there is
// one.
func FuzzParseBTF(f *testing.F) {
	if data, err := os.ReadFile("/sys/kernel/btf/vmlinux"); err == nil {
		f.Add(data[:4096])
	}
	f.Add([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0,
		1, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 'f', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBTF(data)
		if err != nil {
			return
		}
		if b.Funcs() > len(data)/btfTypeLen {
			t.Fatalf("%d functions in %d bytes", b.Funcs(), len(data))
		}
	})
}

// FuzzParseClone: no panic; a clone's base and suffix make its name.
func FuzzParseClone(f *testing.F) {
	for _, s := range []string{"rht_key_get_hash.isra.0", "foo.part.0.cold", "foo.llvm.123", "a.b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		base, c, ok := ParseClone(name)
		if ok && (base+c.Suffix != name || base == "") {
			t.Fatalf("ParseClone(%q) = %q, %+v", name, base, c)
		}
	})
}
