# tap.sh - TAP output for the shell tests, sourced by each (POSIX sh).
#
#   . "$top/tests/lib/tap.sh"
#   tap_plan 12            "TAP version 13" and the plan; sets total
#   ok DESC / not_ok DESC  one result
#   skip DESC REASON       a skipped check: "ok N - DESC # SKIP REASON" (TAP counts it as skipped)
#   t DESC CMD...          ok if CMD succeeds; on failure, CMD's first lines of output as comments
#   bail REASON            fail every test not yet reported, with one reason, and exit 1
#   tap_done               "# P passed, F failed, S skipped"; returns 1 if any failed (a skip
#                          is never counted as passed)
# A script may redefine tap_on_failure (called after each "not ok") to add diagnostics.
n=0 failed=0 skipped=0 total=0
tap_on_failure() { :; }
tap_plan() { total=$1; echo "TAP version 13"; echo "1..$total"; }
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; tap_on_failure; }
skip() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $1 # SKIP $2"; }
t() {
	_tap_d=$1; shift
	_tap_out=$(mktemp "${TMPDIR:-/tmp}/tap.XXXXXX")
	if "$@" >"$_tap_out" 2>&1; then
		ok "$_tap_d"
	else
		not_ok "$_tap_d"
		sed 's/^/# /' "$_tap_out" | head -n 10
	fi
	rm -f "$_tap_out"
}
bail() { while [ "$n" -lt "$total" ]; do not_ok "$1"; done; exit 1; }
tap_done() {
	echo "# $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
}
