// Package cli implements the ksym command line: a cobra command tree that
// renders what the kallsyms, input and machine packages decide.
//
// Exit status: 0 when everything asked for was found, 1 when something was
// not found, 2 for usage errors and unreadable or invalid input. Errors go to
// standard error prefixed "ksym: ". The libraries' errors state facts; what
// the user can do about them is added here (advice.go).
package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit statuses.
const (
	ExitOK       = 0 // everything asked for was found
	ExitNotFound = 1 // at least one address or name was not found
	ExitUsage    = 2 // bad usage, or input that cannot be read or parsed
)

// app holds the global flags and the streams of one invocation.
type app struct {
	kallsymsPath string // --kallsyms
	root         string // --root
	json         bool   // --json
	noCache      bool   // --no-cache
	// useCache is set by the commands that may answer from the cache of
	// the live table (addr, lookup, info) before they load it.
	useCache bool

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	loaded loadedTable // cached by table()
}

// Execute runs the ksym command line with args (without the program name) and
// returns the process exit status.
func Execute(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return a.exitStatus(root.Execute())
}

// exitStatus reports err on stderr and maps it to an exit status.
func (a *app) exitStatus(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(a.stderr, "ksym: %s\n", clipEcho(ee.err.Error()))
		}
		return ee.code
	}
	fmt.Fprintf(a.stderr, "ksym: %s\n", clipEcho(err.Error()))
	return ExitUsage
}

// exitError carries an exit status; a nil err means the messages were already
// printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// errNotFound is returned by commands that printed their "not found" messages
// themselves.
var errNotFound = &exitError{code: ExitNotFound}

// usageErrorf builds an exit-status-2 error.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

const rootLong = `ksym reads the Linux kernel symbol table (/proc/kallsyms, a saved copy of it,
or a System.map) and answers questions about it: which symbol an address is in,
printed exactly as the kernel prints %pS and %pB (name+0xoff/0xsize [module]),
which addresses a name has, and what the type letters mean.

By default it reads the running kernel's /proc/kallsyms (under --root). Use
--kallsyms to read a saved table instead: a file, "-" for standard input, a
gzip, xz or zstd compressed file, a snapshot or an index ('ksym snapshot').
addr, lookup and info keep a cache of the live table ('ksym cache --help').

Exit status: 0 found, 1 not found, 2 usage or input error.`

const rootExample = `  ksym addr ffffffffc09e64a5
  ksym --kallsyms kallsyms.txt.gz addr --return 0xffffffff8a3c4e0d
  ksym lookup vfs_read lkdtm:lkdtm_BUG
  ksym search 'tcp_v4_*' --type Tt
  ksym info vfs_write
  ksym stats --top 20 --json
  ksym --kallsyms kallsyms.txt.gz decode crash.txt
  sudo ksym stacks --duration 5s --svg stuck.svg
  sudo ksym snapshot save -o web-7.ksnap
  ksym diff old.ksnap new.ksnap`

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "ksym",
		Short:         "Resolve kernel addresses and symbols from kallsyms or System.map",
		Long:          rootLong,
		Example:       rootExample,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version(),
	}
	root.SetVersionTemplate("ksym {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v (see '%s --help')", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.kallsymsPath, "kallsyms", "", "read the symbol table from `PATH` (a file, - for stdin, gzip/xz/zstd, a snapshot or an index) instead of the live /proc/kallsyms")
	pf.StringVar(&a.root, "root", "/", "machine root `DIR` whose /proc and /sys are read when --kallsyms is not given")
	pf.BoolVar(&a.noCache, "no-cache", false, "read the live /proc/kallsyms instead of the cache of it (see 'ksym cache --help')")
	pf.BoolVar(&a.json, "json", false, "print JSON (field names are stable; see docs/cli.md)")
	root.AddCommand(
		a.newAddrCmd(),
		a.newLookupCmd(),
		a.newSearchCmd(),
		a.newInfoCmd(),
		a.newTypesCmd(),
		a.newStatsCmd(),
		a.newCheckCmd(),
		a.newModcheckCmd(),
		a.newMemCmd(),
		a.newProbeCmd(),
		a.newDecodeCmd(),
		a.newStacksCmd(),
		a.newDiffCmd(),
		a.newSnapshotCmd(),
		a.newCacheCmd(),
		a.newServeCmd(),
		a.newVersionCmd(),
	)
	return root
}

// argsAtLeast is a cobra.PositionalArgs that asks for at least n arguments,
// with a message naming what is missing.
func argsAtLeast(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("%s: missing %s (see '%s --help')", c.Name(), what, c.CommandPath())
		}
		return nil
	}
}

// argsRange is a cobra.PositionalArgs for between min and max arguments.
func argsRange(min, max int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < min {
			return usageErrorf("%s: missing %s (see '%s --help')", c.Name(), what, c.CommandPath())
		}
		if len(args) > max {
			return usageErrorf("%s: too many arguments: want %s (see '%s --help')", c.Name(), what, c.CommandPath())
		}
		return nil
	}
}
