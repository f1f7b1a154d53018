package kallsyms

// Type letters.
//
// The second column of /proc/kallsyms and System.map is an nm(1) type letter.
// It says which kind of section the symbol lives in (text, data, read-only
// data, bss, ...) and, through its case, something about its visibility. It is
// NOT "f" for function and "v" for variable, as is often repeated: a function
// is "T" or "t" (or "W"), a variable "D", "d", "R", "r", "B" or "b".
//
// What the case means depends on where the symbol comes from:
//
//   - Core kernel (vmlinux) symbols keep the letter nm printed at build time
//     (scripts/kallsyms.c). Upper case means external (global) linkage, lower
//     case means the symbol is static, local to its source file. Upper case
//     does NOT mean exported to modules: vfs_read is "T" and is not exported.
//     One exception: on kernels built with absolute per-CPU symbols (x86_64 SMP
//     before 6.15), scripts/kallsyms.c rewrites every per-CPU variable to "A";
//     their values are offsets into each CPU's per-CPU area, not addresses.
//   - Module symbols get their letter from the module's ELF symbol table when
//     the module is loaded (elf_type in kernel/module/kallsyms.c), always in
//     lower case, and /proc/kallsyms prints it in upper case exactly when the
//     module exports the symbol (EXPORT_SYMBOL or EXPORT_SYMBOL_GPL) and in
//     lower case otherwise (s_show in kernel/kallsyms.c).
//   - The pseudo-modules [bpf], [__builtin__ftrace] and [__builtin__kprobes]
//     hold generated code and are always "t".

// TypeInfo describes one nm type letter as it can appear in a kernel symbol
// table.
type TypeInfo struct {
	// Letter is the type letter as printed.
	Letter byte
	// Meaning is a short plain-words description, e.g. "text (code)".
	Meaning string
	// Upper reports whether the letter is upper case. For core kernel symbols
	// that means external (global) linkage; for module symbols in
	// /proc/kallsyms it means exported.
	Upper bool
	// InKallsyms reports whether the kernel can print the letter in
	// /proc/kallsyms (for core or module symbols).
	InKallsyms bool
	// Note adds kernel-specific detail; it may be empty.
	Note string
}

// typeTable lists every letter TypeLetters returns, in the order nm(1)
// documents them.
var typeTable = []TypeInfo{
	{'A', "absolute value, not relocated", true, true,
		"Core: on x86_64 kernels with absolute per-CPU symbols (before 6.15) scripts/kallsyms rewrites every per-CPU variable to A in /proc/kallsyms; its value is an offset into each CPU's per-CPU area, not an address (System.map shows the same variables as D, d or b with the same small values). In System.map, A also marks linker constants (phys_startup_64, text_size), which /proc/kallsyms leaves out. Module: an exported absolute or per-CPU symbol."},
	{'a', "absolute value, local", false, true,
		"Core: local absolute symbols are dropped from the kernel's table. Module: an absolute symbol or a per-CPU variable of the module, not exported; a per-CPU value is an offset, not an address."},
	{'B', "bss (zero-initialized data), global", true, true, ""},
	{'b', "bss (zero-initialized data), local", false, true, ""},
	{'C', "common symbol (uninitialized data not yet given a place)", true, false,
		"The final link of vmlinux places commons in bss, so C does not appear in kernel tables."},
	{'D', "initialized data, global", true, true, ""},
	{'d', "initialized data, local", false, true, ""},
	{'G', "initialized data in a small-object section, global", true, true,
		"Only on architectures with small-data sections (e.g. MIPS, Alpha); not on x86."},
	{'g', "initialized data in a small-object section, local", false, true,
		"Only on architectures with small-data sections (e.g. MIPS, Alpha); not on x86."},
	{'i', "indirect function (GNU ifunc)", false, false,
		"The kernel does not use ifuncs."},
	{'N', "debugging symbol", true, false,
		"Dropped from the kernel's table."},
	{'n', "non-data, non-code read-only section (nm); debug section (module loader)", false, false,
		"Dropped from the kernel's table."},
	{'p', "stack unwind section", false, false, ""},
	{'R', "read-only data, global", true, true, ""},
	{'r', "read-only data, local", false, true, ""},
	{'S', "zero-initialized data in a small-object section, global", true, true,
		"Only on architectures with small-data sections (e.g. MIPS, Alpha); not on x86."},
	{'s', "zero-initialized data in a small-object section, local", false, true,
		"Only on architectures with small-data sections (e.g. MIPS, Alpha); not on x86."},
	{'T', "text (code), global", true, true,
		"Core: a non-static function; this does not mean it is exported to modules. Module: an exported function."},
	{'t', "text (code), local", false, true,
		"Core: a static function, or an inlined-and-outlined piece such as foo.cold or foo.isra.0. Module: a function the module does not export. BPF programs and ftrace/kprobe trampolines are t."},
	{'U', "undefined: referenced here, defined elsewhere", true, false,
		"Only in nm output of an object or module file; never in /proc/kallsyms or System.map."},
	{'u', "unique global symbol (GNU extension)", false, false,
		"Dropped from the kernel's table."},
	{'V', "weak object, defined", true, true,
		"A weak variable that no strong definition replaced. Module: weak and exported."},
	{'v', "weak object", false, true,
		"nm: an undefined weak object. Module: a weak variable the module does not export."},
	{'W', "weak symbol (usually a function), defined", true, true,
		"Core: a __weak default implementation that no architecture or driver overrode. Module: weak and exported."},
	{'w', "weak symbol (usually a function)", false, true,
		"nm: an undefined weak symbol (dropped from System.map). Module: a weak function the module does not export."},
	{'?', "unknown or object-format specific", false, true,
		"The module loader uses ? for symbols in sections it cannot classify."},
}

