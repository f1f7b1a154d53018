// Package kmem reads who holds kernel memory from the files the kernel
// exports, one parser per file in the style of prometheus/procfs:
//
//   - /proc/vmallocinfo: every vmalloc, vmap and ioremap area with the caller
//     that made it (ParseVmallocinfo, grouped by ByCaller);
//   - /proc/slabinfo: every slab cache (ParseSlabinfo);
//   - /sys/kernel/slab/<cache>/alloc_calls (before Linux 5.14) and
//     /sys/kernel/debug/slab/<cache>/alloc_traces (5.14 and later): the
//     allocation sites of a cache with SLUB's store_user on, slub_debug=U
//     (ParseAllocCalls);
//   - /sys/kernel/debug/kmemleak: the unreferenced objects kmemleak found
//     (ParseKmemleak, grouped by GroupLeaks);
//   - /proc/modules with the vmalloc areas made by each module (ByModule).
//
// Read takes one Snapshot of all of them under a machine.FS root, and says for
// each source it could not read why (not root, kernel option off, boot
// parameter missing, debugfs not mounted). Growth compares snapshots taken
// over time: a leak grows at every sample, a cache that breathes does not.
//
// Everything here is what the kernel printed: names are the kernel's %pS
// text, not looked up in a symbol table.
package kmem
