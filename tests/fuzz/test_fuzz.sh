#!/bin/sh
# test_fuzz.sh - TAP: each libFuzzer target (make fuzz) first replays its regression inputs
# (tests/fuzz/regress/TARGET: every crash ever found), then fuzzes for FUZZ_SECONDS (default
# 60) from its seed corpus. Any crash, sanitizer report or leak fails the test and leaves the
# input in .output/fuzz/artifacts/ to be added to regress/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${FUZZ_SECONDS:-60}
targets=$(cd "$here" && ls fuzz_*.c | sed 's/\.c$//')
n=0 failed=0
echo "TAP version 13"
echo "1..$(($(echo $targets | wc -w) * 2))"
for t in $targets; do
	bin=$top/.output/fuzz/$t
	name=${t#fuzz_}
	art=$top/.output/fuzz/artifacts/$name
	mkdir -p "$art"
	if [ ! -x "$bin" ]; then
		n=$((n + 2)); failed=$((failed + 2))
		echo "not ok $((n - 1)) - $name: regressions (binary missing: make fuzz)"
		echo "not ok $n - $name: fuzz $secs s (binary missing: make fuzz)"
		continue
	fi
	n=$((n + 1))
	# Every seed and every crash ever found, once each.
	inputs=$(ls "$here/seeds/$name"/* "$here/regress/$name"/* 2>/dev/null)
	if [ -n "$inputs" ] && "$bin" -runs=0 $inputs >"$art/regress.log" 2>&1; then
		echo "ok $n - $name: $(echo "$inputs" | wc -l) seed and regression inputs pass"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: regression inputs"
		grep -E "ERROR|runtime error" "$art/regress.log" | head -n 5 | sed 's/^/# /'
	fi
	corpus=$(mktemp -d)
	cp "$here/seeds/$name"/* "$corpus"/
	n=$((n + 1))
	if "$bin" -max_total_time="$secs" -max_len=65536 -artifact_prefix="$art/" \
		"$corpus" >"$art/fuzz.log" 2>&1; then
		echo "ok $n - $name: fuzzed $secs s, $(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$art/fuzz.log" | tail -n 1) runs, no crash"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: fuzzing found a crash (input in $art)"
		grep -E "ERROR|runtime error|SUMMARY" "$art/fuzz.log" | head -n 5 | sed 's/^/# /'
	fi
	rm -rf "$corpus"
done
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
