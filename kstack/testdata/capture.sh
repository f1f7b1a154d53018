#!/bin/sh
# capture.sh DEST PID... copies /proc/PID/task/*/stat and stack of the given
# tasks into DEST/proc/PID/task/TID/, as the kernel wrote them (run as root).
set -eu
dest=$1; shift
for pid in "$@"; do
	for t in /proc/"$pid"/task/*; do
		d=$dest/proc/$pid/task/${t##*/}
		mkdir -p "$d"
		cat "$t/stat" > "$d/stat"
		cat "$t/stack" > "$d/stack"
	done
done
