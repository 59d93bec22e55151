#!/bin/sh
# test_lab_causes.sh - TAP: failure provenance on the lab kernel (lab/). Every failure the
# lab's real SVA core and mock IOMMU can produce (lab/guest/sva_fail.c: a device without
# PASIDs, a PASID above max_pasids, a type mismatch, an attach at an occupied PASID, a PASID
# out of range, the mock's faked error at PASID 1024) runs under sva-trace, once with
# fentry/fexit and once with --probe-mode kprobe, and each failed record must carry exactly
# the expected cause (function, what it returned, depth, inline check). The capture is then
# replayed on the host: the same causes, and text lines that name them.
#
# Kernel facts behind the expectations (linux-source-7.2 7.2.13, drivers/iommu/iommu-sva.c
# and iommu.c, iommufd/selftest.c): iommu_alloc_global_pasid returns IOMMU_PASID_INVALID when
# max_pasids is 0; iommu_alloc_mm_data returns -EOVERFLOW for an mm whose PASID is not below
# the device's max_pasids; iommu_attach_handle_get returns -EBUSY for a handle of another
# domain type; iommu_attach_device_pasid returns -EBUSY from xa_insert for an occupied PASID
# and -EINVAL for a PASID >= max_pasids, both before calling anything we probe;
# mock_domain_set_dev_pasid_nop returns -ENOMEM on the 2nd attach at PASID 1024, under
# __iommu_set_group_pasid. Which static functions the compiler kept (and so the depth) is a
# fact of the lab build: the CHECK line of the guest lists the callees attached.
#
# SVA_LAB_ARCH=arm64 runs it on the arm64 lab kernel (.output/arm64/static/sva-trace).
#
# Needs: the lab kernel (lab/build-lab-kernel.sh), .output/static/sva-trace (make STATIC=1),
# jq. Run under flock /work/vm.lock.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$here/lab-guest.sh"
host_bin=${SVA_TRACE_BIN:-$top/.output/sva-trace}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Every failed record with a cause, in seq order: TYPE ERRNO | FUNCTION RETURNED DEPTH CHECK
expect() {
	cat <<'EOT'
pasid_alloc ENOSPC|iommu_alloc_global_pasid IOMMU_PASID_INVALID 0 no-free-pasid
bind ENOSPC|iommu_alloc_global_pasid IOMMU_PASID_INVALID 1 -
bind EOVERFLOW|iommu_sva_bind_device EOVERFLOW 0 mm-pasid-above-max-pasids
bind EBUSY|iommu_attach_handle_get EBUSY 1 -
attach EBUSY|iommu_attach_device_pasid EBUSY 0 pasid-in-use
attach EINVAL|iommu_attach_device_pasid EINVAL 0 pasid-out-of-range-or-foreign-domain
replace ENOMEM|mock_domain_set_dev_pasid_nop ENOMEM 2 -
EOT
}
# The callees this lab build has (the rest are inlined, or drivers it does not build). The
# VT-d driver is built in but idle on this machine without a DMAR table, so no dmar unit is in
# /sys/class/iommu and its callees are left out (test_lab_vtd.sh boots with one).
want_callees="__iommu_set_group_pasid mock_domain_alloc_sva mock_domain_set_dev_pasid_nop"

modes="auto kprobe"
tap_plan 12

[ -x "$bin" ] || bail "static $lab_arch sva-trace missing: $lab_bin_how"
lab_kernel
if $lab_cc -static -O2 -Wall -I "$inc" -I "$top/lab/guest" -o "$work/sva_fail" \
	"$top/lab/guest/sva_fail.c" 2>"$work/cc.err"; then
	ok "$lab_arch lab kernel (cache key $(basename "$(dirname "$kernel")")) and sva_fail built"
else
	sed 's/^/# /' "$work/cc.err"
	bail "sva_fail does not build against the lab kernel's headers"
fi

