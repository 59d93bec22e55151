#!/bin/sh
# test_lab_vtd.sh - TAP: failure provenance through the real Intel VT-d driver. The lab kernel
# (lab/, with INTEL_IOMMU and INTEL_IOMMU_SVM) boots on QEMU q35 in each VT-d mode QEMU 7.2
# emulates (vtd-modes.sh: none, legacy, scalable, scalable + PASID); lab/guest/sva_pci binds
# SVA for itself on the emulated VGA device 0000:00:01.0 through IOMMU_TEST_OP_SVA_BIND_PCI
# (iommu_sva_bind_device on the real struct pci_dev, lab/kernel/mock-sva.patch), under
# sva-trace with fentry/fexit and with --probe-mode kprobe. Each failed record must carry
# exactly the expected cause (function, what it returned, depth, inline check), and a replay
# of the capture on the host the same causes.
#
# Kernel facts behind the expectations (linux-source-7.2 7.2.13):
# - none: no DMAR table, no IOMMU for PCI devices: dev->iommu_group is NULL and
#   iommu_sva_bind_device returns -ENODEV before calling anything (iommu-sva.c).
# - legacy, scalable, pasid: QEMU's devices have no PASID capability, so pci_max_pasids() is
#   -EINVAL and dev_iommu_get_max_pasids() gives max_pasids 0 (iommu.c); the first bind of a
#   fresh mm stops in iommu_alloc_mm_data -> iommu_alloc_global_pasid, which returns
#   IOMMU_PASID_INVALID for max_pasids 0: -ENOSPC, in the core, before the VT-d driver.
#   sva_pci's "query" line checks that premise (max_pasids 0, in an iommu group).
# - with max_pasids claimed for the call (sva_pci bind ... 32: the op sets
#   dev->iommu->max_pasids, as for a device whose PASID capability was never enabled), the
#   PASID is allocated and iommu_sva_domain_alloc calls intel_svm_domain_alloc, whose
#   intel_iommu_sva_supported() returns -ENODEV: VTD_FLAG_SVM_CAPABLE is set by
#   intel_svm_check() only with pasid_supported() (scalable mode and ecap.PASID) and
#   ecap.SMPWC, and QEMU 7.2's intel-iommu never sets SMPWC (ecap 0x490080f00f4a in pasid
#   mode) - so -ENODEV in all three modes, from the driver. The checks after it
#   (pasid_enabled/ats_enabled: -EINVAL, intel_svm_set_dev_pasid,
#   intel_pasid_setup_first_level) cannot be reached with QEMU 7.2's VT-d.
# Depth: the probed functions between iommu_sva_bind_device and the failing one; which static
# functions the compiler kept is a fact of the lab build (iommu_alloc_mm_data and
# iommu_sva_domain_alloc are inlined there: the CHECK line lists the callees attached).
#
# Usage: test_lab_vtd.sh [MODE...]   (default: none legacy scalable pasid)
# Environment: SAVE_CAPTURE=FILE keeps the pasid mode's fentry capture (the source of
# tests/replay/captures/vtd_bind_pci.jsonl).
# Needs: the lab kernel (lab/build-lab-kernel.sh), .output/static/sva-trace (make STATIC=1),
# .output/sva-trace, jq. Run under flock /work/vm.lock.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
# shellcheck source=tests/vm/vtd-modes.sh
. "$here/vtd-modes.sh"
jqt="$here/../lib/jq-true"
bin=$top/.output/static/sva-trace
host_bin=${SVA_TRACE_BIN:-$top/.output/sva-trace}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

bdf=0000:00:01.0
claim=32
modes=${*:-$vtd_modes}
probe_modes="auto kprobe"

