#!/bin/sh
# host-bench.sh - the correlator's throughput, memory and instruction cost on the host,
# printed, not asserted (issue 7's host part; issue 3's targets):
#   (a) the correlator fed decoded records in-process, as the live ring-buffer path feeds
#       it, with 10 thousand, 100 thousand and 1 million live bonds (mix.h, steady mode,
#       with process exits and mm drops: --exits), and peak RSS per live bond;
#   (b) sva-trace --replay of generated captures with the same live bonds: events/s and
#       peak RSS of the whole tool (JSON parsing, correlation, text output);
#   (c) sva-trace --replay of a capture of LINES events (default 10 million) with ~600 live
#       bonds, and of a tenth of it: peak RSS must follow the live bonds, not the lines;
#   (d) instructions per event from callgrind (valgrind): the stable figure, the same
#       whatever else the machine does. Replay: instructions of the whole run minus those of
#       a run over an empty capture, per event; correlator: inclusive instructions of
#       correlator_event() per event, at 10 thousand and at 1 million live bonds;
#   (e) the live reader's instructions per record (bench_reader: decode, reorder window,
#       text or JSON line to stdout, correlator), callgrind again.
# Targets on one core (issue 18): (a) and (d) >= 5 M events/s and <= 512 bytes of peak RSS
# per live bond at 1 million live bonds, (b) and (c) >= 500 k lines/s, (e) <= 2,000
# instructions per record.
#
# Every figure line also comes as "HOSTBENCH key=value ..." for tests/bench/bench.sh.
# bench_correlate exits 1 when the correlator reports a finding on this clean stream (a
# bug): set -e stops the benchmark there; so does a replay that fails.
# Usage: tests/bench/host-bench.sh [LINES]     (make bench-host builds and runs it)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/.output/bench
tool=$top/.output/sva-trace
lines=${1:-10000000}
churn=2000000             # events after the steady prelude in (b)
cg_events=200000          # events after the prelude in (d)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sva-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
for b in "$tool" "$out/bench_correlate" "$out/bench_reader" "$out/gen_capture" "$out/measure"; do
	[ -x "$b" ] || { echo "host-bench: $b missing: run 'make bench-host'" >&2; exit 2; }
