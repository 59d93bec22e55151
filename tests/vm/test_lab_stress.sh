#!/bin/sh
# test_lab_stress.sh - TAP: many threads and processes binding and unbinding on several mock
# devices at once, in a lab guest with 4 vCPUs, under sva-trace's CI assert mode:
#   sva-trace --json --leak-grace 1 --fail-on leak,refcount,cross-mm -- \
#       sva_stress stress SECS NPROC NTHREADS NDEV PAUSE_US handoff [leak]
# Workers come and go (each lives 0.3-1 s), their threads share handles
# (MOCK_SVA_CONCURRENT: the mock holds no lock around the core calls, so binds and unbinds of
# one handle interleave as iommu_sva_lock allows), and records of different CPUs reach the
# reader out of order. Handoffs: one bind in eight is unbound by a kworker (the mock's
# MOCK_SVA_DEFER_UNBIND, 5-24 ms after the unbind op or the release), and every other worker
# passes a descriptor over SCM_RIGHTS to a receiver process, whose close 20-59 ms later, after
# the worker's mm is gone, releases the bonds left on it: unbinds by a kernel thread and by a
# live process of another mm while the re-syncs below compare. Asserted (issue 13, points 1-3): no record lost (the pause keeps the
# rate well under what the default 1 MiB ring holds: the test's premise, checked), bind and
# unbind events equal to the mock's own counts of its calls (IOMMU_TEST_OP_SVA_COUNTERS), no
# finding at all and nothing uncertain or unresolved; then the same with one injected leak
# (MOCK_SVA_LEAK_ON_RELEASE): exactly that leak, certain, naming the leaking process and its
# PASID, and `--fail-on leak` exits 1. One guest boot.
#
# Needs: the lab kernel (lab/build-lab-kernel.sh, cached), .output/static/sva-trace
# (make STATIC=1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$here/lab-guest.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# 3 s, 4 processes x 3 threads, 2 devices each, 2 ms between a thread's operations
stress_args="stress 3 4 3 2 2000 handoff"
tap_plan 17

[ -x "$bin" ] || bail "static $lab_arch sva-trace missing: $lab_bin_how"
lab_guest_build
lab_guest_cc sva_stress

{
	stress_guest_head
	# The clean run with eight re-sync requests (SIGUSR2) while the workers bind and unbind:
	# once sva_stress runs (its first bind recorded), after 0.5 s, then every 0.25 s.
	echo 'resyncs() { i=0; while [ $i -lt 100 ] && ! grep -q "\"type\":\"bind\"" /tmp/clean.jsonl 2>/dev/null; do sleep 0.1; i=$((i + 1)); done;'
	echo '	sleep 0.5; for i in 1 2 3 4 5 6 7 8; do kill -USR2 $(pidof sva-trace); sleep 0.25; done; }'
	echo 'resyncs &'
	stress_guest_case clean "$stress_args"
	stress_guest_case leak "$stress_args leak"
	# Returns the probes do not see: kprobe mode with one kretprobe instance a function, so
	# that most of the 12 threads' returns are missed (as with more callers asleep inside
	# than instances), then one re-sync once every worker has exited.
	echo "SVA_TRACE_KRETPROBE_MAXACTIVE=1 timeout 90 sva-trace --json --probe-mode kprobe -- sh -c 'sva_stress stress 2 4 3 2 500; sleep 0.5; kill -USR2 \$(pidof sva-trace); sleep 2' >/tmp/misses.jsonl 2>/tmp/misses.err"
	echo 'echo "RC misses $?"'
	echo 'gone'
	echo "sed 's/^/J misses /' /tmp/misses.jsonl"
	echo "sed 's/^/E misses /' /tmp/misses.err"
} >"$work/run.sh"
stress_guest_boot
for c in clean leak misses; do
	sed -n "s/^J $c //p" "$work/log" | grep '^{' >"$work/$c.jsonl"
	sed -n "s/^E $c //p" "$work/log" >"$work/$c.err"
