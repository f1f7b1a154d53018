package machine

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// Machine paths of the tracing files. tracefs is mounted at TracefsPath on
// Linux 4.1 and later, and appears under debugfs at DebugTracingPath too.
const (
	TracefsPath        = "/sys/kernel/tracing"
	DebugTracingPath   = "/sys/kernel/debug/tracing"
	KprobeBlacklist    = "/sys/kernel/debug/kprobes/blacklist"
	DebugfsPath        = "/sys/kernel/debug"
	VmlinuxBTFPath     = "/sys/kernel/btf/vmlinux"
	ProcConfigPath     = "/proc/config.gz"
	tracefsMountMarker = "README" // every mounted tracefs has it
)

// ErrTracefsNotMounted is returned when neither /sys/kernel/tracing nor
// /sys/kernel/debug/tracing holds a tracefs (the directory is empty or
// missing).
var ErrTracefsNotMounted = errors.New("tracefs is not mounted (neither " + TracefsPath + " nor " + DebugTracingPath + " holds its files)")

// ErrDebugfsNotMounted is returned for a debugfs file when /sys/kernel/debug
// is empty or missing.
var ErrDebugfsNotMounted = errors.New("debugfs is not mounted (" + DebugfsPath + " is empty)")

// TracingDir returns the machine path of the mounted tracefs:
// /sys/kernel/tracing, else /sys/kernel/debug/tracing. A directory counts as
// a mounted tracefs when it holds README (always there when mounted) or
// available_filter_functions (what a saved tree keeps). It returns
// ErrTracefsNotMounted when neither does.
func (fs FS) TracingDir() (string, error) {
	for _, dir := range []string{TracefsPath, DebugTracingPath} {
		for _, f := range []string{tracefsMountMarker, "available_filter_functions"} {
			if _, err := os.Stat(fs.Path(dir + "/" + f)); err == nil {
				return dir, nil
			}
		}
	}
	return "", ErrTracefsNotMounted
}

// TracingFile returns the content of one file of the mounted tracefs, such
// as "available_filter_functions", and its real path. Errors are
// ErrTracefsNotMounted, or the file's own (os.ErrNotExist when the kernel
// lacks the feature, os.ErrPermission when it refuses: not root, or a
// locked-down kernel).
func (fs FS) TracingFile(name string) ([]byte, string, error) {
	dir, err := fs.TracingDir()
	if err != nil {
		return nil, "", err
	}
	path := fs.Path(dir + "/" + name)
	data, err := readAll(path, 1<<20)
	return data, path, err
}

// KprobeBlacklistText returns /sys/kernel/debug/kprobes/blacklist as the
// kernel printed it, and its real path. It returns ErrDebugfsNotMounted
// when debugfs is not mounted, os.ErrNotExist when debugfs is but the
// kernel has no kprobes.
func (fs FS) KprobeBlacklistText() ([]byte, string, error) {
	path := fs.Path(KprobeBlacklist)
	data, err := readAll(path, 64<<10)
	if errors.Is(err, os.ErrNotExist) && !fs.debugfsMounted() {
		return nil, path, ErrDebugfsNotMounted
	}
	return data, path, err
}

// debugfsMounted reports whether /sys/kernel/debug has any entry: an
// unmounted debugfs leaves the directory empty.
func (fs FS) debugfsMounted() bool {
	entries, err := os.ReadDir(fs.Path(DebugfsPath))
	return err == nil && len(entries) > 0
}

// KernelConfig returns the kernel's build configuration as text, and where
// it came from: /proc/config.gz (CONFIG_IKCONFIG_PROC), gunzipped, else
// /boot/config-<release> as distributions install it. The error wraps
// os.ErrNotExist when neither exists.
func (fs FS) KernelConfig() ([]byte, string, error) {
	path := fs.Path(ProcConfigPath)
	data, err := readAll(path, 64<<10)
	if err == nil {
		text, err := gunzip(data)
		if err != nil {
			return nil, path, fmt.Errorf("%s: %w", path, err)
		}
		return text, path, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, path, err
	}
	release, rerr := fs.Release()
	if rerr != nil {
		return nil, path, err
	}
	boot := fs.Path("/boot/config-" + release)
	data, err = readAll(boot, 256<<10)
	if err != nil {
		return nil, boot, fmt.Errorf("no kernel configuration: neither %s nor %s: %w", path, boot, err)
	}
	return data, boot, nil
}

// gunzip decompresses a whole gzip stream.
func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// BTF returns the BTF type information of vmlinux (module "" or "vmlinux")
// or of a loaded module, from /sys/kernel/btf/<name>, and its real path.
// The file exists when the kernel was built with CONFIG_DEBUG_INFO_BTF
// (CONFIG_DEBUG_INFO_BTF_MODULES for modules).
func (fs FS) BTF(module string) ([]byte, string, error) {
	if module == "" {
		module = "vmlinux"
	}
	path := fs.Path("/sys/kernel/btf/" + module)
	data, err := readAll(path, 8<<20)
	return data, path, err
}

// EventSourcesPath lists the perf event sources (PMUs) the kernel has.
const EventSourcesPath = "/sys/bus/event_source/devices"

// HasEventSource reports whether the kernel registered the perf event
// source name, such as "kprobe" (registered with CONFIG_KPROBE_EVENTS, and
// used by bpftrace and perf to create kprobes). The error is
// os.ErrNotExist when the tree has no event source directory at all, so
// that nothing can be told.
func (fs FS) HasEventSource(name string) (bool, error) {
	entries, err := os.ReadDir(fs.Path(EventSourcesPath))
	if err != nil {
		return false, err
	}
	if len(entries) == 0 {
		return false, fmt.Errorf("%s is empty: %w", fs.Path(EventSourcesPath), os.ErrNotExist)
	}
	for _, e := range entries {
		if e.Name() == name {
			return true, nil
		}
	}
	return false, nil
}

// HasBTF reports whether a loaded module has BTF (/sys/kernel/btf/<module>):
// nil when it has, an error wrapping os.ErrNotExist when it has not.
func (fs FS) HasBTF(module string) error {
	_, err := os.Stat(fs.Path("/sys/kernel/btf/" + module))
	return err
}
