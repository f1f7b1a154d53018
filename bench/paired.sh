#!/bin/sh
# Paired rounds: ksym against its peers, one short benchmark of each at a time,
# alternating, so that each ratio compares runs made seconds apart. On a shared
# VM whose speed drifts by 2x within minutes, the median of these per-round
# ratios is steadier than ratios of medians taken minutes apart.
#
#   sudo ./paired.sh DIR [ROUNDS]
#
# DIR is a results directory of run.sh (it needs DIR/bench.test,
# DIR/{firecracker,debian}.kallsyms and DIR/sysmodule-debian, which run.sh
# leaves there). Writes DIR/paired.txt and prints, per table and round, the
# parse ratio OTel/ksym (Parse: ParseBytes, in memory; ParseFile: kallsyms.Parse
# of the same /proc/kallsyms file OTel reads), the address lookup ratio
# (fastest of OTel, Pyroscope, Inspektor Gadget over ksym) and ksym's name
# lookup in ns; and for this machine's live /proc/kallsyms, a streamed
# kallsyms.Parse over a plain 128 KiB read(2) loop (cat): second-long runs
# of each (Live), and the median of per-iteration ratios of the two run
# back to back (LiveInterleaved).
set -eu
if [ $# -lt 1 ] || [ ! -x "$1/bench.test" ]; then
	echo "usage: sudo ./paired.sh DIR [ROUNDS]  (DIR: a results directory of run.sh)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$1" && pwd)
rounds=${2:-10}
out=$dir/paired.txt
cd "$here" # the test binary finds its fixtures from the package directory
: >"$out"
for r in $(seq "$rounds"); do
	for fx in firecracker debian; do
		sm=""
		[ "$fx" = debian ] && sm=$dir/sysmodule-debian
		unshare -m --propagation private sh -c '
			mount --bind "$1" /proc/kallsyms && { [ -z "$4" ] || mount --bind "$4" /sys/module; } &&
			for b in "^BenchmarkParse\$/table=.*/impl=(ksym-bytes|ksym-proc|otel)\$" \
				"^BenchmarkLookupAddr\$/table=.*/impl=(ksym|otel|pyroscope|inspektor-gadget)\$" \
				"^BenchmarkLookupName\$/table=.*/impl=ksym\$"; do
				KSYM_BENCH_TABLES=$2 KSYM_BENCH_PROC=$2 "$3" -test.run "^$" -test.bench "$b" -test.count 1 || exit 1
			done
		' sh "$dir/$fx.kallsyms" "$fx" "$dir/bench.test" "$sm" | grep '^Benchmark' | sed "s/^/round=$r /" >>"$out"
	done
	# This machine's live /proc/kallsyms: a streamed parse against a plain read loop.
	KSYM_BENCH_TABLES=none KSYM_BENCH_LIVE=1 "$dir/bench.test" -test.run '^$' \
		-test.bench '^BenchmarkLive$/impl=(cat|ksym-parse|ksym-parse-over-cat)$' -test.count 1 |
		grep '^Benchmark' | sed "s/^/round=$r /; s|BenchmarkLive/|BenchmarkLive/table=live/|" >>"$out"
done
awk '
{
	r = $1; sub("round=", "", r); split($2, a, "/")
	kind = a[1]; sub("Benchmark", "", kind)
	tab = a[2]; sub("table=", "", tab)
	impl = a[3]; sub("impl=", "", impl); sub("-[0-9]+$", "", impl)
	v[kind, tab, impl, r] = $4; rounds[r]; pairs[kind, tab]
	if (impl == "ksym-parse-over-cat") { v[kind, tab, impl, r] = $6; pairs["LiveInterleaved", tab] }
	if (impl == "ksym-proc") pairs["ParseFile", tab]
}
END {
	for (k in pairs) {
		split(k, p, SUBSEP); kind = p[1]; tab = p[2]; line = kind " " tab ":"
		for (r = 1; (r "") in rounds; r++) {
			if (kind == "Parse") {
				line = line sprintf(" %.2fx", v[kind, tab, "otel", r] / v[kind, tab, "ksym-bytes", r])
			} else if (kind == "ParseFile") {
				line = line sprintf(" %.2fx", v["Parse", tab, "otel", r] / v["Parse", tab, "ksym-proc", r])
			} else if (kind == "Live") {
				line = line sprintf(" %.2fx", v[kind, tab, "ksym-parse", r] / v[kind, tab, "cat", r])
			} else if (kind == "LiveInterleaved") {
				line = line sprintf(" %.2fx", v["Live", tab, "ksym-parse-over-cat", r])
			} else if (kind == "LookupAddr") {
				best = 0
				n = split("otel pyroscope inspektor-gadget", peers, " ")
				for (i = 1; i <= n; i++) {
					y = v[kind, tab, peers[i], r]
					if (y > 0 && (best == 0 || y < best)) best = y
				}
				line = line sprintf(" %.2fx", best / v[kind, tab, "ksym", r])
			} else {
				line = line sprintf(" %.1fns", v[kind, tab, "ksym", r])
			}
		}
		print line
	}
}' "$out" | sort
