#!/bin/sh
# test_export.sh - TAP: --export from replays: valid against docs/export.schema.json (checked
# with Debian's python3-jsonschema), written safely (mode 0600, atomically, never through a
# symlink, unwritable paths refused at start-up), and read back by --report and --replay.
# A retracted leak (tests/replay/captures/shared_ownership.jsonl) is kept with its
# resolution; the exports of that capture, unfiltered and under -p 100, are compared exactly
# with tests/replay/expected/export_shared_ownership*.json.
#
# Usage: test_export.sh [--bless]   (--bless rewrites those two; review the diff)
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
bin=${SVA_TRACE_BIN:-$top/.output/sva-trace}
schema=$top/docs/export.schema.json
py=/usr/bin/python3
bless=0
[ "${1:-}" = --bless ] && bless=1
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT INT TERM

validate() { "$py" -W ignore -m jsonschema -i "$1" "$schema"; }

ncap=$(ls "$here"/captures/*.jsonl | wc -l)
tap_plan $((ncap + 22)) # one per capture, then the checks below
for cap in "$here"/captures/*.jsonl; do
	name=$(basename "$cap" .jsonl)
	"$bin" --replay "$cap" --export "$work/$name.json" >/dev/null 2>"$work/err"
	t "$name: replay --export exits 0 and the export validates against the schema" validate "$work/$name.json"
done
jq 'del(.bonds)' "$work/leak_and_mismatch.json" >"$work/broken.json"
t "the validator rejects an export without bonds (the check can fail)" sh -c "! '$py' -W ignore -m jsonschema -i '$work/broken.json' '$schema'"
t "the export is mode 0600" sh -c "[ \"\$(stat -c %a '$work/leak_and_mismatch.json')\" = 600 ]"
t "no temporary file is left beside it" sh -c "[ -z \"\$(ls '$work' | grep '\.json\.')\" ]"
t "a replay's export names the captured kernel, not this machine's" jq -e \
	'.kernel.release == "7.2.13+deb14-cloud-amd64" and .kernel.machine == "x86_64" and .replay == true' \
	"$work/leak_and_mismatch.json"
t "the export holds the leak with its evidence events" jq -e \
	'[.findings[] | select(.kind == "leak")] | length == 1 and (.[0].evidence_events | map(.seq) == [3,4,5])' \
	"$work/leak_and_mismatch.json"

# An existing export is replaced whole.
"$bin" --replay "$here/captures/clean_nested.jsonl" --export "$work/leak_and_mismatch.json" >/dev/null 2>&1
t "a second export replaces the first atomically" jq -e '.findings == [] and .bonds_ended_total == 2' "$work/leak_and_mismatch.json"

ln -s "$work/clean_nested.json" "$work/link.json"
before=$(md5sum <"$work/clean_nested.json")
"$bin" --replay "$here/captures/leak_and_mismatch.jsonl" --export "$work/link.json" >"$work/out" 2>"$work/err"
rc=$?
if [ $rc = 2 ] && grep -q "symbolic link" "$work/err" && [ "$(md5sum <"$work/clean_nested.json")" = "$before" ] && [ ! -s "$work/out" ]; then
	ok "an export path that is a symlink is refused at start-up (exit 2), the target untouched"
else
	not_ok "an export path that is a symlink is refused at start-up (exit 2), the target untouched (rc $rc)"
fi

mkdir "$work/ro" && chmod 555 "$work/ro"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" --replay - \
		--export "$work/ro/x.json" <"$here/captures/clean_nested.jsonl" >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc = 2 ] && grep -q "cannot create files in" "$work/err" && [ ! -s "$work/out" ]; then
		ok "a read-only export folder is refused at start-up (exit 2), nothing traced"
	else
		not_ok "a read-only export folder is refused at start-up (exit 2), nothing traced (rc $rc)"
		sed 's/^/# /' "$work/err"
	fi
else
	skip "a read-only export folder is refused at start-up" "needs root and setpriv"
fi

"$bin" --replay "$here/captures/leak_and_mismatch.jsonl" --export "$work/pm.json" >/dev/null 2>&1
"$bin" --report "$work/pm.json" >"$work/report" 2>&1
t "--report puts findings first, then bonds by device and process" sh -c "
	f=\$(grep -n '^FINDINGS (2)' '$work/report' | cut -d: -f1)
	b=\$(grep -n '^BONDS STILL BOUND (1)' '$work/report' | cut -d: -f1)
	[ -n \"\$f\" ] && [ -n \"\$b\" ] && [ \"\$f\" -lt \"\$b\" ] &&
	grep -q '^  device mock0' '$work/report' && grep -q 'process 200 (dsa_test), exited' '$work/report' &&
	grep -q 'LEAK' '$work/report'"
"$bin" --replay "$work/pm.json" >"$work/replayed" 2>&1
t "--replay of an export prints the same postmortem" cmp "$work/report" "$work/replayed"
"$bin" --report "$here/captures/clean_nested.jsonl" >/dev/null 2>"$work/err"
rc=$?
t "--report of something that is not an export: exit 2 and says what it wants" sh -c "[ $rc = 2 ] && grep -q 'not a valid export' '$work/err'"
"$bin" --report "$work/pm.json" --json --fail-on leak >"$work/report.json" 2>"$work/err"
rc=$?
"$bin" --replay "$here/captures/leak_and_mismatch.jsonl" --json 2>/dev/null |
	grep '"type":"finding"' | jq -cS . >"$work/live.findings"
t "--report --json: each finding of the export as its live record (plus evidence_events), exit 1 on --fail-on leak" sh -c "
	[ $rc = 1 ] && [ \$(wc -l <'$work/report.json') = 2 ] && [ ! -s '$work/err' ] &&
	jq -cS 'del(.evidence_events)' '$work/report.json' | cmp -s - '$work/live.findings' &&
	[ \$(jq '.evidence_events | length' '$work/report.json' | grep -c '^[1-9]') = 2 ]"

# Retracted leaks: kept with who unbound the bond and how late (schema 2).
so=$here/captures/shared_ownership.jsonl
# exact NAME ARGS...: the export of shared_ownership with ARGS equals expected/NAME.json
exact() {
	name=$1; shift
	"$bin" --replay "$so" "$@" --export "$work/$name.json" >/dev/null 2>&1
	[ $bless = 1 ] && cp "$work/$name.json" "$here/expected/$name.json"
	cmp -s "$work/$name.json" "$here/expected/$name.json" && return 0
	diff "$here/expected/$name.json" "$work/$name.json" | cut -c1-300
	return 1 # (the pipeline's status is cut's)
}
t "shared_ownership: the export is exactly expected/export_shared_ownership.json" exact export_shared_ownership
t "shared_ownership: both leaks kept, each with its resolution (who unbound it, how late), resolved 2" jq -e '
	.schema_version == 2 and .resolved == 2 and .findings_by_kind.leak == 2 and
	([.findings[] | [.kind, .subject.pasid, .resolved.by_pid, .resolved.by_comm, .resolved.late_ns,
	  .resolved.evidence]] == [["leak", 6, 300, "receiver", 4800000000, [15]],
	                           ["leak", 5, 9, "kworker/3:1", 3200000000, [14]]])' \
	"$work/export_shared_ownership.json"
t "-p 100: the export is exactly expected/export_shared_ownership_pid100.json" exact export_shared_ownership_pid100 -p 100
t "-p 100: process 100's leak and its resolution shown; the other leak counted as hidden" jq -e '
	.filters.pid == 100 and .resolved == 1 and .findings_by_kind.leak == 1 and
	.findings_hidden_by_filters.leak == 1 and (.findings | length) == 1 and
	.findings[0].subject.owner_pid == 100 and .findings[0].resolved.by_pid == 9' \
	"$work/export_shared_ownership_pid100.json"
"$bin" --report "$work/export_shared_ownership_pid100.json" >"$work/so100.report" 2>&1
t "--report of the -p 100 export: its one finding, and a line counting the leak the filter hid" sh -c "
	grep -qx 'FINDINGS (1)' '$work/so100.report' &&
	grep -qx '  and 1 hidden by the filters (not in the export): 1 leak' '$work/so100.report'"
"$bin" --report "$work/export_shared_ownership.json" --fail-on leak >"$work/so.report" 2>&1
rc=$?
t "--report of retracted leaks: each finding followed by RETRACTED and who; --fail-on leak exits 0" sh -c "
	[ $rc = 0 ] && [ \$(grep -c '^      RETRACTED: leak retracted: ' '$work/so.report') = 2 ] &&
	grep -A4 'owner sender/200' '$work/so.report' | grep -q 'RETRACTED: leak retracted: process 300 (receiver)'"
"$bin" --replay "$so" --json 2>/dev/null | grep -E '"type":"(finding|resolved)"' | jq -cS . | sort >"$work/so.live"
"$bin" --report "$work/export_shared_ownership.json" --json | jq -cS 'del(.evidence_events)' | sort >"$work/so.report.json"
t "--report --json: the finding and resolved records of the live stream, exactly" sh -c "
	[ \$(wc -l <'$work/so.live') = 4 ] && cmp '$work/so.live' '$work/so.report.json'"
jq -c 'del(.findings[0].resolved)' "$work/export_shared_ownership.json" >"$work/nores.json"
t "the validator rejects a finding without its resolved member (schema 2)" sh -c "! '$py' -W ignore -m jsonschema -i '$work/nores.json' '$schema'"
jq -c '.findings[1].resolved = null' "$work/export_shared_ownership.json" >"$work/unretracted.json"
"$bin" --report "$work/unretracted.json" --fail-on leak >/dev/null 2>&1
t "the same export without that resolution fails --fail-on leak (exit 1)" [ $? = 1 ]

sed 's/^{"schema":/{"lost":0,"schema":/' "$work/pm.json" >"$work/dup.json"
"$bin" --report "$work/dup.json" >/dev/null 2>"$work/err"
rc=$?
t "--report of an export with a key twice: exit 2, names the key" sh -c "
	grep -q '\"lost\":0,.*\"lost\":' '$work/dup.json' &&
	[ $rc = 2 ] && grep -q 'not a valid export: duplicate object key \"lost\"' '$work/err'"
tap_done
