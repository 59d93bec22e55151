#!/bin/sh
# test_replay.sh - TAP: sva-trace --replay over the captures in tests/replay/captures,
# compared exactly with tests/replay/expected (text and JSON), and the malformed inputs in
# tests/replay/malformed, each of which must fail with exit 2 naming the line and the field.
#
# Usage: test_replay.sh [--bless]   (--bless rewrites the expected files; review the diff)
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
bin=${SVA_TRACE_BIN:-$here/../../.output/sva-trace}
bless=0
[ "${1:-}" = --bless ] && bless=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM


# malformed input -> expected stderr substring (line and field named)
malformed() {
	cat <<'EOT'
truncated_line.jsonl|truncated_line.jsonl:2: truncated record
wrong_type.jsonl|wrong_type.jsonl:1: field 'pasid': expected an integer or null, got a string
unknown_type.jsonl|unknown_type.jsonl:1: field 'type': unknown record type "teleport"
huge_number.jsonl|huge_number.jsonl:1: field 'pasid': not valid JSON: too big integer
out_of_range.jsonl|out_of_range.jsonl:1: field 'pid': 4294967296 is out of range
invalid_utf8.jsonl|invalid_utf8.jsonl:1: field 'dev': not valid JSON: unable to decode byte 0xff
empty.jsonl|empty.jsonl: empty capture: no records
missing_field.jsonl|missing_field.jsonl:1: field 'pid': missing
not_object.jsonl|not_object.jsonl:1: expected a JSON object, got an array
bad_pointer.jsonl|bad_pointer.jsonl:1: field 'handle': expected a pointer string
long_comm.jsonl|long_comm.jsonl:1: field 'comm': 17 bytes, more than the kernel's 16
bad_cause.jsonl|bad_cause.jsonl:1: field 'cause.ret': missing
bad_probes.jsonl|bad_probes.jsonl:1: field 'probes': an entry is not an object
EOT
}

