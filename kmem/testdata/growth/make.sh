#!/bin/sh
# Makes the growth samples s1..s4 from the real files of vm-6.18.44 (see
# ../README.md). The first sample is ../vm-6.18.44 itself; s2..s4 are
# SYNTHETIC edits of it:
#   - queue_stack_map_alloc+0x34/0xa0 gains one 49152-byte area per sample
#     (a leak: grows at every sample);
#   - bpf_prog_alloc_no_stats+0x39/0x230 gains 2 areas of 8192 in s2, is back
#     to the real file in s3, and has 3 more in s4 (it breathes);
#   - slab cache kmalloc-256 gains 16 objects (one slab) per sample (a leak);
#   - slab cache dentry has 176400, 176000, 176390 objects in use in s2..s4
#     (it breathes).
set -eu
cd "$(dirname "$0")"
src=../vm-6.18.44/proc
leak='0x00000000deadbe%02d-0x00000000deadbf%02d   49152 queue_stack_map_alloc+0x34/0xa0 pages=11 vmalloc N0=11\n'
bpf='0x00000000cafe00%02d-0x00000000cafe01%02d    8192 bpf_prog_alloc_no_stats+0x39/0x230 pages=1 vmalloc N0=1\n'

# slab NAME ACTIVE NUM SLABS: the real slabinfo with one cache's counts changed.
slab() {
	awk -v n="$1" -v a="$2" -v o="$3" -v s="$4" '
		$1 == n { $2 = a; $3 = o; $14 = s; $15 = s }
		{ print }' "$5"
}

for i in 2 3 4; do
	mkdir -p s$i/proc
	cp $src/vmallocinfo s$i/proc/vmallocinfo
	cp $src/slabinfo s$i/proc/slabinfo
done
for i in 2 3 4; do
	j=2
	while [ $j -le $i ]; do
		printf "$leak" $j $j >>s$i/proc/vmallocinfo
		j=$((j + 1))
	done
done
printf "$bpf$bpf" 1 1 2 2 >>s2/proc/vmallocinfo
printf "$bpf$bpf$bpf" 3 3 4 4 5 5 >>s4/proc/vmallocinfo

slab kmalloc-256 960 960 60 $src/slabinfo | slab dentry 176400 176400 8400 - >s2/proc/slabinfo
slab kmalloc-256 976 976 61 $src/slabinfo | slab dentry 176000 176400 8400 - >s3/proc/slabinfo
slab kmalloc-256 992 992 62 $src/slabinfo | slab dentry 176390 176400 8400 - >s4/proc/slabinfo
