#!/usr/bin/env bash
# Fetch the DWARF of the Debian kernel of testdata/fixtures/debian-6.1.0-56-amd64
# (package linux-image-6.1.0-56-amd64-dbg 6.1.192-2, 858 MB) and extract only
# usr/lib/debug/boot/vmlinux-6.1.0-56-amd64 (633 MB) into a cache directory
# outside the repository. The tests of package srcline find it there
# (KSYM_DEBUG_CACHE, default ~/.cache/ksym-testdata) and skip without it.
#
# Usage: scripts/fetch-debug.sh   (needs apt-get and dpkg-deb: Debian/Ubuntu)
set -euo pipefail

release=6.1.0-56-amd64
version=6.1.192-2
buildid=eb4fbcd037e7253717950bf2b93bd5566f47c56f
cache=${KSYM_DEBUG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ksym-testdata}
dest=$cache/debian-$release/vmlinux-$release

if [ -s "$dest" ]; then
	echo "$dest: already there"
	exit 0
fi
mkdir -p "$(dirname "$dest")"
work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 777 "$work" # apt-get download runs as _apt

# A fresh machine may not know the package yet: update the lists once.
(cd "$work" && apt-get download -q "linux-image-$release-dbg=$version") ||
	{ apt-get update -qq && (cd "$work" && apt-get download -q "linux-image-$release-dbg=$version"); }
deb=$(ls "$work"/*.deb)
dpkg-deb --fsys-tarfile "$deb" |
	tar -x -C "$work" "./usr/lib/debug/boot/vmlinux-$release"
if command -v readelf >/dev/null 2>&1; then
	got=$(readelf -n "$work/usr/lib/debug/boot/vmlinux-$release" | awk '/Build ID/ {print $3; exit}')
	if [ "$got" != "$buildid" ]; then
		echo "vmlinux-$release: build ID $got, want $buildid" >&2
		exit 1
	fi
fi
mv "$work/usr/lib/debug/boot/vmlinux-$release" "$dest"
echo "$dest"
