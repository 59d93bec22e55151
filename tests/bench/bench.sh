#!/bin/sh
# bench.sh - every benchmark of issue 7, then docs/PERFORMANCE.md written from what they
# printed (make bench runs it):
#   tests/bench/vm-bench.sh    tracing overhead in the lab VM: untraced vs sva-trace vs bpftrace
#   tests/bench/host-bench.sh  correlator/replay throughput, peak RSS, callgrind instructions
#   tests/bench/state-bench.sh the state read at start-up with 1000 bound processes (lab VM)
# Both outputs are shown as they run and kept verbatim in the document (vm-bench's own
# table and target verdicts; the host table is made from host-bench's "HOSTBENCH ..."
# lines), so every figure in the file is one the run printed. The file is replaced only when both parts succeeded (a
# temporary file renamed over it): a failed run leaves the previous document whole.
# Usage: tests/bench/bench.sh [--out FILE] [LINES]   (default docs/PERFORMANCE.md)
# VMBENCH_ARGS in the environment: vm-bench.sh's options (e.g. --kernel BZIMAGE)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
doc=$top/docs/PERFORMANCE.md
if [ "${1:-}" = --out ]; then
	[ $# -ge 2 ] || { echo "bench: --out needs a file" >&2; exit 2; }
	doc=$2; shift 2
fi
lines=${1:-10000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sva-benchdoc.XXXXXX")
trap 'rm -rf "$tmp"; rm -f "$doc.tmp.$$"' EXIT
trap 'exit 130' INT TERM HUP
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$(date +%s)
# What is measured is the tree as it is now, not after edits made while it runs.
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$top" status --porcelain --untracked-files=no 2>/dev/null | head -n 1)

# run NAME CMD...: show its output as it comes, keep it in $tmp/NAME.out, fail on its failure.
run() {
	name=$1; shift
	echo "== $*"
	{ "$@" 2>&1; echo "$?" >"$tmp/$name.rc"; } | tee "$tmp/$name.out"
	if [ "$(cat "$tmp/$name.rc")" != 0 ]; then
		echo "bench: $* failed (exit $(cat "$tmp/$name.rc")); $doc left as it was" >&2
		exit 1
	fi
}
# shellcheck disable=SC2086
run vm "$top/tests/bench/vm-bench.sh" ${VMBENCH_ARGS:-}
run host "$top/tests/bench/host-bench.sh" "$lines"
run state "$top/tests/bench/state-bench.sh"

# kv FILE TAG KEY: the value of KEY= on the line starting "TAG " (tags are unique).
kv() { sed -n "s/^$2 .*\\<$3=\\([^ ]*\\).*/\\1/p" "$1" | head -n 1; }
h() { kv "$tmp/host.out" "HOSTBENCH $1" "$2"; }
{
	echo "# sva-trace performance"
	echo
	echo "Written by \`make bench\` (tests/bench/bench.sh) on $started, in $(( $(date +%s) - t0 )) s;"
	echo "sva-trace $("$top/.output/sva-trace" --version | cut -d' ' -f2), commit $commit${dirty:+ (with uncommitted changes)}."
	echo "Do not edit the figures by hand: run \`make bench\` again. Every number below is one the"
	echo "benchmarks printed in that run; their whole output is at the end."
	echo
	echo "## Machine"
	echo
	echo "- Host: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- Host kernel: $(uname -r) ($(uname -m)); $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- Guest: $(sed -n 's/^vm-bench: //p' "$tmp/vm.out" | head -n 1); QEMU $(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([^ ]*\).*/\1/p') TCG"
	echo "- Load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "## Commands"
	echo
	echo '```'
	echo "make bench                                  # all of it, writes this file"
	echo "tests/bench/vm-bench.sh                     # the lab-VM overhead benchmark alone (make bench-vm)"
	echo "make bench-host LINES=$lines          # the host part alone"
	echo '```'
	echo
	echo "## Lab VM: what tracing costs the traced paths"
	echo
	echo "tests/bench/vm-bench.sh: one boot of the lab kernel, each path driven in a loop by"
	echo "lab/guest/sva_bench untraced, under sva-trace (JSON, text, and with its reader stopped: the"
	echo "probes alone), under an equivalent bpftrace script (tests/bench/sva.bt) and under the"
	echo "empty-program floor (tests/bench/sva_floor.c: a program without a body on each function and"
	echo "attach type sva-trace uses, what any BPF tracer of them pays), rotating; every ratio is the"
	echo "median over the rounds with the lowest and highest round beside it. The guest runs with"
	echo "QEMU's -icount shift=0: its clock counts the instructions it executes, so the loops' figures"
	echo "are instruction counts that do not move with the host's load (issue 18 saw wall-clock"
	echo "ratios under TCG move by half between an idle and a busy run). As it printed it:"
	echo
	echo '```'
	sed -n '/^sva-trace guest benchmark/,$p' "$tmp/vm.out" | grep -v '^VMBENCH '
	echo '```'
	echo
	echo "### The 2 % target and the per-operation floor (issue 18, point 5)"
	echo
	v() { kv "$tmp/vm.out" "VMBENCH $1" "$2"; }
	echo "TCG cannot judge a native 2 % (its untraced operation is a mock driver's, emulated). What"
	echo "it does measure, in instructions per operation of the lab kernel's bind+unbind: the"
	echo "untraced operation $(v 'perop path=bind' untraced_ns); the floor (trampolines and empty programs on"
	echo "the same functions) $(v 'perop path=bind' floor_added_ns); sva-trace's probes with the reader stopped"
	echo "$(v 'perop path=bind' kern_added_ns) ($(v 'floor path=bind' multiple)x the floor), of which its programs' bodies"
	echo "$(v 'perop path=bind' sva_prog_ns) (bpf_stats); with the --json reader on the same CPU $(v 'perop path=bind' json_added_ns)."
	echo "On hardware at the same cost per probe, sva-trace's probes are 2 % of a bind+unbind that"
	echo "costs at least $(v 'perop path=bind' native_2pct_needs_kern_ns) instructions, and probes plus the --json reader of one"
	echo "that costs $(v 'perop path=bind' native_2pct_needs_json_ns). The floor alone is 2 % of one that costs"
	echo "$(awk "BEGIN { printf \"%.0f\", $(v 'perop path=bind' floor_added_ns) / 0.02 }"): no BPF tracer of these functions can do better"
	echo "than that. The table \"per operation\" above gives the same for attach+detach and the look-up."
	echo
	echo "## Lab VM: reading the state at start-up (issue 14)"
	echo
	echo "tests/bench/state-bench.sh: $(kv "$tmp/state.out" STATEBENCH bound) processes each bound on its own mock"
	echo "device (its own iommu group) in one lab-kernel boot, then \`sva-trace -v\` 3 times: the first"
	echo "read of the state (the task iterator opened, relocated, verified and run: once per"
	echo "start) took a median $(kv "$tmp/state.out" STATEBENCH first_ms) ms; a re-read (SIGUSR2, the iterator loaded)"
	echo "$(kv "$tmp/state.out" STATEBENCH reread_ms) ms, finding 0 differences. Under TCG; as it printed it:"
	echo
	echo '```'
	grep -v '^STATEBENCH ' "$tmp/state.out" | sed -n '/^state-bench: /p'
	echo '```'
	echo
	echo "## Host: correlator and replay"
	echo
	echo "One core; CPU time (wall time includes other load). Live bonds are held steady: all bound"
	echo "first, every last unbind followed by the next bind, with exits of processes holding no"
	echo "bond and their mm drops in the mix (tests/bench/mix.h, --steady --exits). Targets at 1 M"
	echo "live bonds (issue 18): 5 M events/s in-process, 500 k lines/s replayed, 512 bytes of peak"
	echo "RSS per live bond."
	echo
	echo "| live bonds | correlator in-process | peak RSS | per live bond | sva-trace --replay | peak RSS | per live bond |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for l in 10000 100000 1000000; do
		echo "| $l | $(h "inproc_$l" mevents_per_s) M events/s | $(( $(h "inproc_$l" maxrss_kib) / 1024 )) MiB | $(h "inproc_$l" bytes_per_bond) B | $(h "replay_$l" kevents_per_s) k events/s | $(( $(h "replay_$l" maxrss_kib) / 1024 )) MiB | $(h "replay_$l" bytes_per_bond) B |"
	done
	echo
	echo "Long capture, ~600 live bonds (memory must follow the live bonds, not the length):"
	echo "$(h replay_long_tenth events) events at $(h replay_long_tenth kevents_per_s) k/s with $(h replay_long_tenth maxrss_kib) KiB peak RSS;"
	echo "$(h replay_long events) events at $(h replay_long kevents_per_s) k/s with $(h replay_long maxrss_kib) KiB (target >= 500 k/s)."
	echo
	echo "Instructions per event (callgrind; the stable figure): whole replay (JSON parsing,"
	echo "correlation, the text line) $(h callgrind replay_ir_per_event); \`correlator_event()\` alone"
	echo "$(h callgrind correlator_ir_per_event) (10000 live bonds, $(h callgrind events) events);"
	echo "\`correlator_event()\` at 1 M live bonds with exits and mm drops $(h callgrind_1m correlator_ir_per_event)"
	echo "($(h callgrind_1m events) events, the 1 M binds that make them live included)."
	echo
	echo "The live reader per ring-buffer record (tests/bench/bench_reader.c: sva_event_decode, the"
	echo "cause, the reorder window, the line to stdout, the correlator, as session.c and run.c do"
	echo "them; callgrind, 10000 live bonds; target 2,000): text $(h reader_text ir_per_record),"
	echo "JSON $(h reader_json ir_per_record) instructions per record."
	echo
	# measured by hand once (before/after figures of issue 18's changes): kept, not re-run
	cat "$top/tests/bench/issue18.md"
	echo
	echo "## JSON parser: yajl, not jansson (measured once, 2026-12-02; not re-run by make bench)"
	echo
	echo "Replays (src/replay.c) and exports (src/postmortem.c) used two JSON libraries; issue 12 kept"
	echo "the one that measured faster on the same input. Input: \`.output/bench/gen_capture 1000000 1000\`"
	echo "(1,000,002 lines, 328,733,828 bytes), read into memory, every line parsed by each library"
	echo "in a throwaway program (in the message of the commit that dropped jansson): yajl 2.1.0"
	echo "(\`yajl_parse\` with empty callbacks, a new handle per line) against jansson 2.14"
	echo "(\`json_loadb\` into a tree with JSON_REJECT_DUPLICATES, then \`json_decref\`). On the host"
	echo "above, load average about 10 (so CPU time, not wall), 3 rounds: yajl 0.94 to 1.06 s of CPU"
	echo "(945 to 1063 k lines/s), jansson 7.01 to 7.40 s (135 to 143 k lines/s). Under callgrind"
	echo "(the first 20,001 lines, less the cost of reading them): yajl 13,605 instructions per line,"
	echo "jansson 73,035. jansson's parse alone costs more than a whole yajl replay (\`sva-trace"
	echo "--replay\` of the same capture: 2.98 to 3.34 s of CPU, parsing, correlation and the text"
	echo "line included), so the exports moved to yajl's tree interface and jansson is no longer"
	echo "linked. Dropping the ~200 lines that re-checked UTF-8 so that yajl's errors matched"
	echo "jansson's took the whole replay from 20,499 to 19,920 instructions per event (callgrind,"
	echo "\`sva-trace --replay\` of those 20,001 lines)."
	echo
	echo "## Full output"
	echo
	echo '```'
	cat "$tmp/vm.out"
	echo '```'
	echo
	echo '```'
	cat "$tmp/host.out"
	echo '```'
} >"$doc.tmp.$$"
mv -f "$doc.tmp.$$" "$doc"
echo "bench: wrote $doc"
