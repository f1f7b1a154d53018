package kallsyms_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/kallsyms"
)

// TestParseReaderFailures: Parse streams its input. A read error is reported (wrapped, with the source), a malformed line
// stops the parse with its line number while the reader still has data to
// give, and a reader that hands out one byte at a time gives the same table
// as ParseBytes. Real table, with failures injected (synthetic).
func TestParseReaderFailures(t *testing.T) {
	data := fixture.Read(t, bootTable("run1-A"))
	boom := errors.New("disk on fire")
	t.Run("read error", func(t *testing.T) {
		r := io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(boom))
		_, err := kallsyms.Parse(r, kallsyms.Options{Source: "saved.txt"})
		if !errors.Is(err, boom) || !bytes.Contains([]byte(err.Error()), []byte("saved.txt")) {
			t.Fatalf("Parse = %v, want an error naming saved.txt and wrapping %v", err, boom)
		}
	})
	t.Run("malformed line while the reader has more", func(t *testing.T) {
		// Line 20,000 of a table repeated ten times (50 MB): the parser
		// stops long before the reader is done.
		lines := bytes.SplitAfter(data, []byte{'\n'})
		bad := append(bytes.Join(lines[:19999], nil), "not a kallsyms line\n"...)
		input := append(bad, bytes.Repeat(data, 10)...)
		r := &countingReader{r: bytes.NewReader(input)}
		_, err := kallsyms.Parse(r, kallsyms.Options{Source: "x"})
		var pe *kallsyms.ParseError
		if !errors.As(err, &pe) || pe.Line != 20000 || pe.File != "x" {
			t.Fatalf("Parse = %v, want a ParseError at x:20000", err)
		}
		// It stops reading there, without reading the 50 MB.
		if n := r.n; n > 8<<20 {
			t.Fatalf("the reader went on to read %d bytes", n)
		}
	})
	t.Run("one byte per read", func(t *testing.T) {
		small := data[:200000] // whole lines: the excerpt ends where a line does
		small = small[:bytes.LastIndexByte(small, '\n')+1]
		want, err := kallsyms.ParseBytes(small, kallsyms.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := kallsyms.Parse(iotest.OneByteReader(bytes.NewReader(small)), kallsyms.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Len() != want.Len() {
			t.Fatalf("Len %d, ParseBytes %d", got.Len(), want.Len())
		}
		for i := range want.Len() {
			if got.Symbol(i) != want.Symbol(i) {
				t.Fatalf("symbol %d: %+v, ParseBytes %+v", i, got.Symbol(i), want.Symbol(i))
			}
		}
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
