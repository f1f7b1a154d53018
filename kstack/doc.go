// Package kstack collects kernel stacks of tasks and counts where they are:
// the stacks of a live machine's tasks (/proc/PID/task/TID/stack with each
// task's state and name from .../stat, sampled once or repeatedly), saved
// /proc/PID/stack captures, and the stacks of kernel logs (sysrq-t and
// sysrq-w dumps, hung task reports, kmemleak reports, as split by package
// klog).
//
// A Stack is one task's stack at one moment, or one leaked object's
// allocation stack, with the frames exactly as the kernel printed them.
// Resolve names raw addresses from a symbol table, and only from a table
// that agrees with every frame the kernel printed by name: a table of
// another kernel is detected and not used. Aggregate groups identical
// stacks (the same functions, offsets dropped) and ranks them.
//
// Rendering (tables, folded stacks, pprof, SVG) is the caller's job.
package kstack
