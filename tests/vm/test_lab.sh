#!/bin/sh
# test_lab.sh - TAP: end-to-end detection on the lab kernel (lab/): the kernel's real SVA core
# driven through the mock device's test ops by lab/guest/sva_smoke, each scenario run as
#   sva-trace --json --leak-grace 1 --fail-on leak,refcount,cross-mm -- sva_smoke SCENARIO
# (the CI assert mode), asserting its exit code, the exact findings, the bonds left bound and
# the exact number of events of each type. One guest boot for all scenarios.
#
# mm_pasid_drop and pasid_free are asserted as "at most": the kernel frees an mm's PASID when
# the mm's last reference goes, and an idle CPU may hold a lazy reference past our window.
#
# Needs: the lab kernel (lab/build-lab-kernel.sh builds and caches it, ~10 min the first
# time), .output/static/sva-trace (make STATIC=1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
bin=$top/.output/static/sva-trace
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# scenario|rc|findings (kind=count,...)|outstanding|bind unbind attach detach lookup pasid_alloc process_exit|max pasid_free / mm_pasid_drop[|replace (default 0)]
# mismatch: a child binds/unbinds on device X (PASID P), a paging hwpt goes to PASID P on device Y,
#   the child's bind on Y fails with EBUSY (the look-up's EBUSY is the type-mismatch); lookups: bind X
#   ENOENT, bind Y EBUSY, sva_smoke's detached-check ENOENT (found handles are not events).
# replace: paging hwpt at PASID 100, replaced, detached; lookup = the detached-check's ENOENT.
# iopf: SVA bind + fault at its PASID, then a fault at PASID 100 on a fault-capable paging hwpt; the
#   fault handlers' look-ups find their handles, so they show only in the summary's "lookups" counts.
# two-dev: one mm on two mock devices (groups 0 and 1): one PASID, one SVA domain, two handles;
#   lookups = each device's first-bind ENOENT.
# two-proc: two children bound on one device at once (PASIDs 1 and 2), each unbinds its own; the
#   parent never binds, so only the two children's exits are events.
expect() {
	cat <<'EOT'
basic|0||0|2 2 1 1 1 1 1|1
reuse|0||0|2 2 2 2 2 2 2|2
leak|1|leak=1|1|2 1 2 1 2 2 2|2
extra|1|leak=1|1|3 2 2 1 2 2 2|2
double|0||0|2 2 1 1 1 1 1|1
double-last|0||0|1 1 1 1 1 1 1|1
extra-double|0||0|2 2 1 1 1 1 1|1
mismatch|0|type-mismatch=1|0|2 1 2 2 3 1 1|1
replace|0||0|0 0 1 1 1 0 1|0|1
iopf|0||0|1 1 2 2 1 1 1|1
two-dev|0||0|2 2 2 2 2 1 1|1
two-proc|0||0|2 2 2 2 2 2 2|2
release|0||0|1 1 1 1 1 1 1|1
EOT
}
scenarios=$(expect | cut -d'|' -f1)
ns=$(echo $scenarios | wc -w)
tap_plan "$((2 + ns * 4))"

[ -x "$bin" ] || bail "static sva-trace missing: make STATIC=1"
if ! kernel=$("$top/lab/build-lab-kernel.sh" 2>"$work/build.err"); then
	tail -n 20 "$work/build.err" | sed 's/^/# /'
	bail "the lab kernel could not be built"
fi
inc=$(dirname "$kernel")/include
if gcc -static -O2 -Wall -I "$inc" -o "$work/sva_smoke" "$top/lab/guest/sva_smoke.c" 2>"$work/cc.err"; then
	ok "lab kernel (cache key $(basename "$(dirname "$kernel")")) and sva_smoke built"
else
	sed 's/^/# /' "$work/cc.err"
	bail "sva_smoke does not build against the lab kernel's headers"
fi

{
	echo '#!/bin/sh'
	echo 'echo'
	echo 'sva-trace --check --json | sed "s/^/CHECK /"'
	for s in $scenarios; do
		echo "sva-trace --json --leak-grace 1 --fail-on leak,refcount,cross-mm -- sva_smoke $s >/tmp/$s.jsonl 2>/tmp/$s.err"
		echo "echo \"RC $s \$?\""
		echo "sed 's/^/J $s /' /tmp/$s.jsonl"
		echo "grep -E 'FAIL|PASSED|FAILED' /tmp/$s.err | sed 's/^/E $s /'"
	done
} >"$work/run.sh"
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_smoke" >/dev/null
rc=0
"$here/run-vm.sh" --timeout 400 --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
if [ $rc = 0 ] && sed -n 's/^CHECK //p' "$work/log" | jq -e '.sva_probes_attached == 6' >/dev/null; then
	ok "the guest ran; all 6 SVA probes attached on the lab kernel"
else
	not_ok "the guest ran; all 6 SVA probes attached on the lab kernel (rc $rc)"
	tail -n 30 "$work/log" | sed 's/^/# /'
fi

expect | while IFS='|' read -r s want_rc want_find want_out counts maxfree want_replace; do
	want_replace=${want_replace:-0}
	sed -n "s/^J $s //p" "$work/log" | grep '^{' >"$work/$s.jsonl"
	got_rc=$(sed -n "s/^RC $s //p" "$work/log")
	smoke_ok=$(sed -n "s/^E $s //p" "$work/log" | grep -c 'PASSED')
	summary=$(jq -c 'select(.type == "summary")' "$work/$s.jsonl" 2>/dev/null)
	[ "$got_rc" = "$want_rc" ] && [ "$smoke_ok" = 1 ] &&
		echo "ok - $s: sva_smoke passed and sva-trace exited $want_rc" ||
		{ echo "not ok - $s: sva_smoke passed and sva-trace exited $want_rc (got rc '$got_rc')"; sed -n "s/^E $s /# /p" "$work/log"; }
	got_find=$(echo "$summary" | jq -r '[.findings | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(",")')
	[ -n "$summary" ] && [ "$got_find" = "$want_find" ] &&
		echo "ok - $s: findings exactly '${want_find:-none}'" ||
		echo "not ok - $s: findings exactly '${want_find:-none}' (got '$got_find')"
	got_out=$(echo "$summary" | jq '.outstanding | length')
	[ "$got_out" = "$want_out" ] && echo "ok - $s: $want_out bond(s) still bound at the end" ||
		echo "not ok - $s: $want_out bond(s) still bound at the end (got '$got_out')"
	got=$(echo "$summary" | jq -r '.by_type | "\(.bind) \(.unbind) \(.attach) \(.detach) \(.lookup) \(.pasid_alloc) \(.process_exit)"')
	free_ok=$(echo "$summary" | jq --argjson m "$maxfree" --argjson r "$want_replace" '.by_type.pasid_free <= $m and .by_type.mm_pasid_drop <= $m and .by_type.replace == $r')
	[ "$got" = "$counts" ] && [ "$free_ok" = true ] &&
		echo "ok - $s: events bind unbind attach detach lookup pasid_alloc exit = $counts" ||
		echo "not ok - $s: events bind unbind attach detach lookup pasid_alloc exit = $counts (got '$got', frees ok: $free_ok)"
done | tee "$work/tap"
grep -q '^not ok' "$work/tap" && failed=$((failed + 1))
echo "# lab scenarios done, $failed failing group(s)"
[ "$failed" = 0 ]
