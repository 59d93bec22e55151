#!/bin/sh
# test_replay_san.sh - the replay tests against the ASan/UBSan/LSan build (make san).
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../../.output/san/sva-trace
if [ ! -x "$bin" ]; then
	echo "1..1"
	echo "not ok 1 - sanitizer build missing: run 'make san'"
	exit 1
fi
export SVA_TRACE_BIN=$bin
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
exec "$here/../replay/test_replay.sh"
