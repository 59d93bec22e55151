#!/bin/sh
# test_lab_global_pasid.sh - TAP: pasid-pressure from the kernel's one global PASID
# allocator, live on the lab kernel. lab/guest/sva_global.c: three processes bind a wide
# mock device (20 PASID bits) and keep their bonds (PASIDs 1, 2, 3), then a fourth binds a
# narrow one (MOCK_FLAGS_DEVICE_PASID_NARROW: max_pasids 4, its own iommu group, nothing
# attached there) and gets ENOSPC. It runs under `sva-trace --json` as the first SVA user of
# a fresh boot.
#
# Kernel facts (linux-source-7.2 7.2.13, drivers/iommu/iommu-sva.c, iommu.c): every new mm's
# bind takes its PASID in iommu_alloc_mm_data from iommu_alloc_global_pasid =
# ida_alloc_range(&iommu_global_pasid_ida, 1, max_pasids - 1), one IDA for every device, so
# the narrow device's PASIDs 1-3 are all out though none is attached in its group. The
# group-only count said 0 of 3; the warning must come for the narrow device's group at
# 3 of 3, all held elsewhere, with the failing allocation (the record that names that
# device's max_pasids) as evidence.
#
# Needs: the lab kernel (lab/build-lab-kernel.sh), .output/static/sva-trace (make STATIC=1),
# jq. Run under flock /work/vm.lock.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
jqt="$top/tests/lib/jq-true" # exactly one value, true (jq -e passes on empty input)
host_bin=${SVA_TRACE_BIN:-$top/.output/sva-trace}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
. "$here/lab-guest.sh"

tap_plan 7

[ -x "$bin" ] || bail "static sva-trace missing: $lab_bin_how"
[ -x "$host_bin" ] || bail "$host_bin missing: make"
command -v jq >/dev/null || bail "jq is missing (scripts/setup-deps.sh installs it)"
lab_guest_build
lab_guest_cc sva_global
ok "lab kernel (cache key $(basename "$(dirname "$kernel")")) and sva_global built"

cat >"$work/run.sh" <<'EOF'
#!/bin/sh
sva-trace --json -- sva_global >/tmp/t.jsonl 2>/tmp/t.err
echo "RC $?"
sed 's/^/J /' /tmp/t.jsonl
sed 's/^/E /' /tmp/t.err
EOF
lab_initramfs "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_global" >/dev/null
rc=0
lab_vm --timeout $((300 * lab_slow)) --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
sed -n 's/^J //p' "$work/log" | grep '^{' >"$work/t.jsonl"
got_rc=$(sed -n 's/^RC //p' "$work/log")
if [ $rc = 0 ] && [ "$got_rc" = 0 ] && grep -q '^E sva_global: PASSED' "$work/log"; then
	ok "3 holders got PASIDs 1-3 on the wide device, the narrow device's bind failed with ENOSPC"
else
	not_ok "3 holders got PASIDs 1-3 on the wide device, the narrow device's bind failed with ENOSPC (vm $rc, rc '$got_rc')"
	grep -E '^E |panic|BUG' "$work/log" | head -n 20 | sed 's/^/# /'
fi
t "the records: binds with PASIDs 1-3 on a device of max_pasids > 4, the narrow device's allocation ENOSPC with max_pasids 4" \
	"$jqt" -s '([.[] | select(.type == "bind" and .ret == 0)] | (map(.pasid) | sort) == [1,2,3] and all(.max_pasids > 4)) and
		([.[] | select(.type == "pasid_alloc" and .ret == -28)] | length == 1 and .[0].max_pasids == 4)' "$work/t.jsonl"
# the narrow group's warning: 3 of 3, none attached there, 3 held elsewhere
narrow_ok='[.[] | select(.type == "pasid_alloc" and .ret == -28)] as $f |
	[.[] | select(.type == "finding" and .kind == "pasid-pressure")] as $p |
	($p | length) == 1 and $p[0].subject.group == $f[0].group and $p[0].subject.dev == $f[0].dev and
	$p[0].pressure == {"in_use":3,"usable":3,"max_pasids":4,"attached":0,"held_elsewhere":3,"threshold_pct":90} and
	($p[0].evidence | any(. == $f[0].seq)) and $p[0].uncertain == false and
	($p[0].message | test("^3 of the 3 PASIDs of group [0-9]+ are in use .*: 0 attached in the group, 3 held elsewhere"))'
t "one pasid-pressure warning, for the narrow device's group: 3 of 3, all held elsewhere, the failing allocation as evidence" \
	"$jqt" -s "$narrow_ok" "$work/t.jsonl"
t "no other finding than that warning and the bind-error of the ENOSPC bind" "$jqt" -s \
	'[.[] | select(.type == "finding") | .kind] | sort == ["bind-error","pasid-pressure"]' "$work/t.jsonl"
t "every holder unbound (3 unbinds, none outstanding)" "$jqt" -s \
	'([.[] | select(.type == "unbind")] | length) == 3 and (.[-1].type == "summary") and (.[-1].outstanding | length) == 0' \
	"$work/t.jsonl"
"$host_bin" --replay "$work/t.jsonl" --json >"$work/replay.jsonl" 2>"$work/replay.err"
t "a replay of the capture on the host gives the same warning" "$jqt" -s "$narrow_ok" "$work/replay.jsonl"
[ -z "${SAVE_CAPTURE:-}" ] || cp "$work/t.jsonl" "$SAVE_CAPTURE"
tap_done
