#!/bin/sh
# test_top_tui.sh - TAP: sva-top's full-screen view driven through tmux (send-keys,
# capture-pane) over a replay: rows, sorting, reversing, filtering, the detail view, the
# findings view (with the RESOLVED lines of retracted leaks), help, resizing and quitting.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
bin=${SVA_TOP_BIN:-$top/.output/sva-top}
cap=$top/tests/replay/captures/leak_and_mismatch.jsonl
sock=sva-top-test-$$
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null' EXIT INT TERM
tap_on_failure() { tm capture-pane -p -t t | sed 's/^/# | /'; }
screen() { tm capture-pane -p -t t; }
# wait_for PATTERN: up to 10 s for the screen to show it
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		screen | grep -q -- "$1" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
row_before() { # row_before A B: the first line with A comes before the first with B
	a=$(screen | grep -n -- "$1" | head -n 1 | cut -d: -f1)
	b=$(screen | grep -n -- "$2" | head -n 1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

tap_plan 12
if ! command -v tmux >/dev/null; then
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "not ok $i - tmux missing (scripts/setup-deps.sh installs it)"; done
	exit 1
fi
tm new-session -d -s t -x 132 -y 30 "TERM=xterm $bin --replay $cap --speed 0 -d 0.1"
if wait_for "vfio_user" && screen | grep -q "^sva-top - kernel (replay)" && screen | grep -q "PASID   DEVICE" &&
	screen | grep -q "dsa_test"; then ok "the view shows the header, the column titles and both rows"
else not_ok "the view shows the header, the column titles and both rows"; fi
check "the type-mismatch row is flagged MISMATCH" sh -c "tmux -L $sock capture-pane -p -t t | grep vfio_user | grep -q MISMATCH"

# sort by COMM: from PASID, '>' four times (DEVICE GROUP PID COMM)
tm send-keys -t t '>' '>' '>' '>'
wait_for "sort: COMM " && row_before dsa_test vfio_user
check "> moves the sort to COMM, ascending: dsa_test before vfio_user" row_before dsa_test vfio_user
tm send-keys -t t r
wait_for "sort: COMM desc"
check "r reverses it: vfio_user first" row_before vfio_user dsa_test

tm send-keys -t t / v f i o Enter
wait_for "filter: vfio"
check "/ filters rows by text: only the vfio_user row is left" sh -c \
	"tmux -L $sock capture-pane -p -t t | grep -q vfio_user && ! tmux -L $sock capture-pane -p -t t | grep -q dsa_test"
tm send-keys -t t / Enter
wait_for "filter: -"
tm send-keys -t t '<' '<' '<' '<' r
wait_for "sort: PASID "
tm send-keys -t t Enter
check "Enter on the bond opens its history (bind, bind, unbind)" sh -c "
	i=0; while [ \$i -lt 50 ]; do tmux -L $sock capture-pane -p -t t | grep -q '^bond: device mock0' && break; sleep 0.1; i=\$((i+1)); done
	[ \$(tmux -L $sock capture-pane -p -t t | grep -cE ' (bind|unbind) ') = 3 ]"
tm send-keys -t t q
wait_for "sort: PASID"
tm send-keys -t t f
check "f lists the findings as sva-trace prints them, the type mismatch among them" wait_for "FINDING error type-mismatch: dev=mock1 group=2 pasid=5"
tm send-keys -t t f h
check "h shows the help" wait_for "sva-top keys"
tm send-keys -t t q
wait_for "sort: PASID"
tm resize-window -t t -x 70 -y 12
sleep 0.5
check "after a resize the view is redrawn at the new width" sh -c "
	tmux -L $sock capture-pane -p -t t | grep -q '^sva-top - kernel' &&
	[ \$(tmux -L $sock capture-pane -p -t t | awk '{ if (length > m) m = length } END { print m }') -le 70 ]"
tm send-keys -t t space
check "space pauses" wait_for "PAUSED"
tm send-keys -t t q
sleep 0.5
check "q quits" sh -c "! tmux -L $sock has-session -t t 2>/dev/null"

# Two leaks, each retracted by a later unbind: the findings view lists both RESOLVED lines.
tm new-session -d -s t -x 400 -y 30 "TERM=xterm $bin --replay $top/tests/replay/captures/shared_ownership.jsonl --speed 0 -d 0.1"
wait_for "sva-top - kernel"
tm send-keys -t t f
check "f lists each leak, then its RESOLVED line naming who unbound the bond" sh -c "
	i=0; while [ \$i -lt 100 ]; do [ \$(tmux -L $sock capture-pane -p -t t | grep -c '^RESOLVED leak: ') = 2 ] && break; sleep 0.1; i=\$((i + 1)); done
	tmux -L $sock capture-pane -p -t t | grep -c '^FINDING error leak: ' | grep -qx 2 &&
	tmux -L $sock capture-pane -p -t t | grep -q '^RESOLVED leak: dev=dsa0 .*process 9 (kworker/3:1)' &&
	tmux -L $sock capture-pane -p -t t | grep -q '^RESOLVED leak: dev=dsa1 .*process 300 (receiver)'"
tm send-keys -t t q q
tap_done
