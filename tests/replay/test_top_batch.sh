#!/bin/sh
# test_top_batch.sh - TAP: sva-top -b over a replay: frames fall on capture-time intervals,
# so the text frames are compared exactly; JSON frames are checked with jq.
# shared_ownership.jsonl (two leaks, each retracted by a later unbind): the findings and
# RESOLVED lines of each interval under its frame, the header's resolved count, the JSON
# frames' new_findings, and the filters applied to the rows, all compared exactly with
# tests/replay/expected/top_shared_ownership*.
#
# Usage: test_top_batch.sh [--bless]   (--bless rewrites the expected frames; review the diff)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
bin=${SVA_TOP_BIN:-$top/.output/sva-top}
jqt=$top/tests/lib/jq-true # exactly one value, true (jq -e passes on empty input)
cap=$here/captures/leak_and_mismatch.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

tap_plan 19
cd "$here"
"$bin" -b -n 3 -d 0.2 --speed 0 --replay captures/leak_and_mismatch.jsonl >"$work/frames.txt" 2>"$work/err"
bless=0
[ "${1:-}" = --bless ] && bless=1
[ $bless = 1 ] && cp "$work/frames.txt" expected/top_frames.txt
t "three text frames match expected/top_frames.txt" cmp "$work/frames.txt" expected/top_frames.txt
"$bin" -b -n 3 -d 0.2 --speed 0 --replay captures/leak_and_mismatch.jsonl --json >"$work/frames.jsonl" 2>&1
t "--json gives one frame object per line" jq -e -s 'length == 3 and all(.[]; .type == "frame")' "$work/frames.jsonl"
t "frame 1: one bond, users 1, after one bind" jq -e -s '.[0].live_bonds == 1 and .[0].rows[0].users == 1 and .[0].rows[0].kind == "bond"' "$work/frames.jsonl"
t "frame 3: the paging attachment on PASID 5 is flagged MISMATCH with 2 errors" \
	jq -e -s '.[2].rows | map(select(.pasid == 5))[0] | .flags == "MISMATCH" and .errors == 2 and .domain_type == "unmanaged"' "$work/frames.jsonl"
t "frame 3 counts the finding" jq -e -s '.[2].findings == 1' "$work/frames.jsonl"
"$bin" -b -n 1 --replay "$here/malformed/wrong_type.jsonl" >/dev/null 2>"$work/err"
rc=$?
t "a malformed capture: exit 2 naming the line and the field" sh -c "[ $rc = 2 ] && grep -q \"wrong_type.jsonl:1: field 'pasid'\" '$work/err'"

# exact NAME ARGS...: sva-top -b over shared_ownership with ARGS equals expected/top_NAME
exact() {
	name=$1; shift
	"$bin" -b -n 11 -d 0.5 --speed 0 --replay captures/shared_ownership.jsonl "$@" >"$work/$name" 2>"$work/err"
	[ $bless = 1 ] && cp "$work/$name" "expected/top_$name"
	cmp -s "$work/$name" "expected/top_$name" && return 0
	diff "expected/top_$name" "$work/$name" | cut -c1-200
	return 1 # (the pipeline's status is cut's)
}
# exact_cap CAPTURE NAME ARGS...: sva-top -b over CAPTURE with ARGS equals expected/top_NAME
exact_cap() {
	capture=$1 name=$2; shift 2
	"$bin" -b -n 8 -d 0.1 --speed 0 --replay "captures/$capture.jsonl" "$@" >"$work/$name" 2>"$work/err"
	[ $bless = 1 ] && cp "$work/$name" "expected/top_$name"
	cmp -s "$work/$name" "expected/top_$name" && return 0
	diff "expected/top_$name" "$work/$name" | cut -c1-200
	return 1 # (the pipeline's status is cut's)
}
t "shared_ownership: text frames match expected/top_shared_ownership.txt" exact shared_ownership.txt
t "the findings and RESOLVED lines come under the frame of their interval" sh -c "
	grep -c '^FINDING error leak: ' '$work/shared_ownership.txt' | grep -qx 2 &&
	grep -c '^RESOLVED leak: ' '$work/shared_ownership.txt' | grep -qx 2 &&
	grep -A5 'findings 2  resolved 1\$' '$work/shared_ownership.txt' |
		grep -q '^RESOLVED leak: dev=dsa0 .*process 9 (kworker/3:1)'"
t "shared_ownership --json: frames match expected/top_shared_ownership.jsonl" exact shared_ownership.jsonl --json
t "--json: resolved counts 0 0 0 0 0 0 0 0 1 1 2; the retractions are new_findings of type resolved" jq -e -s '
	(map(.resolved) == [0,0,0,0,0,0,0,0,1,1,2]) and
	([.[].new_findings[] | select(.type == "resolved") | [.subject.pasid, .by_pid, .late_ns]] ==
	 [[5, 9, 3200000000], [6, 300, 4800000000]])' "$work/shared_ownership.jsonl"
