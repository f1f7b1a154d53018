package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/ksym-dev/ksym/kallsyms"
)

// jsonSymbol is one symbol in JSON output. Addresses and sizes are hex
// strings: 64-bit values do not fit a JSON number exactly.
type jsonSymbol struct {
	Name    string `json:"name"`
	Module  string `json:"module"` // "" for the core kernel
	Address string `json:"address"`
	Type    string `json:"type"`
	Size    string `json:"size,omitempty"` // omitted when unknown
}

func symbolJSON(t *kallsyms.Table, i int) jsonSymbol {
	s := jsonSymbol{
		Name:    t.Name(i),
		Module:  t.ModuleName(i),
		Address: hex0x(t.Addr(i)),
		Type:    string([]byte{t.Type(i)}),
	}
	if size, ok := t.Size(i); ok {
		s.Size = hex0x(size)
	}
	return s
}

func symbolsJSON(t *kallsyms.Table, idx []int) []jsonSymbol {
	out := make([]jsonSymbol, 0, len(idx))
	for _, i := range idx {
		out = append(out, symbolJSON(t, i))
	}
	return out
}

// hex0x formats v as the kernel's %#lx: 0x followed by lower-case hex.
func hex0x(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// addr16 formats an address as /proc/kallsyms does: 16 hex digits.
func addr16(v uint64) string { return fmt.Sprintf("%016x", v) }

// appendSymbolRow appends one table row: "ADDRESS TYPE SIZE NAME [MODULE]",
// with SIZE "-" when unknown.
func appendSymbolRow(dst []byte, t *kallsyms.Table, i int) []byte {
	dst = append(dst, addr16(t.Addr(i))...)
	dst = append(dst, ' ', t.Type(i), ' ')
	if size, ok := t.Size(i); ok {
		dst = append(dst, "0x"...)
		dst = strconv.AppendUint(dst, size, 16)
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, ' ')
	dst = append(dst, t.Name(i)...)
	if m := t.ModuleName(i); m != "" {
		dst = append(dst, " ["...)
		dst = append(dst, m...)
		dst = append(dst, ']')
	}
	return append(dst, '\n')
}

// writeJSON prints v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSONLine prints v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// newBuffered wraps w; callers must Flush.
func newBuffered(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 64<<10) }
