package machine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// capSyslog is the number of the CAP_SYSLOG capability.
const capSyslog = 34

// Report is what `ksym check` prints: whether this process can see kernel
// addresses in /proc/kallsyms, why (not), and what kernel this is. Fields the
// machine does not provide are nil or empty; what went wrong reading them is
// in Problems.
type Report struct {
	Root    string `json:"root"`
	Release string `json:"release,omitempty"`
	Version string `json:"version,omitempty"`
	BuildID string `json:"build_id,omitempty"`
	BootID  string `json:"boot_id,omitempty"`
	// Modules is the number of loaded modules; 0 on a kernel without modules.
	Modules *int `json:"modules"`

	// KallsymsReadable: /proc/kallsyms could be opened and holds symbols.
	KallsymsReadable bool `json:"kallsyms_readable"`
	// AddressesVisible: the addresses read from /proc/kallsyms are real
	// (observed, not predicted).
	AddressesVisible bool `json:"addresses_visible"`
	// Expected is what the kernel's rule predicts from the values below; nil
	// when a value it needs is unknown.
	Expected *bool `json:"addresses_expected"`
	// Reason explains Expected (or AddressesVisible when Expected is nil).
	Reason string `json:"reason"`
	// Advice lists what would make the addresses visible, when they are not.
	Advice []string `json:"advice,omitempty"`

	KptrRestrict        *int   `json:"kptr_restrict"`
	KptrRestrictMeaning string `json:"kptr_restrict_meaning,omitempty"`
	PerfEventParanoid   *int   `json:"perf_event_paranoid"`
	UID                 *int   `json:"uid"` // effective user ID of this process
	CapEff              string `json:"cap_eff,omitempty"`
	CapSyslog           bool   `json:"cap_syslog"`
	// UserNamespace is "initial", "child" (a container's user namespace, where
	// CAP_SYSLOG does not count) or "" when unknown.
	UserNamespace string `json:"user_namespace,omitempty"`

	Problems []string `json:"problems,omitempty"`
}

// Check gathers the Report. It fails only when the root has no /proc at all;
// every other missing or unreadable file is listed in Report.Problems.
//
// The kernel decides at open(2) of /proc/kallsyms, with the opener's
// credentials, whether to print addresses (kallsyms_show_value(), in
// kernel/kallsyms.c from 5.8, kernel/ksyms_common.c from 6.4):
//
//   - kptr_restrict 0: shown if perf_event_paranoid <= 1 (a kernel with
//     perf events), else as for 1;
//   - kptr_restrict 1: shown if the opener has CAP_SYSLOG in the initial user
//     namespace (root on the host has it; root in a rootless container does
//     not; an LSM may still refuse it);
//   - kptr_restrict 2: never shown.
//
// Hidden addresses read as zero. /proc/modules and
// /sys/module/*/sections/* follow the same rule.
func (fs FS) Check() (Report, error) {
	if _, err := os.Stat(fs.Path("/proc")); err != nil {
		return Report{}, fmt.Errorf("no /proc under %s: %w", fs.Root(), err)
	}
	r := Report{Root: fs.Root()}
	r.gatherKernel(fs)
	r.gatherCredentials(fs)
	r.observeKallsyms(fs)
	r.explain()
	return r, nil
}

// problem records a failure to read one item.
func (r *Report) problem(what string, err error) {
	r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", what, err))
}

// gatherKernel reads the release, banner, IDs and module count.
func (r *Report) gatherKernel(fs FS) {
	var err error
	if r.Release, err = fs.Release(); err != nil {
		r.problem("release", err)
	}
	if r.Version, err = fs.Version(); err != nil {
		r.problem("version", err)
	}
	if r.BuildID, err = fs.BuildID(); err != nil {
		r.problem("build ID", err)
	}
	if r.BootID, err = fs.BootID(); err != nil {
		r.problem("boot ID", err)
	}
	if mods, err := fs.Modules(); err != nil {
		r.problem("modules", err)
	} else {
		n := len(mods)
		r.Modules = &n
	}
	if v, err := fs.KptrRestrict(); err != nil {
		r.problem("kptr_restrict", err)
	} else {
		r.KptrRestrict = &v
		r.KptrRestrictMeaning = KptrRestrictMeaning(v)
	}
	if v, err := fs.PerfEventParanoid(); err != nil {
		r.problem("perf_event_paranoid", err)
	} else {
		r.PerfEventParanoid = &v
	}
}

