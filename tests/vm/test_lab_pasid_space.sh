#!/bin/sh
# test_lab_pasid_space.sh - TAP: a device's PASID space exhausted for real, on the lab kernel.
# lab/guest/sva_narrow.c creates a mock device with 2 PASID bits (the lab patch's
# MOCK_FLAGS_DEVICE_PASID_NARROW: max_pasids 4) and binds it from child processes, each
# holding its bond, until a bind fails. It runs as the first SVA user of a fresh boot, once
# under `sva-trace --json` (fentry/fexit) and once with --probe-mode kprobe, each in its own
# boot (a child's PASID is freed only when its mm is dropped, which a lazy TLB user can delay).
#
# Kernel facts behind the expectations (linux-source-7.2 7.2.13): the global PASIDs start at
# IOMMU_FIRST_GLOBAL_PASID (1) and iommu_alloc_global_pasid takes them from
# ida_alloc_range(1, max_pasids - 1), so PASIDs 1-3 go to the first three processes (each mm
# keeps its PASID until mm_pasid_drop) and the fourth bind's allocation finds none: it returns
# IOMMU_PASID_INVALID, iommu_sva_bind_device -ENOSPC. PASID 0 is the device's RID
# (IOMMU_NO_PASID), never attached by PASID: with PASIDs 1-3 attached the group is full, so the
# default --pasid-pressure of 90 % must warn (3 of the 3 usable; counting PASID 0 it would read
# 75 % and stay silent).
#
# Checks per mode: the binds held and their PASIDs; the failed bind's and allocation's causes
# exactly (same functions and depths as test_lab_causes.sh's device without PASIDs, which
# stops in the same allocator); one pasid-pressure finding at 3 of 3; no other finding; every
# bond unbound; and a replay of the capture on the host gives the same findings and causes.
#
# Needs: the lab kernel (lab/build-lab-kernel.sh), .output/static/sva-trace (make STATIC=1),
# jq. Run under flock /work/vm.lock.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
jqt="$top/tests/lib/jq-true" # exactly one value, true (jq -e passes on empty input)
bin=$top/.output/static/sva-trace
host_bin=${SVA_TRACE_BIN:-$top/.output/sva-trace}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
. "$here/lab-guest.sh"

modes="auto kprobe"
per_mode=7
tap_plan $((1 + 2 * per_mode))

[ -x "$bin" ] || bail "static sva-trace missing: make STATIC=1"
[ -x "$host_bin" ] || bail "$host_bin missing: make"
command -v jq >/dev/null || bail "jq is missing (scripts/setup-deps.sh installs it)"
lab_guest_build
lab_guest_cc sva_narrow
ok "lab kernel (cache key $(basename "$(dirname "$kernel")")) and sva_narrow built"

# TYPE ERRNO|FUNCTION RETURNED DEPTH CHECK of each record with a cause, from a JSON stream.
causes() {
	jq -r 'select(.cause) | "\(.type) \(.errno)|\(.cause.function) \(.cause.returned // .cause.errno) \(.cause.depth) \(.cause.check // "-")"' "$1"
}
cat >"$work/want_causes" <<'EOT'
pasid_alloc ENOSPC|iommu_alloc_global_pasid IOMMU_PASID_INVALID 0 no-free-pasid
bind ENOSPC|iommu_alloc_global_pasid IOMMU_PASID_INVALID 1 -
EOT
# KIND of each finding, and the pasid-pressure message's counts
findings() {
	jq -r 'select(.type == "finding") | .kind + (if .kind == "pasid-pressure" then
		" " + (.message | capture("^(?<n>[0-9]+) of the (?<u>[0-9]+) PASIDs .*max_pasids (?<m>[0-9]+)") | "\(.n)/\(.u) max \(.m)") else "" end)' "$1"
}
printf '%s\n' "pasid-pressure 3/3 max 4" "bind-error" >"$work/want_findings"