{
	echo '#!/bin/sh'
	echo 'echo'
	echo 'sva-trace --check --json | sed "s/^/CHECK /"'
	for m in $modes; do
		echo "sva-trace --json --probe-mode $m -- sva_fail >/tmp/$m.jsonl 2>/tmp/$m.err"
		echo "echo \"RC $m \$?\""
		echo "sed 's/^/J $m /' /tmp/$m.jsonl"
		echo "sed 's/^/E $m /' /tmp/$m.err"
	done
} >"$work/run.sh"
lab_initramfs "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_fail" >/dev/null
rc=0
lab_vm --timeout $((400 * lab_slow)) --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
got=$(sed -n 's/^CHECK //p' "$work/log" | jq -r '[.callees[] | select(.attached) | .function] | sort | join(" ")' 2>/dev/null)
if [ $rc = 0 ] && [ "$got" = "$want_callees" ]; then
	ok "the guest ran; the callees this lab build has are attached ($got)"
else
	not_ok "the guest ran; the callees this lab build has are attached (rc $rc, got '$got')"
	tail -n 30 "$work/log" | sed 's/^/# /'
fi

# TYPE ERRNO|FUNCTION RETURNED DEPTH CHECK of each record with a cause, from a JSON stream.
causes() {
	jq -r 'select(.cause) | "\(.type) \(.errno)|\(.cause.function) \(.cause.returned // .cause.errno) \(.cause.depth) \(.cause.check // "-")"' "$1"
}

expect >"$work/want"
for m in $modes; do
	sed -n "s/^J $m //p" "$work/log" | grep '^{' >"$work/$m.jsonl"
	got_rc=$(sed -n "s/^RC $m //p" "$work/log")
	passed=$(sed -n "s/^E $m //p" "$work/log" | grep -c 'sva_fail: PASSED')
	if [ "$got_rc" = 0 ] && [ "$passed" = 1 ]; then
		ok "$m: every failure happened as the kernel source says (sva_fail passed, exit 0)"
	else
		not_ok "$m: every failure happened as the kernel source says (rc '$got_rc')"
		sed -n "s/^E $m /# /p" "$work/log" | grep -v ': ok (' | head -n 20
	fi
	causes "$work/$m.jsonl" >"$work/$m.got" 2>"$work/jq.err"
	if cmp -s "$work/want" "$work/$m.got"; then
		ok "$m: each failed record carries exactly the expected cause"
	else
		not_ok "$m: each failed record carries exactly the expected cause"
		diff "$work/want" "$work/$m.got" | sed 's/^/# /'
	fi
	probe=$([ $m = kprobe ] && echo kprobe || echo fentry)
	if jq -e -s --arg p "$probe" '[.[] | select(.cause) | .probe == $p] | length > 0 and all' \
		"$work/$m.jsonl" >/dev/null; then
		ok "$m: the causes came from $probe probes"
	else
		not_ok "$m: the causes came from $probe probes"
	fi
	# A cause is also an explanation a person can act on, and a replay keeps it.
	if jq -e -s '[.[] | select(.cause) | .cause.explanation | length > 20] | length > 0 and all' \
		"$work/$m.jsonl" >/dev/null; then
		ok "$m: every cause has its one-line explanation"
	else
		not_ok "$m: every cause has its one-line explanation"
	fi
	"$host_bin" --replay "$work/$m.jsonl" --json >"$work/$m.replay" 2>"$work/replay.err"
	causes "$work/$m.replay" >"$work/$m.rgot" 2>/dev/null
	"$host_bin" --replay "$work/$m.jsonl" >"$work/$m.txt" 2>>"$work/replay.err"
	if cmp -s "$work/want" "$work/$m.rgot" &&
		grep -q 'cause=iommu_attach_handle_get(EBUSY) depth=1: ' "$work/$m.txt" &&
		grep -q 'cause=iommu_sva_bind_device(EOVERFLOW) inline check=mm-pasid-above-max-pasids: ' "$work/$m.txt"; then
		ok "$m: a replay of the capture shows the same causes, in JSON and text"
	else
		not_ok "$m: a replay of the capture shows the same causes, in JSON and text"
		diff "$work/want" "$work/$m.rgot" | sed 's/^/# /'
		sed 's/^/# /' "$work/replay.err"
	fi
done
tap_done
