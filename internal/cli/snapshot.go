package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ksym-dev/ksym/input"
	"github.com/ksym-dev/ksym/internal/atomicfile"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/snapshot"
	"github.com/spf13/cobra"
)

const snapshotLong = `Save this boot's symbols to decode its addresses elsewhere, later; turn any
symbol table into a memory-mapped index; describe a snapshot or an index.

Every command that takes --kallsyms accepts a snapshot or an index there too
(recognised by their first bytes). docs/snapshots.md describes both formats.`

func (a *app) newSnapshotCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "snapshot",
		Short: "Save a boot's symbols (save), build a fast index (index), describe one (show), upload one to ksym serve (push)",
		Long:  snapshotLong,
		Args:  argsRange(0, 0, "a subcommand: save, index, show or push"),
		RunE:  func(c *cobra.Command, args []string) error { return c.Help() },
	}
	c.AddCommand(a.newSnapshotSaveCmd(), a.newSnapshotIndexCmd(), a.newSnapshotShowCmd(), a.newSnapshotPushCmd())
	return c
}

const snapshotSaveLong = `Save the running kernel's symbol table (core, modules, BPF programs and
trampolines as they are now), /proc/modules, the kernel release and version,
the vmlinux and module build IDs, the boot ID, host name, capture time and
kptr_restrict into one zstd-compressed, checksummed file (a tar archive:
tar --zstd -tf FILE lists it).

The file reveals this boot's KASLR offset and module addresses: it is created
with mode 0600; treat it as sensitive. A table whose addresses are hidden from
this user is refused (run as root), unless --names-only.`

