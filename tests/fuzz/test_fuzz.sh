#!/bin/sh
# test_fuzz.sh - TAP: each libFuzzer target (make fuzz) first replays its regression inputs
# (tests/fuzz/regress/TARGET: every crash ever found), then fuzzes for FUZZ_SECONDS (default
# 60) from its seed corpus. Any crash, sanitizer report or leak fails the test and leaves the
# input in .output/fuzz/artifacts/ to be added to regress/. The targets run side by side
# (FUZZ_JOBS, default 2: one per core of the machines this runs on), each for the full time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
targets=$(cd "$here" && ls fuzz_*.c | sed 's/\.c$//')
res=$(mktemp -d)
trap 'rm -rf "$res"' EXIT INT TERM

# fuzz_one TARGET: its two results, as "ok|not ok<TAB>description" lines and "# ..." comments,
# in $res/TARGET.
fuzz_one() {
	bin=$top/.output/fuzz/$1
	name=${1#fuzz_}
	art=$top/.output/fuzz/artifacts/$name
	mkdir -p "$art"
	if [ ! -x "$bin" ]; then
		printf 'not ok\t%s: regressions (binary missing: make fuzz)\n' "$name"
		printf 'not ok\t%s: fuzz %s s (binary missing: make fuzz)\n' "$name" "$secs"
		return
	fi
	# Every seed and every crash ever found, once each.
	inputs=$(ls "$here/seeds/$name"/* "$here/regress/$name"/* 2>/dev/null)
	if [ -n "$inputs" ] && "$bin" -runs=0 $inputs >"$art/regress.log" 2>&1; then
		printf 'ok\t%s: %s seed and regression inputs pass\n' "$name" "$(echo "$inputs" | wc -l)"
	else
		printf 'not ok\t%s: regression inputs\n' "$name"
		grep -E "ERROR|runtime error" "$art/regress.log" | head -n 5 | sed 's/^/# /'
	fi
	corpus=$(mktemp -d)
	cp "$here/seeds/$name"/* "$corpus"/
	if "$bin" -max_total_time="$secs" -max_len=65536 -artifact_prefix="$art/" \
		"$corpus" >"$art/fuzz.log" 2>&1; then
		printf 'ok\t%s: fuzzed %s s, %s runs, no crash\n' "$name" "$secs" \
			"$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$art/fuzz.log" | tail -n 1)"
	else
		printf 'not ok\t%s: fuzzing found a crash (input in %s)\n' "$name" "$art"
		grep -E "ERROR|runtime error|SUMMARY" "$art/fuzz.log" | head -n 5 | sed 's/^/# /'
	fi
	rm -rf "$corpus"
}

echo "TAP version 13"
echo "1..$(($(echo $targets | wc -w) * 2))"
running=0
for t in $targets; do
	fuzz_one "$t" >"$res/$t" 2>&1 &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
n=0 failed=0
for t in $targets; do
	while IFS= read -r line; do
		case $line in
		"#"*) echo "$line" ;;
		*) n=$((n + 1))
		   status=${line%%"	"*}
		   [ "$status" = ok ] || failed=$((failed + 1))
		   echo "$status $n - ${line#*"	"}" ;;
		esac
	done <"$res/$t"
done
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
