#!/bin/sh
# test_core_drivers61.sh - TAP: on 6.1 a bond's users count is driver-private, and sva-trace
# reads it through CO-RE (bpf/core_fixes.bpf.h, sva_bond_driver_users): intel_svm_dev.users
# (Intel VT-d) or arm_smmu_bond.refs (SMMUv3). No booted kernel here binds (Debian's x86 6.1
# refuses SVA binds; no Debian arm64 kernel has ARM_SMMU_V3_SVA), so this checks the
# relocations themselves, offline: `bpftool gen min_core_btf` resolves the BPF object's CO-RE
# relocations against a target BTF and keeps exactly the members they matched.
#
# Targets: the BTF of Debian's x86 6.1 kernel (has intel_svm_dev, no arm_smmu_bond), and the
# BTF of linux-source-6.1's arm-smmu-v3-sva.c compiled for arm64 with ARM_SMMU_V3_SVA (the
# struct is static to that file): defconfig + ARM_SMMU_V3_SVA and full DWARF, `make prepare`,
# that one object, `pahole --btf_encode_detached`. Cached by source version (about 1 minute
# on 2 cores the first time). Each target is the control for the other: a struct the kernel
# lacks must not be matched.
#
# Usage: test_core_drivers61.sh
# Needs: .output/arm64/sva_trace.bpf.o (make ARCH=arm64), gcc-aarch64-linux-gnu, flex, bison,
# bc, pahole (dwarves), bpftool, jq (scripts/setup-deps.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
PATH=$PATH:/usr/sbin:/sbin   # Debian's bpftool lives in /usr/sbin
cache_root=${SVA_TRACE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sva-trace}
obj=$top/.output/arm64/sva_trace.bpf.o

tap_plan 7
[ -f "$obj" ] || bail "$obj is missing: run 'make ARCH=arm64' first"
for tool in aarch64-linux-gnu-gcc pahole bpftool jq flex bison bc; do
	command -v "$tool" >/dev/null 2>&1 || bail "'$tool' not found: run scripts/setup-deps.sh"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sva-core61.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP

# BTF of 6.1's arm-smmu-v3-sva.c for arm64; prints its path.
smmu_btf() {
	d=$(sh "$top/scripts/debian-pkg.sh" extract linux-source-6.1) || return 1
	ver=$(cut -d' ' -f2 "$d/.sva-trace-pkg")
	out=$cache_root/btf/arm-smmu-v3-sva_linux-source-6.1_${ver}_arm64.btf
	if [ ! -s "$out" ]; then
		src=$work/src
		mkdir -p "$src" "$cache_root/btf"
		tar -xJf "$d/usr/src/linux-source-6.1.tar.xz" -C "$src" || return 1
		k=$src/linux-source-6.1
		m() { nice -n 5 make -s -C "$k" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- "$@"; }
		m defconfig >&2 || return 1
		# DEBUG_INFO_REDUCED (defconfig) leaves structs as declarations: pahole needs them whole.
		"$k/scripts/config" --file "$k/.config" -e ARM_SMMU_V3 -e ARM_SMMU_V3_SVA \
			-e DEBUG_INFO_DWARF5 -d DEBUG_INFO_NONE -d DEBUG_INFO_REDUCED
		m olddefconfig >&2 || return 1
		grep -qx CONFIG_ARM_SMMU_V3_SVA=y "$k/.config" || { echo "ARM_SMMU_V3_SVA did not stay set" >&2; return 1; }
		m -j2 prepare >&2 || return 1
		m drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.o >&2 || return 1
		pahole --btf_encode_detached="$out.tmp.$$" "$k/drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.o" >&2 ||
			{ rm -f "$out.tmp.$$"; return 1; }
		mv -f "$out.tmp.$$" "$out"
	fi
	echo "$out"
}