// TypeLetters returns a description of every nm type letter that can occur in
// a kernel symbol table, including those the kernel filters out (U, N, ...),
// in nm(1) order. The caller may modify the returned slice.
func TypeLetters() []TypeInfo {
	out := make([]TypeInfo, len(typeTable))
	copy(out, typeTable)
	return out
}

// LookupType returns the description of letter and whether it is known.
func LookupType(letter byte) (TypeInfo, bool) {
	for _, ti := range typeTable {
		if ti.Letter == letter {
			return ti, true
		}
	}
	return TypeInfo{Letter: letter, Meaning: "unknown type letter"}, false
}

// isUpper reports whether letter is an upper-case ASCII letter. For module
// symbols in /proc/kallsyms that means exported; for core symbols, external
// linkage.
func isUpper(letter byte) bool { return letter >= 'A' && letter <= 'Z' }

// IsText reports whether letter marks code: T, t, W or w.
func IsText(letter byte) bool {
	switch letter {
	case 'T', 't', 'W', 'w':
		return true
	}
	return false
}

// kind returns what a letter says about the section, in plain words, without
// the linkage part; "" for a letter nm does not use.
func kind(letter byte) string {
	switch letter {
	case 'A', 'a':
		return "absolute value (not an address that moves with the kernel)"
	case 'B', 'b':
		return "zero-initialized data (bss)"
	case 'C':
		return "common symbol (uninitialized data)"
	case 'D', 'd':
		return "initialized data"
	case 'G', 'g':
		return "initialized data in a small-object section"
	case 'i':
		return "indirect function (GNU ifunc)"
	case 'N':
		return "debugging symbol"
	case 'n':
		return "read-only non-code, non-data section (nm), or a debugging section (module loader)"
	case 'p':
		return "stack unwind section"
	case 'R', 'r':
		return "read-only data"
	case 'S', 's':
		return "zero-initialized data in a small-object section"
	case 'T', 't':
		return "code (text)"
	case 'U':
		return "undefined (defined elsewhere)"
	case 'u':
		return "unique global symbol"
	case 'V', 'v':
		return "weak variable"
	case 'W', 'w':
		return "weak symbol (usually a function)"
	}
	return ""
}

// DescribeType explains letter in plain words for a kernel symbol: inModule is
// true for a symbol of a loadable module (one printed with "[module]"), false
// for the core kernel. The case rules differ between the two: see the package
// notes on type letters.
func DescribeType(letter byte, inModule bool) string {
	if letter == '?' {
		return "unknown type (the section could not be classified)"
	}
	k := kind(letter)
	if k == "" {
		return "unknown type letter " + quoteByte(letter)
	}
	if inModule {
		return k + moduleLinkage(letter)
	}
	return k + coreLinkage(letter)
}

func quoteByte(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return "'" + string(rune(b)) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[b>>4], hex[b&15]})
}

// moduleLinkage is the visibility part for module symbols: the kernel prints
// the letter upper case exactly when the module exports the symbol.
func moduleLinkage(letter byte) string {
	switch letter {
	case 'a':
		return ", not exported by the module (a module's per-CPU variables show as a: the value is an offset, not an address)"
	case 'U':
		return "; never in /proc/kallsyms"
	case 'N', 'n', 'i', 'p', 'C', 'u':
		return ""
	}
	if isUpper(letter) {
		return ", exported by the module (upper case in a module means exported)"
	}
	return ", not exported by the module"
}

// coreLinkage is the visibility part for core kernel symbols, with a leading
// ", " (or "" when the letter says nothing about linkage).
func coreLinkage(letter byte) string {
	switch letter {
	case 'A':
		return ", global; on x86_64 most A symbols are per-CPU variables whose value is an offset into each CPU's per-CPU area, not an address"
	case 'a':
		return ", local"
	case 'W':
		return ", defined: a __weak default nobody overrode (global linkage, not necessarily exported)"
	case 'w':
		return ", undefined (nm lower-case w); the kernel normally drops these"
	case 'V':
		return ", defined (global linkage, not necessarily exported)"
	case 'v':
		return ", undefined (nm lower-case v)"
	case 'U':
		return "; never in /proc/kallsyms"
	case 'N', 'n', 'i', 'p', 'C', 'u':
		return ""
	}
	if isUpper(letter) {
		return ", global (external linkage; not necessarily exported to modules)"
	}
	return ", static (local to its source file)"
}
