package cli

import (
	"time"

	"github.com/ksym-dev/ksym/kmem"
	"github.com/ksym-dev/ksym/machine"
	"github.com/spf13/cobra"
)

const memLong = `Show who holds kernel memory, from the files the kernel exports (each read
when present, under --root):

  /proc/vmallocinfo                 vmalloc, vmap and ioremap areas by caller
  /proc/slabinfo                    slab caches by bytes in use
  /sys/kernel/slab/*/alloc_calls    allocation sites, when SLUB's store_user is on
    (/sys/kernel/debug/slab/*/alloc_traces since Linux 5.14; boot with slub_debug=U)
  /sys/kernel/debug/kmemleak        unreferenced objects (CONFIG_DEBUG_KMEMLEAK)
  /proc/modules                     module sizes, plus the vmalloc areas each module made

Every source that cannot be read is listed with the reason: not root, a
kernel option off, a boot parameter missing, debugfs not mounted. Most of
these files are readable by root only.

Leaks show as growth. --interval D --count N reads everything N times, D
apart, and ranks vmalloc callers, slab caches and allocation sites by how
much they grew from the first sample to the last, with their steadiness: the
fraction of the N-1 intervals in which they grew. A leak grows in every
interval (steadiness 1, monotonic); a cache that breathes with the load does
not. --samples compares saved trees (each a --root) instead.

Callers are printed as the kernel printed them (%pS), then checked against the
symbol table (--kallsyms, or the live /proc/kallsyms under --root): a caller
whose function is missing or has another size is named in a warning, since
the files and the table then come from different kernel builds.`

const memExample = `  sudo ksym mem
  sudo ksym mem --top 20 --json
  sudo ksym mem --interval 10s --count 7
  ksym --root saved-machine mem
  ksym mem --samples before,after`

// memOptions are the flags of ksym mem.
type memOptions struct {
	top      int
	interval time.Duration
	count    int
	samples  []string
}

func (a *app) newMemCmd() *cobra.Command {
	var o memOptions
	c := &cobra.Command{
		Use:     "mem",
		Short:   "Show who holds kernel memory (vmalloc, slab, modules, kmemleak) and what keeps growing",
		Long:    memLong,
		Example: memExample,
		Args:    argsRange(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runMem(o)
		},
	}
	f := c.Flags()
	f.IntVarP(&o.top, "top", "n", 10, "show the `N` largest of each table (0: all)")
	f.DurationVar(&o.interval, "interval", 0, "sample every `D` (e.g. 10s) and rank what grew; needs --count")
	f.IntVar(&o.count, "count", 0, "take `N` samples (2 or more) with --interval")
	f.StringSliceVar(&o.samples, "samples", nil, "compare saved machine roots `DIRS` (comma-separated, oldest first) instead of sampling")
	return c
}

func (a *app) runMem(o memOptions) error {
	if err := checkMemOptions(o); err != nil {
		return err
	}
	var snaps []*kmem.Snapshot
	var err error
	switch {
	case len(o.samples) > 0:
		snaps, err = readSamples(o.samples)
	case o.interval > 0:
		snaps, err = a.sampleMem(o.interval, o.count)
	default:
		snaps, err = a.sampleMem(0, 1)
	}
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if len(snaps) == 1 {
		return a.reportMem(snaps[0], o.top)
	}
	return a.reportGrowth(snaps, o)
}

// checkMemOptions rejects flags that do not go together.
func checkMemOptions(o memOptions) error {
	switch {
	case o.top < 0:
		return usageErrorf("mem: --top must be 0 or more, not %d", o.top)
	case len(o.samples) > 0 && (o.interval != 0 || o.count != 0):
		return usageErrorf("mem: --samples compares saved trees; it cannot be combined with --interval or --count")
	case len(o.samples) == 1:
		return usageErrorf("mem: --samples needs 2 or more directories to compare")
	case o.interval < 0:
		return usageErrorf("mem: --interval must be positive, not %s", o.interval)
	case o.interval > 0 && o.count < 2:
		return usageErrorf("mem: --interval needs --count 2 or more (the number of samples)")
	case o.interval == 0 && o.count != 0:
		return usageErrorf("mem: --count needs --interval (the time between samples)")
	}
	return nil
}

// sampleMem reads the machine under --root count times, interval apart.
func (a *app) sampleMem(interval time.Duration, count int) ([]*kmem.Snapshot, error) {
	fs, err := machine.NewFS(a.root)
	if err != nil {
		return nil, err
	}
	var snaps []*kmem.Snapshot
	for i := 0; i < count; i++ {
		if i > 0 {
			time.Sleep(interval)
		}
		s, err := kmem.Read(fs)
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, s)
	}
	return snaps, nil
}

// readSamples reads saved machine roots in the order given.
func readSamples(dirs []string) ([]*kmem.Snapshot, error) {
	var snaps []*kmem.Snapshot
	for _, d := range dirs {
		fs, err := machine.NewFS(d)
		if err != nil {
			return nil, err
		}
		s, err := kmem.Read(fs)
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, s)
	}
	return snaps, nil
}

// anyAvailable reports whether a snapshot read at least one source.
func anyAvailable(s *kmem.Snapshot) bool {
	for _, src := range s.Sources {
		if src.Available {
			return true
		}
	}
	return false
}
