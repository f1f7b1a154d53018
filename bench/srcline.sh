#!/usr/bin/env bash
# Source lines for a sysrq-t dump, whole processes: ksym addr --lines and
# ksym decode --lines (the whole dump, every frame annotated) against
# llvm-symbolizer --inlining on the same frames of the same kernel, with
# GNU time (elapsed seconds, peak RSS). Not part of CI.
#
#   bench/srcline.sh [ROUNDS]        (default 7; needs scripts/fetch-debug.sh first)
#
# ksym reads the boot's kallsyms table and the runtime addresses, finds the
# KASLR offset by matching the table with the vmlinux, and subtracts one
# from each return address itself (-r); llvm-symbolizer gets the link-time
# addresses already minus one. Both print the full inline chain of every
# frame. The vmlinux's pages are in the page cache (a warm-up run of each
# comes first); rounds alternate the two tools.
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-7}
release=6.1.0-56-amd64
vmlinux=${KSYM_DEBUG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ksym-testdata}/debian-$release/vmlinux-$release
boot=../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A
slide=0x18600000 # run1-A's KASLR offset (testdata/fixtures/README.md)
dump=$boot/dmesg-sysrq-t.txt
[ -s "$vmlinux" ] || { echo "$vmlinux absent: run scripts/fetch-debug.sh" >&2; exit 1; }
command -v llvm-symbolizer >/dev/null || { echo "llvm-symbolizer absent (apt-get install llvm)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd .. && go build -o "$work/ksym" ./cmd/ksym)
go build -o "$work/traceaddrs" ./cmd/traceaddrs
"$work/traceaddrs" -kallsyms "$boot/kallsyms.txt.gz" "$dump" >"$work/runtime.txt"
"$work/traceaddrs" -kallsyms "$boot/kallsyms.txt.gz" -link -slide $slide -ret "$dump" >"$work/link.txt"
echo "$(wc -l <"$work/runtime.txt") frames of $dump"

ksym() { "$work/ksym" --kallsyms "$boot/kallsyms.txt.gz" addr -r --lines --debuginfo "$vmlinux" <"$work/runtime.txt" >"$work/ksym.out"; }
decode() { "$work/ksym" --kallsyms "$boot/kallsyms.txt.gz" decode --lines --debuginfo "$vmlinux" "$dump" >"$work/decode.out"; }
llvm() { llvm-symbolizer --inlining --obj="$vmlinux" <"$work/link.txt" >"$work/llvm.out"; }
measure() { /usr/bin/time -f "%e %M" -o "$work/time" bash -c "$(declare -f "$1"); work=$work boot=$boot vmlinux=$vmlinux dump=$dump; $1"; cat "$work/time"; }

ksym; llvm; decode # warm-up
for i in $(seq "$rounds"); do
	echo "ksym $(measure ksym)" >>"$work/results"
	echo "ksym-decode $(measure decode)" >>"$work/results"
	echo "llvm-symbolizer $(measure llvm)" >>"$work/results"
done
echo "source lines printed: ksym $(grep -c '^  ' "$work/ksym.out"), llvm-symbolizer $(grep -c ':[0-9]*:[0-9]*$' "$work/llvm.out") (with ??:0:0 for frames without debug info)"
echo "median of $rounds rounds:"
mid=$(((rounds + 1) / 2))
for tool in ksym ksym-decode llvm-symbolizer; do
	e=$(awk -v t=$tool '$1 == t {print $2}' "$work/results" | sort -n | sed -n "${mid}p")
	m=$(awk -v t=$tool '$1 == t {print $3}' "$work/results" | sort -n | sed -n "${mid}p")
	printf "%-16s %s s  %d MB peak RSS\n" $tool "$e" $((m / 1024))
done
