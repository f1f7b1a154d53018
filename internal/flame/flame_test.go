package flame

import (
	"bytes"
	"encoding/xml"
	"io"
	"slices"
	"strings"
	"testing"
)

// titles parses the SVG with encoding/xml (so it must be well formed) and
// returns the hover texts of its frames, and the title line.
func titles(t *testing.T, svg []byte) (hover []string, title string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var stack []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well formed: %v", err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			stack = append(stack, x.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			switch {
			case len(stack) > 0 && stack[len(stack)-1] == "title":
				hover = append(hover, string(x))
			case len(stack) == 2 && stack[1] == "text":
				title = string(x)
			}
		}
	}
	return hover, title
}

// TestWrite: three stacks by hand; the hover texts are the merged tree's
// nodes with their weights and shares, heaviest child first.
func TestWrite(t *testing.T) {
	stacks := []Stack{
		{Path: []string{"sh", "do_syscall_64", "<T as X>::f & g"}, Weight: 2},
		{Path: []string{"sh", "do_syscall_64", "vfs_read"}, Weight: 1},
		{Path: []string{"kthreadd", "kthreadd"}, Weight: 1},
		{Path: []string{"ignored"}, Weight: 0},
	}
	var buf bytes.Buffer
	if err := Write(&buf, stacks, Options{Title: "a <b> & c", Unit: "samples"}); err != nil {
		t.Fatal(err)
	}
	hover, title := titles(t, buf.Bytes())
	want := []string{
		"all (4 samples, 100.00%)",
		"sh (3 samples, 75.00%)",
		"do_syscall_64 (3 samples, 75.00%)",
		"<T as X>::f & g (2 samples, 50.00%)",
		"vfs_read (1 samples, 25.00%)",
		"kthreadd (1 samples, 25.00%)",
		"kthreadd (1 samples, 25.00%)",
	}
	if !slices.Equal(hover, want) || title != "a <b> & c" {
		t.Errorf("hover %q\nwant  %q\ntitle %q", hover, want, title)
	}
	for _, s := range []string{"<script", "href", "<style", "http://www.w3.org/1999/xlink"} {
		if strings.Contains(buf.String(), s) {
			t.Errorf("the SVG refers to %q", s)
		}
	}
}

func TestWriteEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, nil, Options{Title: "nothing"}); err != nil {
		t.Fatal(err)
	}
	if hover, _ := titles(t, buf.Bytes()); len(hover) != 0 {
		t.Errorf("hover %q", hover)
	}
}

// TestFit: (w-6)/6.6 characters fit, by hand: 29 at 200 px, 6 at 50, 2 at 20.
func TestFit(t *testing.T) {
	for _, tt := range []struct {
		name string
		w    float64
		want string
	}{{"do_syscall_64", 200, "do_syscall_64"}, {"do_syscall_64", 50, "do_s.."}, {"do_syscall_64", 20, ""}} {
		if got := fit(tt.name, tt.w); got != tt.want {
			t.Errorf("fit(%q, %v) = %q, want %q", tt.name, tt.w, got, tt.want)
		}
	}
}