for m in $modes; do
	cat >"$work/run.sh" <<EOF
#!/bin/sh
sva-trace --json --probe-mode $m -- sva_narrow >/tmp/t.jsonl 2>/tmp/t.err
echo "RC \$?"
sed 's/^/J /' /tmp/t.jsonl
sed 's/^/E /' /tmp/t.err
EOF
	"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_narrow" >/dev/null
	rc=0
	"$here/run-vm.sh" --timeout 300 --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
	sed -n 's/^J //p' "$work/log" | grep '^{' >"$work/$m.jsonl"
	got_rc=$(sed -n 's/^RC //p' "$work/log")
	held=$(sed -n 's/^E sva_narrow: \([0-9]*\) binds held, then \(-[0-9]*\)$/\1 \2/p' "$work/log")
	if [ $rc = 0 ] && [ "$got_rc" = 0 ] && [ "$held" = "3 -28" ] &&
		grep -q '^E sva_narrow: PASSED' "$work/log"; then
		ok "$m: 3 binds held the device's PASIDs, the 4th failed with ENOSPC (sva_narrow passed)"
	else
		not_ok "$m: 3 binds held the device's PASIDs, the 4th failed with ENOSPC (vm $rc, rc '$got_rc', held '$held')"
		grep -E '^E |panic|BUG' "$work/log" | head -n 20 | sed 's/^/# /'
	fi
	t "$m: the binds that worked got PASIDs 1, 2 and 3 on a device reporting max_pasids 4" "$jqt" -s \
		'[.[] | select(.type == "bind" and .ret == 0)] | (map(.pasid) | sort) == [1,2,3] and all(.max_pasids == 4)' \
		"$work/$m.jsonl"
	causes "$work/$m.jsonl" >"$work/$m.causes" 2>/dev/null
	if cmp -s "$work/want_causes" "$work/$m.causes"; then
		ok "$m: the failed allocation and bind carry exactly iommu_alloc_global_pasid's cause"
	else
		not_ok "$m: the failed allocation and bind carry exactly iommu_alloc_global_pasid's cause"
		diff "$work/want_causes" "$work/$m.causes" | sed 's/^/# /'
	fi
	findings "$work/$m.jsonl" | sort -r >"$work/$m.findings" 2>/dev/null
	if cmp -s "$work/want_findings" "$work/$m.findings"; then
		ok "$m: one pasid-pressure finding at 3 of the 3 usable PASIDs (default 90 %), the bind-error, nothing else"
	else
		not_ok "$m: one pasid-pressure finding at 3 of the 3 usable PASIDs (default 90 %), the bind-error, nothing else"
		diff "$work/want_findings" "$work/$m.findings" | sed 's/^/# /'
	fi
	t "$m: every bond that worked was unbound (3 unbinds, none outstanding)" "$jqt" -s \
		'([.[] | select(.type == "unbind")] | length) == 3 and (.[-1].type == "summary") and (.[-1].outstanding | length) == 0' \
		"$work/$m.jsonl"
	"$host_bin" --replay "$work/$m.jsonl" --json >"$work/$m.replay" 2>"$work/replay.err"
	causes "$work/$m.replay" >"$work/$m.rcauses" 2>/dev/null
	findings "$work/$m.replay" | sort -r >"$work/$m.rfindings" 2>/dev/null
	if cmp -s "$work/want_causes" "$work/$m.rcauses" && cmp -s "$work/want_findings" "$work/$m.rfindings"; then
		ok "$m: a replay of the capture gives the same causes and findings"
	else
		not_ok "$m: a replay of the capture gives the same causes and findings"
		sed 's/^/# /' "$work/replay.err"
	fi
	probe=$([ $m = kprobe ] && echo kprobe || echo fentry)
	t "$m: the records came from $probe probes" "$jqt" -s --arg p "$probe" \
		'[.[] | select(.type == "bind") | .probe == $p] | length > 0 and all' "$work/$m.jsonl"
done
tap_done