func (a *app) newSnapshotSaveCmd() *cobra.Command {
	var out string
	var namesOnly bool
	c := &cobra.Command{
		Use:     "save [-o FILE]",
		Short:   "Save this boot's symbols, modules and identity to a file",
		Long:    snapshotSaveLong,
		Example: "  sudo ksym snapshot save -o web-7.ksnap\n  ksym --kallsyms web-7.ksnap decode crash.txt",
		Args:    argsRange(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runSnapshotSave(out, namesOnly)
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` (default: ksym-HOST-RELEASE-TIME.ksnap)")
	c.Flags().BoolVar(&namesOnly, "names-only", false, "save even when the addresses are hidden (the snapshot then resolves names only)")
	return c
}

func (a *app) runSnapshotSave(out string, namesOnly bool) error {
	if a.kallsymsPath != "" {
		return usageErrorf("snapshot save: reads the live kernel (--root); --kallsyms does not apply")
	}
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return usageErrorf("%v", err)
	}
	s, err := snapshot.Capture(fs, snapshot.Options{NamesOnly: namesOnly})
	if err != nil {
		return &exitError{code: ExitUsage, err: machineAdvice(err)}
	}
	if out == "" {
		out = defaultSnapshotName(&s.Info)
	}
	if err := s.WriteFile(out); err != nil {
		return usageErrorf("%v", err)
	}
	for _, m := range s.Info.Missing {
		fmt.Fprintf(a.stderr, "ksym: note: not saved: %s\n", m)
	}
	fmt.Fprintf(a.stderr, "ksym: warning: %s reveals this boot's KASLR offset and module addresses; it is mode 0600, share it only with people you would give root's view of the kernel\n", out)
	if a.json {
		return writeJSON(a.stdout, map[string]any{"file": out, "info": s.Info})
	}
	fmt.Fprintf(a.stdout, "%s: %d symbols, %d modules, %s, boot %s\n", out, s.Info.Symbols, s.Info.Modules,
		orUnknown(s.Info.Release), orUnknown(s.Info.BootID))
	return nil
}

// defaultSnapshotName is ksym-HOST-RELEASE-YYYYMMDDTHHMMSSZ.ksnap.
func defaultSnapshotName(i *snapshot.Info) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '/' || r == ' ' || r < 0x20 {
				return '_'
			}
			return r
		}, orUnknown(s))
	}
	return fmt.Sprintf("ksym-%s-%s-%s.ksnap", clean(i.Hostname), clean(i.Release), i.Captured.Format("20060102T150405Z"))
}

const snapshotIndexLong = `Build a binary index of a symbol table: the table's own arrays, written so
that a later ksym maps the file and answers at once, without parsing. The
input is --kallsyms (a text table, System.map, snapshot or index) or the live
kernel. A snapshot's description is kept in the index.`

func (a *app) newSnapshotIndexCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:     "index [-o FILE]",
		Short:   "Build a memory-mapped index of a symbol table",
		Long:    snapshotIndexLong,
		Example: "  ksym --kallsyms web-7.ksnap snapshot index -o web-7.ksymidx\n  ksym --kallsyms web-7.ksymidx addr ffffffffc09e64a5",
		Args:    argsRange(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runSnapshotIndex(out)
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` (default: the input's name with .ksymidx, or kallsyms.ksymidx)")
	return c
}

func (a *app) runSnapshotIndex(out string) error {
	t, source, err := a.table()
	if err != nil {
		return err
	}
	if out == "" {
		out = defaultIndexName(a.kallsymsPath)
	}
	var meta []byte
	if info := a.loaded.info; info != nil {
		if meta, err = json.Marshal(info); err != nil {
			return err
		}
	}
	// Mode 0600: the index holds the table's addresses. Written atomically,
	// as a process may have the old file mapped.
	err = atomicfile.Write(out, 0o600, func(w io.Writer) error {
		_, err := t.WriteIndex(w, meta)
		return err
	})
	if err != nil {
		return usageErrorf("%v", err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if a.json {
		return writeJSON(a.stdout, map[string]any{"file": out, "source": source, "symbols": t.Len(), "bytes": fi.Size()})
	}
	fmt.Fprintf(a.stdout, "%s: %d symbols from %s, %d bytes\n", out, t.Len(), source, fi.Size())
	return nil
}

// defaultIndexName replaces the input's extensions with .ksymidx, in the
// current directory.
func defaultIndexName(input string) string {
	base := filepath.Base(input)
	if input == "" || input == "-" {
		return "kallsyms.ksymidx"
	}
	for _, ext := range []string{".gz", ".xz", ".zst", ".ksnap", ".txt", ".ksymidx"} {
		base = strings.TrimSuffix(base, ext)
	}
	return base + ".ksymidx"
}

func (a *app) newSnapshotShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "show FILE",
		Short:   "Describe a snapshot or an index: which machine, boot and kernel",
		Example: "  ksym snapshot show web-7.ksnap",
		Args:    argsRange(1, 1, "one FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runSnapshotShow(args[0])
		},
	}
}

// showResult is the JSON answer of snapshot show.
type showResult struct {
	File    string         `json:"file"`
	Kind    string         `json:"kind"` // "snapshot" or "index"
	Symbols int            `json:"symbols"`
	Info    *snapshot.Info `json:"info"` // null for an index built from a text table
}

func (a *app) runSnapshotShow(path string) error {
	res, err := a.describeFile(path)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if a.json {
		return writeJSON(a.stdout, res)
	}
	return renderShow(a.stdout, res)
}

// describeFile opens a snapshot or an index with input.OpenTable and says
// what it holds; a text table is refused.
func (a *app) describeFile(path string) (showResult, error) {
	res := showResult{File: path}
	tab, err := a.openTable(path)
	if err != nil {
		return res, fileAdvice(err)
	}
	if tab.Kind == input.TableText {
		return res, fmt.Errorf("%s: a text symbol table, not a snapshot or an index", tab.Source)
	}
	res.Kind, res.Symbols, res.Info = tab.Kind.String(), tab.Table.Len(), tab.Info
	return res, nil
}

func renderShow(w io.Writer, res showResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s (%s)\n", res.File, res.Kind)
	fmt.Fprintf(tw, "symbols:\t%d\n", res.Symbols)
	if i := res.Info; i != nil {
		for _, row := range [][2]string{
			{"captured", i.Captured.Format(time.RFC3339)}, {"host", i.Hostname}, {"release", i.Release},
			{"version", i.KernelVersion}, {"arch", i.Arch}, {"build ID", i.BuildID}, {"boot ID", i.BootID},
			{"modules", fmt.Sprintf("%d (%d build IDs)", i.Modules, len(i.ModuleBuildIDs))},
			{"kptr_restrict", intOrUnknown(i.KptrRestrict)},
			{"names only", fmt.Sprint(i.NamesOnly)},
		} {
			fmt.Fprintf(tw, "%s:\t%s\n", row[0], orUnknown(row[1]))
		}
		for _, m := range i.Missing {
			fmt.Fprintf(tw, "not saved:\t%s\n", m)
		}
	}
	return tw.Flush()
}

func intOrUnknown(p *int) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}
