#!/bin/sh
# Whole-process time of `ksym addr ADDR` on the live kernel: cold (reading
# /proc/kallsyms, --no-cache) against warm (the cache of the live table),
# with `ksym version` as the floor of starting the process. Run as root on an
# idle machine: sudo ./cache-cli.sh
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd .. && go build -o "$tmp/ksym" ./cmd/ksym)
go build -o "$tmp/proctime" ./cmd/proctime
addr=$(awk '$3 == "vfs_read" { print $1; exit }' /proc/kallsyms)
export XDG_CACHE_HOME="$tmp/cache"
"$tmp/ksym" addr "$addr" # writes the cache
echo "ksym addr $addr ($(grep -c '' /proc/kallsyms) symbols, $(uname -r))"
printf 'cold  --no-cache: '; "$tmp/proctime" -n 21 -- "$tmp/ksym" --no-cache addr "$addr"
printf 'warm  cache:      '; "$tmp/proctime" -n 51 -- "$tmp/ksym" addr "$addr"
printf 'floor version:    '; "$tmp/proctime" -n 51 -- "$tmp/ksym" version
ls -l "$XDG_CACHE_HOME/ksym/live.ksymidx" | awk '{ print "index", $5, "bytes" }'
