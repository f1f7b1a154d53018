package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/probe"
	"github.com/spf13/cobra"
)

const probeLong = `Tell whether a kernel function can be traced here, by which mechanism, and
under which name:

  kprobe   a breakpoint at the function (bpftrace kprobe:, perf probe)
  fentry   a BPF trampoline (bpftrace fentry:/fexit:; kfunc: before bpftrace 0.20)
  ftrace   the function tracer's filter (set_ftrace_filter)

Each answer is yes, no or unknown, with the facts that decided it: the symbol
table, /sys/kernel/tracing/available_filter_functions, the kprobe blacklist
(/sys/kernel/debug/kprobes/blacklist, else the table's NOKPROBE_SYMBOL
markers and blacklisted areas), the kernel configuration (/proc/config.gz or
/boot/config-RELEASE) and the BTF (/sys/kernel/btf/vmlinux).

NAME may be MODULE:NAME (vmlinux:NAME for the core kernel). When several
functions share the name, each is listed with how to pick it. When the name is
gone, its compiler clones (.isra.N, .constprop.N, .part.N, .cold, .llvm.N)
are checked instead, with which one to use.

The machine files are read under --root (a saved tree of /proc and /sys).
With --kallsyms and no --root, they are not read: they would belong to
another kernel than the saved table.

Exit status: 0 some mechanism can attach, 1 none can (or no such function),
2 it cannot be told (a file needed is missing or unreadable), or usage error.`

const probeExample = `  sudo ksym probe vfs_read
  ksym probe ext4:ext4_file_open
  ksym --kallsyms kallsyms.txt.gz --root saved-tree probe tcp_sendmsg
  ksym probe --json do_sys_open`

func (a *app) newProbeCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "probe NAME",
		Short:   "Can a function be traced here (kprobe, fentry, ftrace), and under which name",
		Long:    probeLong,
		Example: probeExample,
		Args:    argsRange(1, 1, "one function NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runProbe(args[0], c.Flags().Changed("root"))
		},
	}
}

// Exit statuses of ksym probe beyond ExitOK and ExitNotFound.
const exitCannotTell = 2

func (a *app) runProbe(query string, rootGiven bool) error {
	t, err := a.tableForNames()
	if err != nil {
		return err
	}
	env, notes, err := a.probeEnv(t, rootGiven)
	if err != nil {
		return err
	}
	rep, err := probe.Check(t, query, env)
	if err != nil {
		return usageErrorf("probe: %v", err)
	}
	if !anyUnknown(rep) {
		notes = nil // nothing unknown: what the missing files would say does not matter
	}
	if a.json {
		if err := writeJSON(a.stdout, probeJSON(rep, notes)); err != nil {
			return err
		}
	} else {
		w := newBuffered(a.stdout)
		writeProbe(w, rep, notes)
		if err := w.Flush(); err != nil {
			return err
		}
	}
	switch rep.Attachable() {
	case probe.Yes:
		return nil
	case probe.Unknown:
		return &exitError{code: exitCannotTell}
	}
	return errNotFound
}

// probeEnv reads the machine's facts under --root, and returns the advice
// for the files that could not be read.
func (a *app) probeEnv(t *kallsyms.Table, rootGiven bool) (*probe.Env, []string, error) {
	env := &probe.Env{}
	if a.kallsymsPath != "" && !rootGiven {
		err := errors.New("not read: a saved table and no --root")
		env.ConfigErr, env.FunctionsErr, env.BlacklistErr, env.BTFErr = err, err, err, err
		return env, []string{"--kallsyms names a saved table, so this machine's configuration, tracing files and BTF were not read (they may belong to another kernel): give --root DIR with the saved /proc and /sys of the same boot"}, nil
	}
	mfs, err := machine.NewFS(a.root)
	if err != nil {
		return nil, nil, &exitError{code: ExitUsage, err: err}
	}
	if err := a.sameBoot(mfs); err != nil {
		return nil, nil, err
	}
	var notes []string
	note := func(n string) {
		if n != "" && !contains(notes, n) {
			notes = append(notes, n)
		}
	}
	if text, path, err := mfs.KernelConfig(); err == nil {
		env.Config, env.ConfigErr = parseAt(path, text, probe.ParseConfig)
	} else {
		env.ConfigErr = err
	}
	if text, path, err := mfs.TracingFile("available_filter_functions_addrs"); err == nil && !t.Hidden() {
		env.Functions, env.FunctionsErr = parseAt(path, text, probe.ParseFilterFunctionsAddrs) // Linux 6.5 and later
	} else if text, path, err := mfs.TracingFile("available_filter_functions"); err == nil {
		env.Functions, env.FunctionsErr = parseAt(path, text, probe.ParseFilterFunctions)
	} else {
		env.FunctionsErr = pathErr(path, err)
		if env.Config == nil || env.Config.Enabled("CONFIG_FUNCTION_TRACER") {
			note(tracingAdvice(err, env.Config, mfs.Root() == "/"))
		}
	}
	if text, path, err := mfs.KprobeBlacklistText(); err == nil {
		env.Blacklist, env.BlacklistErr = parseAt(path, text, probe.ParseBlacklist)
	} else {
		env.BlacklistErr = pathErr(path, err)
		if env.Config == nil || env.Config.Enabled("CONFIG_KPROBES") {
			note(debugfsAdvice(err, mfs.Root() == "/"))
		}
	}
	if data, path, err := mfs.BTF(""); err == nil {
		env.BTF, env.BTFErr = parseAt(path, data, probe.ParseBTF)
	} else {
		env.BTFErr = err
	}
	env.ModuleBTF = mfs.HasBTF
	if has, err := mfs.HasEventSource("kprobe"); err == nil {
		env.KprobePMU = &has
	}
	env.Arch = machineArch(mfs, env.Config)
	if t.Hidden() {
		note("the table's addresses are hidden: " + hiddenAdvice)
	}
	return env, notes, nil
}

