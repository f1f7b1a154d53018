package kallsyms

import (
	"reflect"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// indexInputs are the real tables an index is checked on, plus synthetic
// shapes real tables lack: a table whose addresses need 64 bits apart (wide),
// and a hidden one.
func indexInputs(tb testing.TB) map[string][]byte {
	tb.Helper()
	in := map[string][]byte{
		"debian-run1-A": fixture.Read(tb, fixture.Path("debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz")),
		"debian-run2-B": fixture.Read(tb, fixture.Path("debian-6.1.0-56-amd64/boots/run2-B/kallsyms.txt.gz")),
		"system-map":    fixture.Read(tb, fixture.Path("debian-6.1.0-56-amd64/System.map.gz")),
		"6.18":          fixture.Read(tb, fixture.Path("firecracker-6.18.44/kallsyms.txt.gz")),
		// Synthetic: half the symbols far below the rest, so that the
		// addresses are stored as plain 64-bit values.
		"synthetic-wide": []byte("0000000000001000 T low_a\n0000000000002000 T low_b\n" +
			"ffffffff81000000 T _stext\nffffffff81000010 T high\nffffffff81000100 T _etext\n"),
		// Synthetic: what an unprivileged reader sees.
		"synthetic-hidden": []byte("0000000000000000 T _stext\n0000000000000000 t foo\n0000000000000000 t bar\t[mod]\n"),
	}
	return in
}

// TestIndexRoundTripInternals checks that a table loaded from its index has
// exactly the parsed table's arrays, field by field.
func TestIndexRoundTripInternals(t *testing.T) {
	for name, text := range indexInputs(t) {
		t.Run(name, func(t *testing.T) {
			want, err := ParseBytes(text, Options{Source: name})
			if err != nil {
				t.Fatal(err)
			}
			x, err := LoadIndex(want.AppendIndex(nil, []byte("meta")), name)
			if err != nil {
				t.Fatal(err)
			}
			got := x.Table
			if string(x.Meta) != "meta" {
				t.Errorf("meta = %q", x.Meta)
			}
			want.index()
			for _, f := range []struct {
				name      string
				got, want any
			}{
				{"source", got.source, want.source},
				{"hidden", got.hidden, want.hidden},
				{"pageSize", got.pageSize, want.pageSize},
				{"types", got.types, want.types},
				{"names", got.names, want.names},
				{"nameOff", got.nameOff.all(), want.nameOff.all()}, // packed when parsed, plain when mapped
				{"runs", got.runs, want.runs},
				{"mods", got.mods, want.mods},
				{"core", got.core, want.core},
				{"addrs", got.addrs, want.addrs},
				{"nameIndex", got.nameIndex, want.nameIndex},
			} {
				if !reflect.DeepEqual(f.got, f.want) {
					t.Errorf("%s differs after the round trip", f.name)
				}
			}
			if c := got.addrs; c.off != nil && cap(c.off)-len(c.off) != scanWindow {
				t.Errorf("offsets carry %d padding entries, want %d", cap(c.off)-len(c.off), scanWindow)
			}
		})
	}
}
