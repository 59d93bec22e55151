#!/bin/sh
# state-bench.sh - issue 14's benchmark: how long sva-trace takes to read the SVA state at
# start-up with N processes bound (default 1000), in one lab-kernel guest boot (QEMU TCG).
#
# N lab/guest/sva_hold processes each create a mock device (its own iommu group) and bind
# their mm on it, and keep the bond. Then `sva-trace -v -d 2` runs 3 times; each prints
# (-v) how long the first read took, the task iterator loaded included, and the table's
# counts, and gets a SIGUSR2 whose re-sync reads the state again with the iterator already
# loaded (and must find 0 differences). Medians of the 3. Under TCG only the order of
# magnitude means anything.
#
# Prints "STATEBENCH key=value ..." for docs/PERFORMANCE.md (tests/bench/bench.sh).
# Usage: tests/bench/state-bench.sh [N]   (needs the lab kernel and make STATIC=1)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
n=${1:-1000}
bin=$top/.output/static/sva-trace
[ -x "$bin" ] || { echo "state-bench: $bin missing: make STATIC=1" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
kernel=$("$top/lab/build-lab-kernel.sh")
inc=$(dirname "$kernel")/include
gcc -static -O2 -Wall -I "$inc" -o "$work/sva_hold" "$top/lab/guest/sva_hold.c"

cat >"$work/run.sh" <<EOF
#!/bin/sh
echo
i=0
while [ \$i -lt $n ]; do
	sva_hold 1 >/tmp/h.\$i 2>&1 &
	i=\$((i + 1))
done
i=0
while [ \$i -lt 1200 ]; do
	[ "\$(cat /tmp/h.* | grep -c ready)" -ge $n ] && break
	sleep 0.5; i=\$((i + 1))
done
echo "READY \$(cat /tmp/h.* | grep -c ready)"
for k in 1 2 3; do
	sva-trace -v -d 2 >/tmp/t.out 2>/tmp/t.err &
	T=\$!
	while ! grep -q tracing /tmp/t.err; do sleep 0.1; done
	kill -USR2 \$T
	wait \$T
	sed -n 's/.*state at start-up read in \([0-9.]*\) ms.*/FIRST \1/p' /tmp/t.err
	sed -n 's/^state at start: \([0-9]*\) bonds.*, \([0-9]*\) process.*/TABLE \1 \2/p' /tmp/t.out
	sed -n 's/^RESYNC: \([0-9]*\) difference.*read in \([0-9.]*\) ms.*/REREAD \1 \2/p' /tmp/t.out
done
EOF
"$top/tests/vm/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$bin" "$work/sva_hold" >/dev/null
"$top/tests/vm/run-vm.sh" --timeout 900 --mem 2048 --kernel "$kernel" --initrd "$work/initrd.gz" \
	>"$work/log" 2>&1
tr -d '\r' <"$work/log" >"$work/log.txt"
median() { sort -n | sed -n 2p; }
ready=$(sed -n 's/^READY //p' "$work/log.txt")
first=$(sed -n 's/^FIRST //p' "$work/log.txt" | median)
reread=$(sed -n 's/^REREAD [0-9]* //p' "$work/log.txt" | median)
diffs=$(sed -n 's/^REREAD \([0-9]*\) .*/\1/p' "$work/log.txt" | sort -u | tr '\n' ' ')
bonds=$(sed -n 's/^TABLE \([0-9]*\) .*/\1/p' "$work/log.txt" | sort -u | tr '\n' ' ')
echo "state-bench: $ready of $n holders bound; bonds read: ${bonds:-none}; re-sync differences: ${diffs:-none}"
echo "state-bench: first read (iterator loaded, BTF relocated, verified): median ${first:-?} ms"
echo "state-bench: re-read (SIGUSR2, iterator loaded): median ${reread:-?} ms"
echo "STATEBENCH processes=$n bound=$ready first_ms=$first reread_ms=$reread"
[ "$ready" = "$n" ] && [ "$(echo $bonds)" = "$n" ] && [ "$(echo $diffs)" = 0 ] && [ -n "$first" ] && [ -n "$reread" ]