captures=$(ls "$here"/captures/*.jsonl)
nc=$(echo "$captures" | wc -l)
nm=$(malformed | wc -l)
tap_plan "$((nc * 4 + nm + 21))"

for cap in $captures; do
	name=$(basename "$cap" .jsonl)
	for mode in text json; do
		ext=txt; flag=
		[ $mode = json ] && { ext=jsonl; flag=--json; }
		exp=$here/expected/$name.$ext
		"$bin" --replay "$cap" $flag >"$work/out" 2>"$work/err"
		rc=$?
		if [ $bless = 1 ]; then cp "$work/out" "$exp"; fi
		if [ $rc = 0 ] && cmp -s "$work/out" "$exp"; then
			ok "$name: $mode replay matches expected/$name.$ext"
		else
			not_ok "$name: $mode replay matches expected/$name.$ext (rc $rc)"
			diff "$exp" "$work/out" | head -n 20 | sed 's/^/# /'
			sed 's/^/# stderr: /' "$work/err"
		fi
		# deterministic: a second run prints the same bytes
		"$bin" --replay "$cap" $flag >"$work/out2" 2>/dev/null
		if cmp -s "$work/out" "$work/out2"; then
			ok "$name: $mode replay is deterministic"
		else
			not_ok "$name: $mode replay is deterministic"
		fi
	done
done

# stdin and --fail-on
"$bin" --replay - --fail-on leak <"$here/captures/leak_and_mismatch.jsonl" >/dev/null 2>&1
rc=$?
[ $rc = 1 ] && ok "--replay - reads stdin; --fail-on leak exits 1 on a leak" ||
	not_ok "--replay - reads stdin; --fail-on leak exits 1 on a leak (rc $rc)"
# leaks retracted by a later unbind (kworker, SCM_RIGHTS receiver) do not fail CI
"$bin" --replay "$here/captures/shared_ownership.jsonl" --fail-on leak >/dev/null 2>&1
rc=$?
[ $rc = 0 ] && ok "--fail-on leak exits 0 when every leak was retracted by a later unbind" ||
	not_ok "--fail-on leak exits 0 when every leak was retracted by a later unbind (rc $rc)"
# A process's own release unbinds after its exit record (do_exit: exit_files after
# trace_sched_process_exit); it must not keep the mm alive for its CLONE_VM sibling's leak.
"$bin" --replay "$here/captures/exit_release_order.jsonl" --fail-on leak >/dev/null 2>&1
rc=$?
[ $rc = 1 ] && ok "--fail-on leak exits 1 on a sibling's leak after the binder's own post-exit unbind" ||
	not_ok "--fail-on leak exits 1 on a sibling's leak after the binder's own post-exit unbind (rc $rc)"

# seq_gaps is the session's count of numbers declared lost that never came: not the first
# record's number (a capture may start anywhere), and not lowered by records repeated from a
# second copy of the capture.
printf '%s\n' '{"type":"bind","seq":5,"ts_ns":1000,"pid":1,"comm":"a","mm":"0x1","dev":"d","group":1,"pasid":1,"domain":"0xd","domain_type_raw":16,"handle":"0xb","users":1,"ret":0}' \
	'{"type":"unbind","seq":6,"ts_ns":2000,"pid":1,"comm":"a","mm":"0x1","dev":"d","group":1,"pasid":1,"domain":"0xd","domain_type_raw":16,"handle":"0xb","users":1,"users_before_call":true}' |
	"$bin" --replay - --json 2>/dev/null | tail -n 1 >"$work/sum"
grep -q '"lost":0,"seq_gaps":0,' "$work/sum" && ok "a capture starting at seq 5: seq_gaps 0" ||
	not_ok "a capture starting at seq 5: seq_gaps 0 ($(grep -o '"seq_gaps":[0-9]*' "$work/sum"))"
cat "$here/captures/lost_double_unbind.jsonl" "$here/captures/lost_double_unbind.jsonl" |
	"$bin" --replay - --json 2>/dev/null | tail -n 1 >"$work/sum"
grep -q '"lost":8,"seq_gaps":4,' "$work/sum" && ok "a capture replayed twice in one stream: seq_gaps stays 4 (its lost records count twice)" ||
	not_ok "a capture replayed twice in one stream: seq_gaps stays 4 (its lost records count twice) ($(grep -o '"lost":[0-9]*,"seq_gaps":[0-9]*' "$work/sum"))"

# A 6.1 second unbind whose count cannot be read is uncertain (not for lost events): no CI failure
"$bin" --replay "$here/captures/model_6_1.jsonl" --fail-on refcount >/dev/null 2>"$work/err"
rc=$?
[ $rc = 0 ] && grep -q "uncertain (the driver's bond count cannot be read" "$work/err" &&
	! grep -q "events were lost" "$work/err" &&
	ok "--fail-on refcount exits 0 on a 6.1 unreadable-count second unbind, saying why" ||
	not_ok "--fail-on refcount exits 0 on a 6.1 unreadable-count second unbind, saying why (rc $rc)"

# Four threads of one slot of the waiting tables dropping at once: the free whose wait was lost
# is uncertain (not for lost events), and no CI failure; the two of one slot before are paired
"$bin" --replay "$here/captures/waits_one_slot.jsonl" --fail-on pasid-state >/dev/null 2>"$work/err"
rc=$?
[ $rc = 0 ] && grep -q "uncertain (more threads whose ids share a slot" "$work/err" &&
	! grep -q "events were lost" "$work/err" &&
	ok "--fail-on pasid-state exits 0 on a free whose wait four threads of one slot lost, saying why" ||
	not_ok "--fail-on pasid-state exits 0 on a free whose wait four threads of one slot lost, saying why (rc $rc)"

# 6.1, CLONE_VM siblings that bound before tracing: a sibling's bind recorded after the first
# unbind was taken for one that ran before it, the records' count reached 0 a reference early,
# and the sibling's last unbind (reading 1) was a certain double unbind before
"$bin" --replay "$here/captures/siblings_6_1.jsonl" --fail-on refcount,leak >"$work/sib" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '^0 findings' "$work/sib" &&
	ok "siblings_6_1: no finding, --fail-on refcount,leak exits 0" ||
	not_ok "siblings_6_1: no finding, --fail-on refcount,leak exits 0 (rc $rc)"

# 6.1 Intel: an unbind names the PASID, not the mm; the state's task records map it to the mm,
# so a bond first seen at an unbind is judged by that mm's exit (one leak, of a2; none of a1)
"$bin" --replay "$here/captures/state_6_1_tasks_only.jsonl" --fail-on leak >"$work/s61" 2>&1
rc=$?
[ $rc = 1 ] && [ "$(grep -c '^FINDING error leak' "$work/s61")" = 1 ] &&
	grep -q '^FINDING error leak: .*handle=0x00000000000000b2' "$work/s61" &&
	! grep -q '^RESOLVED' "$work/s61" &&
	ok "state_6_1_tasks_only: the leak of a2's bond only, nothing retracted, --fail-on leak exits 1" ||
	not_ok "state_6_1_tasks_only: the leak of a2's bond only, nothing retracted, --fail-on leak exits 1 (rc $rc)"

# 6.2-6.7: threads whose bind is recorded after the domain's last traced unbind are no finding;
# the one real extra reference (its last unbind reads 2, no bind comes) fails CI
"$bin" --replay "$here/captures/concurrent_6_2.jsonl" --fail-on refcount >/dev/null 2>&1
rc=$?
"$bin" --replay "$here/captures/concurrent_6_2.jsonl" --json 2>/dev/null | tail -n 1 >"$work/sum"
[ $rc = 1 ] && grep -q '"findings":{"leak":0,"refcount":1,"type-mismatch":0,"cross-mm":0,"pasid-state":0,"bind-error":0' "$work/sum" &&
	ok "concurrent_6_2: one refcount finding, and --fail-on refcount exits 1 on it" ||
	not_ok "concurrent_6_2: one refcount finding, and --fail-on refcount exits 1 on it (rc $rc)"

# mm_exit_traced.jsonl: its start record lists exit_mmap, so the CLONE_VM sibling's bond (binder
# exited, sibling unbinds 3.4 s later) is no leak. The same records without that probe (or
# without a start record) are judged as before: by the exits of the processes seen.
# ebusy_holder_order.jsonl: EBUSYs recorded before their holder's attach, or after its
# detach's record: each names the VMM (process 500), so -p 500 shows them (before: "attached
# before tracing started", owner unknown, and -p 500 showed none); --fail-on exits 1.
"$bin" --replay "$here/captures/ebusy_holder_order.jsonl" --fail-on type-mismatch >/dev/null 2>&1
rc=$?
[ $rc = 1 ] && ok "EBUSYs whose holder is recorded later fail --fail-on type-mismatch" ||
	not_ok "EBUSYs whose holder is recorded later fail --fail-on type-mismatch (rc $rc)"
"$bin" --replay "$here/captures/ebusy_holder_order.jsonl" -p 500 >"$work/holder" 2>&1
nh=$(grep -c '^FINDING error type-mismatch: .*process 500 (qemu)' "$work/holder")
[ "$nh" = 3 ] && ok "-p 500: the three EBUSYs whose holder the VMM attached are shown under it" ||
	not_ok "-p 500: the three EBUSYs whose holder the VMM attached are shown under it ($nh)"
# reset_unseen.jsonl: an attach's EBUSY where the start-up state (every PASID array read)
# and the records show no domain: uncertain, so --fail-on type-mismatch exits 0 (before: a
# certain "attached before tracing" error, exit 1).
"$bin" --replay "$here/captures/reset_unseen.jsonl" --fail-on type-mismatch >"$work/unseen" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '^FINDING warning type-mismatch (uncertain: no holder was seen)' "$work/unseen" &&
	ok "an attach's EBUSY with no holder in a full state is uncertain: --fail-on exits 0" ||
	not_ok "an attach's EBUSY with no holder in a full state is uncertain: --fail-on exits 0 (rc $rc)"
cap=$here/captures/mm_exit_traced.jsonl
sed '1s/"probes":\[.*\]}$/"probes":[]}/' "$cap" | "$bin" --replay - >"$work/noprobe" 2>&1
nl=$(grep -c '^FINDING error leak' "$work/noprobe"); nr=$(grep -c '^RESOLVED leak: dev=dsa0 group=4 pasid=5 ' "$work/noprobe")
[ "$nl" = 4 ] && [ "$nr" = 1 ] && ok "without the exit_mmap probe: leaks judged by process exits (4 leaks, the sibling's retracted)" ||
	not_ok "without the exit_mmap probe: leaks judged by process exits (got $nl leaks, $nr resolved)"
sed 1d "$cap" | "$bin" --replay - >"$work/nostart" 2>&1
cmp -s "$work/noprobe" "$work/nostart" && ok "without a start record: the same as without the exit_mmap probe" ||
	not_ok "without a start record: the same as without the exit_mmap probe"
# global_pasid_pressure.jsonl without the probes that see a global PASID's free
# (iommu_free_global_pasid, mm_pasid_drop): the global set would only grow, so it is not kept
# and the narrow device's pasid-pressure warnings go; the ENOSPC bind error stays.
cap=$here/captures/global_pasid_pressure.jsonl
sed '1s/{"function":"iommu_free_global_pasid","mode":"fentry"},//; 1s/{"function":"mm_pasid_drop","mode":"fentry"},//' "$cap" |
	"$bin" --replay - >"$work/nofree" 2>&1
np=$(grep -c '^FINDING warning pasid-pressure' "$work/nofree"); ne=$(grep -c '^FINDING warning bind-error: .*ENOSPC' "$work/nofree")
np0=$("$bin" --replay "$cap" 2>&1 | grep -c '^FINDING warning pasid-pressure')
[ "$np" = 0 ] && [ "$ne" = 1 ] && [ "$np0" -gt 0 ] &&
	ok "without a probe of the global PASID frees: no pasid-pressure from global PASIDs ($np0 with them), the ENOSPC bind error stays" ||
	not_ok "without a probe of the global PASID frees: no pasid-pressure from global PASIDs (got $np, $np0 with them; $ne ENOSPC bind errors)"
# resync_pasids.jsonl: a re-sync after the loss settles the global PASIDs (gone-pasid), so the
# pasid-pressure warning made after it is certain and fails --fail-on; without the re-sync's
# state block the same records leave it uncertain (exit 0), and PASID 2, whose free was lost,
# is still counted: the narrow device warns already at its own allocation.
cap=$here/captures/resync_pasids.jsonl
"$bin" --replay "$cap" --fail-on pasid-pressure >/dev/null 2>&1
rc=$?
grep -v '"type":"state"' "$cap" | grep -v '"type":"resync"' >"$work/noresync.jsonl"
"$bin" --replay "$work/noresync.jsonl" --fail-on pasid-pressure >"$work/noresync" 2>&1
rc0=$?
nw=$(grep -c '^FINDING warning pasid-pressure (uncertain' "$work/noresync")
[ $rc = 1 ] && [ $rc0 = 0 ] && [ "$nw" = 1 ] &&
	ok "after a re-sync the pasid-pressure warning is certain (--fail-on exits 1); without it, uncertain and early" ||
	not_ok "after a re-sync the pasid-pressure warning is certain (rc $rc; without the re-sync rc $rc0, $nw uncertain warnings)"
# pasid_confirmed_after_loss.jsonl: the holders of PASIDs 1-3 bind again after a loss, which
# shows they still hold them: the narrow device's warning is certain and fails --fail-on.
"$bin" --replay "$here/captures/pasid_confirmed_after_loss.jsonl" --fail-on pasid-pressure >"$work/conf" 2>&1
rc=$?
[ $rc = 1 ] && grep -q '^FINDING warning pasid-pressure: ' "$work/conf" &&
	ok "PASIDs whose holders bind again after a loss are certain: --fail-on pasid-pressure exits 1" ||
	not_ok "PASIDs whose holders bind again after a loss are certain: --fail-on pasid-pressure exits 1 (rc $rc)"
# resync_free_during_read.jsonl: a PASID freed while the re-sync's state was read, which the
# state still shows, is not counted again: no pasid-pressure warning, --fail-on exits 0.
"$bin" --replay "$here/captures/resync_free_during_read.jsonl" --fail-on pasid-pressure >"$work/fdr" 2>&1
rc=$?
[ $rc = 0 ] && ! grep -q '^FINDING' "$work/fdr" &&
	ok "a PASID freed during the re-sync's read is not counted from the state: no finding, --fail-on exits 0" ||
	not_ok "a PASID freed during the re-sync's read is not counted from the state: no finding, --fail-on exits 0 (rc $rc)"
# A bond read at start-up whose last unbind and detach raced the read (recorded before
# next_seq), its address given to another mm's bond bound twice: no cross-mm, no refcount
# warning, and the first mm's PASID freed with nothing attached.
"$bin" --replay "$here/captures/state_reuse_other_mm.jsonl" --fail-on all >"$work/srm" 2>&1
rc=$?
[ $rc = 0 ] && ! grep -q '^FINDING' "$work/srm" &&
	ok "a start-up bond's address taken by another mm after its unbind raced the read: no finding" ||
	not_ok "a start-up bond's address taken by another mm after its unbind raced the read: no finding (rc $rc)"
cap=$here/captures/mm_exit_traced.jsonl
# A replay's JSON output carries the capture's probes: replayed again, the same findings.
"$bin" --replay "$cap" --json >"$work/r1" 2>/dev/null
"$bin" --replay "$work/r1" --json >"$work/r2" 2>/dev/null
cmp -s "$work/r1" "$work/r2" && grep -q '"function":"exit_mmap"' "$work/r1" &&
	ok "a replay's output keeps the capture's probes and replays to the same bytes" ||
	not_ok "a replay's output keeps the capture's probes and replays to the same bytes"

malformed | while IFS='|' read -r file want; do
	"$bin" --replay "$here/malformed/$file" >/dev/null 2>"$work/err"
	rc=$?
	if [ $rc = 2 ] && grep -qF -- "$want" "$work/err"; then
		echo "ok - malformed $file: exit 2, names line and field"
	else
		echo "not ok - malformed $file: exit 2, names line and field (rc $rc)"
		sed 's/^/# /' "$work/err"
	fi
done | tee "$work/malformed.tap"
grep -q '^not ok' "$work/malformed.tap" && failed=$((failed + 1))
echo "# replay checks done, $failed failing group(s)"
[ "$failed" = 0 ]
