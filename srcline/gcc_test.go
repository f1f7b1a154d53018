package srcline_test

import (
	"debug/elf"
	"errors"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ksym-dev/ksym/srcline"
)

// The ELF files below are synthetic: compiled at test time from
// testdata/inline.c, because the real kernel data has neither DWARF 4, nor
// compressed debug sections, nor a separate debug file of an object. The
// expected chains come from addr2line -i -f (and llvm-symbolizer --inlining
// with columns, for the executables; LLVM 14 reads neither .zdebug_ nor zstd
// sections) on the same files.

// build compiles testdata/inline.c with gcc and args into dir, then runs
// the post-processing command post on it, if any, and returns the output.
func build(t testing.TB, name string, args []string, post ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	out := filepath.Join(t.TempDir(), name)
	src, _ := filepath.Abs("testdata/inline.c")
	cmd := exec.Command("gcc", append(append([]string{"-O2", "-g"}, args...), "-o", out, src)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("gcc %v: %v\n%s", args, err, b)
	}
	if len(post) > 0 {
		cmd := exec.Command(post[0], append(post[1:], out)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("%v: %v\n%s", post, err, b)
		}
	}
	return out
}

// codeAddrs returns, per executable section, every address of the
// functions testdata/inline.c defines, section-relative when rel is set.
func codeAddrs(t *testing.T, path string, rel bool) map[string][]uint64 {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	mine := map[string]bool{"cold_path": true, "outer": true, "outer.cold": true, "init_fn": true, "exit_fn": true, "main": true}
	out := map[string][]uint64{}
	for _, s := range syms {
		if !mine[s.Name] || int(s.Section) >= len(ef.Sections) {
			continue
		}
		sec := ef.Sections[s.Section]
		for a := s.Value; a < s.Value+s.Size; a++ {
			out[sec.Name] = append(out[sec.Name], a)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: none of the functions of inline.c", path)
	}
	for _, a := range out {
		sort.Slice(a, func(i, j int) bool { return a[i] < a[j] })
	}
	return out
}

// TestCompiled checks every byte of the code of each compiled variant
// against addr2line and llvm-symbolizer.
func TestCompiled(t *testing.T) {
	if _, err := exec.LookPath("addr2line"); err != nil {
		t.Skip("addr2line not installed")
	}
	cases := []struct {
		name string
		args []string
		post []string
		rel  bool
	}{
		{"dwarf4", []string{"-gdwarf-4"}, nil, false},
		{"dwarf5", []string{"-gdwarf-5"}, nil, false},
		{"dwarf5-zlib", []string{"-gdwarf-5", "-gz=zlib"}, nil, false},
		{"dwarf4-zdebug", []string{"-gdwarf-4", "-gz=zlib-gnu"}, nil, false},
		{"dwarf5-zstd", []string{"-gdwarf-5"}, []string{"objcopy", "--compress-debug-sections=zstd"}, false},
		{"debug-only", []string{"-gdwarf-5"}, []string{"objcopy", "--only-keep-debug"}, false},
		{"rel-dwarf5", []string{"-gdwarf-5", "-c"}, nil, true},
		{"rel-dwarf4-zlib", []string{"-gdwarf-4", "-gz=zlib", "-c"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := build(t, c.name, c.args, c.post...)
			s, err := srcline.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Relocatable() != c.rel {
				t.Errorf("Relocatable() = %v", s.Relocatable())
			}
			checked := 0
			for sec, addrs := range codeAddrs(t, path, c.rel) {
				var want, wantLLVM []string
				if c.rel {
					want = addr2line(t, path, sec, addrs)
				} else {
					want = addr2line(t, path, "", addrs)
					if _, err := exec.LookPath("llvm-symbolizer"); err == nil && c.name != "dwarf4-zdebug" && c.name != "dwarf5-zstd" {
						wantLLVM = llvmSymbolizer(t, path, addrs)
					}
				}
				for i, a := range addrs {
					var fs []srcline.Frame
					var err error
					if c.rel {
						fs, err = s.LookupSection(sec, a, false)
					} else {
						fs, err = s.Lookup(a, false)
					}
					if err != nil && (want[i] != "" || !errors.Is(err, srcline.ErrNoLine)) {
						t.Errorf("%s+%#x: %v, want\n%s", sec, a, err, want[i])
						continue
					}
					if got := chain(fs, false); got != want[i] {
						t.Errorf("%s+%#x:\ngot:\n%swant (addr2line):\n%s", sec, a, got, want[i])
					}
					if wantLLVM != nil {
						if got := chain(fs, true); got != wantLLVM[i] {
							t.Errorf("%s+%#x:\ngot:\n%swant (llvm-symbolizer):\n%s", sec, a, got, wantLLVM[i])
						}
					}
					checked++
				}
			}
			if checked < 100 {
				t.Errorf("only %d addresses checked", checked)
			}
		})
	}
}
