#!/bin/sh
# test_top_batch.sh - TAP: sva-top -b over a replay: frames fall on capture-time intervals,
# so the text frames are compared exactly; JSON frames are checked with jq.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
bin=${SVA_TOP_BIN:-$top/.output/sva-top}
cap=$here/captures/leak_and_mismatch.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

tap_plan 6
cd "$here"
"$bin" -b -n 3 -d 0.2 --speed 0 --replay captures/leak_and_mismatch.jsonl >"$work/frames.txt" 2>"$work/err"
[ "${1:-}" = --bless ] && cp "$work/frames.txt" expected/top_frames.txt
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
tap_done
