#!/bin/sh
# test_top_vm.sh - TAP: sva-top in batch mode in the lab kernel while a scenario runs: the
# frames' rows and counters follow what the scenario did (JSON frames, checked with jq).
# Then a one-page ring (--ring-size 4K) under a burst of binds: live sva-top reads the kernel's
# lost counter through the session (src/session.c) and shows the loss in its header.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$here/lab-guest.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
total=9

tap_plan $total
for b in sva-trace sva-top; do
	[ -x "$top/.output/static/$b" ] || bail "static $b missing: make STATIC=1"
done
lab_guest_build
cat >"$work/run.sh" <<'GUEST'
#!/bin/sh
echo
# frames every 0.5 s for 8 s; the scenario leaks one bond and keeps one bound until the end
sva-top -b --json -d 0.5 -n 16 >/tmp/frames.jsonl 2>/tmp/top.err &
p=$!
sleep 3
grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/$p/status | sed 's/^/CAP /; s/:\t/ /'
sva_smoke leak >/dev/null 2>&1
wait $p
echo "RC $?"
sed 's/^/F /' /tmp/frames.jsonl
sed 's/^/E /' /tmp/top.err
# a one-page ring overflows under a burst: the frames must say so
sva-top -b --json -d 0.5 -n 16 --ring-size 4K >/tmp/tiny.jsonl 2>/tmp/tiny.err &
p=$!
i=0; while [ $i -lt 300 ] && ! grep -q . /tmp/tiny.jsonl; do sleep 0.1; i=$((i + 1)); done
sva_smoke burst 500 >/dev/null 2>&1
wait $p
echo "RC tiny $?"
sed 's/^/T /' /tmp/tiny.jsonl
sed 's/^/E tiny /' /tmp/tiny.err
GUEST
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$top/.output/static/sva-trace" \
	"$top/.output/static/sva-top" "$work/sva_smoke" >/dev/null
rc=0
"$here/run-vm.sh" --timeout 300 --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
grep -E "^(CAP|E) " "$work/log" | sed "s/^/# /"
[ $rc = 0 ] || guest_failed "$work/log" $rc
sed -n 's/^F //p' "$work/log" | grep '^{' >"$work/frames.jsonl"
t "sva-top -b --json -n 16 exits 0 with 16 frames" sh -c \
	"[ \"\$(sed -n 's/^RC \([0-9]*\)$/\1/p' '$work/log')\" = 0 ] && [ \$(wc -l <'$work/frames.jsonl') = 16 ]"
t "the first frame, before the scenario, has no rows" jq -e -s '.[0].rows == [] and .[0].live_bonds == 0' "$work/frames.jsonl"
t "the last frame shows the leaked bond: one row, users 1, flagged LEAK" jq -e -s \
	'.[-1].rows | map(select(.kind == "bond")) | length == 1 and .[0].users == 1 and (.[0].flags | test("LEAK")) and (.[0].dev | startswith("iommufd_mock"))' "$work/frames.jsonl"
t "some frame counted binds per second (the scenario's 2 binds)" jq -e -s \
	'[.[].per_second.binds_x10] | add > 0' "$work/frames.jsonl"
t "after start-up sva-top holds no capability (CapEff and CapPrm 0) and has no_new_privs set" sh -c \
	"[ \"\$(sed -n 's/^CAP //p' '$work/log' | tr '\n' ' ')\" = 'CapPrm 0000000000000000 CapEff 0000000000000000 NoNewPrivs 1 ' ]"
t "sva-top printed no warning on stderr (only the notice of functions this kernel lacks)" sh -c \
	"! grep '^E ' '$work/log' | grep -v 'not in this kernel, not traced' | grep -q ."
t "the leak finding reaches the header's findings count" jq -e -s '.[-1].findings >= 1' "$work/frames.jsonl"
sed -n 's/^T //p' "$work/log" | grep '^{' >"$work/tiny.jsonl"
t "sva-top --ring-size 4K under a burst exits 0 with 16 frames" sh -c \
	"[ \"\$(sed -n 's/^RC tiny //p' '$work/log')\" = 0 ] && [ \$(wc -l <'$work/tiny.jsonl') = 16 ]"
t "... and its header shows the lost records (lost > 0 in the last frame)" jq -e -s \
	'.[-1].lost > 0' "$work/tiny.jsonl"
tap_done
