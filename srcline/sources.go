package srcline

import (
	"errors"
	"fmt"

	"github.com/ksym-dev/ksym/kallsyms"
)

// Sources finds, checks and keeps the debug files of one kernel and its
// modules, and answers lookups of that kernel's running addresses: what
// ksym addr --lines and a decoder need. Set its fields, then call
// LookupCore and LookupModule; each debug file is looked for once, on
// first use. It is not safe for concurrent use.
type Sources struct {
	// Paths are searched in order (see Candidates): the user's
	// --debuginfo paths, then SystemRoots for the running kernel.
	Paths []string
	// Release is the kernel release (uname -r), "" when unknown.
	Release string
	// BuildID is the vmlinux build ID, "" when unknown.
	BuildID string
	// ModuleBuildID returns a module's build ID, "" when unknown; nil
	// knows none.
	ModuleBuildID func(module string) string
	// Table is the kallsyms table the addresses come from: a file without
	// a known build ID must agree with it, and it gives the KASLR offset.
	Table *kallsyms.Table
	// Fetch, when set, returns the path of a debug file fetched by build
	// ID (package debuginfod) for a kernel or module not found in Paths.
	Fetch func(buildID string) (string, error)

	files map[string]*source
}

// source is the debug file of the kernel or a module, or why there is none.
type source struct {
	s     *Symbolizer
	slide uint64
	err   error
}

// ObjectError is the error of a lookup whose kernel or module has no
// usable debug file: the same error for every lookup in it, so a caller
// can report it once per Object.
type ObjectError struct {
	Object string // "vmlinux" or "module NAME"
	Err    error
}

func (e *ObjectError) Error() string { return e.Err.Error() }
func (e *ObjectError) Unwrap() error { return e.Err }

// LookupCore returns the source chain of a running kernel's address in
// its core image, found through the vmlinux's debug file placed at the
// KASLR offset MatchKallsyms finds.
func (src *Sources) LookupCore(addr uint64, isReturn bool) ([]Frame, error) {
	f := src.file("")
	if f.err != nil {
		return nil, f.err
	}
	return f.s.Lookup(addr-f.slide, isReturn)
}

// LookupModule returns the source chain of offset bytes into symbol of
// module, as the kernel prints it (direct_entry.cold+0x18 [lkdtm]).
func (src *Sources) LookupModule(module, symbol string, offset uint64, isReturn bool) ([]Frame, error) {
	f := src.file(module)
	if f.err != nil {
		return nil, f.err
	}
	return f.s.LookupSymbol(symbol, offset, isReturn)
}

// file returns the checked debug file of module ("" for vmlinux).
func (src *Sources) file(module string) *source {
	if f := src.files[module]; f != nil {
		return f
	}
	if src.files == nil {
		src.files = map[string]*source{}
	}
	f := &source{}
	src.files[module] = f
	t := Target{Module: module, Release: src.Release, BuildID: src.BuildID}
	if module != "" {
		t.BuildID = ""
		if src.ModuleBuildID != nil {
			t.BuildID = src.ModuleBuildID(module)
		}
	}
	check := func(s *Symbolizer) error {
		if src.Table == nil {
			return fmt.Errorf("%s: %w: no kallsyms table to check it against", s.Path(), ErrMismatch)
		}
		slide, err := s.MatchKallsyms(src.Table, module)
		f.slide = slide
		return err
	}
	f.s, f.err = Find(src.Paths, t, check)
	if errors.Is(f.err, ErrNotFound) && src.Fetch != nil && t.BuildID != "" {
		if p, err := src.Fetch(t.BuildID); err != nil {
			f.err = fmt.Errorf("%s: %w; debuginfod: %v", t, f.err, err)
		} else {
			f.s, f.err = Find([]string{p}, t, check)
		}
	}
	if f.err == nil && t.BuildID != "" {
		// Matched by build ID: the KASLR offset still comes from the table.
		if err := check(f.s); err != nil {
			f.s.Close()
			f.s, f.err = nil, err
		}
	}
	if f.err != nil {
		obj := "vmlinux"
		if module != "" {
			obj = "module " + module
		}
		f.err = &ObjectError{obj, f.err}
	}
	return f
}

// Close releases the debug files.
func (src *Sources) Close() error {
	var errs []error
	for _, f := range src.files {
		if f.s != nil {
			errs = append(errs, f.s.Close())
		}
	}
	src.files = nil
	return errors.Join(errs...)
}
