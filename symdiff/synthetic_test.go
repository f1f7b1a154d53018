package symdiff_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/symdiff"
)

// The tables in this file are synthetic edge cases, written by hand to pin
// down one rule each; the real tables are compared in fixture_test.go.

// layout places a synthetic table in memory: the core base (_text) and each
// module's base. hidden writes every address as zero, as the kernel shows
// them to an unprivileged reader.
type layout struct {
	core   uint64
	mods   map[string]uint64
	hidden bool
}

var (
	boot1 = layout{core: 0xffffffff81000000, mods: map[string]uint64{"m1": 0xffffffffc0001000, "m2": 0xffffffffc0010000}}
	boot2 = layout{core: 0xffffffff9a000000, mods: map[string]uint64{"m1": 0xffffffffc0a05000, "m2": 0xffffffffc0100000, "bpf": 0xffffffffa0001000}}
	// boot3 loads m2 below m1, so module lines interleave differently.
	boot3  = layout{core: 0xffffffff8c200000, mods: map[string]uint64{"m1": 0xffffffffc0200000, "m2": 0xffffffffc0002000}}
	hidden = layout{hidden: true}
)

// synth builds a table from spec lines "TYPE NAME OFFSET [MODULE]". OFFSET
// is hex, added to the core base or the module's base; "=OFFSET" is an
// absolute value (a per-CPU offset).
func synth(t *testing.T, l layout, spec string) *kallsyms.Table {
	t.Helper()
	text, err := synthText(l, spec)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := kallsyms.ParseBytes([]byte(text), kallsyms.Options{Source: "synthetic"})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// synthText writes the kallsyms text of a spec (see synth).
func synthText(l layout, spec string) (string, error) {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(spec), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			return "", fmt.Errorf("bad spec line %q", line)
		}
		base := l.core
		if len(f) == 4 {
			base = l.mods[strings.Trim(f[3], "[]")]
		}
		off := f[2]
		if strings.HasPrefix(off, "=") {
			off, base = off[1:], 0
		}
		v, err := strconv.ParseUint(off, 16, 64)
		if err != nil {
			return "", fmt.Errorf("bad offset in %q", line)
		}
		if l.hidden {
			base, v = 0, 0
		}
		fmt.Fprintf(&b, "%016x %s %s", base+v, f[0], f[1])
		if len(f) == 4 {
			b.WriteString("\t" + f[3])
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// describe renders a result in a compact form for exact comparison: one
// line per difference, then modules in one table only, then the verdict.
func describe(r *symdiff.Result) string {
	var b strings.Builder
	pos := func(s symdiff.Symbol) string {
		if s.Relative {
			return fmt.Sprintf("+%#x", s.Offset)
		}
		return fmt.Sprintf("%#x", s.Addr)
	}
	for _, m := range r.Modules {
		mod := m.Name
		if mod == "" {
			mod = "vmlinux"
		}
		for _, c := range m.Renamed {
			fmt.Fprintf(&b, "renamed %s %c %s -> %c %s\n", mod, c.A.Type, c.A.Name, c.B.Type, c.B.Name)
		}
		for _, s := range m.Removed {
			fmt.Fprintf(&b, "removed %s %c %s %s\n", mod, s.Type, s.Name, pos(s))
		}
		for _, s := range m.Added {
			fmt.Fprintf(&b, "added %s %c %s %s\n", mod, s.Type, s.Name, pos(s))
		}
		for _, c := range m.TypeChanged {
			fmt.Fprintf(&b, "type %s %s %c -> %c\n", mod, c.A.Name, c.A.Type, c.B.Type)
		}
		for _, c := range m.Resized {
			fmt.Fprintf(&b, "resized %s %s %#x -> %#x\n", mod, c.A.Name, c.A.Size, c.B.Size)
		}
		for _, c := range m.Moved {
			fmt.Fprintf(&b, "moved %s %s %s -> %s\n", mod, c.A.Name, pos(c.A), pos(c.B))
		}
	}
	for _, m := range r.OnlyInA {
		fmt.Fprintf(&b, "only in A: %s (%d)\n", m.Name, m.Symbols)
	}
	for _, m := range r.OnlyInB {
		fmt.Fprintf(&b, "only in B: %s (%d)\n", m.Name, m.Symbols)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	b.WriteString(r.Verdict())
	return b.String()
}

// kernel is a small core kernel with one module; the cases change it.
const kernel = `
A __per_cpu_start =0
A pcpu_hot =40
T _text 0
T _stext 0
T startup_64 0
t foo 100
t bar 200
t baz 300
T _etext 1000
r __func__.0 2000
r __func__.0 2010
r __func__.0 2020
D _end 3000
t m1_init 0 [m1]
t m1_exit 40 [m1]
t m1_helper 80 [m1]
r __func__.0 0 [m1]
`

// synthCase compares table a laid out as la with b laid out as lb; want is
// what describe prints.
type synthCase struct {
	name   string
	a, b   string
	la, lb layout
	opts   symdiff.Options
	want   string
}

func TestCompareSynthetic(t *testing.T) {
	tests := []synthCase{{
		name: "same build, other KASLR offset and module address",
		a:    kernel, b: kernel, la: boot1, lb: boot2,
		want: "equivalent: same symbols, types, sizes and positions relative to the kernel and module bases; " +
			"kernel base moved by +0x19000000 (KASLR), 1 module loaded at other addresses",
	}, {
		name: "compiler clone suffixes are renames, cold parts pair with cold parts",
		a: `T _text 0
t foo 100
t bar 200
t baz.llvm.123 300
t qux.constprop.0 400
t foo.cold 900
T _etext 1000`,
		b: `T _text 0
t foo.isra.0 100
t bar.part.0 200
t baz.llvm.456 300
t qux 400
t foo.isra.0.cold 900
T _etext 1000`,
		la: boot1, lb: boot1,
		want: `renamed vmlinux t foo -> t foo.isra.0
renamed vmlinux t bar -> t bar.part.0
renamed vmlinux t baz.llvm.123 -> t baz.llvm.456
renamed vmlinux t qux.constprop.0 -> t qux
renamed vmlinux t foo.cold -> t foo.isra.0.cold
differ: 5 renamed`,
	}, {
		name: "a rename that also changed type and moved is still one rename",
		a:    "T _text 0\nt foo 100\nT _etext 1000",
		b:    "T _text 0\nT foo.constprop.0 180\nT _etext 1000",
		la:   boot1, lb: boot2,
		want: "renamed vmlinux t foo -> T foo.constprop.0\nresized vmlinux _text 0x100 -> 0x180\ndiffer: 1 renamed, 1 resized",
	}, {
		name: "numbered statics are not renames; a clone of a name still present is added",
		a:    "T _text 0\nt foo 100\nr __func__.0 200\nT _etext 1000",
		b:    "T _text 0\nt foo 100\nt foo.cold 180\nr __func__.1 200\nT _etext 1000",
		la:   boot1, lb: boot1,
		want: `removed vmlinux r __func__.0 +0x200
added vmlinux t foo.cold +0x180
added vmlinux r __func__.1 +0x200
resized vmlinux foo 0x100 -> 0x80
differ: 2 added, 1 removed, 1 resized`,
	}, {
		name: "duplicate names: one copy replaced, the others paired by position",
		a:    kernel,
		b:    strings.Replace(kernel, "r __func__.0 2010", "r __key.1 2010", 1),
		la:   boot1, lb: boot3,
		want: `removed vmlinux r __func__.0 +0x2010
added vmlinux r __key.1 +0x2010
differ: 1 added, 1 removed`,
	}, {
		name: "duplicate names: a copy inserted before the others",
		a:    "T _text 0\nr _rs.1 100\nr x 108\nr _rs.1 110\nr y 118\nT _etext 1000",
		b:    "T _text 0\nr _rs.1 f0\nr _rs.1 100\nr x 108\nr _rs.1 110\nr y 118\nT _etext 1000",
		la:   boot1, lb: boot1,
		want: "added vmlinux r _rs.1 +0xf0\nresized vmlinux _text 0x100 -> 0xf0\ndiffer: 1 added, 1 resized",
	}, {
		name: "type change",
		a:    kernel,
		b:    strings.Replace(kernel, "t bar 200", "T bar 200", 1),
		la:   boot1, lb: boot2,
		want: "type vmlinux bar t -> T\ndiffer: 1 changed type",
	}, {
		name: "resized and moved",
		a:    kernel,
		b:    strings.Replace(kernel, "t bar 200", "t bar 240", 1),
		la:   boot1, lb: boot2,
		want: `resized vmlinux foo 0x100 -> 0x140
resized vmlinux bar 0x100 -> 0xc0
moved vmlinux bar +0x200 -> +0x240
differ: 2 resized, 1 moved`,
	}, {
		name: "module symbols move with their module, not with the kernel",
		a:    kernel,
		b:    strings.Replace(kernel, "t m1_helper 80 [m1]", "t m1_helper 90 [m1]", 1),
		la:   boot1, lb: boot3,
		want: `resized m1 m1_exit 0x40 -> 0x50
moved m1 m1_helper +0x80 -> +0x90
differ: 1 resized, 1 moved`,
	}, {
		name: "module only in B",
		a:    kernel,
		b:    kernel + "t m2_init 0 [m2]\n",
		la:   boot1, lb: boot2,
		want: "only in B: m2 (1)\ndiffer: 1 module only in B",
	}, {
		name: "runtime pseudo-modules are not compared",
		a:    kernel,
		b:    kernel + "t bpf_prog_6deef7357e7b4530_sd_fw_egress 0 [bpf]\nt bpf_trampoline_6442 800 [bpf]\n",
		la:   boot1, lb: boot2,
		want: "note: B: 2 symbols of runtime pseudo-modules ([bpf], ftrace and kprobe trampolines) not compared\n" +
			"equivalent: same symbols, types, sizes and positions relative to the kernel and module bases; " +
			"kernel base moved by +0x19000000 (KASLR), 1 module loaded at other addresses",
	}, {
		name: "module filter",
		a:    strings.Replace(kernel, "t bar 200", "T bar 200", 1),
		b:    kernel + "t m2_init 0 [m2]\n",
		la:   boot1, lb: boot2,
		opts: symdiff.Options{Modules: []string{"m1"}},
		want: "equivalent: same symbols, types, sizes and positions relative to the kernel and module bases; " +
			"kernel base moved by +0x19000000 (KASLR), 1 module loaded at other addresses",
	}, {
		name: "core filter: kernel names the core",
		a:    strings.Replace(kernel, "t bar 200", "T bar 200", 1),
		b:    kernel + "t m2_init 0 [m2]\n",
		la:   boot1, lb: boot2,
		opts: symdiff.Options{Modules: []string{"kernel"}},
		want: "type vmlinux bar T -> t\ndiffer: 1 changed type",
	}, {
		name: "core filter: vmlinux names the core",
		a:    strings.Replace(kernel, "t bar 200", "T bar 200", 1),
		b:    kernel + "t m2_init 0 [m2]\n",
		la:   boot1, lb: boot2,
		opts: symdiff.Options{Modules: []string{"vmlinux"}},
		want: "type vmlinux bar T -> t\ndiffer: 1 changed type",
	}, {
		name: "hidden addresses: names and types only",
		a:    kernel,
		b:    strings.Replace(strings.Replace(kernel, "t bar 200", "T bar 200", 1), "t baz 300", "t baz 380", 1),
		la:   boot1, lb: hidden,
		want: `type vmlinux bar t -> T
note: B has hidden addresses (all zero): compared names and types only
differ: 1 changed type`,
	}, {
		name: "names only on request",
		a:    kernel,
		b:    strings.Replace(kernel, "t baz 300", "t baz 380", 1),
		la:   boot1, lb: boot2,
		opts: symdiff.Options{NamesOnly: true},
		want: `note: compared names and types only (positions and sizes not compared)
equivalent: same symbol names and types (positions and sizes not compared)`,
	}, {
		name: "System.map against kallsyms of the same build",
		a: `D __per_cpu_start =0
d pcpu_hot =40
A text_size =e01d32
T _text 0
T _stext 0
T startup_64 0
t foo 100
t bar 200
t baz 300
T _etext 1000
r __func__.0 2000
r __func__.0 2010
r __func__.0 2020
D kallsyms_names 2800
D _end 3000`,
		b:  kernel,
		la: layout{core: 0xffffffff81000000}, lb: boot2,
		want: `only in B: m1 (4)
note: A is a System.map: 2 symbols /proc/kallsyms never lists (absolute symbols, the kallsyms tables) left out; its per-CPU symbols (d, D) match kallsyms' A
note: A is a System.map, which lists no modules: 1 module only in B not compared
equivalent: same symbols, types, sizes and positions relative to the kernel and module bases; kernel base moved by +0x19000000 (KASLR)`,
	}}
	withData := kernel
	for i := range 70 {
		withData += fmt.Sprintf("d data_%d %x\n", i, 0x2800+8*i)
	}
	textOnly := `
T _text 0
T _stext 0
T startup_64 0
t foo 100
t bar 200
t baz 300
T _etext 1000
t m1_init 0 [m1]
t m1_exit 40 [m1]
t m1_helper 80 [m1]
`
	tests = append(tests, synthCase{
		name: "one table without data symbols: code only",
		a:    withData, b: textOnly, la: boot1, lb: boot2,
		want: `note: B has no data symbols (kernel built without CONFIG_KALLSYMS_ALL): compared only code symbols and section markers, as such a kernel lists them; 77 symbols of A left out
equivalent: same symbols, types, sizes and positions relative to the kernel and module bases, code symbols only; kernel base moved by +0x19000000 (KASLR), 1 module loaded at other addresses`,
	}, synthCase{
		name: "both hidden and equal",
		a:    kernel, b: kernel, la: hidden, lb: hidden,
		want: `note: A has hidden addresses (all zero): compared names and types only
note: B has hidden addresses (all zero): compared names and types only
equivalent: same symbol names and types (positions and sizes not compared)`,
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := symdiff.Compare(synth(t, tt.la, tt.a), synth(t, tt.lb, tt.b), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(r); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if r.Equivalent() != strings.HasPrefix(tt.want[strings.LastIndex("\n"+tt.want, "\n"):], "equivalent") {
				t.Errorf("Equivalent() = %v, verdict %q", r.Equivalent(), r.Verdict())
			}
		})
	}
}

func TestCompareNil(t *testing.T) {
	if _, err := symdiff.Compare(nil, nil, symdiff.Options{}); err != symdiff.ErrNilTable {
		t.Errorf("Compare(nil, nil) error = %v, want ErrNilTable", err)
	}
}