# x86 6.1 kernel BTF, cut from Debian's vmlinuz (tests/vm/kernels.sh); prints its path.
intel_btf() {
	eval "$("$here/kernels.sh" --info 6.1)" || return 1
	out=$cache_root/btf/${KERNEL_PKG}_$KERNEL_VERSION.btf
	[ -s "$out" ] || { mkdir -p "$cache_root/btf"; sh "$top/vmlinux/gen-vmlinux.sh" extract-btf "$KERNEL_VMLINUZ" "$out"; } ||
		return 1
	echo "$out"
}

# members STRUCT BTF: "name@bit_offset ..." of STRUCT in BTF, in order ("" when absent).
members() {
	bpftool -j btf dump file "$2" | jq -r --arg s "$1" \
		'[.types[] | select(.kind == "STRUCT" and .name == $s)][0] // {members: []} |
		 [.members[] | "\(.name)@\(.bits_offset)"] | join(" ")'
}
# matched STRUCT TARGET_BTF: the members of STRUCT that the object's relocations matched.
matched() {
	bpftool gen min_core_btf "$2" "$work/min.btf" "$obj" >"$work/min.err" 2>&1 || { cat "$work/min.err" >&2; return 1; }
	members "$1" "$work/min.btf"
}
# subset_of SUB ALL: every name@offset of SUB is in ALL (the relocations kept the kernel's offsets).
subset_of() {
	for x in $1; do case " $2 " in *" $x "*) ;; *) return 1 ;; esac; done
}

t0=$(date +%s)
if sbtf=$(smmu_btf 2>"$work/smmu.err"); then
	ok "BTF of 6.1 arm-smmu-v3-sva.c built for arm64 ($(($(date +%s) - t0)) s)"
else
	not_ok "BTF of 6.1 arm-smmu-v3-sva.c built for arm64"
	tail -n 10 "$work/smmu.err" | sed 's/^/# /'
	sbtf=/nonexistent
fi
full=$(members arm_smmu_bond "$sbtf" 2>/dev/null || true)
got=$(matched arm_smmu_bond "$sbtf" 2>/dev/null || echo "min_core_btf failed")
names=$(echo "$got" | tr ' ' '\n' | sed 's/@.*//' | tr '\n' ' ' | sed 's/ $//')
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "# got '$2', want '$3'"; fi; }
check_eq "arm64 6.1: the relocations match arm_smmu_bond's sva, mm and refs ($got)" "$names" "sva mm refs"
if [ -n "$full" ] && subset_of "$got" "$full"; then
	ok "arm64 6.1: at the kernel's offsets (struct: $full)"
else
	not_ok "arm64 6.1: at the kernel's offsets (struct: ${full:-absent}; matched: $got)"
fi
got=$(matched intel_svm_dev "$sbtf" 2>/dev/null || echo "min_core_btf failed")
check_eq "arm64 6.1: intel_svm_dev, absent there, is not matched" "$got" ""

if xbtf=$(intel_btf 2>"$work/intel.err"); then
	ok "BTF of Debian's x86 6.1 kernel"
else
	not_ok "BTF of Debian's x86 6.1 kernel"
	tail -n 10 "$work/intel.err" | sed 's/^/# /'
	xbtf=/nonexistent
fi
full=$(members intel_svm_dev "$xbtf" 2>/dev/null || true)
got=$(matched intel_svm_dev "$xbtf" 2>/dev/null || echo "min_core_btf failed")
names=$(echo "$got" | tr ' ' '\n' | sed 's/@.*//' | tr '\n' ' ' | sed 's/ $//')
if [ "$names" = "dev sva pasid users" ] && [ -n "$full" ] && subset_of "$got" "$full"; then
	ok "x86 6.1: the relocations match intel_svm_dev's dev, sva, pasid and users at the kernel's offsets ($got)"
else
	not_ok "x86 6.1: the relocations match intel_svm_dev's dev, sva, pasid and users at the kernel's offsets (matched: $got; struct: ${full:-absent})"
fi
got=$(matched arm_smmu_bond "$xbtf" 2>/dev/null || echo "min_core_btf failed")
check_eq "x86 6.1: arm_smmu_bond, absent there, is not matched" "$got" ""

tap_done
