package kallsyms

import (
	"errors"
	"fmt"
)

// Errors callers can test with errors.Is.
var (
	// ErrAddressesHidden means every address in the table is zero, as the
	// kernel prints them to a reader it does not trust (kptr_restrict, no
	// CAP_SYSLOG). Names are still usable; addresses are not.
	ErrAddressesHidden = errors.New("kallsyms: addresses are hidden (all zero): read the table as root, " +
		"or check `sysctl kernel.kptr_restrict` (2 hides them from everyone, 1 shows them only to CAP_SYSLOG)")
	// ErrNoSymbol means the address lies outside every range the kernel
	// itself would resolve to a symbol: below the first symbol, past the end of
	// the kernel image or of a module, or in user space.
	ErrNoSymbol = errors.New("kallsyms: address is not inside any kernel symbol")
	// ErrFileChanged means the file shrank while it was parsed (truncated or
	// rewritten in place): parse it again, or parse a copy.
	ErrFileChanged = errors.New("kallsyms: the file shrank while it was read (truncated or rewritten in place): " +
		"read it again, or copy it first")
	// ErrEmpty means the input held no symbols.
	ErrEmpty = errors.New("kallsyms: no symbols in input")
)

// ParseError reports malformed input with its place.
type ParseError struct {
	File string // the input's name, as given in Options.Source; "" when unknown
	Line int    // 1-based line number
	Msg  string // what is wrong
}

// Error implements error as "source:line: msg".
func (e *ParseError) Error() string {
	src := e.File
	if src == "" {
		src = "kallsyms"
	}
	return fmt.Sprintf("%s:%d: %s", src, e.Line, e.Msg)
}
