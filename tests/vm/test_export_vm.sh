#!/bin/sh
# test_export_vm.sh - TAP: the postmortem export in the lab kernel, with real SVA events:
#   export after SIGINT; SIGUSR1 snapshots while events keep flowing; export when the traced
#   command is killed; kill -9 of sva-trace leaves the previous export intact and no BPF
#   program or link attached (checked with Debian's bpftool in the guest).
# Every export is validated on the host against docs/export.schema.json.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
jqt="$here/../lib/jq-true" # exactly one value, true (jq -e passes on empty input)
. "$here/lab-guest.sh"
bin=$top/.output/static/sva-trace
schema=$top/docs/export.schema.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
total=13
validate() { [ -s "$1" ] && /usr/bin/python3 -W ignore -m jsonschema -i "$1" "$schema"; }

tap_plan $total
[ -x "$bin" ] || bail "static sva-trace missing: make STATIC=1"
lab_guest_build
bpftool_guest_files

cat >"$work/run.sh" <<'GUEST'
#!/bin/sh
echo
# wait until FILE has a first line (sva-trace printed its start object: probes attached)
started() { i=0; while [ $i -lt 300 ] && ! grep -q '"type":"start"' "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; }
dump() { echo "FILE $1 $(base64 -w0 < "$2" 2>/dev/null)"; }

# 1. export after SIGINT (with --stacks)
sva-trace --json --stacks --export /tmp/int.json >/tmp/int.jsonl 2>/dev/null &
p=$!; started /tmp/int.jsonl
sva_smoke basic >/dev/null 2>&1
sleep 0.5; kill -INT $p; wait $p; echo "RC int $?"
dump int /tmp/int.json

# 2. SIGUSR1 snapshots while events keep flowing
sva-trace --json --export /tmp/usr1.json >/tmp/usr1.jsonl 2>/dev/null &
p=$!; started /tmp/usr1.jsonl
( for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sva_smoke basic >/dev/null 2>&1; sleep 0.3; done ) &
w=$!
sleep 1; kill -USR1 $p; sleep 1; cp /tmp/usr1.json /tmp/snap1.json 2>/dev/null
wait $w
kill -USR1 $p; sleep 1; cp /tmp/usr1.json /tmp/snap2.json 2>/dev/null
kill -0 $p && echo "ALIVE usr1 yes"
kill -TERM $p; wait $p; echo "RC usr1 $?"
dump snap1 /tmp/snap1.json; dump snap2 /tmp/snap2.json; dump usr1 /tmp/usr1.json

# 3. the traced command is killed: its bond leaks, the export still comes
sva-trace --json --leak-grace 1 --export /tmp/cmd.json -- sh -c 'echo $$ >/tmp/cmd.pid; sva_smoke leak >/dev/null 2>&1; echo done >/tmp/cmd.done; exec sleep 60' >/tmp/cmd.jsonl 2>/dev/null &
p=$!
i=0; while [ $i -lt 300 ] && [ ! -e /tmp/cmd.done ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3; kill -KILL "$(cat /tmp/cmd.pid)"
wait $p; echo "RC cmd $?"
dump cmd /tmp/cmd.json

# 4. kill -9 of sva-trace: the previous export stays whole, nothing stays attached
sva-trace --json --export /tmp/k9.json >/tmp/k9.jsonl 2>/dev/null &
p=$!; started /tmp/k9.jsonl
sva_smoke basic >/dev/null 2>&1
kill -USR1 $p; sleep 1; cp /tmp/k9.json /tmp/k9.before
( for i in 1 2 3; do sva_smoke basic >/dev/null 2>&1; done ) &
sleep 0.3; kill -KILL $p; wait $p 2>/dev/null; wait
cmp -s /tmp/k9.json /tmp/k9.before && echo "K9 intact"
ls /tmp | grep -q '^k9\.json\.' && echo "K9 temp-left" || echo "K9 no-temp"
echo "PROGS $(bpftool prog show 2>&1 | grep -c -E 'tracing|kprobe|raw_tracepoint')"
echo "LINKS $(bpftool link show 2>&1 | grep -c -E '^[0-9]+:')"
dump k9 /tmp/k9.json
GUEST
# shellcheck disable=SC2086
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_smoke" \
	$bpftool_files >/dev/null
rc=0
"$here/run-vm.sh" --timeout 400 --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
[ $rc = 0 ] || guest_failed "$work/log" $rc
for f in int snap1 snap2 usr1 cmd k9; do
	sed -n "s/^FILE $f //p" "$work/log" | base64 -d >"$work/$f.json" 2>/dev/null
done
field() { sed -n "s/^$1 //p" "$work/log" | head -n 1; }
cp "$work/log" "$top/.output/test_export_vm.log" 2>/dev/null
echo "# guest: RC int=$(field 'RC int') usr1=$(field 'RC usr1') cmd=$(field 'RC cmd'); $(grep -E '^(K9|ALIVE|PROGS|LINKS)' "$work/log" | tr '\n' ' ')"

[ "$(field 'RC int')" = 0 ] && validate "$work/int.json" >/dev/null 2>&1 &&
	ok "SIGINT: exit 0 and an export that validates against the schema" ||
	not_ok "SIGINT: exit 0 and an export that validates against the schema"
t "SIGINT export: reason exit, 2 binds, 2 unbinds, the bond ended" "$jqt" \
	'.reason == "exit" and .counters.bind == 2 and .counters.unbind == 2 and .bonds == [] and .bonds_ended_total == 1 and (.ended_bonds | length) == 1 and .kernel.boot_id != null' "$work/int.json"
t "--stacks: the export holds symbolized kernel stacks of the SVA calls" "$jqt" \
	'(.stacks | length) > 0 and ([.stacks[].frames[]] | any(test("^iommu_sva_(bind|unbind)_device\\+0x"))) and ([.findings[], .ended_bonds[]] | length) >= 1' "$work/int.json"
t "SIGUSR1: a snapshot (reason snapshot) validates while tracing goes on" sh -c \
	"validate() { /usr/bin/python3 -W ignore -m jsonschema -i \"\$1\" '$schema'; }; validate '$work/snap1.json' && '$jqt' '.reason == \"snapshot\"' '$work/snap1.json' && [ '$(field 'ALIVE usr1')' = yes ]"
t "SIGUSR1: the second snapshot has seen more binds than the first" sh -c \
	"[ \$(jq .counters.bind '$work/snap2.json') -gt \$(jq .counters.bind '$work/snap1.json') ]"
t "SIGTERM after snapshots: exit 0, final export reason exit with all 24 binds" sh -c \
	"[ '$(field 'RC usr1')' = 0 ] && '$jqt' '.reason == \"exit\" and .counters.bind == 24' '$work/usr1.json'"
t "a traced command killed by SIGKILL: sva-trace exits with its status (137) and writes the export" sh -c \
	"[ '$(field 'RC cmd')' = 137 ] && [ -s '$work/cmd.json' ]"
t "that export validates and holds the leak with its evidence events" sh -c \
	"/usr/bin/python3 -W ignore -m jsonschema -i '$work/cmd.json' '$schema' && '$jqt' '[.findings[] | select(.kind == \"leak\")] | length == 1 and (.[0].evidence_events | length) >= 1' '$work/cmd.json'"
t "kill -9: the previous export is intact (byte for byte) and valid" sh -c \
	"[ '$(field K9)' = intact ] && /usr/bin/python3 -W ignore -m jsonschema -i '$work/k9.json' '$schema'"
t "kill -9: no temporary export file is left behind" sh -c "grep -q '^K9 no-temp' '$work/log'"
t "kill -9: bpftool shows no tracing program left loaded" sh -c "[ '$(field PROGS)' = 0 ]"
t "kill -9: bpftool shows no BPF link left" sh -c "[ '$(field LINKS)' = 0 ]"
t "bpftool ran in the guest (the check above is real)" sh -c "grep -q '^PROGS [0-9]' '$work/log' && ! grep -q 'bpftool: not found' '$work/log'"
tap_done
