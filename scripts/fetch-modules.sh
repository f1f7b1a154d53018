#!/usr/bin/env bash
# Fetches the real modules and Module.symvers of Debian's 6.1.0-56-amd64
# kernel (the kernel of testdata/fixtures/debian-6.1.0-56-amd64) with
# apt-get download, and unpacks them into a cache directory outside git:
#
#   $KSYM_MODULES_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/ksym/debian-6.1.0-56-amd64)
#     lib/modules/6.1.0-56-amd64/kernel/...       the modules (.ko)
#     usr/src/linux-headers-6.1.0-56-amd64/Module.symvers
#     other/lib/modules/6.1.0-47-amd64/kernel/drivers/net/{dummy,veth}.ko
#       two modules of another kernel (bookworm's 6.1.0-47, 6.1.170-3), for
#       the tests of modules built for another kernel
#
# The modcheck tests use them when present and skip, saying so, when not.
# Run it again to check; it does nothing when the files are there.
# Needs apt-get with the bookworm-security archive in its sources.
set -euo pipefail

release=6.1.0-56-amd64
version=6.1.192-2
dir=${KSYM_MODULES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ksym/debian-$release}
mods=$dir/lib/modules/$release/kernel
symvers=$dir/usr/src/linux-headers-$release/Module.symvers
other_release=6.1.0-47-amd64
other_version=6.1.170-3
other=$dir/other/lib/modules/$other_release/kernel/drivers/net

if [ -d "$mods" ] && [ -f "$symvers" ] && [ -f "$other/veth.ko" ]; then
	echo "fetch-modules: already in $dir"
	exit 0
fi
mkdir -p "$dir/debs"
cd "$dir/debs"
for pkg in "linux-image-$release-unsigned" "linux-headers-$release"; do
	if ! ls "${pkg}_${version}"_*.deb >/dev/null 2>&1; then
		if ! apt-get download "$pkg=$version"; then
			echo "fetch-modules: apt-get download $pkg=$version failed (try apt-get update)" >&2
			exit 1
		fi
	fi
done
for deb in ./*"_${version}_"*.deb; do
	dpkg-deb -x "$deb" "$dir"
done
pkg=linux-image-$other_release-unsigned
if ! ls "${pkg}_${other_version}"_*.deb >/dev/null 2>&1; then
	apt-get download "$pkg=$other_version"
fi
mkdir -p "$dir/other"
dpkg-deb --fsys-tarfile "${pkg}_${other_version}"_*.deb |
	tar -x -C "$dir/other" --wildcards "./lib/modules/$other_release/kernel/drivers/net/dummy.ko" "./lib/modules/$other_release/kernel/drivers/net/veth.ko"
test -d "$mods" && test -f "$symvers" && test -f "$other/veth.ko"
echo "fetch-modules: modules and Module.symvers in $dir"
