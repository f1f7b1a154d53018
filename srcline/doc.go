// Package srcline turns kernel addresses into source lines from DWARF: for
// an address, the chain of (function, file, line, column), innermost first,
// with each inlined function (DW_TAG_inlined_subroutine) followed by the
// one it was inlined into, at the line of the call, and the real function
// last. It uses only the standard library's debug/elf and debug/dwarf.
//
// A Symbolizer reads one ELF file: a vmlinux (Lookup by link-time address,
// a running kernel's address minus its KASLR offset), a module (.ko, also
// .ko.xz, .ko.zst, .ko.gz: LookupSymbol by the symbol and offset the kernel
// prints, or LookupSection by section and offset, as addr2line -j does), or
// a separate debug file of either. Every lookup takes isReturn: a stack
// trace's return address is looked up at address-1, the call instruction;
// only the faulting PC is looked up as it is.
//
// Find locates the debug file of a kernel or module in the directories a
// user names and the distributions' layouts, and accepts it only when it
// matches: by build ID, or by agreeing with the kallsyms table
// (MatchKallsyms). Package debuginfod fetches the files servers have.
//
// The file is mapped, not read, and only the compilation units an address
// needs are decoded (see docs/design.md), so a 633 MB vmlinux answers a
// sysrq-t dump in a fraction of a second. Errors name the file and say what
// is wrong: not ELF, no DWARF (stripped), truncated, changed while mapped,
// another build. Nothing in the package panics on bad input.
package srcline
