// Package kallsyms parses the Linux kernel's symbol table (/proc/kallsyms, a
// saved copy of it, or a System.map file) into a compact, immutable Table and
// answers questions about it: which symbol an address falls in, printed the way
// the kernel prints %pS and %pB ("name+0xoff/0xsize [module]"), which addresses a
// name has, what a type letter means, which section an address lies in and
// whether a symbol is exported to modules.
//
// The table keeps symbols in flat arrays (addresses, one name arena, type
// letters, module runs) rather than one Go value per symbol, so a 120,000-line
// table costs a few megabytes and a handful of allocations, and address and name
// lookups do not allocate.
//
// Sizes follow the kernel's own rules (kernel/kallsyms.c and
// kernel/module/kallsyms.c):
//   - a core-kernel symbol extends to the next core symbol with a higher
//     address; the last one to _einittext, _end or _etext;
//   - a module symbol extends to the next symbol of the same module with a
//     higher address, but never past the end of the module's text; an address in
//     the module's data therefore gets the kernel's wrapped size, exactly as the
//     kernel prints it (data_area+0x0/0xffffffffffff76e0 [lkdtm]);
//   - only addresses the kernel itself would resolve get a symbol: the kernel
//     image (text, plus data up to _end when the table has data symbols), module
//     ranges and the BPF, ftrace and kprobe pseudo-modules. Per-CPU offsets (type
//     A with small values) are not addresses.
//
// The package imports only the standard library. Reading the live machine is
// done by package machine; compressed files other than gzip by package input.
package kallsyms
