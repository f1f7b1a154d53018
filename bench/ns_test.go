package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// sysModuleEntry is what OTel reads from /sys/module/<name>/ for a module.
type sysModuleEntry struct {
	name string
	text uint64 // sections/.text
	size uint64 // coresize
}

// inProcNamespace runs fn on an OS thread that has its own private mount
// namespace in which data is bind-mounted over /proc/kallsyms and, when mods is
// not nil, a fake /sys/module holding mods is bind-mounted over /sys/module.
// It is how the tests feed OTel (which reads only the live files) a fixture.
// The thread is discarded afterwards (the goroutine exits locked). It needs
// root; otherwise it returns an error and fn does not run.
func inProcNamespace(t testing.TB, data []byte, mods []sysModuleEntry, fn func()) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root for a private mount namespace")
	}
	dir := t.TempDir()
	kfile := filepath.Join(dir, "kallsyms")
	if err := os.WriteFile(kfile, data, 0o644); err != nil {
		return err
	}
	sysmod := ""
	if mods != nil {
		sysmod = filepath.Join(dir, "module")
		for _, m := range mods {
			d := filepath.Join(sysmod, m.name, "sections")
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(d, ".text"), fmt.Appendf(nil, "0x%x\n", m.text), 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(sysmod, m.name, "coresize"), fmt.Appendf(nil, "%d\n", m.size), 0o644); err != nil {
				return err
			}
		}
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread's mount namespace differs from the
		// process's, so the runtime must throw the thread away on exit.
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		if err := syscall.Mount("", "/", "", syscall.MS_PRIVATE|syscall.MS_REC, ""); err != nil {
			errc <- fmt.Errorf("make / private: %w", err)
			return
		}
		if err := syscall.Mount(kfile, "/proc/kallsyms", "", syscall.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("bind %s: %w", kfile, err)
			return
		}
		if sysmod != "" {
			if err := syscall.Mount(sysmod, "/sys/module", "", syscall.MS_BIND, ""); err != nil {
				errc <- fmt.Errorf("bind %s: %w", sysmod, err)
				return
			}
		}
		fn()
		errc <- nil
	}()
	return <-errc
}
