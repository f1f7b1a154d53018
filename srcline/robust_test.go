package srcline_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/srcline"
)

// TestBadFiles checks that files that are not usable debug files are
// refused by Open with an error that says why.
func TestBadFiles(t *testing.T) {
	ko, err := input.ReadAll("testdata/lkdtm.ko.xz")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path string
		want       error
		text       string
	}{
		{"empty", write("empty", nil), srcline.ErrNotELF, "not an ELF file"},
		{"garbage", write("garbage", []byte(strings.Repeat("garbage\n", 100))), srcline.ErrNotELF, "not an ELF file"},
		{"ELF magic only", write("magic", []byte("\x7fELF\x02\x01\x01")), srcline.ErrNotELF, "not an ELF file"},
		{"truncated", write("truncated.ko", ko[:len(ko)/2]), nil, "truncated"},
		{"directory", dir, nil, "is a directory"},
		{"missing", filepath.Join(dir, "missing"), os.ErrNotExist, "no such file"},
	}
	if _, err := exec.LookPath("strip"); err == nil {
		stripped := write("stripped.ko", ko)
		if b, err := exec.Command("strip", "--strip-debug", stripped).CombinedOutput(); err != nil {
			t.Fatalf("strip: %v\n%s", err, b)
		}
		cases = append(cases, struct {
			name, path string
			want       error
			text       string
		}{"stripped", stripped, srcline.ErrNoDWARF, "stripped?"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := srcline.Open(c.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("error %q does not say %q about %s", err, c.text, c.path)
			}
		})
	}
}

// TestShrunkFile checks that a debug file truncated after it was opened
// gives ErrFileChanged, not a crash: the file is mapped.
func TestShrunkFile(t *testing.T) {
	path := build(t, "shrink", []string{"-gdwarf-5"})
	s, err := srcline.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr, err := s.SymbolAddress("outer")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	fs, err := s.Lookup(addr, false)
	if !errors.Is(err, srcline.ErrFileChanged) {
		t.Errorf("Lookup after truncation: %v, %v; want ErrFileChanged", fs, err)
	}
}

// TestLookupErrors checks the errors of lookups that cannot be answered.
func TestLookupErrors(t *testing.T) {
	s, err := srcline.Open("testdata/lkdtm.ko.xz")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.LookupSymbol("no_such_function", 0, false); !errors.Is(err, srcline.ErrNoSymbol) {
		t.Errorf("unknown symbol: %v", err)
	}
	if _, err := s.LookupSection(".no_such_section", 0, false); err == nil || !strings.Contains(err.Error(), "no allocated section .no_such_section") {
		t.Errorf("unknown section: %v", err)
	}
	if _, err := s.LookupSection(".text", 1<<20, false); err == nil || !strings.Contains(err.Error(), "past the end of .text") {
		t.Errorf("offset past the section: %v", err)
	}
	if _, err := s.Lookup(1<<40, false); !errors.Is(err, srcline.ErrNoLine) {
		t.Errorf("address outside the file: %v", err)
	}
}
