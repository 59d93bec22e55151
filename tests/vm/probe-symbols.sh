#!/bin/sh
# probe-symbols.sh - which IOMMU SVA/PASID functions a kernel has and which can be traced.
#
# Two roles in one file:
#  * guest (run as /run.sh by the initramfs /init, i.e. SVA_VM=1): prints, per function,
#    whether /proc/kallsyms has it, whether ftrace can trace it
#    (available_filter_functions: needed by fentry/fexit and ftrace-based kprobes) and
#    whether it is on the kprobe blacklist; plus uname -r and BTF presence.
#  * host:  probe-symbols.sh --table [--timeout S] ID...   (ids of tests/vm/kernels.sh)
#    boots each kernel with this script and prints a markdown table of the results.
#    BTF FUNC column: whether the kernel's BTF (cut from the vmlinuz, vmlinux/gen-vmlinux.sh
#    extract-btf) has a FUNC record of that name, which fentry/fexit need.
set -eu

SYMS="iommu_sva_bind_device iommu_sva_unbind_device iommu_attach_device_pasid
iommu_replace_device_pasid iommu_detach_device_pasid iommu_attach_handle_get
iommu_alloc_global_pasid iommu_free_global_pasid mm_pasid_drop ioasid_alloc ioasid_free
iommu_sva_alloc_pasid iommu_sva_free_pasid"

guest() {
	echo "PROBE uname $(uname -r)"
	if [ -e /sys/kernel/btf/vmlinux ]; then
		echo "PROBE btf yes $(wc -c </sys/kernel/btf/vmlinux)"
	else
		echo "PROBE btf no"
	fi
	T=/sys/kernel/tracing
	[ -r $T/available_filter_functions ] || echo "PROBE warn no-available_filter_functions"
	BL=/sys/kernel/debug/kprobes/blacklist
	# The exact check from the brief, kept verbatim for reference in the log.
	echo "PROBE kallsyms-grep-begin"
	grep -E ' (iommu_sva_bind_device|iommu_sva_unbind_device|iommu_attach_device_pasid|iommu_replace_device_pasid|iommu_detach_device_pasid|iommu_attach_handle_get|iommu_alloc_global_pasid|iommu_free_global_pasid|mm_pasid_drop|ioasid_alloc|ioasid_free|iommu_sva_alloc_pasid|iommu_sva_free_pasid)$' /proc/kallsyms || true
	echo "PROBE kallsyms-grep-end"
	# Under TCG every pass over the 200k-line kallsyms costs seconds: filter it once.
	# shellcheck disable=SC2086 # split the list into words on purpose
	pat=$(echo $SYMS | tr ' ' '|')
	grep -E " ($pat)(\\.[^ ]*)?\$" /proc/kallsyms >/tmp/ks || true
	grep -E "^($pat)( |\$)" $T/available_filter_functions >/tmp/ff 2>/dev/null || true
	for s in $SYMS; do
		k=$(awk -v s="$s" '$3 == s && NF == 3 { print $2; exit }' /tmp/ks)
		# foo.isra.0 / foo.constprop.0 style clones are a hint the plain name was optimized away
		c=$(awk -v s="$s" 'index($3, s ".") == 1 { printf "%s%s", sep, $3; sep = "," }' /tmp/ks)
		t=no
		grep -qx "$s" /tmp/ff && t=yes
		b=no
		[ -r $BL ] && grep -q "[[:space:]]$s\$" $BL && b=yes
		echo "SYM $s kallsyms=${k:--} traceable=$t kprobe_blacklisted=$b clones=${c:--}"
	done
}

