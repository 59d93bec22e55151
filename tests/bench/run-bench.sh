#!/bin/sh
# run-bench.sh - correlator throughput and memory (issue 3's targets), printed, not asserted.
#   (a) the correlator fed decoded records in-process, as the live ring-buffer path feeds it,
#       with 1 thousand, 100 thousand and 1 million live bonds;
#   (b) sva-trace --replay of a generated JSON Lines capture of LINES events (default 10
#       million), and of a tenth of it: peak RSS must follow the live bonds, not the lines.
# Targets on one core: (a) >= 5 M events/s, (b) >= 500 k lines/s.
#
# bench_correlate exits 1 when the correlator reports a finding on this clean stream (a bug):
# set -e then stops the benchmark there.
# Usage: tests/bench/run-bench.sh [LINES]     (make bench-correlate builds and runs it)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/.output/bench
lines=${1:-10000000}
tmp=${TMPDIR:-/tmp}
cap=$(mktemp "$tmp/sva-bench.XXXXXX")
trap 'rm -f "$cap" "$cap.small"' EXIT INT TERM

echo "machine: $(nproc) CPUs, $(uname -m), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "kernel: $(uname -r); sva-trace $("$top/.output/sva-trace" --version | cut -d' ' -f2)"
echo
echo "(a) correlator in-process (target >= 5 M events/s)"
"$out/bench_correlate" 20000000 1000
"$out/bench_correlate" 10000000 100000
"$out/bench_correlate" 5000000 1000000

echo
echo "(b) sva-trace --replay > /dev/null (target >= 500 k lines/s on one core); 1000 live bonds"
echo "    (CPU time is the figure to compare: wall time includes other load on the machine)"
"$out/gen_capture" "$lines" 1000 >"$cap"
head -n $((lines / 10)) "$cap" >"$cap.small"
for f in "$cap.small" "$cap"; do
	n=$(wc -l <"$f")
	r=$("$out/measure" "$top/.output/sva-trace" --replay "$f" 2>&1 >/dev/null | tail -n 1)
	wall=${r#wall_s=}; wall=${wall%% *}
	cpu=${r#*cpu_s=}; cpu=${cpu%% *}
	rss=${r#*maxrss_kib=}
	echo "replay: $n lines in ${wall} s wall, ${cpu} s CPU: $(awk -v n="$n" -v w="$cpu" 'BEGIN { printf "%.0f", n / w / 1000 }') k lines/s of CPU ($(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", n / w / 1000 }') k/s wall), peak RSS ${rss} KiB"
done
