// Package symdiff compares two Linux kernel symbol tables (kallsyms.Table):
// the live /proc/kallsyms, saved copies, System.map files.
//
// It reports, per module, the symbols added and removed, renamed by a
// compiler clone suffix (foo -> foo.isra.0, foo.constprop.0, foo.cold,
// foo.part.0, foo.llvm.<hash>), whose type letter changed, whose size
// changed, and that moved. Positions are compared relative to a base, so that
// two boots of one build with different KASLR offsets and module load
// addresses compare as equivalent:
//
//   - core kernel symbols relative to _text (else _stext, else the lowest core
//     text symbol); per-CPU symbols (x86_64 before 6.15: type A, small values
//     below the kernel) by their value, which does not slide;
//   - module symbols relative to the start of their module's region: text
//     (t, T, w, W), read-only data (r, R) or data (everything else), each the
//     region's lowest symbol address rounded down to a 4 KiB page (the module
//     loader allocates each region page-aligned; from Linux 6.4 each in its
//     own allocation). Module per-CPU symbols (type a) are compared by name
//     and type only: their value depends on module load order.
//
// Sizes are kallsyms sizes computed on the compared symbols: the distance to
// the next higher symbol of the same module and region. The last symbol of a
// region has no size. Symbols of the same name within a module (static
// functions and variables such as __func__.0) are paired in address order,
// after pairing those at the same relative position.
//
// Two tables need not list the same kinds of symbols, and the comparison
// adapts (each decision is recorded in Result.Notes):
//
//   - When one table has data symbols (CONFIG_KALLSYMS_ALL, or a System.map)
//     and the other has not, only what a kernel without CONFIG_KALLSYMS_ALL
//     lists is compared: core symbols in [_stext, _etext] and
//     [_sinittext, _einittext] and the __start_ / __stop_ section markers, and
//     module code symbols (the rule of scripts/kallsyms.c and
//     kernel/module/kallsyms.c).
//   - A System.map (recognised by the kallsyms_names, kallsyms_num_syms or
//     kallsyms_token_table symbols, which /proc/kallsyms never lists) compared
//     with a kallsyms table loses the symbols scripts/kallsyms.c leaves out
//     (absolute symbols, the kallsyms tables themselves, linker stubs); its
//     per-CPU symbols (d, D) match kallsyms' A. A System.map lists no modules,
//     so modules present only in the other table do not make the tables
//     differ.
//   - When either table's addresses are hidden (all zero: an unprivileged
//     read), or Options.NamesOnly is set, only names and types are compared.
//   - Runtime pseudo-modules ([bpf], [__builtin__ftrace],
//     [__builtin__kprobes]) are not part of a kernel build and are not
//     compared; they are counted in TableInfo.Runtime.
//
// Modules present in only one table are summarised (Result.OnlyInA,
// Result.OnlyInB), not listed symbol by symbol.
package symdiff