done
cpus=$(sed -n 's/^CPUS //p' "$work/log")
[ "$cpus" = 4 ] && ok "the guest ran both stress runs on 4 CPUs ($(($(date +%s) - t0)) s)" ||
	not_ok "the guest ran both stress runs on 4 CPUs (got '$cpus' CPUs)"

counter() {
	_v=$(sed -n "s/^$2 $1 COUNTERS //p" "$work/log" | tr ' ' '\n' | sed -n "/^$3\$/{n;p;}")
	echo "${_v:-0}"
}
summary() { jq -c 'select(.type == "summary")' "$work/$1.jsonl" 2>/dev/null; }
# What the stream shows of the concurrency: records, CPUs, records that arrived after one
# with a higher seq, seq gaps.
diag() {
	jq -s -r '[.[] | select(.seq != null)] as $r
		| ($r | map(.cpu) | unique | length) as $cpus
		| (reduce $r[] as $e ({max: -1, late: 0};
			if $e.seq < .max then .late += 1 else .max = $e.seq end)) as $o
		| "# \($r | length) records from \($cpus) CPUs, \($o.late) arrived after a later seq"' \
		"$work/$1.jsonl" 2>/dev/null
	summary "$1" | jq -r '"# seq_gaps \(.seq_gaps), unresolved_bonds \(.unresolved_bonds), by_type \(.by_type | tostring)"'
}

# counts CASE: "events = mock" check; the mock's deltas in $b $u
counts() {
	b=$(( $(counter "$1" C1 binds) + $(counter "$1" C1 bind_errors) - $(counter "$1" C0 binds) - $(counter "$1" C0 bind_errors) ))
	u=$(( $(counter "$1" C1 unbinds) - $(counter "$1" C0 unbinds) ))
	got=$(summary "$1" | jq -r '"\(.by_type.bind) \(.by_type.unbind)"')
	if [ "$got" = "$b $u" ] && [ "$b" -gt 100 ]; then
		ok "$1: bind and unbind events equal the mock's counts of its calls ($b, $u)"
	else
		not_ok "$1: bind and unbind events equal the mock's counts of its calls ($b, $u; more than 100 binds) (got '$got')"
	fi
}
lost_none() {
	got=$(summary "$1" | jq -r '.lost')
	[ "$got" = 0 ] && ok "$1: no record lost (the ring holds the rate)" ||
		not_ok "$1: no record lost (the ring holds the rate) (got lost '$got')"
}

# --- clean run ---
got_rc=$(sed -n 's/^RC clean //p' "$work/log")
if grep -q '^sva_stress: PASSED' "$work/clean.err" && [ "$got_rc" = 0 ]; then
	ok "clean: sva_stress passed and sva-trace --fail-on exited 0"
else
	not_ok "clean: sva_stress passed and sva-trace --fail-on exited 0 (got '$got_rc')"
	grep -E 'FAIL|^sva-trace' "$work/clean.err" | head -n 5 | sed 's/^/# /'
fi
diag clean
lost_none clean
counts clean
nf=$(jq -s '[.[] | select(.type == "finding")] | length' "$work/clean.jsonl")
got_find=$(summary clean | jq -r '[.findings | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(",")')
if [ "$nf" = 0 ] && [ -z "$got_find" ] && [ -n "$(summary clean)" ]; then
	ok "clean: no finding (no false finding, certain or not)"
else
	not_ok "clean: no finding (no false finding, certain or not) (got $nf finding records, summary '$got_find')"
	jq -c 'select(.type == "finding") | {kind, uncertain, message}' "$work/clean.jsonl" | head -n 5 | sed 's/^/# /'
fi
got=$(summary clean | jq -r '"\(.unresolved_bonds) \(.outstanding | length) \([.outstanding[] | select(.uncertain)] | length)"')
[ "$got" = "0 0 0" ] && ok "clean: nothing uncertain or unresolved, every bond ended" ||
	not_ok "clean: nothing uncertain or unresolved, every bond ended (unresolved, outstanding, uncertain outstanding: '$got')"
