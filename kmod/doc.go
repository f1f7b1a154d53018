// Package kmod reads a Linux kernel module file (.ko, optionally compressed
// with xz, zstd or gzip) for what the kernel's module loader looks at: the
// .modinfo strings (name, license, vermagic, depends, import_ns), the
// __versions table of symbol CRCs, the undefined symbols of .symtab that
// the loader must resolve, and the module's own exports (__ksymtab,
// __ksymtab_gpl, with their namespaces and CRCs).
//
// It reads facts only; whether a module would load on a kernel is decided
// by package modcheck.
package kmod
