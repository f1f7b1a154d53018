package modcheck

import "fmt"

// Kind says what is wrong.
type Kind string

// Kinds of problems.
const (
	// UnknownSymbol: nothing exports the symbol, or only as GPL-only to a
	// module that is not GPL-compatible.
	UnknownSymbol Kind = "unknown_symbol"
	// BadCRC: the module's __versions CRC differs from the export's.
	BadCRC Kind = "bad_crc"
	// MissingNamespace: the export is in a namespace the module does not
	// import.
	MissingNamespace Kind = "missing_namespace"
	// BadVermagic: the module's vermagic is not the kernel's.
	BadVermagic Kind = "bad_vermagic"
	// MissingDependency: a depends= module is neither loaded nor loadable
	// from this run.
	MissingDependency Kind = "missing_dependency"
	// NoVermagic: the module has no vermagic; the kernel loads it only by
	// force (CONFIG_MODULE_FORCE_LOAD, tainting F).
	NoVermagic Kind = "no_vermagic"
	// NoVersions: the module has no __versions and the kernel checks
	// CRCs; the kernel loads it only by force, as for NoVermagic.
	NoVersions Kind = "no_versions"
	// GPLUnknown: a module that is not GPL-compatible uses an export whose
	// GPL-only status cannot be known from what was given.
	GPLUnknown Kind = "gpl_unknown"
)

// Problem is one reason a module would not load, or why that cannot be told.
type Problem struct {
	Kind   Kind   `json:"kind"`
	Symbol string `json:"symbol,omitempty"`
	// Certain is false when the answer depends on what is not known
	// (NoVermagic, NoVersions, GPLUnknown).
	Certain bool `json:"certain"`
	// Owner is the module that exports Symbol ("vmlinux" for the kernel),
	// or, for an unexported symbol, the module that would export it
	// (Module.symvers or a file of this run) when one is known.
	Owner string `json:"owner,omitempty"`
	// OwnerNotLoaded is set when Owner is a module that is not loaded
	// (and does not load in this run).
	OwnerNotLoaded bool `json:"owner_not_loaded,omitempty"`
	GPLOnly        bool `json:"gpl_only,omitempty"` // the export is EXPORT_SYMBOL_GPL
	// License is the module's license (for GPL-only refusals).
	License string `json:"license,omitempty"`
	// InTable is set when a symbol of that name is in the table but is
	// not exported.
	InTable   bool   `json:"in_table,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	ModuleCRC uint64 `json:"module_crc,omitempty"` // from the module's __versions
	KernelCRC uint32 `json:"kernel_crc,omitempty"` // of the export
	CRCSource string `json:"crc_source,omitempty"` // where KernelCRC came from
	// Vermagic and KernelVermagic for BadVermagic.
	Vermagic       string `json:"vermagic,omitempty"`
	KernelVermagic string `json:"kernel_vermagic,omitempty"`
	Dependency     string `json:"dependency,omitempty"` // for MissingDependency
}

// KernelMessages returns what the kernel (Linux 6.1, kernel/module/) prints
// for the problem, with module as the module's name; nil when the kernel
// prints nothing of its own (MissingDependency: modprobe loads depends=
// first, and without it the kernel reports the symbols).
func (p Problem) KernelMessages(module string) []string {
	unknown := func(err int) string { return fmt.Sprintf("%s: Unknown symbol %s (err %d)", module, p.Symbol, err) }
	switch p.Kind {
	case UnknownSymbol:
		return []string{unknown(-2)} // -ENOENT
	case BadCRC:
		m := fmt.Sprintf("%s: disagrees about version of symbol %s", module, p.Symbol)
		if p.Symbol == "module_layout" { // check_modstruct_version: -ENOEXEC, no symbol line
			return []string{m}
		}
		return []string{m, unknown(-22)} // -EINVAL
	case MissingNamespace:
		return []string{fmt.Sprintf("%s: module uses symbol (%s) from namespace %s, but does not import it.", module, p.Symbol, p.Namespace), unknown(-22)}
	case BadVermagic:
		return []string{fmt.Sprintf("%s: version magic '%s' should be '%s'", module, p.Vermagic, p.KernelVermagic)}
	case NoVermagic:
		return []string{fmt.Sprintf("%s: bad vermagic: kernel tainted.", module)}
	case NoVersions:
		return []string{fmt.Sprintf("%s: %s: kernel tainted.", module, p.Symbol)}
	case GPLUnknown:
		return []string{unknown(-2)}
	}
	return nil
}
