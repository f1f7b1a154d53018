# Sourced by run.sh and before-after.sh (from the bench directory):
# prepare_fixtures DIR writes DIR/{firecracker,debian}.kallsyms, the two
# tables decompressed (bind-mounted over /proc/kallsyms for OTel, which reads
# only that file), and DIR/sysmodule-debian, a fake /sys/module: OTel takes
# each module's bounds from /sys/module/<name>/{sections/.text,coresize}, so
# it gets the Debian boot's real values (from that boot's sysfs and
# /proc/modules) and keeps the module symbols as it would on that machine.
prepare_fixtures() {
	zcat ../testdata/fixtures/firecracker-6.18.44/kallsyms.txt.gz >"$1/firecracker.kallsyms"
	zcat ../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A/kallsyms.txt.gz >"$1/debian.kallsyms"
	boot=../testdata/fixtures/debian-6.1.0-56-amd64/boots/run1-A
	rm -rf "$1/sysmodule-debian"
	mkdir -p "$1/sysmodule-debian"
	awk 'NR == FNR { if ($2 == ".text") text[$1] = $3; next } ($1 in text) { print $1, text[$1], $2 }' \
		"$boot/module-sections.txt" "$boot/modules.txt" |
		while read -r name text size; do
			mkdir -p "$1/sysmodule-debian/$name/sections"
			echo "$text" >"$1/sysmodule-debian/$name/sections/.text"
			echo "$size" >"$1/sysmodule-debian/$name/coresize"
		done
}
