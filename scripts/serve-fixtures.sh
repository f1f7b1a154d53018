#!/usr/bin/env bash
# Serve the crash desk on the bundled fixtures: a fresh store holding the
# snapshots of the three real Debian 6.1 boots (run1-A, run2-B, run3-C),
# so that their oopses (testdata/fixtures/debian-6.1.0-56-amd64/boots/*/
# oops-*.txt) decode exactly; then open the page. Ctrl-C stops the server.
#
#   scripts/serve-fixtures.sh            # http://127.0.0.1:8417/
#   KSYM_LISTEN=127.0.0.1:9000 scripts/serve-fixtures.sh
#
# Each snapshot is made by 'ksym snapshot save' from a copy of the boot's
# saved /proc and /sys (machine/testdata/RUN) with the boot's whole table
# and /proc/modules from the fixtures (the copies in machine/testdata are
# cut short). Everything goes to a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
listen="${KSYM_LISTEN:-127.0.0.1:8417}"
url="http://$listen"

CGO_ENABLED=0 go build -o ksym ./cmd/ksym

work=$(mktemp -d)
server=
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

boots=testdata/fixtures/debian-6.1.0-56-amd64/boots
for run in run1-A run2-B run3-C; do
	root="$work/root-$run"
	cp -r "machine/testdata/$run" "$root"
	gzip -dc "$boots/$run/kallsyms.txt.gz" >"$root/proc/kallsyms"
	cp "$boots/$run/modules.txt" "$root/proc/modules"
	./ksym --root "$root" snapshot save -o "$work/$run.ksnap" 2>/dev/null
done

# A write token for the pushes, known only to this script.
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$token" >"$work/tokens"
./ksym serve --listen "$listen" --store "$work/store" --token-file "$work/tokens" 2>"$work/serve.log" &
server=$!
for _ in $(seq 50); do
	if (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then break; fi
	if ! kill -0 "$server" 2>/dev/null; then cat "$work/serve.log" >&2; exit 1; fi
	sleep 0.1
done
for run in run1-A run2-B run3-C; do
	KSYM_TOKEN="$token" ./ksym snapshot push "$url" "$work/$run.ksnap"
done

echo "ksym serve: $url/ (the three Debian boots' snapshots stored; Ctrl-C stops it)"
echo "paste a log from $boots/*/oops-*.txt, or:"
echo "  curl -s --data-binary @$boots/run2-B/oops-03-lkdtm-EXCEPTION.txt $url/api/v1/decode"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null 2>&1; then
	xdg-open "$url/" >/dev/null 2>&1 || true
fi
wait "$server"
