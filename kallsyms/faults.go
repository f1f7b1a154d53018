package kallsyms

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// A table parsed from a mapped file faults (SIGBUS) where the file has shrunk
// since it was mapped. Every goroutine that reads the mapping turns such a
// fault into a panic (debug.SetPanicOnFault), recovers it, and the parse
// returns ErrFileChanged instead of crashing.

// parseMapped parses data, a mapping of a file (see parseFile).
func parseMapped(data []byte, opts Options) (t *Table, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if !isFault(r) {
				panic(r)
			}
			t, err = nil, fmt.Errorf("%s: %w", sourceName(opts.Source), ErrFileChanged)
		}
	}()
	return ParseBytes(data, opts)
}

// isFault reports whether r, a recovered value, is a memory fault turned into
// a panic by debug.SetPanicOnFault, or one held back by a group.
func isFault(r any) bool {
	_, ok := r.(interface{ Addr() uintptr })
	return ok || r == errHeldFault
}

// errHeldFault is the panic of a group's waiting goroutine after a fault in
// one of its functions.
var errHeldFault = errors.New("kallsyms: memory fault reading a mapped file")

// group runs functions concurrently and waits for them, holding back a fault
// in any of them until all have stopped (so none reads a mapping after it is
// gone), then panics with errHeldFault on the waiting goroutine. Other
// panics crash as they would anyway.
type group struct {
	wg      sync.WaitGroup
	faulted atomic.Bool
}

// keep, deferred, recovers a fault and notes it.
func (g *group) keep() {
	if r := recover(); r != nil {
		if !isFault(r) {
			panic(r)
		}
		g.faulted.Store(true)
	}
}

// run runs f on the calling goroutine, faults held back.
func (g *group) run(f func()) {
	defer g.keep()
	f()
}

// goRun runs f(i) on a new goroutine, faults turned into panics and held
// back.
func (g *group) goRun(f func(int), i int) {
	g.wg.Go(func() {
		defer g.keep()
		debug.SetPanicOnFault(true)
		f(i)
	})
}

// wait waits for every function and panics with errHeldFault if any faulted.
func (g *group) wait() {
	g.wg.Wait()
	if g.faulted.Load() {
		panic(errHeldFault)
	}
}
