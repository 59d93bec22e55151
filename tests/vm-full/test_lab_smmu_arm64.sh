#!/bin/sh
# test_lab_smmu_arm64.sh - TAP: an SVA bind that reaches the real Arm SMMUv3 driver, on the arm64
# lab kernel (ARM_SMMU_V3_SVA) in qemu-system-aarch64 -M virt,iommu=smmuv3 with an e1000 on the
# PCI bus behind the SMMUv3, under sva-trace: which function failed the bind, with which errno.
# lab/guest/sva_pci (IOMMU_TEST_OP_SVA_BIND_PCI) calls iommu_sva_bind_device on the struct
# pci_dev, once per case and process (a fresh mm each time), with fentry/fexit and with
# --probe-mode kprobe:
#   own      the device's own max_pasids, 0 (QEMU's e1000 has no PASID capability): the core
#            stops in iommu_alloc_global_pasid, before the driver (ENOSPC)
#   claimed  65536 PASIDs claimed for the call, so that the driver's own SVA checks run:
#            arm_smmu_sva_domain_alloc returns -EOPNOTSUPP when the SMMU lacks
#            ARM_SMMU_FEAT_SVA, which arm_smmu_sva_supported (arm-smmu-v3-sva.c, 7.2.13) refuses
#            here twice over: -cpu max has 52-bit VAs (LPA2) and the lab kernel 4K pages ("We
#            don't support LPA2"), and QEMU's SMMUv3 outputs fewer address bits than the CPU
#            (smmu->oas < the CPU's PARange).
# The failed records' causes must be exactly these (type, errno, function, what it returned;
# depths are the compiler's business and are not compared). Part of make check-full.
# Written from the kernel source before the arm64 lab kernel had ever been built; its first run
# (2026-12-02) found exactly these causes. It also checks README.md's probe table, column
# "arm64 lab": each probe's attach mode in auto and in kprobe mode.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
SVA_LAB_ARCH=arm64
export SVA_LAB_ARCH
. "$top/tests/vm/lab-guest.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# case|claim|sva_pci's errno|failed records with a cause, ';'-separated: TYPE ERRNO|FUNCTION RETURNED
expect() {
	cat <<'EOT'
own|0|ENOSPC|pasid_alloc ENOSPC|iommu_alloc_global_pasid IOMMU_PASID_INVALID;bind ENOSPC|iommu_alloc_global_pasid IOMMU_PASID_INVALID
claimed|65536|EOPNOTSUPP|bind EOPNOTSUPP|arm_smmu_sva_domain_alloc EOPNOTSUPP
EOT
}
modes="auto kprobe"
tap_plan $((4 + 2 * 2 * 2))

[ -x "$bin" ] || bail "static $lab_arch sva-trace missing: $lab_bin_how"
lab_kernel
$lab_cc -static -O2 -Wall -I "$inc" -I "$top/lab/guest" -o "$work/sva_pci" \
	"$top/lab/guest/sva_pci.c" 2>"$work/cc.err" || {
	sed 's/^/# /' "$work/cc.err"
	bail "sva_pci does not build against the lab kernel's headers"
}

{
	echo '#!/bin/sh'
	echo 'echo'
	echo 'sva-trace --check --json | sed "s/^/CHECK /"'
	echo 'sva-trace --check --json --probe-mode kprobe | sed "s/^/KCHECK /"'
	# The e1000 (8086:100e): the only device on the bus besides the host bridge.
	echo 'for d in /sys/bus/pci/devices/*; do [ "$(cat $d/vendor):$(cat $d/device)" = 0x8086:0x100e ] && PCI=${d##*/}; done'
	echo 'echo "PCI $PCI $(basename "$(readlink /sys/bus/pci/devices/$PCI/iommu 2>/dev/null)")"'
	echo 'sva_pci query $PCI | sed "s/^/Q /"'
	expect | while IFS='|' read -r c claim want _; do
		for m in $modes; do
			echo "sva-trace --json --probe-mode $m -- sva_pci bind \$PCI $claim $want >/tmp/$c.$m.jsonl 2>/tmp/$c.$m.err"
			echo "echo \"RC $c.$m \$?\""
			echo "sed 's/^/J $c.$m /' /tmp/$c.$m.jsonl"
			echo "sed 's/^/E $c.$m /' /tmp/$c.$m.err"
		done
	done
} >"$work/run.sh"
lab_initramfs "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_pci" >/dev/null
rc=0
lab_vm --timeout $((300 * lab_slow)) --nic user,model=e1000 --kernel "$kernel" \
	--initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
