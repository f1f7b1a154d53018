// Package probe tells whether a kernel function can be traced, and under
// which name: by a kprobe, by a BPF fentry/fexit program (a BPF trampoline)
// or by the function tracer's filter (set_ftrace_filter).
//
// The answer comes from the kernel's own files, each parsed here: the symbol
// table (package kallsyms), available_filter_functions (the functions ftrace
// can patch), the kprobe blacklist, the build configuration and the BTF type
// information. Check combines them with the kernel's rules; every verdict
// says which fact decided it, and a fact that is missing makes the verdict
// Unknown rather than a guess.
//
// The package reads no files itself: package machine reads them from a
// running machine or a saved tree.
package probe