done
command -v valgrind >/dev/null 2>&1 || { echo "host-bench: valgrind not found: run scripts/setup-deps.sh" >&2; exit 2; }

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s / 1000 }'; }
# replay FILE EVENTS LABEL: one measured replay; prints a line and its HOSTBENCH twin.
replay() {
	r=$("$out/measure" "$tool" --replay "$1" 2>&1 >/dev/null | tail -n 1)
	case $r in wall_s=*) ;; *) echo "host-bench: replay of $1 failed: $r" >&2; exit 1 ;; esac
	wall=${r#wall_s=}; wall=${wall%% *}
	cpu=${r#*cpu_s=}; cpu=${cpu%% *}
	rss=${r#*maxrss_kib=}
	per=${4:+, $((rss * 1024 / $4)) bytes per live bond}
	echo "replay $3: $2 events in $wall s wall, $cpu s CPU: $(rate "$2" "$cpu") k events/s of CPU ($(rate "$2" "$wall") k/s wall), peak RSS $rss KiB$per"
	echo "HOSTBENCH replay_$3 events=$2 cpu_s=$cpu wall_s=$wall kevents_per_s=$(rate "$2" "$cpu") maxrss_kib=$rss${4:+ bytes_per_bond=$((rss * 1024 / $4))}"
}

echo "machine: $(nproc) CPUs, $(uname -m), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "kernel: $(uname -r); sva-trace $("$tool" --version | cut -d' ' -f2)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "(a) correlator in-process, steady live bonds, exits and mm drops (targets >= 5 M events/s, <= 512 bytes per live bond)"
for live in 10000 100000 1000000; do
	l=$("$out/bench_correlate" --steady --exits $((live + 10000000)) "$live")
	rss=$(echo "$l" | sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p')
	echo "$l, $((rss * 1024 / live)) bytes per live bond"
	echo "HOSTBENCH inproc_$live $(echo "$l" | sed -n 's/.*: \([0-9.]*\) M events\/s, peak RSS \([0-9]*\) KiB/mevents_per_s=\1 maxrss_kib=\2/p') bytes_per_bond=$((rss * 1024 / live))"
done

echo
echo "(b) sva-trace --replay > /dev/null, steady live bonds, exits and mm drops: $churn events after binding them all"
echo "    (CPU time is the figure to compare: wall time includes other load on the machine)"
for live in 10000 100000 1000000; do
	"$out/gen_capture" --steady --exits $((live + churn)) "$live" >"$tmp/live.jsonl"
	replay "$tmp/live.jsonl" $((live + churn)) "$live" "$live"
done
rm -f "$tmp/live.jsonl"

echo
echo "(c) sva-trace --replay > /dev/null of $lines events, 1000 slots (~600 live bonds; target >= 500 k/s)"
"$out/gen_capture" "$lines" 1000 >"$tmp/long.jsonl"
head -n $((lines / 10)) "$tmp/long.jsonl" >"$tmp/tenth.jsonl"
replay "$tmp/tenth.jsonl" $(($(wc -l <"$tmp/tenth.jsonl") - 1)) long_tenth
replay "$tmp/long.jsonl" "$lines" long
rm -f "$tmp/long.jsonl" "$tmp/tenth.jsonl"

echo
echo "(d) instructions per event (valgrind --tool=callgrind; 10000 live bonds, $cg_events events after the prelude)"
"$out/gen_capture" --steady $((10000 + cg_events)) 10000 >"$tmp/cg.jsonl"
"$out/gen_capture" --steady 0 1 >"$tmp/empty.jsonl"
ir() { sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$1"; }
valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tool" --replay "$tmp/cg.jsonl" >/dev/null 2>"$tmp/cg.err"
valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tool" --replay "$tmp/empty.jsonl" >/dev/null 2>"$tmp/empty.err"
valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=correlator_event \
	"$out/bench_correlate" --steady $((10000 + cg_events)) 10000 >/dev/null 2>"$tmp/corr.err"
all=$(ir "$tmp/cg.err") base=$(ir "$tmp/empty.err") corr=$(ir "$tmp/corr.err")
[ -n "$all" ] && [ -n "$base" ] && [ -n "$corr" ] || { echo "host-bench: callgrind printed no totals" >&2; exit 1; }
n=$((10000 + cg_events))
echo "replay (JSON parse + correlate + text line): $(((all - base) / n)) instructions/event ($all - $base start-up, over $n events)"
echo "correlator_event() alone: $((corr / n)) instructions/event"
echo "HOSTBENCH callgrind replay_ir_per_event=$(((all - base) / n)) correlator_ir_per_event=$((corr / n)) events=$n"
# The same at 1 million live bonds, exits and mm drops in the mix (the prelude binds count).
big=$((1000000 + cg_events * 5))
valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=correlator_event \
	"$out/bench_correlate" --steady --exits "$big" 1000000 >/dev/null 2>"$tmp/corr1m.err"
corr1m=$(ir "$tmp/corr1m.err")
[ -n "$corr1m" ] || { echo "host-bench: callgrind printed no totals" >&2; exit 1; }
echo "correlator_event() at 1000000 live bonds with exits and mm drops: $((corr1m / big)) instructions/event ($big events)"
echo "HOSTBENCH callgrind_1m correlator_ir_per_event=$((corr1m / big)) events=$big"

echo
echo "(e) the live reader per ring-buffer record (bench_reader: decode, reorder window, line to stdout, correlator; 10000 live bonds; target <= 2000)"
for fmt in text json; do
	valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=reader_record \
		"$out/bench_reader" $([ $fmt = json ] && echo --json) $((10000 + cg_events)) 10000 \
		>/dev/null 2>"$tmp/reader.err"
	rd=$(ir "$tmp/reader.err")
	[ -n "$rd" ] || { echo "host-bench: callgrind printed no totals" >&2; exit 1; }
	echo "reader, $fmt lines: $((rd / n)) instructions/record (over $n records)"
	echo "HOSTBENCH reader_$fmt ir_per_record=$((rd / n)) records=$n"
done
