#!/bin/sh
# run-tests.sh - run the test layers under prove(1) (TAP).
#
# Usage: tests/run-tests.sh [unit] [cli] [replay] [san] [fuzz] [vm] [vm-full]
#   (default: all but vm-full)
#   unit  host unit tests: .output/tests/test_* (make unit-tests)
#   cli   the sva-trace binary on the host: exit codes and messages
#   replay  captures in tests/replay replayed and compared exactly; malformed inputs
#   san   unit and replay tests again, built with ASan+UBSan+LeakSanitizer (.output/san)
#   fuzz  each libFuzzer target: its regression inputs, then FUZZ_SECONDS (60) of fuzzing
#   vm    QEMU guests with Debian kernels: probes load and attach (make STATIC=1; slow)
#   vm-full  tests/vm-full: the arm64 lab kernel's guests (make ARCH=arm64; a cold run
#         builds the arm64 lab kernel first, see README.md "CI time")
# 'make check' builds everything first and runs all layers but vm-full; 'make check-full'
# runs vm-full after them.
#
# The host layers (unit, cli, replay, san) run TEST_JOBS (2) files at a time: each file has
# its own temporary folder and kernel-chosen ports, and most of their time is sleeps and
# waits, not CPU. fuzz (time-boxed, CPU-bound) and vm (one guest at a time) run one by one
# after them.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
layers=${*:-unit cli replay san fuzz vm}
host=
serial=
for l in $layers; do
	case $l in
	unit) host="$host $(echo .output/tests/test_*)" ;;
	cli) host="$host $(echo tests/cli/test_*.sh)" ;;
	replay) host="$host $(echo tests/replay/test_*.sh)" ;;
	san) host="$host $(echo .output/san/tests/test_* tests/san/test_*.sh)" ;;
	fuzz) serial="$serial tests/fuzz/test_fuzz.sh" ;;
	vm) serial="$serial $(echo tests/vm/test_*.sh)" ;;
	vm-full) serial="$serial $(echo tests/vm-full/test_*.sh)" ;;
	*) echo "run-tests: unknown layer '$l' (expected unit, cli, replay, san, fuzz, vm or vm-full)" >&2; exit 2 ;;
	esac
done
for t in $host $serial; do
	[ -x "$t" ] || { echo "run-tests: $t is missing: build first (make check does)" >&2; exit 2; }
done
rc=0
if [ -n "$host" ]; then
	# shellcheck disable=SC2086 # word splitting of the file lists is intended
	prove --verbose --timer -j "${TEST_JOBS:-2}" $host || rc=1
fi
if [ -n "$serial" ]; then
	# shellcheck disable=SC2086
	prove --verbose --timer $serial || rc=1
fi
exit $rc