// sameBoot refuses a saved table whose snapshot names another kernel or
// boot than the tree under --root: the answer would mix two kernels' facts.
// Tables saved as plain text carry no identity, and are taken on trust.
func (a *app) sameBoot(mfs machine.FS) error {
	info := a.loaded.info
	if a.kallsymsPath == "" || info == nil {
		return nil
	}
	if rel, err := mfs.Release(); err == nil && info.Release != "" && rel != info.Release {
		return usageErrorf("probe: %s is a table of Linux %s, but %s is of Linux %s: give the tree saved with the table", a.kallsymsPath, info.Release, mfs.Root(), rel)
	}
	if boot, err := mfs.BootID(); err == nil && info.BootID != "" && boot != info.BootID {
		return usageErrorf("probe: %s was saved in boot %s, but %s is of boot %s: give the tree saved with the table", a.kallsymsPath, info.BootID, mfs.Root(), boot)
	}
	return nil
}

// parseAt parses a file's content, naming the file in the error.
func parseAt[T any](path string, data []byte, parse func([]byte) (*T, error)) (*T, error) {
	v, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// pathErr names the file in err unless err already does (os.PathError) or
// there is no file (tracefs not mounted).
func pathErr(path string, err error) error {
	var pe *fs.PathError
	if path == "" || errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// tracingAdvice says what to do when available_filter_functions cannot be
// read, on the live machine or in a saved tree.
func tracingAdvice(err error, cfg *probe.Config, live bool) string {
	switch {
	case !live && (errors.Is(err, machine.ErrTracefsNotMounted) || errors.Is(err, fs.ErrNotExist)):
		return "the saved tree has no available_filter_functions: save sys/kernel/tracing/available_filter_functions with it (as root, tracefs mounted)"
	case errors.Is(err, machine.ErrTracefsNotMounted):
		return "tracefs is not mounted: mount it with `mount -t tracefs nodev /sys/kernel/tracing` (as root)"
	case errors.Is(err, fs.ErrPermission) && os.Geteuid() == 0:
		return "the kernel refuses available_filter_functions even to root: it is locked down (cat /sys/kernel/security/lockdown) or a security module denies it"
	case errors.Is(err, fs.ErrPermission):
		return "available_filter_functions is readable by root only: run as root (sudo)"
	case errors.Is(err, fs.ErrNotExist) && (cfg == nil || cfg.Enabled("CONFIG_DYNAMIC_FTRACE")):
		return "tracefs has no available_filter_functions"
	case errors.Is(err, fs.ErrNotExist):
		return "there is no available_filter_functions: the kernel has no dynamic ftrace (CONFIG_DYNAMIC_FTRACE)"
	}
	return ""
}

// debugfsAdvice says what to do when the kprobe blacklist cannot be read.
func debugfsAdvice(err error, live bool) string {
	switch {
	case !live && (errors.Is(err, machine.ErrDebugfsNotMounted) || errors.Is(err, fs.ErrNotExist)):
		return "the saved tree has no kprobe blacklist: save sys/kernel/debug/kprobes/blacklist with it (as root, debugfs mounted)"
	case errors.Is(err, machine.ErrDebugfsNotMounted):
		return "debugfs is not mounted, so the kprobe blacklist was not read: mount it with `mount -t debugfs nodev /sys/kernel/debug` (as root)"
	case errors.Is(err, fs.ErrPermission):
		return "the kprobe blacklist is readable by root only: run as root (sudo)"
	}
	return ""
}

// machineArch returns uname -m's architecture, from /proc/sys/kernel/arch
// or else the configuration.
func machineArch(mfs machine.FS, cfg *probe.Config) string {
	if arch, err := mfs.Arch(); err == nil {
		return arch
	}
	if cfg == nil {
		return ""
	}
	switch {
	case cfg.Enabled("CONFIG_X86_64"):
		return "x86_64"
	case cfg.Enabled("CONFIG_ARM64"):
		return "aarch64"
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// anyUnknown reports whether some verdict of the report is Unknown.
func anyUnknown(rep *probe.Report) bool {
	for _, ts := range [][]probe.Target{rep.Targets, rep.Clones} {
		for _, tg := range ts {
			for _, v := range tg.Verdicts {
				if v.Answer == probe.Unknown {
					return true
				}
			}
		}
	}
	return false
}
