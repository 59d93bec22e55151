#!/bin/sh
# test_filter.sh - TAP: --pid, --comm, --dev and --pasid choose what is shown, never what the
# correlator sees. The capture (tests/replay/filter/kworker_unbind.jsonl): process 200 binds
# mock0 and exits, a kworker unbinds that bond 0.5 s later and frees the PASID (a driver's
# deferred release); process 300 binds mock1 and exits without unbinding (a leak).
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
bin=${SVA_TRACE_BIN:-$here/../../.output/sva-trace}
cap=$here/filter/kworker_unbind.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# run NAME ARGS...: the JSON records of a replay, one per line, in $work/NAME
run() { out=$1; shift; "$bin" --replay "$cap" --json "$@" >"$work/$out" 2>/dev/null; }
# The (type, pid) of every shown event record, and the (kind, owner) of every finding.
events() { jq -c 'select(.seq != null) | [.type, .pid]' "$work/$1" | tr '\n' ' '; }
findings() { jq -c 'select(.type == "finding") | [.kind, .subject.owner_pid]' "$work/$1" | tr '\n' ' '; }

tap_plan 11
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
tap_done
