package cli

import (
	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/machine"
)

// liveKernel describes the running kernel under --root: a log that prints
// another release or build ID, or a timestamp past the kernel's uptime, is
// decoded from the log alone.
func liveKernel(fs machine.FS) decode.Kernel {
	k := decode.Kernel{Name: "the running kernel"}
	k.Release, _ = fs.Release()
	k.BuildID, _ = fs.BuildID()
	k.ModuleBuildID = func(m string) string {
		s, _ := fs.ModuleBuildID(m)
		return s
	}
	k.Uptime = func() (float64, bool) {
		up, err := fs.Uptime()
		return up, err == nil
	}
	return k
}

// snapshotKernel describes the boot of the --kallsyms snapshot or index;
// nothing is known of the kernel of a plain table.
func (a *app) snapshotKernel() decode.Kernel {
	info := a.loaded.info
	if info == nil {
		return decode.Kernel{}
	}
	return decode.Kernel{Name: "the snapshot", Release: info.Release, BuildID: info.BuildID,
		ModuleBuildID: func(m string) string { return info.ModuleBuildIDs[m] }}
}
