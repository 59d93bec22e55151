#!/bin/sh
# test_hardening_vm.sh - TAP: sva-trace under stress and in odd environments, in the lab
# kernel (one guest boot), with real SVA events from lab/guest/sva_smoke:
#   - ring-buffer overflow: a burst of binds+unbinds with a one-page ring (--ring-size 4K) is
#     counted as lost, makes state uncertain, and yields no (false) leak; the same burst with
#     the default 1 MiB ring loses nothing;
#   - SIGINT, SIGTERM and SIGHUP during attach, during heavy event flow and during the export
#     end cleanly (summary, export, exit 0, nothing left attached); `| head -1` (EPIPE) too;
#   - capabilities: after its start record a running sva-trace has none (CapEff, CapPrm,
#     CapBnd 0, NoNewPrivs 1) and still traces, symbolizes --stacks and exports; the
#     traced command keeps its privileges;
#   - no bpffs, tracefs or debugfs mounted: probes attach (fentry and kprobe) and events come;
#   - a ring buffer the kernel cannot allocate: exit 2, a message naming the map, its size,
#     the memory limits and --ring-size, and in --json mode an error record on stdout.
# Needs: the lab kernel (lab/build-lab-kernel.sh), .output/static/sva-trace (make STATIC=1).
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
BURST=500
total=36
validate() { [ -s "$1" ] && /usr/bin/python3 -W ignore -m jsonschema -i "$1" "$schema"; }

tap_plan $total
[ -x "$bin" ] || bail "static sva-trace missing: make STATIC=1"
lab_guest_build
bpftool_guest_files