# The release path runs in do_exit after the process's exit record (exit_files, exit_task_work):
# PF_EXITING, and the record says exiting; an unbind made while the process lives does not.
# Per pid in seq order: an exit record marks it dead, a bind (a reused pid) alive again.
got=$(jq -s -c '[.[] | select(.seq != null and (.type == "bind" or .type == "unbind" or
		 .type == "process_exit") and (.kthread != true))] | group_by(.pid) |
	map(sort_by(.seq) | reduce .[] as $e ({dead: false, bad: 0, exiting: 0, live: 0};
		if $e.type == "process_exit" then .dead = true
		elif $e.type == "bind" then .dead = false
		elif ($e.exiting == true) != .dead then .bad += 1
		elif .dead then .exiting += 1 else .live += 1 end)) |
	[(map(.bad) | add), (map(.exiting) | add), (map(.live) | add)]' "$work/clean.jsonl")
bad=$(echo "$got" | jq '.[0]'); nex=$(echo "$got" | jq '.[1]'); nlive=$(echo "$got" | jq '.[2]')
if [ "$bad" = 0 ] && [ "${nex:-0}" -gt 0 ] && [ "${nlive:-0}" -gt 0 ]; then
	ok "clean: the $nex release-path unbinds after their process's exit say exiting, the $nlive others do not"
else
	not_ok "clean: release-path unbinds after their process's exit say exiting, the others do not (wrong, exiting, live: '$got')"
fi

# The handoffs happened, and the trace saw them for what they are: unbinds by kernel threads
# (the record's kthread), and by the receiver (alive: not exiting), during the churn.
dq=$(( $(counter clean C1 deferred_done) - $(counter clean C0 deferred_done) ))
dqq=$(( $(counter clean C1 deferred_queued) - $(counter clean C0 deferred_queued) ))
nk=$(jq -s '[.[] | select(.type == "unbind" and .kthread == true)] | length' "$work/clean.jsonl")
if [ "$dq" -gt 0 ] && [ "$dq" = "$dqq" ] && [ "$nk" = "$dq" ]; then
	ok "clean: the $dq deferred unbinds were made by kworkers, and recorded so (kthread)"
else
	not_ok "clean: deferred unbinds made by kworkers and recorded so (queued '$dqq', done '$dq', kthread unbind records '$nk')"
