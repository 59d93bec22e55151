#!/bin/sh
# test_state_vm.sh - TAP: what sva-trace reads of the kernel's SVA state at start-up (issue 14),
# in the lab kernel. Before sva-trace starts, lab/guest/sva_hold makes and keeps bonds:
# process A on three mock devices (three groups) plus a paging hwpt at PASID 200 of its first
# device, process B on one device with MOCK_SVA_LEAK_ON_RELEASE, whose main thread then exits
# (pthread_exit: a zombie leader with no mm; another thread holds on, so the state must read
# B from that thread). Then
#   sva-trace --json --leak-grace 1 -d 8
# starts; A unbinds everything (SIGUSR1), B exits (SIGTERM: its bond stays bound).
# Asserted against what the holders printed and the guest's sysfs: every bond in the "state"
# records with its PASID, device, group, users 1 and owner pid; the paging attachment with its
# type; A's unbinds end A's bonds with no finding; B's bond becomes the one leak and the one
# bond outstanding. Also --check's "state" part, the text table, sva-top's first frame (-b --json)
# and the export (B's bond, at_start).
# Re-sync (SIGUSR2): sva-trace with a one-page ring is stopped (SIGSTOP) while 12 short-lived
# holders bind and exit and then holder C binds on 3 devices: the ring overflows and C's binds
# are lost. After SIGCONT and SIGUSR2 the re-sync must report C's 3 bonds as untraced (and
# every other difference as a bond the kernel no longer has that the trace never saw unbound),
# after which the model is the kernel's: C's 3 bonds are exactly what is outstanding.
#
# Needs: the lab kernel (lab/build-lab-kernel.sh), .output/static/sva-trace (make STATIC=1).
# SAVE_CAPTURE=FILE keeps the guest's JSON capture (tests/replay/captures/state_at_start.jsonl
# was made so).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
bin=$top/.output/static/sva-trace
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

tap_plan 24
[ -x "$bin" ] || bail "static sva-trace missing: make STATIC=1"
if ! kernel=$("$top/lab/build-lab-kernel.sh" 2>"$work/build.err"); then
	tail -n 20 "$work/build.err" | sed 's/^/# /'
	bail "the lab kernel could not be built"
fi
inc=$(dirname "$kernel")/include
if ! gcc -static -O2 -Wall -pthread -I "$inc" -o "$work/sva_hold" "$top/lab/guest/sva_hold.c" 2>"$work/cc.err"; then
	sed 's/^/# /' "$work/cc.err"
	bail "sva_hold does not build against the lab kernel's headers"
fi

cat >"$work/run.sh" <<'EOF'
#!/bin/sh
echo
sva-trace --check --json | sed 's/^/CHECK /'
sva_hold 3 paging >/tmp/a.out 2>&1 &
A=$!
sva_hold 1 leak leaderexit >/tmp/b.out 2>&1 &
B=$!
i=0
while ! grep -q ready /tmp/a.out || ! grep -q ready /tmp/b.out; do
	sleep 0.1; i=$((i + 1)); [ $i -gt 300 ] && break
