package kallsyms

// IsCoreName reports whether name selects the core kernel: "vmlinux" or "kernel".
func IsCoreName(name string) bool {
	return name == "vmlinux" || name == "kernel"
}