fi
rpid=$(sed -n 's/^RECEIVER pid \([0-9]*\) got \([0-9]*\)$/\1/p' "$work/clean.err")
rgot=$(sed -n 's/^RECEIVER pid \([0-9]*\) got \([0-9]*\)$/\2/p' "$work/clean.err")
got=$(jq -s -r --argjson p "${rpid:-0}" '[.[] | select(.type == "unbind" and .pid == $p)] |
	"\(length) \([.[] | select(.exiting == true)] | length)"' "$work/clean.jsonl")
if [ -n "$rpid" ] && [ "${rgot:-0}" -gt 0 ] && [ "${got% *}" -gt 0 ] && [ "${got#* }" = 0 ]; then
	ok "clean: the receiver (pid $rpid) got $rgot descriptors and released ${got% *} bonds of other mms on them, not exiting"
else
	not_ok "clean: the receiver released bonds on descriptors it was passed (pid '$rpid', got '$rgot'; its unbind records, exiting ones: '$got')"
fi

# Re-syncs during the churn: a read during which a record was made or a traced bind, unbind,
# attach or detach was in flight is not compared (session.c session_read_state: a bind's
# critical section can end during the walk with its record made at its return after it; an
# unbind is recorded at its entry, before it changes anything); one that is compared finds
# nothing to correct (nothing was lost). Requests that come during a re-sync are one request.
# Before the in-flight count, main's binary (2f2fadb) failed this in both of two runs: 1 false
# difference in 6 compared reads, then 4 in 8, and false refcount findings followed.
nres=$(jq -s '[.[] | select(.type == "resync" and .kind == "end") | .differences] | length' "$work/clean.jsonl")
ndiff=$(jq -s '[.[] | select(.type == "resync" and .kind == "end") | .differences] | add // 0' "$work/clean.jsonl")
nskip=$(grep -c 're-sync not done: the kernel.s SVA state changed' "$work/clean.err")
if [ "$nres" -ge 1 ] && [ "$((nres + nskip))" -le 8 ] && [ "$ndiff" = 0 ]; then
	ok "clean: 8 re-sync requests during the churn: $nres compared (0 differences), $nskip declined (the state changed during each read)"
else
	not_ok "clean: 8 re-sync requests during the churn, at least one compared, each with 0 differences, or declined (compared $nres with $ndiff differences, declined $nskip)"
fi

# --- one injected leak ---
got_rc=$(sed -n 's/^RC leak //p' "$work/log")
if grep -q '^sva_stress: PASSED' "$work/leak.err" && [ "$got_rc" = 1 ]; then
	ok "leak: sva_stress passed and sva-trace --fail-on leak exited 1"
else
	not_ok "leak: sva_stress passed and sva-trace --fail-on leak exited 1 (got '$got_rc')"
	grep -E 'FAIL|^sva-trace' "$work/leak.err" | head -n 5 | sed 's/^/# /'
fi
diag leak
lost_none leak
counts leak
lpid=$(sed -n 's/^LEAKER pid \([0-9]*\) pasid \([0-9]*\)$/\1/p' "$work/leak.err")
lpasid=$(sed -n 's/^LEAKER pid \([0-9]*\) pasid \([0-9]*\)$/\2/p' "$work/leak.err")
got=$(jq -s -r '[.[] | select(.type == "finding")] | map("\(.kind) \(.uncertain) \(.subject.owner_pid) \(.subject.pasid)") | join(",")' "$work/leak.jsonl")
if [ -n "$lpid" ] && [ "$got" = "leak false $lpid $lpasid" ]; then
	ok "leak: exactly one finding, the injected leak (pid $lpid, PASID $lpasid), certain"
else
	not_ok "leak: exactly one finding, the injected leak (pid '$lpid', PASID '$lpasid'), certain (got '$got')"
	jq -c 'select(.type == "finding") | {kind, uncertain, message}' "$work/leak.jsonl" | head -n 5 | sed 's/^/# /'
fi
got=$(summary leak | jq -r '"\(.unresolved_bonds) \([.outstanding[] | "\(.owner_pid) \(.leak) \(.uncertain)"] | join(","))"')
[ "$got" = "0 $lpid true false" ] && ok "leak: the leaked bond is the only one still bound, nothing unresolved" ||
	not_ok "leak: the leaked bond is the only one still bound, nothing unresolved (unresolved, outstanding owner/leak/uncertain: '$got')"
# --- returns not seen ---
# A counted call whose return program did not run stayed in flight for good: every later
# re-sync was declined ("calls in flight"). Its thread's next counted call where it cannot be
# inside it, or the thread's exit, now counts it returned (bpf/cause_frame.h calls_push).
got=$(summary misses | jq -r '.lost')
if [ "${got:-0}" -gt 0 ] 2>/dev/null; then
	ok "misses: one kretprobe instance a function missed returns under the churn ($got records lost)"
else
	not_ok "misses: one kretprobe instance a function missed returns under the churn (lost '$got')"
	grep -E '^sva-trace|FAIL' "$work/misses.err" | head -n 5 | sed 's/^/# /'
fi
nres=$(jq -s '[.[] | select(.type == "resync" and .kind == "end")] | length' "$work/misses.jsonl")
nskip=$(grep -c 're-sync not done' "$work/misses.err")
if [ "$nres" = 1 ] && [ "$nskip" = 0 ]; then
	ok "misses: the re-sync after the churn was compared, not declined for calls left in flight"
else
	not_ok "misses: the re-sync after the churn was compared, not declined for calls left in flight (compared $nres, declined $nskip)"
	grep 're-sync' "$work/misses.err" | head -n 3 | sed 's/^/# /'
fi
tap_done