# What each mode gives: the query line, the two binds' errnos (own max_pasids, claimed), and
# every failed record with a cause, in seq order: TYPE ERRNO|FUNCTION RETURNED DEPTH CHECK
query_of() {
	case $1 in
	none) echo "max_pasids 0, iommu group no" ;;
	*) echo "max_pasids 0, iommu group yes" ;;
	esac
}
binds_of() {
	case $1 in
	none) echo "ENODEV ENODEV" ;;
	*) echo "ENOSPC ENODEV" ;;
	esac
}
expect() {
	case $1 in
	none)
		echo "bind ENODEV|iommu_sva_bind_device ENODEV 0 no-iommu-group"
		echo "bind ENODEV|iommu_sva_bind_device ENODEV 0 no-iommu-group" ;;
	*)
		echo "pasid_alloc ENOSPC|iommu_alloc_global_pasid IOMMU_PASID_INVALID 0 no-free-pasid"
		echo "bind ENOSPC|iommu_alloc_global_pasid IOMMU_PASID_INVALID 1 -"
		echo "bind ENODEV|intel_svm_domain_alloc ENODEV 1 -" ;;
	esac
}
# The text line of a replay that names the driver's failure (IOMMU modes) or the check.
text_of() {
	case $1 in
	none) echo "cause=iommu_sva_bind_device(ENODEV) inline check=no-iommu-group: " ;;
	*) echo "cause=intel_svm_domain_alloc(ENODEV) depth=1: this VT-d unit is not SVM-capable" ;;
	esac
}
# The callees this lab build has: the VT-d driver's wherever a dmar unit is registered
# (every mode but none, where /sys/class/iommu has no dmar), the core's and the mock's always.
callees_of() {
	case $1 in
	none) echo "__iommu_set_group_pasid mock_domain_alloc_sva mock_domain_set_dev_pasid_nop" ;;
	*) echo "__iommu_set_group_pasid intel_pasid_setup_first_level intel_svm_domain_alloc intel_svm_set_dev_pasid mock_domain_alloc_sva mock_domain_set_dev_pasid_nop" ;;
	esac
}

set -- $modes
n_modes=$#
n_probe=$(echo $probe_modes | wc -w)
tap_plan $((1 + n_modes * (2 + n_probe * 4)))

[ -x "$bin" ] || bail "static sva-trace missing: make STATIC=1"
[ -x "$host_bin" ] || bail "$host_bin missing: make"
if ! kernel=$("$top/lab/build-lab-kernel.sh" 2>"$work/build.err"); then
	tail -n 20 "$work/build.err" | sed 's/^/# /'
	bail "the lab kernel could not be built"
fi
inc=$(dirname "$kernel")/include
if gcc -static -O2 -Wall -I "$inc" -I "$top/lab/guest" -o "$work/sva_pci" \
	"$top/lab/guest/sva_pci.c" 2>"$work/cc.err"; then
	ok "lab kernel (cache key $(basename "$(dirname "$kernel")")) and sva_pci built"
else
	sed 's/^/# /' "$work/cc.err"
	bail "sva_pci does not build against the lab kernel's headers"
fi

# TYPE ERRNO|FUNCTION RETURNED DEPTH CHECK of each record with a cause, from a JSON stream.
causes() {
	jq -r 'select(.cause) | "\(.type) \(.errno)|\(.cause.function) \(.cause.returned // .cause.errno) \(.cause.depth) \(.cause.check // "-")"' "$1"
}

