#!/bin/sh
# Runs the whole peer comparison and prints benchstat tables.
#
#   sudo ./run.sh [outdir]          (root: needed for the private mount namespace)
#
# outdir (default results/ here) receives the tables, the test binary and the
# decompressed fixtures; results/ and results-*/ are ignored by git.
#
# Environment: COUNT (default 6) = -count of every benchmark; BENCHTIME
# (default 1s); SKIP_TESTS=1 skips the correctness demonstrations; IDLE_LOAD
# (default 1.5) and IDLE_WAIT (default 300 s): before each pass, wait up to
# IDLE_WAIT seconds for the 1-minute load average to drop below IDLE_LOAD (the
# load at the start and end of each pass is recorded in machine.txt);
# REPORT_ONLY=1 only prints the tables of an earlier run in outdir.
#
# Three benchmark passes, each in one process so all libraries of a pass run
# side by side:
#   1. firecracker 6.18.44 table, bind-mounted over /proc/kallsyms in a private
#      mount namespace (OTel reads only /proc/kallsyms);
#   2. Debian 6.1 run1-A table, the same way;
#   3. this machine's live /proc/kallsyms (no bind mount).
# Passes 1 and 2 also time BenchmarkParse with -test.cpu 1 (GOMAXPROCS=1), since
# wall time on 2 CPUs flatters a parser that works in parallel.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/results"}
count=${COUNT:-6}
benchtime=${BENCHTIME:-1s}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ "$(id -u)" != 0 ] && [ "${REPORT_ONLY:-0}" != 1 ]; then
	echo "run.sh: must run as root (unshare -m and mount --bind)" >&2
	exit 1
fi

gobin=$(go env GOPATH)/bin
benchstat=$(command -v benchstat || true)
if [ -z "$benchstat" ]; then
	if [ ! -x "$gobin/benchstat" ]; then
		go install golang.org/x/perf/cmd/benchstat@latest
	fi
	benchstat=$gobin/benchstat
fi

cd "$here"
if [ "${REPORT_ONLY:-0}" = 1 ]; then
	# Print the tables of an earlier run in $out again.
	skip_run=1
else
	skip_run=0
fi
if [ "$skip_run" = 0 ]; then
go test -c -o "$out/bench.test" .

# Decompressed fixtures and the fake /sys/module, bind-mounted below.
. ./fixtures.sh
prepare_fixtures "$out"
sysmod="$out/sysmodule-debian"

{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) nproc=$(nproc) $(go version)"
	grep -m1 'model name' /proc/cpuinfo
	echo "ksym commit: $(git -C .. rev-parse --short HEAD 2>/dev/null) (kallsyms/ last changed in $(git -C .. log -1 --format=%h -- kallsyms 2>/dev/null); uncommitted changes there: $(git -C .. status --short -- kallsyms 2>/dev/null | wc -l))"
	echo "loadavg before: $(cat /proc/loadavg)"
} >"$out/machine.txt"

wait_idle() {
	i=0
	while [ "$i" -lt "${IDLE_WAIT:-300}" ]; do
		awk -v max="${IDLE_LOAD:-1.5}" '{ exit !($1 < max) }' /proc/loadavg && return 0
		sleep 5
		i=$((i + 5))
	done
	echo "run.sh: load still $(cut -d' ' -f1 /proc/loadavg) after ${IDLE_WAIT:-300}s; running anyway" >&2
}

# The test binary must run from the package directory (fixtures are ../testdata).
for fx in firecracker debian; do
	echo "== pass: $fx (bind-mounted over /proc/kallsyms)" >&2
	wait_idle
	echo "loadavg before $fx: $(cat /proc/loadavg)" >>"$out/machine.txt"
	sm=""
	[ "$fx" = debian ] && sm=$sysmod
	unshare -m --propagation private sh -c '
		mount --bind "$1" /proc/kallsyms &&
		{ [ -z "$6" ] || mount --bind "$6" /sys/module; } &&
		KSYM_BENCH_TABLES=$2 KSYM_BENCH_PROC=$2 "$3" -test.run "^$" \
			-test.bench "^Benchmark(Parse|Retained|LookupAddr|LookupName)$" \
			-test.benchmem -test.count "$4" -test.benchtime "$5" >"$7/bench-$2.txt" &&
		KSYM_BENCH_TABLES=$2 KSYM_BENCH_PROC=$2 "$3" -test.run "^$" \
			-test.bench "^BenchmarkParse$" -test.cpu 1 \
			-test.benchmem -test.count "$4" -test.benchtime "$5" >"$7/bench-$2-cpu1.txt"
	' sh "$out/$fx.kallsyms" "$fx" "$out/bench.test" "$count" "$benchtime" "$sm" "$out"
	cat "$out/bench-$fx.txt" "$out/bench-$fx-cpu1.txt" >&2
	echo "loadavg after $fx: $(cat /proc/loadavg)" >>"$out/machine.txt"
done

wait_idle
echo "loadavg before live: $(cat /proc/loadavg)" >>"$out/machine.txt"
echo "== pass: live /proc/kallsyms" >&2
KSYM_BENCH_TABLES=none KSYM_BENCH_LIVE=1 "$out/bench.test" -test.run '^$' -test.bench '^BenchmarkLive$' \
	-test.benchmem -test.count "$count" -test.benchtime "$benchtime" -test.v 2>&1 |
	grep -v '^=== \|^--- ' | tee "$out/bench-live.txt" >&2
echo "loadavg after live: $(cat /proc/loadavg)" >>"$out/machine.txt"

if [ "${SKIP_TESTS:-0}" != 1 ]; then
	echo "== correctness demonstrations (peers_test.go)" >&2
	"$out/bench.test" -test.run 'Agreement|Trap' -test.v >"$out/traps.txt" 2>&1 || true
fi

fi # skip_run

# benchstat: one table per benchmark, implementations as rows, the two
# fixtures as columns (± is benchstat's 95% confidence interval).
for g in Parse Retained LookupAddr LookupName; do
	echo
	echo "######## $g"
	"$benchstat" -row /impl -col /table -filter ".name:$g" "$out/bench-firecracker.txt" "$out/bench-debian.txt"
done
echo
echo "######## Parse with GOMAXPROCS=1 (-test.cpu 1: CPU cost, no parallelism)"
"$benchstat" -row /impl -col /table "$out/bench-firecracker-cpu1.txt" "$out/bench-debian-cpu1.txt"
echo
echo "######## Live: this machine's /proc/kallsyms"
"$benchstat" -row /impl -filter ".name:Live" "$out/bench-live.txt"

# Medians, ratios to the best peer, and the targets, as Markdown.
echo
echo "######## summary"
go run ./cmd/benchsummary "$out/bench-firecracker.txt" "$out/bench-debian.txt" \
	"$out/bench-firecracker-cpu1.txt" "$out/bench-debian-cpu1.txt" "$out/bench-live.txt"

if [ -f "$out/traps.txt" ]; then
	echo
	echo "######## correctness demonstrations ($out/traps.txt)"
	grep -E '^\s+peers_test.go|^(--- |ok|FAIL|PASS)' "$out/traps.txt" | sed 's/^ *peers_test.go:[0-9]*: /  /'
fi
