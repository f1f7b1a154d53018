package cli

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Test data: real Debian 6.1 boots (see testdata/fixtures/README.md).
const (
	bootDir    = "../../testdata/fixtures/debian-6.1.0-56-amd64/boots/run2-B/"
	kallsymsGz = bootDir + "kallsyms.txt.gz"
	nonroot    = bootDir + "kallsyms-nonroot-head.txt"
)

// hiddenSentence is what the command line says when a command needs the
// addresses of a table that hides them: the fact and what to do, once.
const hiddenSentence = "addresses are hidden (all zero): read the table as root, or check " +
	"`sysctl kernel.kptr_restrict` (2 hides them from everyone, 1 shows them only to CAP_SYSLOG)"

// run executes the command line in-process and returns stdout, stderr and the
// exit status.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Execute(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// rawSym is one line of the fixture's kallsyms text, read by the tests
// without the packages under test.
type rawSym struct {
	line int
	addr uint64
	typ  string
	name string
	mod  string
}

var (
	rawOnce sync.Once
	rawSyms []rawSym
	rawErr  error
)

// fixture returns the run2-B table as the tests read it themselves.
func fixture(t *testing.T) []rawSym {
	t.Helper()
	rawOnce.Do(func() { rawSyms, rawErr = readRaw(kallsymsGz) })
	if rawErr != nil {
		t.Fatal(rawErr)
	}
	return rawSyms
}

func readRaw(path string) ([]rawSym, error) {
	data, err := gunzip(path)
	if err != nil {
		return nil, err
	}
	var out []rawSym
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			return nil, err
		}
		s := rawSym{line: n, addr: a, typ: f[1], name: f[2]}
		if len(f) > 3 {
			s.mod = strings.Trim(f[3], "[]")
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func gunzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(zr)
	return buf.Bytes(), err
}

// symbolsNamed returns the fixture lines with that name and module.
func symbolsNamed(t *testing.T, name, mod string) []rawSym {
	var out []rawSym
	for _, s := range fixture(t) {
		if s.name == name && s.mod == mod {
			out = append(out, s)
		}
	}
	return out
}

// only returns the single fixture symbol with that name and module.
func only(t *testing.T, name, mod string) rawSym {
	t.Helper()
	syms := symbolsNamed(t, name, mod)
	if len(syms) != 1 {
		t.Fatalf("fixture has %d symbols %s [%s], want 1", len(syms), name, mod)
	}
	return syms[0]
}

// coreSize is a core symbol's kallsyms size computed independently: the
// distance to the next higher core address.
func coreSize(t *testing.T, s rawSym) uint64 {
	t.Helper()
	next := ^uint64(0)
	for _, o := range fixture(t) {
		if o.mod == "" && o.addr > s.addr && o.addr < next {
			next = o.addr
		}
	}
	return next - s.addr
}

// frame is one "name+0xoff/0xsize [module]" the kernel printed in a log.
type frame struct {
	text   string // as printed
	name   string
	mod    string
	offset uint64
	ret    bool // printed with %pB (call trace) rather than %pS (RIP)
}

var (
	ripRE   = regexp.MustCompile(`RIP: 0010:(\S+\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[\w+\])?)$`)
	traceRE = regexp.MustCompile(`^\[\s*[\d.]+\]\s+(?:\? )?(\S+\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[\w+\])?)$`)
	partsRE = regexp.MustCompile(`^(\S+)\+0x([0-9a-f]+)/0x[0-9a-f]+(?: \[(\w+)\])?$`)
)

// logFrames extracts every kernel frame printed in the boot's logs.
func logFrames(t *testing.T) []frame {
	t.Helper()
	files, err := filepath.Glob(bootDir + "oops-*.txt")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, bootDir+"dmesg-sysrq-t.txt", bootDir+"dmesg-sysrq-w.txt", bootDir+"dmesg-sysrq-l.txt")
	seen := map[string]bool{}
	var out []frame
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f, ok := parseFrame(line)
			if ok && !seen[f.text+fmt.Sprint(f.ret)] {
				seen[f.text+fmt.Sprint(f.ret)] = true
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].text < out[j].text })
	return out
}

func parseFrame(line string) (frame, bool) {
	var f frame
	if m := ripRE.FindStringSubmatch(line); m != nil {
		f.text = m[1]
	} else if m := traceRE.FindStringSubmatch(line); m != nil {
		f.text, f.ret = m[1], true
	} else {
		return f, false
	}
	m := partsRE.FindStringSubmatch(f.text)
	f.name, f.mod = m[1], m[3]
	f.offset, _ = strconv.ParseUint(m[2], 16, 64)
	return f, true
}
