#!/bin/sh
# Whole-process `ksym --kallsyms FILE addr` with 100 addresses against the
# OpenTelemetry eBPF profiler's kallsyms symbolizer (cmd/oteladdr) resolving
# the same addresses from the same table, which it reads only from
# /proc/kallsyms: the table is bind-mounted there in a private mount
# namespace. Also ksym's warm cache against --no-cache on the live kernel.
# Needs root and hyperfine (apt-get install hyperfine):
#
#   sudo ./cli-peers.sh [TABLE]    # default: the 6.18 fixture
set -eu
cd "$(dirname "$0")"
table=${1:-../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd .. && go build -o "$tmp/ksym" ./cmd/ksym)
go build -o "$tmp/oteladdr" ./cmd/oteladdr
case $table in
*.gz) zcat "$table" >"$tmp/table.txt" ;;
*) cp "$table" "$tmp/table.txt" ;;
esac
# The addresses of 100 text symbols spread over the table.
addrs=$(awk '$2 ~ /^[tT]$/ { a[n++] = $1 } END { for (i = 0; i < 100; i++) printf "%s ", a[int(i * n / 100)] }' "$tmp/table.txt")
export TABLE="$tmp/table.txt" KSYM="$tmp/ksym" OTEL="$tmp/oteladdr" ADDRS="$addrs"
unshare -m --propagation private sh -c '
	mount --bind "$TABLE" /proc/kallsyms
	hyperfine -N -w 3 -r 30 --export-markdown /dev/stdout \
		"$KSYM --kallsyms $TABLE addr $ADDRS" "$OTEL $ADDRS" | sed "s|$ADDRS|ADDRS|"
	for cmd in "$KSYM --kallsyms $TABLE addr $ADDRS" "$OTEL $ADDRS"; do
		/usr/bin/time -f "%M KiB peak RSS: %C" $cmd 2>&1 >/dev/null | cut -c1-60
	done
'
# The live kernel: warm cache (the index), --no-cache (a live read), and a
# text copy of the live table in the page cache (what caching the text
# instead of an index would cost).
cat /proc/kallsyms >"$tmp/live.txt"
addr=$(awk '$3 == "vfs_read" { print $1; exit }' "$tmp/live.txt")
export XDG_CACHE_HOME="$tmp/cache"
"$tmp/ksym" addr "$addr" >/dev/null # writes the cache
hyperfine -N -w 3 -r 30 --export-markdown /dev/stdout \
	"$tmp/ksym addr $addr" "$tmp/ksym --no-cache addr $addr" "$tmp/ksym --kallsyms $tmp/live.txt addr $addr"
