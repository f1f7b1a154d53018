// Package decode resolves the frames and registers of kernel reports parsed
// by package klog against a symbol table from package kallsyms, and explains
// each report in a summary.
//
// A Decoder holds one table. With a runtime table (a saved /proc/kallsyms of
// the crashed boot) every address is exact. With a System.map (link-time
// addresses, Options.SystemMap) the decoder first finds the KASLR slide from
// the log (see Slide) and applies it to core kernel addresses only; module
// addresses never use the kernel slide. Which slides are possible and where
// modules live depend on the architecture (Arch: x86_64 or arm64, told from
// the table or the report). With the modules' places (Options.Modules, from
// a saved /proc/modules), raw module addresses are attributed to their
// module even with a System.map, and a runtime table's modules are checked
// against them.
//
// Named frames ("func+0xoff/0xsize [mod]") are looked up by name, among
// duplicate static names the one whose kallsyms size equals the printed
// size. A table that does not match the log (a printed size it does not
// have, a core name it lacks, a printed address or kernel offset it puts
// elsewhere, another release or build ID than Options.Kernel's) is used
// for no answer: the report, and the later ones of the same log, are
// decoded from the log alone (Result.LogOnly), and each says why once
// (Result.MismatchReason). Raw addresses are
// resolved as the kernel prints them: return addresses of call traces with
// the %pB rule (address-1), the faulting PC with %pS. Hashed %p values, user
// space addresses and zero are never resolved.
//
// A Result holds numbers and types, not text formats: addresses, offsets
// and sizes are uint64, frame kinds klog.FrameKind. Printing them (as hex,
// as JSON) is the caller's business.
package decode