for mode in $modes; do
	# shellcheck disable=SC2046 # two words
	set -- $(binds_of $mode)
	own=$1 claimed=$2
	{
		echo '#!/bin/sh'
		echo 'echo'
		echo 'sva-trace --check --json | sed "s/^/CHECK /"'
		echo "sva_pci query $bdf | sed 's/^/Q /'"
		for m in $probe_modes; do
			echo "sva-trace --json --probe-mode $m -- sh -c 'sva_pci bind $bdf 0 $own && sva_pci bind $bdf $claim $claimed' >/tmp/$m.jsonl 2>/tmp/$m.err"
			echo "echo \"RC $m \$?\""
			echo "sed 's/^/J $m /' /tmp/$m.jsonl"
			echo "sed 's/^/E $m /' /tmp/$m.err"
		done
	} >"$work/run.sh"
	"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_pci" >/dev/null ||
		bail "mkinitramfs failed"
	log=$work/$mode.log
	rc=0
	# shellcheck disable=SC2046 # QEMU arguments, split on purpose
	"$here/run-vm.sh" --timeout 300 --kernel "$kernel" --initrd "$work/initrd.gz" \
		--append "$(vtd_cmdline $mode)" -- $(vtd_qemu_args $mode) >"$log" 2>&1 || rc=$?
	got=$(sed -n 's/^CHECK //p' "$log" | jq -r '[.callees[] | select(.attached) | .function] | sort | join(" ")' 2>/dev/null)
	if [ $rc = 0 ] && [ "$got" = "$(callees_of $mode)" ]; then
		ok "$mode: the guest ran; the callees of this lab build for its IOMMUs are attached ($got)"
	else
		not_ok "$mode: the guest ran; the callees of this lab build for its IOMMUs are attached (rc $rc, got '$got')"
		tail -n 30 "$log" | sed 's/^/# /'
	fi
	q=$(sed -n "s/^Q sva_pci: query $bdf: //p" "$log")
	if [ "$q" = "$(query_of $mode)" ]; then
		ok "$mode: $bdf has no PASID capability and is $( [ $mode = none ] && echo 'in no' || echo 'in an') iommu group ($q)"
	else
		not_ok "$mode: $bdf: query says '$q', not '$(query_of $mode)'"
	fi
	expect $mode >"$work/want"
	for m in $probe_modes; do
		sed -n "s/^J $m //p" "$log" | grep '^{' >"$work/$m.jsonl"
		got_rc=$(sed -n "s/^RC $m //p" "$log")
		if [ "$got_rc" = 0 ]; then
			ok "$mode $m: the binds failed as the kernel source says ($own, then $claimed with max_pasids $claim)"
		else
			not_ok "$mode $m: the binds failed as the kernel source says (rc '$got_rc')"
			grep "^sva_pci: " "$log" | sed 's/^/# /'
			sed -n "s/^E $m /# /p" "$log" | head -n 10
		fi
		causes "$work/$m.jsonl" >"$work/$m.got" 2>/dev/null
		if [ -s "$work/want" ] && cmp -s "$work/want" "$work/$m.got"; then
			ok "$mode $m: each failed record carries exactly the expected cause"
		else
			not_ok "$mode $m: each failed record carries exactly the expected cause"
			diff "$work/want" "$work/$m.got" | sed 's/^/# /'
		fi
		probe=$([ $m = kprobe ] && echo kprobe || echo fentry)
		if "$jqt" -s --arg p "$probe" --arg d "$bdf" \
			'[.[] | select(.cause)] | length > 0 and all(.probe == $p and .dev == $d and (.cause.explanation | length > 20))' \
			"$work/$m.jsonl" >/dev/null 2>&1; then
			ok "$mode $m: the causes came from $probe probes, on $bdf, each with its explanation"
		else
			not_ok "$mode $m: the causes came from $probe probes, on $bdf, each with its explanation"
		fi
		"$host_bin" --replay "$work/$m.jsonl" --json >"$work/$m.replay" 2>"$work/replay.err"
		causes "$work/$m.replay" >"$work/$m.rgot" 2>/dev/null
		"$host_bin" --replay "$work/$m.jsonl" >"$work/$m.txt" 2>>"$work/replay.err"
		if [ -s "$work/want" ] && cmp -s "$work/want" "$work/$m.rgot" &&
			grep -q -F "$(text_of $mode)" "$work/$m.txt"; then
			ok "$mode $m: a replay of the capture shows the same causes, in JSON and text"
		else
			not_ok "$mode $m: a replay of the capture shows the same causes, in JSON and text"
			diff "$work/want" "$work/$m.rgot" | sed 's/^/# /'
			grep -F 'cause=' "$work/$m.txt" | head -n 5 | sed 's/^/# /'
			sed 's/^/# /' "$work/replay.err"
		fi
	done
	if [ $mode = pasid ] && [ -n "${SAVE_CAPTURE:-}" ]; then
		cp "$work/auto.jsonl" "$SAVE_CAPTURE"
	fi
done
tap_done
