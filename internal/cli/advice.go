package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/kcache"
	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/snapshot"
)

// The libraries' errors state facts, as the standard library's do; what a
// user can do about them is said here, by the command line, which knows
// where the failing file came from and which flags exist.

// advisedError is an error with the advice the command line adds to it. It
// unwraps to the error, so errors.Is and errors.As see through it.
type advisedError struct {
	err error
	msg string // the whole message
}

// Error returns the message with its advice.
func (e *advisedError) Error() string { return e.msg }

// Unwrap returns the library's error.
func (e *advisedError) Unwrap() error { return e.err }

// advise returns err with advice appended to its message, unless err is nil
// or already carries advice.
func advise(err error, advice string) error {
	var ae *advisedError
	if err == nil || advice == "" || errors.As(err, &ae) {
		return err
	}
	return &advisedError{err: err, msg: err.Error() + advice}
}

// fileAdvice advises on an error reading a file the user named (--kallsyms,
// --system-map, --modules, a log, a side of diff, a snapshot).
func fileAdvice(err error) error {
	switch {
	case errors.Is(err, input.ErrIsDir):
		return advise(err, ": give the path of a file inside it")
	case errors.Is(err, fs.ErrNotExist):
		return advise(err, " (check the path; use - for standard input)")
	case errors.Is(err, fs.ErrPermission):
		return advise(err, ": run as root (sudo), or copy the file to a place you can read")
	case errors.Is(err, input.ErrTruncated):
		return advise(err, " (the file was cut short: copy it again)")
	case errors.Is(err, kallsyms.ErrBadIndex):
		return advise(err, " (rebuild it from the symbol table: ksym --kallsyms TABLE snapshot index)")
	}
	return err
}

// machineAdvice advises on an error reading the machine's /proc and /sys
// under --root.
func machineAdvice(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return advise(err, " (not a Linux /proc or /sys, or the kernel lacks this file)")
	case errors.Is(err, fs.ErrPermission):
		return advise(err, ": run as root (sudo)")
	case errors.Is(err, snapshot.ErrHidden):
		return advise(err, ", so the snapshot could not decode any address: run as root, or pass --names-only to save the names alone")
	}
	return err
}

// cacheAdvice advises on a cache that is not used because another user
// could have written it (kcache.ErrUnsafe).
func cacheAdvice(err error) error {
	if errors.Is(err, kcache.ErrUnsafe) {
		return advise(err, " (remove it, or use --no-cache)")
	}
	return err
}

// hiddenAdvice is what to do when a table's addresses are hidden.
const hiddenAdvice = "read the table as root, or check `sysctl kernel.kptr_restrict` " +
	"(2 hides them from everyone, 1 shows them only to CAP_SYSLOG)"

// hiddenError is the error of a command that needs addresses given the
// table at source, whose addresses are hidden: the whole sentence is the
// command line's, and it wraps kallsyms.ErrAddressesHidden.
func hiddenError(source string) error {
	return &advisedError{err: kallsyms.ErrAddressesHidden,
		msg: source + ": addresses are hidden (all zero): " + hiddenAdvice}
}

// maxEcho is about the most of a piece of input an error or a warning
// repeats: a malformed line may be 64 KiB long.
const maxEcho = 100

// clipEcho cuts every word of msg longer than maxEcho bytes (a piece of
// input echoed: a line, a field, a release), saying how long it was.
func clipEcho(msg string) string {
	if len(msg) <= maxEcho {
		return msg
	}
	var b strings.Builder
	for len(msg) > 0 {
		i := strings.IndexAny(msg, " \t\n")
		if i < 0 {
			i = len(msg)
		}
		word := msg[:i]
		if len(word) > maxEcho {
			cut := maxEcho
			for cut > 0 && !utf8.RuneStart(word[cut]) {
				cut--
			}
			fmt.Fprintf(&b, "%s... (%d bytes)", word[:cut], len(word))
		} else {
			b.WriteString(word)
		}
		if i < len(msg) {
			b.WriteByte(msg[i])
			i++
		}
		msg = msg[i:]
	}
	return b.String()
}
