package serve

import (
	"strings"

	"testing"

	"github.com/ksym-dev/ksym/internal/flame"
)

// FuzzParseFolded: any upload, folded or JSON, gives stacks with positive weights and
// non-empty paths, or an error; never a panic.
func FuzzParseFolded(f *testing.F) {
	f.Add([]byte("sh;do_syscall_64;vfs_read 3\nkworker;schedule 5\n"))
	f.Add([]byte("a 0\n"))
	f.Add([]byte("no-weight\n"))
	f.Add([]byte(" 7\n"))
	f.Add([]byte(`{"source":"x","groups":[{"funcs":["schedule","worker_thread"],"weight":2},{"funcs":[],"weight":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		folded, err1 := parseFolded(data)
		fromJSON, _, err2 := parseStacksJSON(data)
		for _, c := range []struct {
			stacks []flame.Stack
			err    error
		}{{folded, err1}, {fromJSON, err2}} {
			if c.err != nil {
				continue
			}
			if len(c.stacks) == 0 {
				t.Fatal("no stacks and no error")
			}
			for _, s := range c.stacks {
				if s.Weight <= 0 || len(s.Path) == 0 {
					t.Fatalf("stack %+v", s)
				}
			}
		}
	})
}

// FuzzParseTokens: a token file gives tokens without spaces, each Reader
// or Writer, or an error.
func FuzzParseTokens(f *testing.F) {
	f.Add("w-token\nr-token read\n# comment\n\n")
	f.Add("a b c\n")
	f.Fuzz(func(t *testing.T, text string) {
		toks, err := ParseTokens(strings.NewReader(text), "tokens")
		if err != nil {
			return
		}
		for tok, role := range toks {
			if tok == "" || strings.ContainsAny(tok, " \t\n") || (role != Reader && role != Writer) {
				t.Fatalf("token %q role %v", tok, role)
			}
		}
	})
}

// TestParseTokens checks the token file's forms.
func TestParseTokens(t *testing.T) {
	toks, err := ParseTokens(strings.NewReader("# team\nabc\n\ndef read\n"), "f")
	if err != nil || len(toks) != 2 || toks["abc"] != Writer || toks["def"] != Reader {
		t.Errorf("got %v, %v", toks, err)
	}
	if _, err := ParseTokens(strings.NewReader("abc write\n"), "f"); err == nil || err.Error() != "f:1: want TOKEN or TOKEN read" {
		t.Errorf("bad role: %v", err)
	}
}
