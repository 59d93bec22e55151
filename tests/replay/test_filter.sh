#!/bin/sh
# test_filter.sh - TAP: --pid, --comm, --dev and --pasid choose what is shown, never what the
# correlator sees. The capture (tests/replay/filter/kworker_unbind.jsonl): process 200 binds
# mock0 and exits, a kworker unbinds that bond 0.5 s later and frees the PASID (a driver's
# deferred release); process 300 binds mock1 and exits without unbinding (a leak).
# Then the summary under filters (tests/replay/filter/resolved_and_standing.jsonl): process
# 200's bond on mock0 is unbound by a kworker 3 s after it exited (a leak, then retracted),
# process 300 leaks on mock1, process 400 holds a bond on mock1: the summary counts what the
# filters showed, and counts apart, labelled, what they hid (tests/replay/expected/filter_*).
#
# Usage: test_filter.sh [--bless]   (--bless rewrites the expected summaries; review the diff)
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
bin=${SVA_TRACE_BIN:-$here/../../.output/sva-trace}
cap=$here/filter/kworker_unbind.jsonl
cap2=$here/filter/resolved_and_standing.jsonl
bless=0
[ "${1:-}" = --bless ] && bless=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# run NAME ARGS...: the JSON records of a replay, one per line, in $work/NAME
run() { out=$1; shift; "$bin" --replay "$cap" --json "$@" >"$work/$out" 2>/dev/null; }
# The (type, pid) of every shown event record, and the (kind, owner) of every finding.
events() { jq -c 'select(.seq != null) | [.type, .pid]' "$work/$1" | tr '\n' ' '; }
findings() { jq -c 'select(.type == "finding") | [.kind, .subject.owner_pid]' "$work/$1" | tr '\n' ' '; }

tap_plan 19
run all
run pid200 -p 200
run pid300 -p 300
run dev0 --dev mock0
run pasid2 --pasid 2
run comm --comm dsa_test

t "unfiltered: every record is shown and only the real leak (process 300) is found" sh -c \
	"[ '$(events all)' = '[\"bind\",200] [\"bind\",300] [\"process_exit\",200] [\"process_exit\",300] [\"unbind\",50] [\"pasid_free\",50] ' ] &&
	 [ '$(findings all)' = '[\"leak\",300] ' ]"
t "-p 200 shows process 200's records only" [ "$(events pid200)" = '["bind",200] ["process_exit",200] ' ]
t "-p 200: the kworker's unbind still reached the correlator (no false leak)" [ -z "$(findings pid200)" ]
"$bin" --replay "$cap" -p 200 --fail-on leak >/dev/null 2>&1
t "-p 200 --fail-on leak exits 0" [ $? = 0 ]
t "-p 300 shows the leak of process 300, as unfiltered" [ "$(findings pid300)" = "$(findings all)" ]
"$bin" --replay "$cap" -p 300 --fail-on leak >/dev/null 2>&1
t "-p 300 --fail-on leak exits 1" [ $? = 1 ]
t "--dev mock0 shows the bind and the kworker's unbind on mock0" [ "$(events dev0)" = '["bind",200] ["unbind",50] ' ]
t "--dev mock0 finds nothing: mock0's bond was unbound" [ -z "$(findings dev0)" ]
t "--pasid 2 shows PASID 2's bind and its leak" sh -c \
	"[ '$(events pasid2)' = '[\"bind\",300] ' ] && [ '$(findings pasid2)' = '[\"leak\",300] ' ]"
t "--comm dsa_test shows that command's records only" [ "$(events comm)" = '["bind",200] ["process_exit",200] ' ]
t "--comm dsa_test finds nothing (its bond was unbound by the kworker)" [ -z "$(findings comm)" ]

# exact NAME ARGS...: the replay of cap2 with ARGS, text or JSON, equals expected/filter_NAME
exact() {
	name=$1; shift
	"$bin" --replay "$cap2" "$@" >"$work/$name" 2>"$work/$name.err"
	[ $bless = 1 ] && cp "$work/$name" "$here/expected/filter_$name"
	cmp "$work/$name" "$here/expected/filter_$name" || diff "$here/expected/filter_$name" "$work/$name"
}
t "unfiltered summary: 2 leaks, 1 retracted, 2 outstanding, no filter line" exact all.txt
t "-p 300 summary: 1 leak shown; hidden 1 leak, 1 retraction, 1 outstanding bond" exact pid300.txt -p 300
t "-p 200 summary: its leak and its retraction; hidden 1 leak, 2 outstanding bonds" exact pid200.txt -p 200
t "--dev mock1 --json summary: findings and outstanding of mock1, hidden_by_filters" exact dev_mock1.jsonl --dev mock1 --json
t "--pasid 3 --json summary: no finding shown, both leaks and the retraction hidden" exact pasid3.jsonl --pasid 3 --json
"$bin" --replay "$cap2" -p 300 --fail-on leak >/dev/null 2>&1
t "-p 300 --fail-on leak exits 1: the hidden leak's retraction does not cancel the shown leak" [ $? = 1 ]
"$bin" --replay "$cap2" -p 200 --fail-on leak >/dev/null 2>&1
t "-p 200 --fail-on leak exits 0: its leak was retracted" [ $? = 0 ]
"$bin" --replay "$cap2" --fail-on leak >/dev/null 2>&1
t "unfiltered --fail-on leak exits 1: process 300's leak stands" [ $? = 1 ]
tap_done
