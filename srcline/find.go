package srcline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound reports that no debug file was found for a kernel or module.
var ErrNotFound = errors.New("no debug file found")

// otherObject refuses a file that is the debug file of another module, or
// a module's for vmlinux: not a candidate, so it is named in the
// ErrNotFound error rather than reported as a mismatch.
type otherObject struct{ path, why string }

func (e *otherObject) Error() string { return e.path + ": " + e.why }

// Target names the kernel or module a debug file is wanted for.
type Target struct {
	// Module is the module's name as the kernel prints it (crc32c_intel);
	// "" for the kernel itself (vmlinux).
	Module string
	// Release is the kernel release (uname -r), "" when unknown: the
	// layouts that name it are then not searched.
	Release string
	// BuildID is the build ID in hexadecimal, "" when unknown: the
	// .build-id/ layout is then not searched.
	BuildID string
}

func (t Target) String() string {
	s := "vmlinux"
	if t.Module != "" {
		s = "module " + t.Module
	}
	if t.BuildID != "" {
		s += " (build ID " + t.BuildID + ")"
	}
	return s
}

// SystemRoots are the directories searched when none is given: the
// distributions' layouts are relative to them.
var SystemRoots = []string{"/"}

// moduleSuffixes are the names a module file may end in.
var moduleSuffixes = []string{".ko", ".ko.debug", ".ko.xz", ".ko.zst", ".ko.gz"}

// Candidates returns the files under the paths given (--debuginfo) that
// may hold the debug information of t, most specific first. A path that is
// a file is a candidate as it is; a directory is searched:
//   - by build ID: .build-id/xx/rest.debug and usr/lib/debug/.build-id/...;
//   - for vmlinux: vmlinux, vmlinux-<release>, boot/vmlinux-<release>,
//     usr/lib/debug/boot/vmlinux-<release>,
//     usr/lib/debug/lib/modules/<release>/vmlinux and
//     lib/modules/<release>/build/vmlinux;
//   - for a module: <name>.ko (also .ko.debug, .ko.xz, .ko.zst, .ko.gz, with
//     '-' and '_' alike) in the directory itself and anywhere under
//     usr/lib/debug/lib/modules/<release>/ and lib/modules/<release>/.
//
// Candidates only names files; Find opens and checks them.
func Candidates(paths []string, t Target) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if seen[p] {
			return
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			add(root)
			continue
		}
		if id := strings.ToLower(t.BuildID); len(id) > 2 {
			for _, dir := range []string{".build-id", "usr/lib/debug/.build-id"} {
				add(filepath.Join(root, dir, id[:2], id[2:]+".debug"))
				add(filepath.Join(root, dir, id[:2], id[2:]))
			}
		}
		if t.Module == "" {
			for _, p := range vmlinuxPaths(t.Release) {
				add(filepath.Join(root, p))
			}
			continue
		}
		for _, p := range moduleFiles(root, t.Module) {
			add(p)
		}
		if t.Release != "" {
			for _, dir := range []string{"usr/lib/debug/lib/modules", "lib/modules"} {
				for _, p := range findModule(filepath.Join(root, dir, t.Release), t.Module) {
					add(p)
				}
			}
		}
	}
	return out
}

// vmlinuxPaths are the places of a vmlinux relative to a searched root.
func vmlinuxPaths(release string) []string {
	p := []string{"vmlinux"}
	if release != "" {
		p = append(p,
			"vmlinux-"+release,
			"boot/vmlinux-"+release,
			"usr/lib/debug/boot/vmlinux-"+release,
			"usr/lib/debug/lib/modules/"+release+"/vmlinux",
			"lib/modules/"+release+"/build/vmlinux",
		)
	}
	return p
}

// moduleFiles returns the files named like module directly in dir.
func moduleFiles(dir, module string) []string {
	var out []string
	for _, name := range []string{module, strings.ReplaceAll(module, "_", "-"), strings.ReplaceAll(module, "-", "_")} {
		for _, suf := range moduleSuffixes {
			out = append(out, filepath.Join(dir, name+suf))
		}
	}
	return out
}

// findModule returns the files named like module anywhere under dir.
func findModule(dir, module string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		name := d.Name()
		for _, suf := range moduleSuffixes {
			if base, ok := strings.CutSuffix(name, suf); ok && SameModule(base, module) {
				out = append(out, p)
				break
			}
		}
		return nil
	})
	return out
}

// Find returns the first candidate (see Candidates) that opens, or whose
// .gnu_debuglink names a debug file that opens, and matches t: by build ID when t has one, else by agreeing with the kallsyms
// table through check (nil accepts any file that opens; a module's file must
// also declare t.Module in its .modinfo). The files that were tried and
// refused are named in the error, which wraps ErrNotFound when no file was
// of this kernel or module (a .ko of another module is named but not a
// mismatch) or, when one was refused, ErrMismatch.
func Find(paths []string, t Target, check func(*Symbolizer) error) (*Symbolizer, error) {
	var refused, others []string
	var firstErr error
	for _, p := range Candidates(paths, t) {
		s, err := Open(p)
		if errors.Is(err, ErrNoDWARF) {
			// A stripped file: its .gnu_debuglink may name the debug file.
			if linked, ok := linkedDebugFile(p); ok {
				s, err = Open(linked)
			}
		}
		if err == nil {
			err = accept(s, t, check)
			if err != nil {
				s.Close()
			}
		}
		if err == nil {
			return s, nil
		}
		var other *otherObject
		if errors.As(err, &other) {
			others = append(others, err.Error())
			continue
		}
		if firstErr == nil {
			firstErr = err
		}
		refused = append(refused, err.Error())
	}
	if len(refused) == 0 {
		err := fmt.Errorf("%s: %w in %s", t, ErrNotFound, strings.Join(paths, ", "))
		if len(others) > 0 {
			err = fmt.Errorf("%w (%s)", err, strings.Join(others, "; "))
		}
		return nil, err
	}
	if len(refused) == 1 {
		return nil, fmt.Errorf("%s: %w", t, firstErr)
	}
	return nil, fmt.Errorf("%s: %w; also refused: %s", t, firstErr, strings.Join(refused[1:], "; "))
}

// accept checks that s is the file of t.
func accept(s *Symbolizer, t Target, check func(*Symbolizer) error) error {
	if t.Module != "" {
		if name := s.ModuleName(); name != "" && !SameModule(name, t.Module) {
			return &otherObject{s.Path(), fmt.Sprintf("it is module %s, not %s", name, t.Module)}
		}
		if !s.Relocatable() {
			return &otherObject{s.Path(), "not a module (a relocatable .ko)"}
		}
	} else if s.Relocatable() {
		return &otherObject{s.Path(), "a relocatable object (a module?), not a vmlinux"}
	}
	if t.BuildID != "" {
		return s.MatchBuildID(t.BuildID)
	}
	if check != nil {
		return check(s)
	}
	return nil
}