[ $rc = 0 ] || guest_failed "$work/log" $rc
pci=$(sed -n 's/^PCI //p' "$work/log")
query=$(sed -n 's/^Q //p' "$work/log")
case $pci in
?*' '?*) ok "the e1000 ($pci) is behind the SMMUv3: $query" ;;
*) not_ok "the e1000 is behind the SMMUv3 (got '$pci': $query)" ;;
esac
got=$(sed -n 's/^CHECK //p' "$work/log" | jq -r '[.callees[] | select(.attached) | .function | select(startswith("arm_smmu"))] | sort | join(" ")' 2>/dev/null)
[ -n "$got" ] && ok "the SMMUv3 driver's SVA callees are attached: $got" ||
	not_ok "the SMMUv3 driver's SVA callees are attached (got none)"

# README.md's probe table, column "arm64 lab 7.2": every probe of the table with its mode
# (function=mode, - when the kernel lacks it), in auto mode and with --probe-mode kprobe.
probe_modes() {
	sed -n "s/^$1 //p" "$work/log" |
		jq -r '[.probes[] | "\(.function)=\(.mode // "-")"] | join(" ")' 2>/dev/null
}
# 7.2 has BPF_TRACE_FSESSION: the functions probed at entry and return get one fsession program
want_auto='iommu_sva_bind_device=fsession iommu_sva_unbind_device=fsession iommu_attach_device_pasid=fsession iommu_replace_device_pasid=fsession iommu_detach_device_pasid=fsession iommu_attach_handle_get=fexit iommu_alloc_global_pasid=fsession iommu_free_global_pasid=fentry iommu_sva_alloc_pasid=- ioasid_free=- mm_pasid_drop=fentry iommu_report_device_fault=fsession sched_process_exit=raw_tp exit_mmap=raw_tp'
want_kprobe=$(echo "$want_auto" | sed 's/=fexit/=kprobe+kretprobe/g; s/=fsession/=kprobe+kretprobe/g; s/=fentry/=kprobe/g')
for m in auto kprobe; do
	if [ $m = auto ]; then got=$(probe_modes CHECK) want=$want_auto; else got=$(probe_modes KCHECK) want=$want_kprobe; fi
	if [ "$got" = "$want" ]; then
		ok "$m mode: every SVA, PASID and teardown probe attaches as README's arm64 lab column says"
	else
		not_ok "$m mode: every SVA, PASID and teardown probe attaches as README's arm64 lab column says"
		printf '# want: %s\n# got:  %s\n' "$want" "$got"
	fi
done

causes() {
	jq -r 'select(.cause) | "\(.type) \(.errno)|\(.cause.function) \(.cause.returned // .cause.errno)"' "$1"
}
expect | while IFS='|' read -r c claim want want_causes; do
	echo "$want_causes" | tr ';' '\n' >"$work/$c.want"
	for m in $modes; do
		sed -n "s/^J $c.$m //p" "$work/log" | grep '^{' >"$work/$c.$m.jsonl"
		got_rc=$(sed -n "s/^RC $c.$m //p" "$work/log")
		line=$(sed -n "s/^E $c.$m //p" "$work/log" | grep '^sva_pci: bind')
		[ "$got_rc" = 0 ] && echo "ok - $c, $m: the bind failed with $want ($line)" ||
			echo "not ok - $c, $m: the bind failed with $want (rc '$got_rc': $line)"
		causes "$work/$c.$m.jsonl" >"$work/$c.$m.got" 2>/dev/null
		if cmp -s "$work/$c.want" "$work/$c.$m.got"; then
			echo "ok - $c, $m: the failed records carry exactly the cause $(tail -n 1 "$work/$c.want")"
		else
			echo "not ok - $c, $m: the failed records carry exactly the expected causes"
			diff "$work/$c.want" "$work/$c.$m.got" | sed 's/^/# /'
		fi
	done
done | tee "$work/tap"
n=$((n + 2 * 2 * 2))
grep -q '^not ok' "$work/tap" && failed=$((failed + 1))
tap_done
