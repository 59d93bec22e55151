#!/bin/sh
# run-tests.sh - run the test layers under prove(1) (TAP).
#
# Usage: tests/run-tests.sh [unit] [cli] [replay] [san] [vm]   (default: all)
#   unit  host unit tests: .output/tests/test_* (make unit-tests)
#   cli   the sva-trace binary on the host: exit codes and messages
#   replay  captures in tests/replay replayed and compared exactly; malformed inputs
#   san   unit and replay tests again, built with ASan+UBSan+LeakSanitizer (.output/san)
#   fuzz  each libFuzzer target: its regression inputs, then FUZZ_SECONDS (60) of fuzzing
#   vm    QEMU guests with Debian kernels: probes load and attach (make STATIC=1; slow)
# 'make check' builds everything first and runs all layers.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
layers=${*:-unit cli replay san fuzz vm}
set --
for l in $layers; do
	case $l in
	unit) set -- "$@" .output/tests/test_* ;;
	cli) set -- "$@" tests/cli/test_*.sh ;;
	replay) set -- "$@" tests/replay/test_*.sh ;;
	san) set -- "$@" .output/san/tests/test_* tests/san/test_*.sh ;;
	fuzz) set -- "$@" tests/fuzz/test_fuzz.sh ;;
	vm) set -- "$@" tests/vm/test_*.sh ;;
	*) echo "run-tests: unknown layer '$l' (expected unit, cli, replay, san, fuzz or vm)" >&2; exit 2 ;;
	esac
done
for t in "$@"; do
	[ -x "$t" ] || { echo "run-tests: $t is missing: build first (make check does)" >&2; exit 2; }
done
exec prove --verbose --timer "$@"