// gatherCredentials reads this process's user, capabilities and namespace.
func (r *Report) gatherCredentials(fs FS) {
	st, err := fs.SelfStatus()
	if err != nil {
		r.problem("credentials", err)
	} else {
		r.UID = st.EUID
		r.CapEff = st.CapEff
		r.CapSyslog = st.HasCap(capSyslog)
	}
	switch init, err := fs.InInitialUserNamespace(); {
	case err != nil:
		r.problem("user namespace", err)
	case init:
		r.UserNamespace = "initial"
	default:
		r.UserNamespace = "child"
	}
}

// observeKallsyms reads /proc/kallsyms up to its first non-zero address.
// Hidden addresses read as zero, and only a few per-CPU offsets are zero when
// they are shown, so the whole file is read only when it is hidden.
func (r *Report) observeKallsyms(fs FS) {
	f, err := os.Open(fs.KallsymsPath())
	if err != nil {
		r.problem("kallsyms", err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 64<<10))
	for sc.Scan() {
		addr, ok := kallsymsAddr(sc.Bytes())
		if !ok {
			continue
		}
		r.KallsymsReadable = true
		if addr != 0 {
			r.AddressesVisible = true
			return
		}
	}
	if err := sc.Err(); err != nil {
		r.KallsymsReadable = false
		r.problem("kallsyms", err)
		return
	}
	if !r.KallsymsReadable {
		r.problem("kallsyms", fmt.Errorf("%s holds no symbols", fs.KallsymsPath()))
	}
}

// kallsymsAddr returns the address of a line "ffffffff81000000 T _text".
func kallsymsAddr(line []byte) (uint64, bool) {
	f := bytes.Fields(line)
	if len(f) < 3 || len(f[1]) != 1 {
		return 0, false
	}
	addr, err := strconv.ParseUint(string(f[0]), 16, 64)
	return addr, err == nil
}

// KptrRestrictMeaning says what a kernel.kptr_restrict value means for
// /proc/kallsyms.
func KptrRestrictMeaning(v int) string {
	switch {
	case v <= 0:
		return "addresses shown to readers with CAP_SYSLOG, and to every reader when perf_event_paranoid <= 1"
	case v == 1:
		return "addresses shown only to readers with CAP_SYSLOG in the initial user namespace"
	}
	return "addresses hidden from every reader, root included"
}

// explain predicts visibility from the kernel's rule and fills Reason and
// Advice.
func (r *Report) explain() {
	v := visibility{
		kptr: r.KptrRestrict, paranoid: r.PerfEventParanoid, capSyslog: r.CapSyslog,
		credsKnown: r.UID != nil, userNS: r.UserNamespace,
	}
	r.Expected, r.Reason, r.Advice = v.predict()
	if r.Expected == nil {
		if r.KallsymsReadable {
			r.Reason = fmt.Sprintf("%s (observed; %s)", visibleWord(r.AddressesVisible), r.Reason)
		}
	} else if r.KallsymsReadable && *r.Expected != r.AddressesVisible {
		r.Problems = append(r.Problems, fmt.Sprintf(
			"the kernel's rule predicts addresses %s but /proc/kallsyms shows them %s: an LSM (SELinux, AppArmor) may deny CAP_SYSLOG, or a setting changed while checking",
			visibleWord(*r.Expected), visibleWord(r.AddressesVisible)))
	}
	if r.KallsymsReadable && r.AddressesVisible {
		r.Advice = nil
	}
}

// visibleWord returns "visible" or "hidden".
func visibleWord(b bool) string {
	if b {
		return "visible"
	}
	return "hidden"
}

// visibility holds the inputs of kallsyms_show_value().
type visibility struct {
	kptr, paranoid *int
	capSyslog      bool
	credsKnown     bool
	userNS         string // "initial", "child" or ""
}

