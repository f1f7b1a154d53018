// Package machine reads what ksym needs from a running Linux machine's /proc
// and /sys: the live symbol table, kptr_restrict and perf_event_paranoid, the
// kernel release and build ID, the loaded modules with their sections and build
// IDs, whether this process may see kernel addresses at all, and for tracing:
// the tracefs and debugfs files, the kernel configuration, BTF and the perf
// event sources.
//
// Every path goes through an FS root, like prometheus/procfs: the zero FS (or
// NewFS("/")) reads the real machine, NewFS("testdata/run1-A") reads a
// miniature copy of one, which is how the tests run against real data captured
// from other kernels.
package machine

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ksym-dev/ksym/kallsyms"
)

// FS is a root directory under which /proc and /sys are found. The zero value
// reads the real machine.
type FS struct {
	root string // "" means "/"
}

// NewFS returns an FS rooted at root: "" or "/" is the real machine, anything
// else a directory holding proc/ and sys/ trees. It fails when root is not a
// directory.
func NewFS(root string) (FS, error) {
	if root == "" || root == "/" {
		return FS{}, nil
	}
	st, err := os.Stat(root)
	if err != nil {
		return FS{}, fmt.Errorf("machine root: %w", err)
	}
	if !st.IsDir() {
		return FS{}, fmt.Errorf("machine root %s is not a directory", root)
	}
	return FS{root: filepath.Clean(root)}, nil
}

// Default returns the FS of the real machine (the same as the zero FS).
func Default() FS { return FS{} }

// Root returns the directory the FS reads from ("/" for the real machine).
func (fs FS) Root() string {
	if fs.root == "" {
		return "/"
	}
	return fs.root
}

// Path returns the real path of a machine path such as "/proc/kallsyms".
func (fs FS) Path(machinePath string) string {
	return filepath.Join(fs.Root(), machinePath)
}

// KallsymsPath returns the path of the symbol table: <root>/proc/kallsyms.
func (fs FS) KallsymsPath() string { return fs.Path("/proc/kallsyms") }

// kallsymsBuffer is the first buffer for reading /proc/kallsyms: procfs files
// report size 0, and a table of 120,000 symbols is 5 to 6 MB.
const kallsymsBuffer = 8 << 20

// Kallsyms reads and parses the live symbol table, parsing while the kernel
// generates the text (kallsyms.Parse). A table whose addresses are all zero
// (an unprivileged reader, or kptr_restrict=2) is returned with no error:
// t.Hidden() tells, and Check explains why.
func (fs FS) Kallsyms() (*kallsyms.Table, error) {
	path := fs.KallsymsPath()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return kallsyms.Parse(f, kallsyms.Options{Source: path})
}

// KptrRestrict returns kernel.kptr_restrict (/proc/sys/kernel/kptr_restrict):
// 0, 1 or 2. See Check for what each value means for /proc/kallsyms.
func (fs FS) KptrRestrict() (int, error) {
	return fs.readInt("/proc/sys/kernel/kptr_restrict")
}

// PerfEventParanoid returns kernel.perf_event_paranoid
// (/proc/sys/kernel/perf_event_paranoid). With kptr_restrict=0, a value of 1
// or less shows kernel addresses to every reader of /proc/kallsyms.
func (fs FS) PerfEventParanoid() (int, error) {
	return fs.readInt("/proc/sys/kernel/perf_event_paranoid")
}

// Release returns the kernel release, as `uname -r` prints it
// (/proc/sys/kernel/osrelease).
func (fs FS) Release() (string, error) {
	return fs.readLine("/proc/sys/kernel/osrelease")
}

// Version returns the kernel's banner from /proc/version ("Linux version
// 6.1.0-56-amd64 (debian-kernel@...) ... #1 SMP PREEMPT_DYNAMIC Debian ...").
func (fs FS) Version() (string, error) {
	return fs.readLine("/proc/version")
}

// BootID returns the random UUID the kernel picks at each boot
// (/proc/sys/kernel/random/boot_id): a saved table is only valid for the boot
// it was read in, since KASLR moves the kernel at every boot.
func (fs FS) BootID() (string, error) {
	return fs.readLine("/proc/sys/kernel/random/boot_id")
}

// Hostname returns the host name (/proc/sys/kernel/hostname).
func (fs FS) Hostname() (string, error) {
	return fs.readLine("/proc/sys/kernel/hostname")
}

// Uptime returns how long the kernel has been up, in seconds, suspend
// included (the first field of /proc/uptime, CLOCK_BOOTTIME). A printk
// timestamp of this boot is never later: printk stamps lines with the
// local clock, which does not count suspend.
func (fs FS) Uptime() (float64, error) {
	s, err := fs.readLine("/proc/uptime")
	if err != nil {
		return 0, err
	}
	f, _, _ := strings.Cut(s, " ")
	up, err := strconv.ParseFloat(f, 64)
	if err != nil || up < 0 {
		return 0, fmt.Errorf("%s: %q is not an uptime", fs.Path("/proc/uptime"), s)
	}
	return up, nil
}

// readLine reads a one-line file and returns it without its line feed.
func (fs FS) readLine(machinePath string) (string, error) {
	b, err := readAll(fs.Path(machinePath), 4096)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\n"), nil
}

// readInt reads a file holding one decimal integer.
func (fs FS) readInt(machinePath string) (int, error) {
	s, err := fs.readLine(machinePath)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number", fs.Path(machinePath), s)
	}
	return n, nil
}

// readAll reads a whole file into one buffer of size bytes to begin with,
// grown if needed. Unlike os.ReadFile, it does not trust the size procfs and
// sysfs report (0 or 4096), and it does not grow a buffer from 512 bytes.
func readAll(path string, size int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				return buf, nil
			}
			return nil, err
		}
	}
}
