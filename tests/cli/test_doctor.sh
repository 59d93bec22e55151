#!/bin/sh
# test_doctor.sh - TAP: `sva-trace doctor` against fixture machines (tests/cli/doctor/
# fixtures.sh builds their /proc, /sys and /boot): the text report and the --json document
# compared exactly with tests/cli/doctor/expected/CASE.{txt,json}, the exit code, and the
# usage errors. Also: doctor writes nothing (the fixture tree is unchanged after a run).
#
# Usage: test_doctor.sh [--bless]   (--bless rewrites the expected files; review the diff)
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
jqt="$here/../lib/jq-true" # exactly one value, true (jq -e passes on empty input)
. "$here/doctor/fixtures.sh"
bin=${SVA_TRACE_BIN:-$here/../../.output/sva-trace}
expdir=$here/doctor/expected
bless=0
[ "${1:-}" = --bless ] && bless=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
chmod 755 "$work"

# The exit code each machine must give: 0 only where some device can bind SVA.
want_rc() {
	case $1 in
	vtd_sva|amd) echo 0 ;;
	*) echo 1 ;;
	esac
}

# Runs doctor on a fixture, unprivileged for the "unprivileged" case (when we are root).
run_doctor() { # CASE ARGS...
	c=$1; shift
	if [ "$c" = unprivileged ] && [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$work/sva-trace" doctor \
			--root "$work/$c" "$@"
	else
		"$work/sva-trace" doctor --root "$work/$c" "$@"
	fi
}

set -- $DOCTOR_CASES
tap_plan $(($# * 4 + 14))
[ -x "$bin" ] || bail "$bin is missing: run make first"
cp "$bin" "$work/sva-trace" && chmod 755 "$work/sva-trace"

for c in $DOCTOR_CASES; do
	mkdir -p "$work/$c"
	"case_$c" "$work/$c"
	chmod -R go+rX "$work/$c" 2>/dev/null
	[ "$c" = unprivileged ] && chmod 0400 "$work/$c/boot/config-$K72"
	(cd "$work/$c" && find . | LC_ALL=C sort | xargs ls -ld --time-style=+%s 2>/dev/null) >"$work/$c.before"

	for fmt in txt json; do
		if [ $fmt = json ]; then run_doctor "$c" --json; else run_doctor "$c"; fi \
			>"$work/out" 2>"$work/err"
		rc=$?
		sed "s|$work/$c|ROOT|g" "$work/out" >"$work/$c.$fmt"
		[ $bless = 1 ] && cp "$work/$c.$fmt" "$expdir/$c.$fmt"
		if [ "$rc" = "$(want_rc "$c")" ] && [ ! -s "$work/err" ]; then
			ok "$c ($fmt): exit $rc, nothing on stderr"
		else
			not_ok "$c ($fmt): exit $rc (want $(want_rc "$c")), stderr empty"
			sed 's/^/#   /' "$work/err" | head -n 5
		fi
		if cmp -s "$work/$c.$fmt" "$expdir/$c.$fmt"; then
			ok "$c ($fmt): output is exactly expected/$c.$fmt"
		else
			not_ok "$c ($fmt): output is exactly expected/$c.$fmt"
			diff -u "$expdir/$c.$fmt" "$work/$c.$fmt" 2>&1 | head -n 30 | sed 's/^/#   /'
		fi
	done
	(cd "$work/$c" && find . | LC_ALL=C sort | xargs ls -ld --time-style=+%s 2>/dev/null) >"$work/$c.after"
	cmp -s "$work/$c.before" "$work/$c.after" || echo "# $c: the fixture tree changed during the run" >>"$work/changed"
done

# The JSON documents parse, carry the format version and agree with the exit code.
if command -v jq >/dev/null; then
	bad=
	for c in $DOCTOR_CASES; do
		"$jqt" --argjson rc "$(want_rc "$c")" '.type == "doctor" and .format == 1 and .exit_code == $rc
			and ((.can_bind | length > 0) == ($rc == 0))
			and ([.devices[] | select(.verdict == "can_bind") | .bdf] == .can_bind)' \
			"$work/$c.json" >/dev/null || bad="$bad $c"
	done
	[ -z "$bad" ] && ok "every --json document parses, is format 1, and can_bind agrees with the exit code" ||
		not_ok "JSON documents well-formed and consistent (bad:$bad)"
else
	not_ok "jq is needed to check the JSON documents (scripts/setup-deps.sh installs it)"
fi
[ ! -e "$work/changed" ] && ok "doctor wrote nothing: every fixture tree is unchanged after its runs" ||
	{ not_ok "doctor wrote nothing"; sed 's/^/#   /' "$work/changed"; }

# expect DESCRIPTION RC STDERR_SUBSTRING ARGS...
expect() {
	d=$1 want=$2 pat=$3; shift 3
	"$work/sva-trace" "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	if [ "$rc" = "$want" ] && grep -qF -- "$pat" "$work/err"; then
		ok "$d"
	else
		not_ok "$d"
		echo "# rc=$rc (want $want), stderr:"; sed 's/^/#   /' "$work/err"
	fi
}
expect "doctor: an unknown option is a usage error (exit 2)" 2 \
	"sva-trace doctor: unknown option '--bogus' (see sva-trace doctor --help)" doctor --bogus
expect "doctor: --root without a value is a usage error" 2 "--root needs a value" doctor --root
expect "doctor: an operand is a usage error" 2 "unexpected argument 'x': doctor takes no operands" doctor x
expect "doctor: an empty --root is exit 2 (not this machine's /)" 2 \
	"--root '' is not a directory: name one" doctor --root=
expect "doctor: a --root that is not a directory is exit 2, named" 2 \
	"root '$work/nope' is not a directory" doctor --root "$work/nope"
mkdir -p "$work/empty"
expect "doctor: a root without procfs is an environment error naming the file" 2 \
	"cannot read $work/empty/proc/sys/kernel/osrelease: is procfs mounted?" doctor --root "$work/empty"
SVA_TRACE_SYSROOT=$work/vtd_legacy "$work/sva-trace" doctor >"$work/out" 2>&1
rc=$?
sed "s|$work/vtd_legacy|ROOT|g" "$work/out" >"$work/env.txt"
[ $rc = 1 ] && cmp -s "$work/env.txt" "$expdir/vtd_legacy.txt" &&
	ok "SVA_TRACE_SYSROOT selects the root like --root" ||
	not_ok "SVA_TRACE_SYSROOT selects the root like --root (rc $rc)"
"$work/sva-trace" doctor --json --bogus >"$work/out" 2>/dev/null
rc=$?
[ $rc = 2 ] && "$jqt" '.type == "error" and .code == 2 and (.message | test("--bogus"))' "$work/out" >/dev/null 2>&1 &&
	ok "doctor --json: a usage error is also a JSON error record on stdout" ||
	not_ok "doctor --json: a usage error is also a JSON error record (rc $rc)"
"$work/sva-trace" doctor --help >"$work/out" 2>&1
[ $? = 0 ] && grep -q -- "--root DIR" "$work/out" && grep -q "Exit status" "$work/out" &&
	ok "doctor --help: options and exit status, exit 0" || not_ok "doctor --help"
# A report stdout does not take (a full disk) is an error that says so, not a silent exit 2.
bad=
for f in "" --json; do
	"$work/sva-trace" doctor --root "$work/vtd_sva" $f >/dev/full 2>"$work/err"; rc=$?
	[ $rc = 2 ] && grep -qx "sva-trace doctor: writing the report to stdout failed: No space left on device" "$work/err" ||
		bad="$bad [${f:-text}: rc $rc, $(head -c 200 "$work/err")]"
done
[ -z "$bad" ] && ok "doctor >/dev/full (text and --json): exit 2, says writing the report failed" ||
	not_ok "doctor >/dev/full (text and --json): exit 2, says writing the report failed:$bad"
# The live machine (this host): doctor runs, and its exit code matches its verdict.
"$work/sva-trace" doctor --json >"$work/live.json" 2>"$work/err"
rc=$?
{ [ $rc = 0 ] || [ $rc = 1 ]; } && "$jqt" --argjson rc $rc '.exit_code == $rc' "$work/live.json" >/dev/null 2>&1 &&
	ok "doctor on this host: exit $rc agrees with its JSON verdict" ||
	not_ok "doctor on this host (rc $rc)"
# Unprivileged, the report says what root would add (checked in the expected file too).
grep -q "^As root doctor would also read: PCI extended config space" "$expdir/unprivileged.txt" &&
	grep -q "^As root doctor would also read: PCI extended config space" "$work/unprivileged.txt" &&
	ok "unprivileged: the report says root would read the PCI extended config space" ||
	not_ok "unprivileged: the report says what root would add"

tap_done
