# san-env.sh - sourced by the tests/san wrappers: points a replay test at the ASan/UBSan/LSan
# build (make san) and makes any sanitizer report fatal. A missing build is one failed test.
#   . "$here/san-env.sh"; exec "$here/../replay/test_X.sh"
san=$here/../../.output/san
for b in sva-trace sva-top; do
	if [ ! -x "$san/$b" ]; then
		echo "1..1"
		echo "not ok 1 - sanitizer build missing: run 'make san'"
		exit 1
	fi
done
export SVA_TRACE_BIN=$san/sva-trace SVA_TOP_BIN=$san/sva-top
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