host_table() {
	here=$(cd "$(dirname "$0")" && pwd)
	timeout=180
	if [ "${1:-}" = --timeout ]; then timeout=$2; shift 2; fi
	[ $# -ge 1 ] || { echo "usage: $0 --table [--timeout S] ID..." >&2; exit 2; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/sva-probe.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	hdr="| symbol |"; sep="|---|"
	for id in "$@"; do
		eval "$("$here/kernels.sh" --info "$id")"
		case $KERNEL_ARCH in arm64) qa=arm64 ;; *) qa=x86_64 ;; esac
		"$here/mkinitramfs.sh" --arch "$qa" "$work/$id.cpio.gz" "$0"
		t0=$(date +%s.%N)
		rc=0
		"$here/run-vm.sh" --arch "$qa" --timeout "$timeout" --kernel "$KERNEL_VMLINUZ" \
			--initrd "$work/$id.cpio.gz" >"$work/$id.log" || rc=$?
		t1=$(date +%s.%N)
		[ "$rc" = 0 ] || { cat "$work/$id.log" >&2; echo "$0: guest for $id failed (rc $rc)" >&2; exit 1; }
		btffuncs=$work/$id.funcs
		: >"$btffuncs"
		if sh "$here/../../vmlinux/gen-vmlinux.sh" extract-btf "$KERNEL_VMLINUZ" "$work/$id.btf" 2>"$work/$id.btf.err"; then
			bpftool btf dump file "$work/$id.btf" | sed -n "s/^\[[0-9]*\] FUNC '\([^']*\)'.*/\1/p" >"$btffuncs"
		else
			echo "n/a" >"$btffuncs"
		fi
		printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$KERNEL_PKG" "$KERNEL_VERSION" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" \
			"$(sed -n 's/^PROBE uname //p;' "$work/$id.log")" >>"$work/kernels"
		sed -n 's/^PROBE btf //p' "$work/$id.log" | head -n 1 >"$work/$id.btf.txt"
		hdr="$hdr $id |"; sep="$sep---|"
	done
	echo "Kernels (boot+probe wall time under TCG, host side):"
	echo
	echo "| id | package | version | uname -r | /sys/kernel/btf/vmlinux | boot s |"
	echo "|---|---|---|---|---|---|"
	while IFS="$(printf '\t')" read -r id p v s u; do
		# BTF size in the guest vs. the blob cut from the vmlinuz on the host
		b=$(cat "$work/$id.btf.txt"); bs=${b#yes }
		if [ -s "$work/$id.btf" ] && [ "$bs" = "$(wc -c <"$work/$id.btf")" ]; then
			b="yes, $bs bytes = blob cut from vmlinuz"
		elif [ "$b" != no ]; then b="yes, $bs bytes"; fi
		echo "| $id | $p | $v | $u | $b | $s |"
	done <"$work/kernels"
	echo
	echo "Per symbol: K = in /proc/kallsyms (with its type letter), F = in"
	echo "available_filter_functions (ftrace/fentry-traceable), B = FUNC in the kernel's BTF"
	echo "(fentry/fexit need K, F and B), BL = on the kprobe blacklist, '-' = absent;"
	echo "\"also:\" lists other kallsyms names NAME.* (compiler-split .cold parts, .isra clones)."
	echo
	echo "$hdr"; echo "$sep"
	for s in $SYMS; do
		row="| \`$s\` |"
		for id in "$@"; do
			l=$(grep "^SYM $s " "$work/$id.log")
			k=$(echo "$l" | sed 's/.*kallsyms=\([^ ]*\).*/\1/')
			t=$(echo "$l" | sed 's/.*traceable=\([^ ]*\).*/\1/')
			b=$(echo "$l" | sed 's/.*kprobe_blacklisted=\([^ ]*\).*/\1/')
			c=$(echo "$l" | sed 's/.*clones=\([^ ]*\).*/\1/')
			if [ "$k" = - ]; then cell="-"; else cell="K($k)"; fi
			[ "$t" = yes ] && cell="$cell F"
			if grep -qx n/a "$work/$id.funcs"; then cell="$cell B?"
			elif grep -qx "$s" "$work/$id.funcs"; then cell="$cell B"; fi
			[ "$b" = yes ] && cell="$cell BL"
			[ "$c" = - ] || cell="$cell (also: $c)"
			row="$row $cell |"
		done
		echo "$row"
	done
}

if [ "${1:-}" = --table ]; then
	shift
	host_table "$@"
elif [ "${SVA_VM:-}" = 1 ]; then
	guest
else
	echo "$0: run as the guest /run.sh (SVA_VM=1) or as: $0 --table ID..." >&2
	exit 2
fi