done
sed 's/^/HOLD /' /tmp/a.out /tmp/b.out
echo "PIDS $A $B"
for g in /sys/kernel/iommu_groups/*; do
	for d in "$g"/devices/*; do echo "GROUPDEV ${g##*/} ${d##*/}"; done
done
sva-trace -v -d 1 >/tmp/text.out 2>/tmp/text.err
sva-top -b -n 1 -d 1 --json 2>/dev/null | sed 's/^/TOP /'
sed 's/^/TEXT /' /tmp/text.out
grep 'state at start-up read in' /tmp/text.err | sed 's/^/TIME /'
sva-trace --json --leak-grace 1 -d 8 --export /tmp/e.json >/tmp/s.json 2>/tmp/s.err &
T=$!
i=0
while [ ! -s /tmp/s.json ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
kill -USR1 $A
sleep 0.5
kill -TERM $B
wait $T
echo "RC $?"
sed 's/^/J /' /tmp/s.json
sed 's/^/E /' /tmp/s.err
echo "EXPORT $(tr -d '\n' </tmp/e.json)"
kill -TERM $A
sleep 1
# Re-sync after a forced loss.
sva-trace --json --ring-size 4096 -d 14 >/tmp/r.json 2>/tmp/r.err &
T=$!
i=0
while [ ! -s /tmp/r.json ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
kill -STOP $T
j=0
while [ $j -lt 12 ]; do
	sva_hold 1 >/tmp/h.out 2>&1 &
	H=$!
	i=0; while ! grep -q ready /tmp/h.out && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	kill -TERM $H; wait $H
	j=$((j + 1))
done
sva_hold 3 >/tmp/c.out 2>&1 &
C=$!
i=0; while ! grep -q ready /tmp/c.out && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo "PIDC $C"
sed 's/^/HOLDC /' /tmp/c.out
kill -CONT $T
sleep 2
kill -USR2 $T
wait $T
echo "RRC $?"
sed 's/^/R /' /tmp/r.json
sed 's/^/RE /' /tmp/r.err
kill -TERM $C
EOF
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$top/.output/static/sva-top" \
	"$work/sva_hold" >/dev/null
rc=0
"$here/run-vm.sh" --timeout 420 --kernel "$kernel" --initrd "$work/initrd.gz" >"$work/log" 2>&1 || rc=$?
tr -d '\r' <"$work/log" >"$work/log.txt"
sed -n 's/^J //p' "$work/log.txt" | grep '^{' >"$work/s.jsonl"
[ -n "${SAVE_CAPTURE:-}" ] && cp "$work/s.jsonl" "$SAVE_CAPTURE"
[ $rc = 0 ] && [ "$(sed -n 's/^RC //p' "$work/log.txt")" = 0 ] &&
	ok "the guest ran; sva-trace exited 0" ||
	{ not_ok "the guest ran; sva-trace exited 0 (qemu rc $rc)"; tail -n 30 "$work/log.txt" | sed 's/^/# /'; }

set -- $(sed -n 's/^PIDS //p' "$work/log.txt")
A=${1:-0} B=${2:-0}
pa=$(sed -n "s/^HOLD sva_hold: pid $A bond 0 pasid \([0-9]*\) users 1$/\1/p" "$work/log.txt")
pb=$(sed -n "s/^HOLD sva_hold: pid $B bond 0 pasid \([0-9]*\) users 1$/\1/p" "$work/log.txt")
t "the holders bound (A pid $A PASID '$pa' on 3 devices, B pid $B PASID '$pb')" \
	[ -n "$pa" ] && [ -n "$pb" ] && [ "$pa" != "$pb" ] &&
	[ "$(grep -c "^HOLD sva_hold: pid $A bond [0-2] pasid $pa users 1$" "$work/log.txt")" = 3 ]

t "--check: the state is readable on the lab kernel, nothing unreadable" \
	sh -c "sed -n 's/^CHECK //p' '$work/log.txt' | jq -e '.state.readable == true and .state.unreadable == null'"

st() { jq -c "select(.type == \"state\") | $1" "$work/s.jsonl"; }
t "state records come right after the start record, the end record last" \
	sh -c "jq -r .type '$work/s.jsonl' | head -n $(($(st . | wc -l) + 1)) | uniq -c | awk '{print \$2}' | tr '\n' ' ' | grep -qx 'start state '"
t "end record: 4 bonds, 5 PASID attachments, 2 processes, nothing unreadable, no call in flight (the holders are idle)" \
	jq -se 'map(select(.type == "state" and .kind == "end")) | length == 1 and (.[0] | .bonds == 4 and .attachments == 5 and .processes == 2 and .unreadable == null and .calls_in_flight == 0)' "$work/s.jsonl"

# A's three bonds: PASID pa, users 1, owner A, three distinct groups, each device in its group.
st "select(.kind == \"attachment\" and .bond and .owner_pids == [$A])" >"$work/a.bonds"
t "A's 3 bonds: PASID $pa, users 1, owner [$A], domain type sva, 3 groups" \
	sh -c "[ \$(wc -l <'$work/a.bonds') = 3 ] &&
	       jq -se 'all(.[]; .pasid == $pa and .users == 1 and .domain_type == \"sva\") and
	               ([.[].group] | unique | length) == 3' '$work/a.bonds'"
sed -n 's/^GROUPDEV //p' "$work/log.txt" >"$work/groupdev"
t "each bond's device is in its group (as /sys/kernel/iommu_groups has it)" \
	sh -c "jq -r '\"\\(.group) \\(.dev)\"' '$work/a.bonds' | while read -r l; do grep -qx \"\$l\" '$work/groupdev' || exit 1; done"
t "B, whose leader exited, is one task record with its PASID (two threads each wrote one)" \
	sh -c "[ \"\$(jq -sc '[.[] | select(.type == \"state\" and .kind == \"task\" and .pid == $B) | .pasid]' '$work/s.jsonl')\" = '[$pb]' ]"
t "B's bond: PASID $pb, users 1, owner [$B]" \
	sh -c "[ \"\$(jq -sc '[.[] | select(.type == \"state\" and .kind == \"attachment\" and .bond and .owner_pids == [$B]) | [.pasid, .users]]' '$work/s.jsonl')\" = '[[$pb,1]]' ]"
g0=$(jq -s '[.[].group] | min' "$work/a.bonds")
t "the paging PASID attachment: PASID 200 of A's first device (group $g0), unmanaged, no bond" \
	[ "$(st 'select(.kind == "attachment" and .pasid == 200) | [.domain_type, .bond, .group]')" = "[\"unmanaged\",false,$g0]" ]

# What the trace made of them.
handles_a=$(jq -sc '[.[].handle] | sort' "$work/a.bonds")
t "A's 3 unbinds name exactly A's 3 bonds' handles" \
	sh -c "[ \"\$(jq -sc '[.[] | select(.type == \"unbind\" and .pid == $A) | .handle] | sort' '$work/s.jsonl')\" = '$handles_a' ]"
summary=$(jq -c 'select(.type == "summary")' "$work/s.jsonl")
t "findings: exactly one leak" \
	[ "$(echo "$summary" | jq -c '[.findings | to_entries[] | select(.value > 0)]')" = '[{"key":"leak","value":1}]' ]
hb=$(st "select(.kind == \"attachment\" and .bond and .owner_pids == [$B]) | .handle")
t "the leak is B's bond (handle, owner $B), found after B exited" \
	sh -c "jq -se '[.[] | select(.type == \"finding\" and .kind == \"leak\")] | length == 1 and .[0].subject.handle == $hb and .[0].subject.owner_pid == $B' '$work/s.jsonl'"
t "3 bonds ended; B's the one outstanding, marked at_start" \
	sh -c "echo '$summary' | jq -e '.bonds_ended == 3 and (.outstanding | length) == 1 and .outstanding[0].handle == $hb and .outstanding[0].at_start == true'"
t "text: the state table with 4 sva rows before the events' header" \
	sh -c "sed -n 's/^TEXT //p' '$work/log.txt' >'$work/text'; grep -q '^state at start: 4 bonds, 5 PASID attachments' '$work/text' && [ \$(grep -c ' sva  *1 0x' '$work/text') = 4 ] && grep -n 'TIME(s)' '$work/text' | grep -qv '^1:'"
ms=$(sed -n 's/^TIME .*read in \([0-9.]*\) ms.*/\1/p' "$work/log.txt")
t "the read took a measured time (-v: $ms ms under TCG)" [ -n "$ms" ]
t "sva-top's first frame: the 4 bonds read at start-up (3 of A, 1 of B) and the paging PASID" \
	sh -c "sed -n 's/^TOP //p' '$work/log.txt' | jq -se '.[0] | .live_bonds == 4 and
		([.rows[] | select(.kind == \"bond\") | .pid] | sort) == ([$A, $A, $A, $B] | sort) and
		([.rows[] | select(.kind == \"attachment\") | .pasid] == [200])'"
t "the export: B's leaked bond, at_start, still bound at exit" \
	sh -c "sed -n 's/^EXPORT //p' '$work/log.txt' | jq -e '[.bonds[] | [.handle, .at_start, .leak]] == [[$hb, true, true]]'"
# Re-sync.
sed -n 's/^R //p' "$work/log.txt" | grep '^{' >"$work/r.jsonl"
C=$(sed -n 's/^PIDC //p' "$work/log.txt")
[ -n "${SAVE_RESYNC:-}" ] && cp "$work/r.jsonl" "$SAVE_RESYNC"
cp "$work/r.jsonl" "$top/.output/test_state_vm.resync.jsonl" 2>/dev/null
pc=$(sed -n "s/^HOLDC sva_hold: pid $C bond 0 pasid \([0-9]*\) users 1$/\1/p" "$work/log.txt")
t "re-sync run: sva-trace exited 0 and records were lost (one-page ring, stopped)" \
	sh -c "[ '$(sed -n 's/^RRC //p' "$work/log.txt")' = 0 ] && jq -se '[.[] | select(.type == \"lost\")] | length > 0' '$work/r.jsonl'"
t "re-sync: C's 3 bonds (pid ${C:-?}, PASID ${pc:-?}) reported untraced, in 3 groups" \
	jq -se --argjson p "${pc:-0}" '[.[] | select(.type == "resync" and .kind == "untraced-bond")] |
		length == 3 and all(.[]; .pasid == $p) and ([.[].group] | unique | length) == 3' "$work/r.jsonl"
# A handle's address comes back for the next holder's bond (the short-lived holders bind one
# after another): "never unbound" is about the last bind of that address, by sequence number.
# A gone bond's SVA attachment is reported too when the kernel has nothing at its group and
# PASID any more (the holder had another PASID than C: a gone-attachment of the same handle).
t "re-sync: every other difference is a bond the trace saw bound and never unbound, gone from the kernel" \
	"$here/../lib/jq-true" -s '[.[] | select(.seq != null)] as $ev |
		[.[] | select(.type == "resync" and .kind == "gone-bond") | .handle] as $gone |
		[.[] | select(.type == "resync" and .kind != "untraced-bond" and .kind != "end" and
			      .kind != "gone-pasid" and
			      (.kind != "gone-attachment" or ([.handle] | inside($gone) | not)))] |
		all(.[]; .kind == "gone-bond" and (.handle as $h |
			([$ev[] | select(.type == "bind" and .ret == 0 and .handle == $h) | .seq] | max) as $b |
			([$ev[] | select(.type == "unbind" and .handle == $h) | .seq] | max) as $u |
			$b != null and ($u == null or $u < $b)))' "$work/r.jsonl"
# A short-lived holder's PASID is freed at its exit (__mmdrop -> mm_pasid_drop): when that record
# is lost, the re-sync takes the PASID off the global count (gone-pasid), and only then.
t "re-sync: each gone-pasid was handed out, its free not recorded, and is not in the re-sync's state" \
	"$here/../lib/jq-true" -s '[.[] | select(.seq != null)] as $ev |
		[.[] | select(.type == "state")] as $st |
		([$st | to_entries[] | select(.value.kind == "end") | .key][0]) as $e |
		[$st[($e + 1):][] | select(.kind == "task" or .kind == "attachment") | .pasid] as $held |
		[.[] | select(.type == "resync" and .kind == "gone-pasid")] |
		all(.[]; .pasid as $p | (any($held[]; . == $p) | not) and
			([$ev[] | select((.type == "pasid_alloc" or .type == "bind") and .ret == 0 and
					 .pasid == $p) | .seq] | max) as $a |
			([$ev[] | select((.type == "pasid_free" or .type == "mm_pasid_drop") and
					 .pasid == $p) | .seq] | max) as $f |
			$a != null and ($f == null or $f < $a))' "$work/r.jsonl"
t "re-sync: the end record counts exactly the differences reported" \
	jq -se '[.[] | select(.type == "resync" and .kind != "end")] as $d |
		[.[] | select(.type == "resync" and .kind == "end")] | length == 1 and .[0].differences == ($d | length)' "$work/r.jsonl"
t "after the re-sync the model is the kernel's: outstanding = the bonds of the re-sync's state block (C's 3, B's leaked one)" \
	jq -se '[.[] | select(.type == "state")] as $st |
		([$st | to_entries[] | select(.value.kind == "end") | .key][0]) as $e |
		([$st[($e + 1):][] | select(.kind == "attachment" and .bond) | .handle] | sort) as $k |
		($k | length) == 4 and
		([.[] | select(.type == "summary")][0].outstanding | map(.handle) | sort) == $k' "$work/r.jsonl"
tap_done