cat >"$work/run.sh" <<GUEST
#!/bin/sh
BURST=$BURST
GUEST
cat >>"$work/run.sh" <<'GUEST'
echo
started() { i=0; while [ $i -lt 300 ] && ! grep -q '"type":"start"' "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; }
dump() { echo "FILE $1 $(gzip -c < "$2" 2>/dev/null | base64 -w0)"; }
records() { grep -E '"type":"(start|summary|lost|finding|error)"' "$2" | sed "s/^/J $1 /"; }
uptime_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
# Programs and links still in the kernel. The kernel frees a closed tracing program after an
# RCU-tasks grace period, which under TCG can outlast the exit by a second: wait up to 5 s.
attached() {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		a="$(bpftool prog show 2>&1 | grep -c -E 'tracing|kprobe|raw_tracepoint') $(bpftool link show 2>&1 | grep -c -E '^[0-9]+:')"
		[ "$a" = "0 0" ] && break
		sleep 0.5
	done
	echo "ATT $1 $a"
}

# 1. ring overflow: one page, then the default ring, the same burst
sva-trace --json --ring-size 4K --leak-grace 1 --fail-on leak -- sva_smoke burst $BURST >/tmp/tiny.jsonl 2>/tmp/tiny.err
echo "RC tiny $?"; records tiny /tmp/tiny.jsonl; grep -c . /tmp/tiny.jsonl | sed 's/^/LINES tiny /'
grep 'sva_smoke: burst:' /tmp/tiny.err | sed 's/^/E tiny /'
sva-trace --json --leak-grace 1 --fail-on leak -- sva_smoke burst $BURST >/tmp/big.jsonl 2>/tmp/big.err
echo "RC big $?"; records big /tmp/big.jsonl
grep 'sva_smoke: burst:' /tmp/big.err | sed 's/^/E big /'

# 2a. a signal during attach (before the start record)
for s in INT TERM HUP; do
	sva-trace --json --export /tmp/att$s.json >/tmp/att$s.jsonl 2>/tmp/att$s.err &
	p=$!; sleep 0.2
	echo "EARLY $s $(grep -c '"type":"start"' /tmp/att$s.jsonl)"
	kill -$s $p; wait $p; echo "RC att$s $?"
	records att$s /tmp/att$s.jsonl; dump att$s /tmp/att$s.json
done
attached att

# 2b. a signal while events flow
for s in INT TERM HUP; do
	sva-trace --json --export /tmp/flow$s.json >/tmp/flow$s.jsonl 2>/tmp/flow$s.err &
	p=$!; started /tmp/flow$s.jsonl
	sva_smoke burst 40000 >/dev/null 2>&1 &
	w=$!; sleep 1
	kill -0 $w 2>/dev/null && echo "BUSY $s yes $(grep -c . /tmp/flow$s.jsonl)"
	kill -$s $p; wait $p; echo "RC flow$s $?"; wait $w
	records flow$s /tmp/flow$s.jsonl; dump flow$s /tmp/flow$s.json
done
attached flow

# 2c. signals during the export of a large state (every ended bond kept)
for s in TERM HUP; do
	sva-trace --json --ring-size 16M --export-ended 100000 --export /tmp/exp$s.json >/tmp/exp$s.jsonl 2>/tmp/exp$s.err &
	p=$!; started /tmp/exp$s.jsonl
	sva_smoke burst 2000 >/dev/null 2>&1
	sleep 1
	# a snapshot, and the end while it is written; then more signals during the final export
	t0=$(uptime_ms); kill -USR1 $p; sleep 0.05; kill -$s $p; sleep 0.1; kill -INT $p; kill -$s $p
	wait $p; echo "RC exp$s $? $(($(uptime_ms) - t0))"
	ls /tmp | grep -q "^exp$s\.json\." && echo "TEMP exp$s left" || echo "TEMP exp$s none"
	sva-trace --report /tmp/exp$s.json >/dev/null 2>&1; echo "REPORT exp$s $?"
	echo "SIZE exp$s $(wc -c < /tmp/exp$s.json)"
	records exp$s /tmp/exp$s.jsonl; dump exp$s /tmp/exp$s.json
done

# 2d. sva-trace --json | head -1: idle, and with events flowing
t0=$(uptime_ms)
{ timeout -s KILL 60 sva-trace --json 2>/tmp/pipe.err; echo $? >/tmp/pipe.rc; } | head -n 1 >/tmp/pipe.out
sleep 0.5; echo "PIPE idle $(cat /tmp/pipe.rc) $(grep -c '"type":"start"' /tmp/pipe.out) $(($(uptime_ms) - t0)) $(grep -v 'not in this kernel, not traced' /tmp/pipe.err | wc -c)"
{ timeout -s KILL 60 sva-trace --json -- sva_smoke burst 1000 2>/tmp/pipe2.err; echo $? >/tmp/pipe2.rc; } | head -n 1 >/tmp/pipe2.out
while pidof sva_smoke >/dev/null; do sleep 0.2; done
echo "PIPE flow $(cat /tmp/pipe2.rc) $(grep -c '"type":"start"' /tmp/pipe2.out) 0 $(grep -v -e sva_smoke -e 'not in this kernel, not traced' /tmp/pipe2.err | wc -c)"
attached pipe

# 3. capabilities after start-up
sva-trace --json --stacks --export /tmp/priv.json -v >/tmp/priv.jsonl 2>/tmp/priv.err &
p=$!; started /tmp/priv.jsonl
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/$p/status | sed 's/^/CAP /; s/:\t/ /'
sva_smoke basic >/dev/null 2>&1
sleep 0.5; kill -INT $p; wait $p; echo "RC priv $?"
grep 'capabilities dropped' /tmp/priv.err | sed 's/^/E priv /'
records priv /tmp/priv.jsonl; dump priv /tmp/priv.json
sva-trace --json -- sh -c 'grep CapEff /proc/self/status >&2' 2>&1 >/dev/null | sed -n 's/^CapEff:\t/CHILDCAP /p'

# 4. no bpffs, tracefs or debugfs
umount /sys/kernel/debug/tracing 2>/dev/null; umount /sys/kernel/tracing; umount /sys/kernel/debug; umount /sys/fs/bpf
echo "MOUNTS $(grep -c -E ' (bpf|tracefs|debugfs) ' /proc/mounts)"
for m in auto kprobe; do
	sva-trace --json --probe-mode $m --leak-grace 1 --fail-on leak -- sva_smoke basic >/tmp/nofs$m.jsonl 2>/tmp/nofs$m.err
	echo "RC nofs$m $?"; records nofs$m /tmp/nofs$m.jsonl
done

# 5. memory: RLIMIT_MEMLOCK does not limit maps here (memcg accounting), a 2 GiB ring in a
#    1 GiB guest cannot be allocated
( ulimit -l 64; echo "MEMLOCK $(ulimit -l)"; sva-trace --json --ring-size 64K -d 1 >/tmp/ml.jsonl 2>/tmp/ml.err; echo "RC memlock $?" )
sva-trace --json --ring-size 2G -d 1 >/tmp/nomem.jsonl 2>/tmp/nomem.err
echo "RC nomem $?"; sed 's/^/E nomem /' /tmp/nomem.err; sed 's/^/J nomem /' /tmp/nomem.jsonl
attached end
GUEST
# shellcheck disable=SC2086
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_smoke" \
	$bpftool_files >/dev/null
rc=0
"$here/run-vm.sh" --timeout 900 --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
cp "$work/log" "$top/.output/test_hardening_vm.log" 2>/dev/null
[ $rc = 0 ] || guest_failed "$work/log" $rc
field() { sed -n "s/^$1 //p" "$work/log" | head -n 1; }
recs() { sed -n "s/^J $1 //p" "$work/log"; }
summary() { recs "$1" | jq -c 'select(.type == "summary")' 2>/dev/null; }
for f in $(sed -n 's/^FILE \([^ ]*\) .*/\1/p' "$work/log"); do
	sed -n "s/^FILE $f //p" "$work/log" | base64 -d 2>/dev/null | gunzip -c >"$work/$f.json" 2>/dev/null
done

# --- 1. ring overflow
tiny=$(summary tiny) big=$(summary big)
echo "# one-page ring, burst of $BURST binds+unbinds: $(echo "$tiny" | jq -c '{lost, seq_gaps, inferred_unbinds, unresolved_bonds, events, findings, outstanding: (.outstanding | length)}')"
echo "# default ring, same burst: $(echo "$big" | jq -c '{lost, events}')"
t "one-page ring: the burst ran whole ($BURST binds, each unbound) and sva-trace did not crash (exit 0)" sh -c \
	"[ '$(field 'RC tiny')' = 0 ] && [ '$(field 'E tiny')' = 'sva_smoke: burst: $BURST binds, $BURST unbinds' ] && [ -n '$tiny' ]"
t "one-page ring: the loss is counted (summary lost > 0, lost records that add up to it)" sh -c \
	"echo '$tiny' | '$jqt' '.lost > 0' && [ \$(sed -n 's/^J tiny //p' '$work/log' | jq -s '[.[] | select(.type == \"lost\") | .count] | add') = \$(echo '$tiny' | jq .lost) ]"
t "one-page ring: fewer events than the burst made, and summary events + lost cover them" sh -c \
	"echo '$tiny' | '$jqt' '.by_type.bind < $BURST and (.events + .lost) >= $BURST * 2'"
t "one-page ring: no leak finding (every bind was unbound) and --fail-on leak did not trip" sh -c \
	"echo '$tiny' | '$jqt' '.findings.leak == 0' && ! sed -n 's/^J tiny //p' '$work/log' | grep -q '\"kind\":\"leak\"'"
t "one-page ring: every finding made after the loss is marked uncertain" sh -c \
	"sed -n 's/^J tiny //p' '$work/log' | jq -s -e '[.[] | select(.type == \"finding\" and .uncertain == false and .kind != \"bind-error\")] | length == 0'"
t "one-page ring: every bond still outstanding at the end lived through lost events (uncertain, counted unresolved, none called a leak)" sh -c \
	"echo '$tiny' | '$jqt' '([.outstanding[] | select(.uncertain | not)] | length) == 0 and ([.outstanding[] | select(.leak)] | length) == 0 and .unresolved_bonds <= (.outstanding | length)'"
t "default 1 MiB ring, the same burst: nothing lost, all $BURST binds and unbinds seen, no finding" sh -c \
	"[ '$(field 'RC big')' = 0 ] && echo '$big' | '$jqt' '.lost == 0 and .by_type.bind == $BURST and .by_type.unbind == $BURST and ([.findings[]] | add) == 0'"

# --- 2a. during attach
early_all=yes
for s in INT TERM HUP; do [ "$(field "EARLY $s")" = 0 ] || early_all=no; done
for s in INT TERM HUP; do
	d="SIG$s during attach (before the start record): exit 0, start and summary records, a valid export"
	if [ "$(field "EARLY $s")" != 0 ]; then
		skip "$d" "attach was already done 0.2 s after start: the signal did not come during attach"
		continue
	fi
	t "$d" sh -c "[ '$(field "RC att$s")' = 0 ] && [ \$(sed -n 's/^J att$s //p' '$work/log' | jq -s '[.[] | select(.type == \"start\" or .type == \"summary\")] | length') = 2 ] && /usr/bin/python3 -W ignore -m jsonschema -i '$work/att$s.json' '$schema'"
done
t "after the attach-time signals no BPF program or link is left" sh -c "[ '$(field 'ATT att')' = '0 0' ]"

# --- 2b. during heavy flow
for s in INT TERM HUP; do
	t "SIG$s while events flow: exit 0, a summary with events, a valid export with reason exit" sh -c \
		"[ \$(echo '$(field "BUSY $s")' | cut -d' ' -f1) = yes ] && [ \$(echo '$(field "BUSY $s") 0' | cut -d' ' -f2) -gt 100 ] && [ '$(field "RC flow$s")' = 0 ] && sed -n 's/^J flow$s //p' '$work/log' | jq -s -e '[.[] | select(.type == \"summary\" and .events > 0)] | length == 1' && /usr/bin/python3 -W ignore -m jsonschema -i '$work/flow$s.json' '$schema' && '$jqt' '.reason == \"exit\" and .counters.bind > 0' '$work/flow$s.json'"
done
t "after the flow-time signals no BPF program or link is left" sh -c "[ '$(field 'ATT flow')' = '0 0' ]"

# --- 2c. during the export
for s in TERM HUP; do
	set -- $(field "RC exp$s")
	echo "# export of $(field "SIZE exp$s") bytes; from SIGUSR1 to exit: ${2:-?} ms (emulated)"
	t "SIG$s (and SIGINT) during a snapshot and the final export: exit 0, the export is whole and valid" sh -c \
		"[ '${1:-}' = 0 ] && [ '$(field "REPORT exp$s")' = 0 ] && /usr/bin/python3 -W ignore -m jsonschema -i '$work/exp$s.json' '$schema' && '$jqt' '.reason == \"exit\" and .counters.bind == 2000 and (.ended_bonds | length) == 2000' '$work/exp$s.json'"
	t "SIG$s during the export: no temporary file is left next to it" sh -c "[ '$(field "TEMP exp$s")' = none ]"
done

# --- 2d. EPIPE
set -- $(field 'PIPE idle')
t "sva-trace --json | head -1 with no events: ends by itself (exit 0, not killed by the 60 s timeout), quietly, the start record read" sh -c \
	"[ '${1:-}' = 0 ] && [ '${2:-}' = 1 ] && [ '${4:-}' = 0 ]"
set -- $(field 'PIPE flow')
t "sva-trace --json -- burst | head -1: exit 0, quietly" sh -c "[ '${1:-}' = 0 ] && [ '${2:-}' = 1 ] && [ '${4:-}' = 0 ]"
t "after the EPIPE runs no BPF program or link is left" sh -c "[ '$(field 'ATT pipe')' = '0 0' ]"

# --- 3. capabilities
echo "# running sva-trace: $(grep '^CAP ' "$work/log" | tr '\n' ' ')"
t "after its start record sva-trace has no capabilities: CapEff, CapPrm, CapInh, CapAmb and CapBnd all 0" sh -c \
	"for c in CapEff CapPrm CapInh CapAmb CapBnd; do [ \"\$(sed -n \"s/^CAP \$c //p\" '$work/log')\" = 0000000000000000 ] || exit 1; done"
t "after its start record sva-trace has NoNewPrivs set" sh -c "[ '$(field 'CAP NoNewPrivs')' = 1 ]"
t "-v says the capabilities were dropped, all of them" sh -c "[ '$(field 'E priv')' = 'sva-trace: capabilities dropped (all)' ]"
t "without capabilities it still traces, summarizes and exports (2 binds, stacks symbolized)" sh -c \
	"[ '$(field 'RC priv')' = 0 ] && sed -n 's/^J priv //p' '$work/log' | jq -s -e '[.[] | select(.type == \"summary\" and .by_type.bind == 2)] | length == 1' && /usr/bin/python3 -W ignore -m jsonschema -i '$work/priv.json' '$schema' && '$jqt' '.counters.bind == 2 and ([.stacks[].frames[]] | any(test(\"^iommu_sva_bind_device\\\\+0x\")))' '$work/priv.json'"
t "the command run under sva-trace keeps the privileges sva-trace started with" sh -c \
	"c='$(field CHILDCAP)'; [ -n \"\$c\" ] && [ \"\$c\" != 0000000000000000 ]"

# --- 4. no bpffs / tracefs / debugfs
t "bpffs, tracefs and debugfs were unmounted in the guest" sh -c "[ '$(field MOUNTS)' = 0 ]"
for m in auto kprobe; do
	t "without bpffs/tracefs/debugfs, --probe-mode $m: the 6 SVA probes attach and the events come (2 binds, 2 unbinds)" sh -c \
		"[ '$(field "RC nofs$m")' = 0 ] && sed -n 's/^J nofs$m //p' '$work/log' | jq -s -e '([.[] | select(.type == \"start\") | .probes | length] | .[0]) >= 6 and ([.[] | select(.type == \"summary\" and .by_type.bind == 2 and .by_type.unbind == 2)] | length == 1)'"
done

# --- 5. memory
t "RLIMIT_MEMLOCK of 64 KiB does not stop sva-trace on this kernel (maps are charged to the memcg)" sh -c \
	"[ '$(field MEMLOCK)' = 64 ] && [ '$(field 'RC memlock')' = 0 ]"
t "a 2 GiB ring in a 1 GiB guest: exit 2" sh -c "[ '$(field 'RC nomem')' = 2 ]"
t "... the message names the map, its size, the limits and --ring-size" sh -c \
	"sed -n 's/^E nomem //p' '$work/log' | grep -q \"BPF map 'events' (a ring buffer of 2 GiB): Cannot allocate memory\" && sed -n 's/^E nomem //p' '$work/log' | grep -q 'memory.max' && sed -n 's/^E nomem //p' '$work/log' | grep -q 'ulimit -l' && sed -n 's/^E nomem //p' '$work/log' | grep -q -- '--ring-size'"
t "... and with --json stdout holds exactly one error record with code 2 naming the map" sh -c \
	"[ \$(sed -n 's/^J nomem //p' '$work/log' | wc -l) = 1 ] && sed -n 's/^J nomem //p' '$work/log' | '$jqt' '.type == \"error\" and .code == 2 and (.message | test(\"events\"))'"
t "at the end no BPF program or link is left" sh -c "[ '$(field 'ATT end')' = '0 0' ]"
t "bpftool ran in the guest (the attachment checks above are real)" sh -c \
	"grep -q '^ATT end [0-9]' '$work/log' && ! grep -q 'bpftool: not found' '$work/log'"
tap_done
