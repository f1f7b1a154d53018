#!/bin/sh
# ksym at an earlier commit (A) against the working tree (B) and the
# OpenTelemetry eBPF profiler's kallsyms reader, in one run, rounds
# alternating, so that the machine's drift reaches both alike:
#
#   sudo ./before-after.sh REV [ROUNDS]      # needs root (mount namespaces) and hyperfine
#
# Per round and table (the 6.18 and Debian fixtures, each bind-mounted over
# /proc/kallsyms in a private mount namespace, as OTel reads only that file):
# BenchmarkParse of ksym-bytes (ParseBytes, in memory) and otel; and on this
# machine's live /proc/kallsyms, BenchmarkLive's interleaved ratio of a
# streamed parse to a bare 128 KiB read(2) loop. Then whole processes with
# hyperfine: `ksym --kallsyms FILE addr` with 100 addresses of the 6.18 table
# (A, B, and cmd/oteladdr on the same addresses), their peak RSS with GNU time,
# and B's warm cache against --no-cache and a text copy of the live table.
# Prints medians; raw output stays in $OUT (default a temp directory).
set -eu
rev=$1
rounds=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
cd "$here"

# The two builds: bench test binaries and static ksym binaries.
git -C .. worktree add -f --detach "$out/a-tree" "$rev" >/dev/null
trap 'git -C "$here/.." worktree remove --force "$out/a-tree"' EXIT
# The peers at the same versions in both builds.
cp go.mod go.sum "$out/a-tree/bench/"
(cd "$out/a-tree/bench" && go test -c -o "$out/a.test" . && cd .. && CGO_ENABLED=0 go build -o "$out/ksym-a" ./cmd/ksym)
go test -c -o "$out/b.test" .
(cd .. && CGO_ENABLED=0 go build -o "$out/ksym-b" ./cmd/ksym)
go build -o "$out/oteladdr" ./cmd/oteladdr

. ./fixtures.sh
prepare_fixtures "$out"
sysmod="$out/sysmodule-debian"

: >"$out/rounds.txt"
for r in $(seq "$rounds"); do
	for v in a b; do
		for fx in firecracker debian; do
			sm=""
			[ "$fx" = debian ] && sm=$sysmod
			unshare -m --propagation private sh -c '
				mount --bind "$1" /proc/kallsyms && { [ -z "$4" ] || mount --bind "$4" /sys/module; } &&
				KSYM_BENCH_TABLES=$2 KSYM_BENCH_PROC=$2 "$3" -test.run "^$" \
					-test.bench "^BenchmarkParse\$/table=.*/impl=(ksym-bytes|otel)\$" -test.count 1
			' sh "$out/$fx.kallsyms" "$fx" "$out/$v.test" "$sm" | grep '^Benchmark' | sed "s/^/$v $r /" >>"$out/rounds.txt"
		done
		KSYM_BENCH_TABLES=none KSYM_BENCH_LIVE=1 "$out/$v.test" -test.run '^$' \
			-test.bench '^BenchmarkLive$/impl=ksym-parse-over-cat$' -test.count 1 |
			grep '^Benchmark' | sed "s/^/$v $r /" >>"$out/rounds.txt"
	done
done
# Medians over rounds: parse ns/op per version, table and implementation,
# OTel's over ksym's, and the live ratio.
awk '
function median(key,   n, i, j, t, a) {
	n = split(vals[key], a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] + 0 < a[j-1] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return a[int((n + 1) / 2)]
}
$3 ~ /BenchmarkParse/ { split($3, p, "/"); sub("table=", "", p[2]); sub("impl=", "", p[3]); sub("-[0-9]+$", "", p[3])
	vals[$1 " parse " p[2] " " p[3]] = vals[$1 " parse " p[2] " " p[3]] " " $5; keys[$1 " parse " p[2]] }
$3 ~ /BenchmarkLive/ { vals[$1 " live"] = vals[$1 " live"] " " $7; live[$1] }
END {
	for (k in keys) {
		k1 = median(k " ksym-bytes"); k2 = median(k " otel")
		printf "%s: ksym %.2f ms, otel %.2f ms, otel/ksym %.2fx\n", k, k1 / 1e6, k2 / 1e6, k2 / k1
	}
	for (v in live) printf "%s live: parse / read loop %.3fx (median of round medians)\n", v, median(v " live")
}' "$out/rounds.txt" | sort

# Whole processes.
awk '$2 ~ /^[tT]$/ { a[n++] = $1 } END { for (i = 0; i < 100; i++) printf "%s ", a[int(i * n / 100)] }' \
	"$out/firecracker.kallsyms" >"$out/addrs.txt"
export OUT_DIR="$out"
unshare -m --propagation private sh -c '
	o=$OUT_DIR; t=$o/firecracker.kallsyms; a=$(cat $o/addrs.txt)
	mount --bind "$t" /proc/kallsyms
	hyperfine -N -w 3 -r 40 --export-markdown "$o/addr.md" \
		-n ksym-A "$o/ksym-a --kallsyms $t addr $a" -n ksym-B "$o/ksym-b --kallsyms $t addr $a" \
		-n otel "$o/oteladdr $a" >/dev/null
	cat "$o/addr.md"
	for i in 1 2 3 4 5; do
		for v in ksym-a ksym-b; do /usr/bin/time -f "$v %M KiB" "$o/$v" --kallsyms "$t" addr $a 2>&1 >/dev/null; done
		/usr/bin/time -f "otel %M KiB" "$o/oteladdr" $a 2>&1 >/dev/null
		/usr/bin/time -f "ksym-b-version %M KiB" "$o/ksym-b" version 2>&1 >/dev/null
	done | sort | awk "{ v[\$1] = v[\$1] \" \" \$2 } END { for (k in v) print \"peak RSS\", k, v[k], \"KiB\" }" | sort
'
cat /proc/kallsyms >"$out/live.txt"
addr=$(awk '$3 == "vfs_read" { print $1; exit }' "$out/live.txt")
export XDG_CACHE_HOME="$out/cache"
"$out/ksym-b" addr "$addr" >/dev/null # writes the cache
hyperfine -N -w 3 -r 40 --export-markdown "$out/cache.md" \
	-n warm "$out/ksym-b addr $addr" -n no-cache "$out/ksym-b --no-cache addr $addr" \
	-n text-copy "$out/ksym-b --kallsyms $out/live.txt addr $addr" >/dev/null
cat "$out/cache.md"
echo "raw output: $out"
