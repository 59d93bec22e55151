#!/bin/sh
# test_doctor_vm.sh - TAP: `sva-trace doctor` inside QEMU q35 guests booted from Debian's
# 6.12 and 7.2 kernels and the lab kernel (lab/, built with INTEL_IOMMU and
# INTEL_IOMMU_SVM), with the real VT-d driver in each mode QEMU 7.2 emulates
# (vtd-modes.sh):
#   none      q35, no IOMMU device
#   legacy    -device intel-iommu                                   intel_iommu=on
#   scalable  -device intel-iommu,x-scalable-mode=on                intel_iommu=on
#   pasid     -device intel-iommu,x-scalable-mode=on,x-pasid-mode=on intel_iommu=on,sm_on
# The text report is compared exactly with tests/vm/doctor/KERNEL-CASE.txt, after the
# kernel's release and version strings are replaced by KREL, KVER and KDEBVER (so a new
# Debian build of the same series does not churn the files); the exit code must be 1 (no
# emulated device has a PASID capability) and the --json document must agree.
# The 6.12 guest gets Debian's /boot/config of that kernel (the config path); the 7.2
# package ships none, so there doctor infers the options from /proc/kallsyms; the lab kernel
# has IKCONFIG_PROC, so there doctor reads /proc/config.gz.
#
# Usage: test_doctor_vm.sh [--bless] [KERNEL_ID...]   (default: 6.12 7.2 lab)
# Needs: .output/static/sva-trace (make STATIC=1), jq, qemu-system-x86_64, busybox-static.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
jqt="$here/../lib/jq-true" # exactly one value, true (jq -e passes on empty input)
bin=$top/.output/static/sva-trace
expdir=$here/doctor
bless=0
[ "${1:-}" = --bless ] && { bless=1; shift; }
ids=${*:-6.12 7.2 lab}
# shellcheck source=tests/vm/vtd-modes.sh
. "$here/vtd-modes.sh"
cases=$vtd_modes

per_case=3
set -- $ids
n_cases=$(echo $cases | wc -w)
tap_plan $(($# * n_cases * per_case))
[ -x "$bin" ] || bail "$bin is missing: run 'make STATIC=1' first"
command -v jq >/dev/null || bail "jq is missing (scripts/setup-deps.sh installs it)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Guest: console messages off (they would interleave with the report), then the report,
# its exit code and the JSON document, each line tagged.
cat >"$work/run.sh" <<'EOF'
#!/bin/sh
dmesg -n 1
echo
sva-trace doctor >/tmp/doctor.txt 2>/tmp/doctor.err
echo "DOCTOR_RC=$?"
sva-trace doctor --json >/tmp/doctor.json 2>>/tmp/doctor.err
echo "DOCTOR_JSON_RC=$?"
sed 's/^/DOC|/' /tmp/doctor.txt
sed 's/^/DOCJSON|/' /tmp/doctor.json
sed 's/^/DOCERR|/' /tmp/doctor.err
EOF

# The kernel image of ID in $vmlinuz, and KERNEL_PKG, KERNEL_VERSION, KERNEL_RELEASE.
# lab: the lab kernel (lab/build-lab-kernel.sh, cached), whose release has no Debian
# version; else a Debian kernel (kernels.sh).
kernel_of() {
	if [ "$1" = lab ]; then
		vmlinuz=$("$top/lab/build-lab-kernel.sh" 2>"$work/fetch.err") || return 1
		KERNEL_RELEASE=$(sed -n 's/^kernel \([^ ]*\).*/\1/p' "$(dirname "$vmlinuz")/BUILD-INFO") # "kernel RELEASE ARCH"
		[ -n "$KERNEL_RELEASE" ] || return 1
		KERNEL_VERSION=$KERNEL_RELEASE
		KERNEL_PKG="lab kernel $(basename "$(dirname "$vmlinuz")")"
		return 0
	fi
	vmlinuz=$("$here/kernels.sh" "$1" 2>"$work/fetch.err") || return 1
	# shellcheck disable=SC1090 # written by kernels.sh
	. "${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sva-trace}/kernels/$1.env"
}

for id in $ids; do
	if ! kernel_of "$id"; then
		tail -n 20 "$work/fetch.err" | sed 's/^/# /'
		for c in $cases; do i=0; while [ $i -lt $per_case ]; do
			not_ok "$id $c: kernel image could not be fetched or built"; i=$((i + 1)); done; done
		continue
	fi
	echo "# $id: $KERNEL_PKG $KERNEL_VERSION"
	extra=
	cfg=$(dirname "$vmlinuz")/config-$KERNEL_RELEASE
	[ -f "$cfg" ] && extra="$cfg:/boot/"
	"$here/mkinitramfs.sh" "$work/initrd-$id.gz" "$work/run.sh" "$bin" $extra >/dev/null ||
		bail "mkinitramfs failed"
	upstream=${KERNEL_VERSION%%-*}; upstream=${upstream%%+*}
	for c in $cases; do
		log=$work/$id-$c.log
		rc=0
		# shellcheck disable=SC2046 # QEMU arguments, split on purpose
		"$here/run-vm.sh" --timeout 180 --kernel "$vmlinuz" --initrd "$work/initrd-$id.gz" \
			--append "$(vtd_cmdline $c)" -- $(vtd_qemu_args $c) >"$log" 2>&1 || rc=$?
		sed -n 's/^DOC|//p' "$log" | sed -e "s|$KERNEL_RELEASE|KREL|g" \
			-e "s|Debian $KERNEL_VERSION|Debian KDEBVER|g" -e "s|$upstream|KVER|g" >"$work/$id-$c.txt"
		sed -n 's/^DOCJSON|//p' "$log" >"$work/$id-$c.json"
		drc=$(sed -n 's/^DOCTOR_RC=//p' "$log")
		jrc=$(sed -n 's/^DOCTOR_JSON_RC=//p' "$log")
		exp=$expdir/$id-$c.txt
		[ $bless = 1 ] && [ "$rc" = 0 ] && cp "$work/$id-$c.txt" "$exp"
		if [ "$rc" = 0 ] && [ "$drc" = 1 ] && [ "$jrc" = 1 ] && ! grep -q '^DOCERR|' "$log"; then
			ok "$id $c: guest ran doctor; exit 1 (no device can bind), text and --json, no stderr"
		else
			not_ok "$id $c: guest ran doctor (vm rc $rc, doctor rc '$drc', json rc '$jrc')"
			grep '^DOCERR|' "$log" | head -n 5 | sed 's/^/# /'
			[ "$rc" = 0 ] || tail -n 15 "$log" | sed 's/^/# /'
		fi
		if [ -s "$work/$id-$c.txt" ] && cmp -s "$exp" "$work/$id-$c.txt"; then
			ok "$id $c: the report is exactly doctor/$id-$c.txt"
		else
			not_ok "$id $c: the report is exactly doctor/$id-$c.txt"
			diff -u "$exp" "$work/$id-$c.txt" 2>&1 | head -n 40 | sed 's/^/#   /'
		fi
		if "$jqt" '.type == "doctor" and .format == 1 and .exit_code == 1 and .can_bind == []
			and (.devices | length > 0) and ([.devices[].verdict] | all(. == "cannot_bind"))' \
			"$work/$id-$c.json" >/dev/null 2>&1; then
			ok "$id $c: --json agrees: format 1, every device cannot_bind, exit_code 1"
		else
			not_ok "$id $c: --json agrees with the text report"
			head -c 600 "$work/$id-$c.json" | sed 's/^/#   /'
		fi
	done
done
tap_done