t "-p 100: frames match expected/top_shared_ownership_pid100.txt" exact shared_ownership_pid100.txt -p 100
t "-p 100: only process 100's bond, its finding and its retraction" sh -c "
	! grep -E '^[0-9]+ ' '$work/shared_ownership_pid100.txt' | grep -vq '^5 .* 100 ' &&
	grep -q '^bonds 1 .*findings 0  resolved 0\$' '$work/shared_ownership_pid100.txt' &&
	[ \$(grep -c '^FINDING.*dev=dsa0 group=4 pasid=5' '$work/shared_ownership_pid100.txt') = 1 ] &&
	[ \$(grep -c '^RESOLVED' '$work/shared_ownership_pid100.txt') = 1 ] &&
	! grep -q 'dsa1' '$work/shared_ownership_pid100.txt'"
t "--dev dsa0 --json: frames match expected/top_shared_ownership_dev_dsa0.jsonl" exact shared_ownership_dev_dsa0.jsonl --dev dsa0 --json
t "--dev dsa0: rows and live_bonds are dsa0's (2 then 1 then 0), never dsa1's" jq -e -s '
	(map(.live_bonds) | .[0:3] == [2,2,2] and .[-1] == 0) and
	all(.[].rows[]; .dev == "dsa0") and all(.[].new_findings[]; .subject.dev == "dsa0")' \
	"$work/shared_ownership_dev_dsa0.jsonl"
# issue 14: the state read at start-up is in the first frame's rows, before any event.
"$bin" -b -n 1 -d 0.2 --speed 0 --replay captures/state_at_start.jsonl --json >"$work/state.jsonl" 2>&1
t "state_at_start: the first frame has the 4 bonds and the paging PASID read at start, with owners" \
	jq -e -s 'length == 1 and .[0].live_bonds == 4 and
		([.[0].rows[] | [.pasid, .group, .pid, .users, .domain_type, .kind]] | sort) ==
		[[1,1,56,1,"sva","bond"],[1,2,56,1,"sva","bond"],[1,3,56,1,"sva","bond"],
		 [2,0,57,1,"sva","bond"],[200,1,0,null,"unmanaged","attachment"]]' "$work/state.jsonl"
# PASID pressure: dsa0 (max_pasids 4: PASIDs 1-3 usable) has 2 at start, 3 after an attach, 2, 3 again.
"$bin" -b -n 4 -d 0.1 --speed 0 --replay captures/pasid_pressure.jsonl >"$work/pressure.txt" 2>&1
t "pasid_pressure: the header's gauge follows dsa0 (66.7, 100, 66.7, 100 % of PASIDs 1-3), one finding each time it reaches 90 %" \
	sh -c "[ \"\$(grep '^bonds' '$work/pressure.txt' | sed 's/.*pressure \\([0-9.]*%\\) (\\([a-z0-9]*\\) \\([0-9/]*\\)).*findings \\([0-9]*\\).*/\\1 \\2 \\3 \\4/' | tr '\\n' ';')\" = '66.7% dsa0 2/3 0;100.0% dsa0 3/3 1;66.7% dsa0 2/3 1;100.0% dsa0 3/3 2;' ]"
# issue 15: failed operations are FAILED lines with their cause, and new_failures in JSON frames.
t "failure_causes: text frames match expected/top_failure_causes.txt" exact_cap failure_causes failure_causes.txt
t "failure_causes: a FAILED line for each of the 8 failures, before the finding it makes" sh -c "
	[ \$(grep -c '^FAILED ' '$work/failure_causes.txt') = 8 ] &&
	grep -A1 '^FAILED .* bind .*EOVERFLOW .*cause=iommu_alloc_mm_data(EOVERFLOW) depth=1: ' '$work/failure_causes.txt' |
		grep -q '^FINDING warning bind-error: .*EOVERFLOW in iommu_alloc_mm_data'"
t "failure_causes --json: new_failures carry each record's cause (function, errno, depth)" sh -c "
	'$bin' -b -n 8 -d 0.1 --speed 0 --replay captures/failure_causes.jsonl --json >'$work/failures.jsonl' 2>&1 &&
	'$jqt' -s '[.[].new_failures[] | [.type, .cause.function, .cause.errno, .cause.depth]] ==
		[[\"pasid_alloc\", \"iommu_alloc_global_pasid\", \"ENOSPC\", 0],
		 [\"bind\", \"iommu_alloc_global_pasid\", \"ENOSPC\", 2],
		 [\"bind\", \"iommu_alloc_mm_data\", \"EOVERFLOW\", 1],
		 [\"bind\", \"iommu_sva_bind_device\", \"EOPNOTSUPP\", 0],
		 [\"attach\", \"iommu_attach_device_pasid\", \"EBUSY\", 0],
		 [\"replace\", \"mock_domain_set_dev_pasid_nop\", \"ENOMEM\", 2],
		 [\"bind\", \"unknown\", \"EINVAL\", 3],
		 [\"bind\", null, null, null]] and
		 ([.[].new_findings[] | .kind] | length) == 6' '$work/failures.jsonl'"
tap_done
