// Package snapshot saves what is needed to decode one boot's kernel addresses
// on another machine, later: the symbol table as the kernel printed it,
// /proc/modules, and the facts that identify the boot and the build (kernel
// release and version, vmlinux and module build IDs, boot ID, host name,
// capture time, kptr_restrict).
//
// A snapshot file is a tar archive compressed with zstd (with zstd's content
// checksum), so standard tools can open it (tar --zstd -xf FILE). Its first
// member, ksym-snapshot.json, describes the rest and holds the SHA-256 of every
// other member; Read checks them all. The format is in docs/snapshots.md.
package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
)

// Format identifies a snapshot's manifest; Version is the layout this
// package writes and reads.
const (
	Format  = "ksym-snapshot"
	Version = 1
)

// Member names inside the archive.
const (
	ManifestName = "ksym-snapshot.json"
	KallsymsName = "kallsyms"
	ModulesName  = "modules"
)

// ErrHidden is returned by Capture when the symbol table's addresses are
// hidden from this reader and Options.NamesOnly is not set: such a snapshot
// could not decode any address.
var ErrHidden = errors.New("the symbol table's addresses are hidden (all zero) from this reader")

// ErrBadSnapshot is wrapped by every error that says a file is not a usable
// snapshot (corrupted, truncated, of another version, or not a snapshot).
var ErrBadSnapshot = errors.New("not a usable ksym snapshot")

// Info describes a snapshot: the manifest, ksym-snapshot.json.
type Info struct {
	Format            string            `json:"format"`
	Version           int               `json:"version"`
	Captured          time.Time         `json:"captured"`
	Hostname          string            `json:"hostname,omitempty"`
	Release           string            `json:"release,omitempty"`        // uname -r
	KernelVersion     string            `json:"kernel_version,omitempty"` // /proc/version
	Arch              string            `json:"arch,omitempty"`           // uname -m
	BuildID           string            `json:"build_id,omitempty"`       // vmlinux GNU build ID
	ModuleBuildIDs    map[string]string `json:"module_build_ids,omitempty"`
	BootID            string            `json:"boot_id,omitempty"`
	KptrRestrict      *int              `json:"kptr_restrict,omitempty"`
	PerfEventParanoid *int              `json:"perf_event_paranoid,omitempty"`
	NamesOnly         bool              `json:"names_only"` // addresses were hidden when saved
	Symbols           int               `json:"symbols"`
	Modules           int               `json:"modules"`
	// Missing lists what could not be read, and why.
	Missing []string `json:"missing,omitempty"`
	Files   []File   `json:"files"`
}

// File is one member of the archive besides the manifest.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Snapshot is one boot's saved symbols.
type Snapshot struct {
	Info     Info
	Kallsyms []byte // /proc/kallsyms as the kernel printed it
	Modules  []byte // /proc/modules as the kernel printed it; nil without module support
}

// Options controls Capture.
type Options struct {
	// NamesOnly saves a table whose addresses are hidden instead of failing
	// with ErrHidden. Such a snapshot resolves names, not addresses.
	NamesOnly bool
	// Now is the capture time; zero means time.Now.
	Now time.Time
}

// Capture reads a snapshot of the machine at fs. Only the symbol table is
// required; whatever else cannot be read is listed in Info.Missing.
func Capture(fs machine.FS, opts Options) (*Snapshot, error) {
	text, err := fs.KallsymsText()
	if err != nil {
		return nil, err
	}
	t, err := kallsyms.ParseBytes(text, kallsyms.Options{Source: fs.KallsymsPath()})
	if err != nil {
		return nil, err
	}
	if t.Hidden() && !opts.NamesOnly {
		return nil, fmt.Errorf("%s: %w", fs.KallsymsPath(), ErrHidden)
	}
	s := &Snapshot{Kallsyms: text}
	s.Info = Info{Format: Format, Version: Version, Captured: opts.Now, NamesOnly: t.Hidden(), Symbols: t.Len()}
	if s.Info.Captured.IsZero() {
		s.Info.Captured = time.Now()
	}
	s.Info.Captured = s.Info.Captured.UTC().Truncate(time.Second)
	c := collector{info: &s.Info}
	s.Modules = c.bytes("modules", fs.ModulesText)
	c.describe(fs)
	c.moduleBuildIDs(fs, s.Modules)
	return s, nil
}

// collector fills Info, noting what it could not read.
type collector struct{ info *Info }

func (c collector) missing(what string, err error) {
	c.info.Missing = append(c.info.Missing, fmt.Sprintf("%s: %v", what, err))
}

func (c collector) str(what string, read func() (string, error)) string {
	v, err := read()
	if err != nil {
		c.missing(what, err)
	}
	return v
}

func (c collector) int(what string, read func() (int, error)) *int {
	v, err := read()
	if err != nil {
		c.missing(what, err)
		return nil
	}
	return &v
}

func (c collector) bytes(what string, read func() ([]byte, error)) []byte {
	v, err := read()
	if err != nil {
		c.missing(what, err)
	}
	return v
}

// describe reads the facts that identify the boot and the build.
func (c collector) describe(fs machine.FS) {
	i := c.info
	i.Hostname = c.str("hostname", fs.Hostname)
	i.Release = c.str("release", fs.Release)
	i.KernelVersion = c.str("kernel version", fs.Version)
	i.BuildID = c.str("vmlinux build ID", fs.BuildID)
	i.BootID = c.str("boot ID", fs.BootID)
	i.KptrRestrict = c.int("kptr_restrict", fs.KptrRestrict)
	i.PerfEventParanoid = c.int("perf_event_paranoid", fs.PerfEventParanoid)
	arch, err := fs.Arch()
	if err != nil && fs.Root() == "/" {
		arch, err = runtimeArch(), nil
	}
	if err != nil {
		c.missing("arch", err)
	}
	i.Arch = arch
}

// runtimeArch names this machine's architecture as uname -m does, for
// kernels older than /proc/sys/kernel/arch.
func runtimeArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	}
	return runtime.GOARCH
}

// moduleBuildIDs reads the build ID of every module in /proc/modules.
func (c collector) moduleBuildIDs(fs machine.FS, modules []byte) {
	if len(modules) == 0 {
		return
	}
	mods, err := machine.ParseModules(bytes.NewReader(modules))
	if err != nil {
		c.missing("modules", err)
		return
	}
	c.info.Modules = len(mods)
	ids := make(map[string]string, len(mods))
	failed := 0
	var firstErr error
	for _, m := range mods {
		id, err := fs.ModuleBuildID(m.Name)
		if err != nil {
			failed, firstErr = failed+1, cmpOr(firstErr, err)
			continue
		}
		ids[m.Name] = id
	}
	if failed > 0 {
		c.missing(fmt.Sprintf("build IDs of %d of %d modules", failed, len(mods)), firstErr)
	}
	if len(ids) > 0 {
		c.info.ModuleBuildIDs = ids
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// Table parses the snapshot's symbol table; source names it in errors.
func (s *Snapshot) Table(source string) (*kallsyms.Table, error) {
	return kallsyms.ParseBytes(s.Kallsyms, kallsyms.Options{Source: source})
}

// InfoFromMeta decodes the Info stored as an index's metadata by 'ksym
// snapshot index'; ok is false when meta is not a snapshot's Info.
func InfoFromMeta(meta []byte) (info Info, ok bool) {
	if len(meta) == 0 || meta[0] != '{' {
		return Info{}, false
	}
	if err := json.Unmarshal(meta, &info); err != nil || info.Format != Format {
		return Info{}, false
	}
	return info, true
}
