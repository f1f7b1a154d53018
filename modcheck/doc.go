// Package modcheck decides whether kernel modules would load on a kernel,
// and if not why, the way the kernel's module loader (kernel/module/ in
// Linux 6.1) decides it:
//
//   - vermagic must equal the kernel's (same_magic: when the module has
//     __versions, the release part before the first space is not compared);
//   - every undefined symbol must be exported by vmlinux or a loaded module
//     (a __ksymtab_<name> symbol in kallsyms, not merely a symbol of that
//     name), weak ones excepted;
//   - GPL-only exports are invisible to modules whose license is not
//     GPL-compatible (kmod.LicenseIsGPLCompatible);
//   - the CRC in __versions must equal the export's (and module_layout's);
//   - an export in a namespace needs import_ns= for it;
//   - the modules named by depends= must be loaded (modprobe loads them
//     first; the kernel then finds their exports).
//
// The kernel is described by a kallsyms table and, when known, its
// vermagic and Module.symvers. What kallsyms alone tells and does not:
// which symbols are exported (__ksymtab_<name>, a data symbol: only with
// CONFIG_KALLSYMS_ALL), by whom (the module column), and for vmlinux whether
// GPL-only (the address lies between __start___ksymtab_gpl and
// __stop___ksymtab_gpl; not when addresses are hidden). It does not tell
// CRCs (6.1's __crc_<name> symbols are the addresses of the CRCs, and
// vmlinux has none in kallsyms), namespaces (__kstrtabns_<name> is the
// address of the string; newer kernels keep it inside the __ksymtab entry),
// nor whether a module's export is GPL-only: those come from Module.symvers
// or from the other module files of the same run, and are reported as
// unchecked otherwise.
package modcheck
