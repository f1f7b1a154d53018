package kallsyms

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// parseSlowly parses data one line at a time with parseLine alone, the
// reference for fastLines, into columns with as little room as the data
// allows (arena room decides which path fastLines takes).
func parseSlowly(data []byte) (*builder, error) {
	b := newBuilder(Options{}, bytes.Count(data, []byte{'\n'})+1, len(data), addrDigits(data))
	for len(data) > 0 {
		text := data
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			text, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		s, err := b.parseLine(text)
		if err != nil {
			return nil, err
		}
		if s.name != nil {
			if err := b.add(s); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// parseFast parses data as ParseBytes's parts do, fast path first.
func parseFast(data []byte) (*builder, error) {
	b := newBuilder(Options{}, bytes.Count(data, []byte{'\n'})+1, len(data), addrDigits(data))
	return b, b.parseAll(data)
}

// sameBuilders reports how the columns parsed by two builders differ.
func sameBuilders(fast, slow *builder) error {
	switch {
	case !slices.Equal(fast.addrs, slow.addrs):
		return fmt.Errorf("addresses differ")
	case !slices.Equal(fast.types, slow.types):
		return fmt.Errorf("types differ")
	case !bytes.Equal(fast.arena, slow.arena):
		return fmt.Errorf("names differ: %q vs %q", clip(fast.arena), clip(slow.arena))
	case !slices.Equal(fast.nameEnd, slow.nameEnd):
		return fmt.Errorf("name ends differ")
	case !slices.Equal(fast.fileMod, slow.fileMod):
		return fmt.Errorf("module runs differ: %v vs %v", fast.fileMod, slow.fileMod)
	case !slices.Equal(fast.mods.strings(), slow.mods.strings()):
		return fmt.Errorf("modules differ")
	case fast.sorted != slow.sorted || fast.nonZero != slow.nonZero || fast.line != slow.line:
		return fmt.Errorf("sorted %d/%d, nonZero %x/%x, line %d/%d", fast.sorted, slow.sorted, fast.nonZero, slow.nonZero, fast.line, slow.line)
	case fast.core != slow.core:
		return fmt.Errorf("core markers differ")
	}
	return nil
}

// checkFastLines parses data both ways and fails on any difference.
func checkFastLines(t *testing.T, name string, data []byte) {
	t.Helper()
	fast, err := parseFast(data)
	slow, errSlow := parseSlowly(data)
	if (err == nil) != (errSlow == nil) || err != nil && err.Error() != errSlow.Error() {
		t.Fatalf("%s: fast path: %v; line by line: %v", name, err, errSlow)
	}
	if err == nil {
		if d := sameBuilders(fast, slow); d != nil {
			t.Fatalf("%s: %v", name, d)
		}
	}
}

// TestFastLinesMatchParseLine checks the fast line loop against parseLine on
// the real tables and on synthetic names of every length around the 32 bytes
// copied at once (real tables have few names that long, and never the
// blanks and module tails in every combination).
func TestFastLinesMatchParseLine(t *testing.T) {
	for _, p := range []string{"firecracker-6.18.44/kallsyms.txt.gz",
		"debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz", "debian-6.1.0-56-amd64/System.map.gz"} {
		checkFastLines(t, p, fixture.Read(t, fixture.Path(p)))
	}
	ends := []string{"\n", "\r\n", "\t[mod]\n", " \n", "\t[mod]\r\n", "\t[other]\n", "\t\n", ""}
	for n := range 70 {
		for _, end := range ends {
			name := strings.Repeat("x", n)
			var b strings.Builder
			b.WriteString("ffffffff81000000 T _stext\n")
			for k := range 3 { // the line last, first and in the middle of the input
				fmt.Fprintf(&b, "ffffffff8100%04x t %s%d%s", 16*k+16, name, k, end)
				if end == "" {
					b.WriteString("\n")
				}
			}
			text := b.String()
			checkFastLines(t, fmt.Sprintf("name of %d bytes, then %q", n, end), []byte(text))
			checkFastLines(t, fmt.Sprintf("name of %d bytes, then %q, cut", n, end), []byte(strings.TrimSuffix(text, "\n")))
		}
	}
}

// FuzzFastLines: the fast line loop parses any input as parseLine does.
func FuzzFastLines(f *testing.F) {
	f.Add([]byte("ffffffff81000000 T _stext\nffffffff81000010 t abcdefghijklmnopqrstuvwxyz0123456789\t[m]\n"))
	f.Add([]byte("ffffffff81000000 T a\r\nffffffff81000010 t \x01b\nffffffff81000020 t c d\n"))
	f.Add([]byte("ffffffff81000000 T _stext\nffffffff81000010 t abcdefghijklmnopqrstuvwxyz01234"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastLines(t, "input", data)
	})
}
