package cli

import (
	"fmt"

	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/machine"
)

// tableIdentity is what is known of the kernel a decode's table comes from:
// the running kernel, or the boot a snapshot (or an index of one) was saved
// in. The log's release, vmlinux build ID and module build IDs are checked
// against it; empty fields are unknown and not checked.
type tableIdentity struct {
	what    string // "the running kernel", "the snapshot"
	release string
	buildID string
	// moduleID returns a module's build ID ("" when unknown).
	moduleID func(module string) string
	said     map[string]bool // warnings given, to give each once
}

// liveIdentity describes the running kernel under --root.
func liveIdentity(fs machine.FS) *tableIdentity {
	id := &tableIdentity{what: "the running kernel"}
	id.release, _ = fs.Release()
	id.buildID, _ = fs.BuildID()
	id.moduleID = func(m string) string {
		s, _ := fs.ModuleBuildID(m)
		return s
	}
	return id
}

// snapshotIdentity describes the boot of the --kallsyms snapshot or index,
// or returns nil for a plain table.
func (a *app) snapshotIdentity() *tableIdentity {
	info := a.loaded.info
	if info == nil {
		return nil
	}
	return &tableIdentity{what: "the snapshot", release: info.Release, buildID: info.BuildID,
		moduleID: func(m string) string { return info.ModuleBuildIDs[m] }}
}

// check returns the warnings for what in rep contradicts the identity, each
// at most once per invocation.
func (id *tableIdentity) check(rep *klog.Report) []string {
	if id == nil {
		return nil
	}
	var out []string
	say := func(key, format string, args ...any) {
		if id.said == nil {
			id.said = map[string]bool{}
		}
		if !id.said[key] {
			id.said[key] = true
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	h := rep.Header
	if id.release != "" && h.Release != "" && h.Release != id.release {
		say("release", "the log is from kernel %s, %s is %s: give the crashed kernel's table with --kallsyms or --system-map",
			h.Release, id.what, id.release)
	} else if id.buildID != "" && h.BuildID != "" && h.BuildID != id.buildID {
		say("build", "the log's vmlinux build ID is %s, %s's is %s: same release, another build; give the crashed kernel's table",
			h.BuildID, id.what, id.buildID)
	}
	for _, f := range rep.Frames {
		if f.BuildID == "" || f.Module == "" || id.moduleID == nil {
			continue
		}
		if want := id.moduleID(f.Module); want != "" && want != f.BuildID {
			say("module "+f.Module, "the log's module %s has build ID %s, %s's has %s: the module was rebuilt; its frames are decoded against the wrong code",
				f.Module, f.BuildID, id.what, want)
		}
	}
	return out
}