// predict applies kallsyms_show_value(): it returns nil when an input it
// needs is unknown.
func (v visibility) predict() (*bool, string, []string) {
	yes, no := true, false
	if v.kptr == nil {
		return nil, "kernel.kptr_restrict is unknown", nil
	}
	k := *v.kptr
	if k >= 2 {
		return &no, "kernel.kptr_restrict=2 hides kernel addresses from every reader, root included",
			[]string{"as root: sysctl -w kernel.kptr_restrict=1, then run ksym as root"}
	}
	if k <= 0 && v.paranoid != nil && *v.paranoid <= 1 {
		return &yes, fmt.Sprintf("kernel.kptr_restrict=0 and kernel.perf_event_paranoid=%d (<= 1) show addresses to every reader", *v.paranoid), nil
	}
	if !v.credsKnown {
		return nil, "this process's capabilities are unknown", nil
	}
	return v.predictCapSyslog()
}

// predictCapSyslog decides the cases where CAP_SYSLOG is what matters.
func (v visibility) predictCapSyslog() (*bool, string, []string) {
	yes, no := true, false
	rule := "kernel.kptr_restrict=1 shows addresses only to holders of CAP_SYSLOG"
	if *v.kptr <= 0 {
		rule = "kernel.kptr_restrict=0 with kernel.perf_event_paranoid >= 2 (or unknown) shows addresses only to holders of CAP_SYSLOG"
	}
	switch {
	case v.capSyslog && v.userNS == "child":
		return &no, rule + "; this process has CAP_SYSLOG only inside a user namespace (a rootless container?), and the kernel wants it in the initial one",
			[]string{"run ksym on the host, or in a container that shares the host's user namespace"}
	case v.capSyslog:
		return &yes, rule + ", and this process has it", nil
	}
	advice := []string{"run as root (sudo ksym ...), or give the program CAP_SYSLOG (setcap cap_syslog+ep)"}
	if *v.kptr <= 0 {
		advice = append(advice, "or, as root, sysctl -w kernel.perf_event_paranoid=1 to show addresses to every user (this weakens KASLR for all local users)")
	}
	return &no, rule + ", and this process lacks it", advice
}

// Status is the part of /proc/self/status that decides what a process may
// read.
type Status struct {
	EUID   *int   // effective user ID
	CapEff string // effective capabilities, hex as printed
	capEff uint64
}

// HasCap reports whether capability number c is in the effective set.
func (s Status) HasCap(c uint) bool { return c < 64 && s.capEff&(1<<c) != 0 }

// SelfStatus reads the effective user ID and capabilities of this process
// from /proc/self/status.
func (fs FS) SelfStatus() (Status, error) {
	path := fs.Path("/proc/self/status")
	data, err := readAll(path, 4096)
	if err != nil {
		return Status{}, err
	}
	return parseStatus(path, data)
}

// parseStatus reads the Uid: and CapEff: lines of a status file.
func parseStatus(path string, data []byte) (Status, error) {
	var st Status
	for _, line := range strings.Split(string(data), "\n") {
		key, val, ok := strings.Cut(line, ":")
		f := strings.Fields(val)
		switch {
		case !ok || len(f) == 0:
		case key == "Uid" && len(f) >= 2:
			euid, err := strconv.Atoi(f[1])
			if err != nil {
				return Status{}, fmt.Errorf("%s: bad Uid line %q", path, line)
			}
			st.EUID = &euid
		case key == "CapEff":
			c, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				return Status{}, fmt.Errorf("%s: bad CapEff line %q", path, line)
			}
			st.CapEff, st.capEff = f[0], c
		}
	}
	if st.EUID == nil || st.CapEff == "" {
		return Status{}, fmt.Errorf("%s: no Uid or CapEff line", path)
	}
	return st, nil
}

// InInitialUserNamespace reports whether this process runs in the initial
// user namespace, from /proc/self/uid_map: there it maps the whole range
// "0 0 4294967295".
func (fs FS) InInitialUserNamespace() (bool, error) {
	s, err := fs.readLine("/proc/self/uid_map")
	if err != nil {
		return false, err
	}
	return strings.Join(strings.Fields(s), " ") == "0 0 4294967295", nil
}
