#!/bin/sh
# test_hardening_cli.sh - TAP: sva-trace on the host, hardening of issue 8: --ring-size
# validation, errors as JSON records in --json mode, a kernel with none of the SVA functions,
# replay interrupted by signals (no export, the old one intact), replay | head -1 (EPIPE), and
# the addresses of a --raw-pointers capture or export through every front end (KASLR), and a
# stdout that cannot be written (/dev/full): an error, not a quiet exit 0.
# The live-kernel parts (overflow, signals during attach, capabilities, bpffs/tracefs,
# map memory) are in tests/vm/test_hardening_vm.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
jqt="$here/../lib/jq-true" # exactly one value, true (jq -e passes on empty input)
bin=${SVA_TRACE_BIN:-$top/.output/sva-trace}
topbin=${SVA_TOP_BIN:-$(dirname "$bin")/sva-top}
cap=$top/tests/replay/captures/clean_nested.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

show() { echo "# rc=$rc; stdout:"; sed 's/^/#   /' "$work/out"; echo "# stderr:"; sed 's/^/#   /' "$work/err"; }
run() { "$bin" "$@" >"$work/out" 2>"$work/err" </dev/null; rc=$?; }

# expect_usage DESCRIPTION STDERR_PATTERN ARGS...: exit 2, the pattern on stderr, stdout empty
expect_usage() {
	d=$1 pat=$2; shift 2
	run "$@"
	if [ $rc = 2 ] && grep -qF -- "$pat" "$work/err" && [ ! -s "$work/out" ]; then ok "$d"; else not_ok "$d"; show; fi
}
# expect_json_error DESCRIPTION CODE MESSAGE_REGEX ARGS...: exit CODE, stdout is exactly one
# {"type":"error","code":CODE,"message":...} record, and stderr still has the text
expect_json_error() {
	d=$1 code=$2 re=$3; shift 3
	run "$@"
	if [ "$rc" = "$code" ] && [ "$(grep -c . "$work/out")" = 1 ] &&
		"$jqt" --argjson c "$code" --arg re "$re" \
			'.type == "error" and .code == $c and (.message | test($re)) and (.message | test("^sva-trace: ") | not)' \
			"$work/out" >/dev/null && [ -s "$work/err" ]; then
		ok "$d"
	else
		not_ok "$d"; show
	fi
}

tap_plan 31

# --ring-size
expect_usage "--ring-size not a power of two is a usage error naming the rule" \
	"invalid --ring-size '6K': expected a power of two" --ring-size 6K --replay "$cap"
expect_usage "--ring-size below the page size is a usage error" "invalid --ring-size '2048'" \
	--ring-size 2048 --replay "$cap"
expect_usage "--ring-size above 2G is a usage error" "invalid --ring-size '4G'" --ring-size 4G --replay "$cap"
expect_usage "--ring-size with a bad suffix is a usage error" "invalid --ring-size '1T'" --ring-size 1T --replay "$cap"
run --ring-size 64K --replay "$cap"
[ $rc = 0 ] && ok "--ring-size 64K is accepted" || { not_ok "--ring-size 64K is accepted"; show; }
run --ring-size 4MiB --replay "$cap"
[ $rc = 0 ] && ok "--ring-size 4MiB is accepted (binary units)" || { not_ok "--ring-size 4MiB is accepted"; show; }

# errors as JSON
expect_json_error "--json then a bad --pid: one error record (code 2) on stdout" 2 "invalid --pid 'abc'" \
	--json -p abc
expect_json_error "-j then a bad --ring-size: one error record on stdout" 2 "invalid --ring-size" \
	-j --ring-size 5
run --pid abc --json
[ $rc = 2 ] && [ ! -s "$work/out" ] && ok "a usage error before --json was seen stays text-only (stdout empty)" ||
	{ not_ok "a usage error before --json was seen stays text-only"; show; }
expect_json_error "--json --replay of a missing file: an error record" 2 "cannot open the capture '/nonexistent.jsonl'" \
	--json --replay /nonexistent.jsonl
run --json --replay "$top/tests/replay/malformed/wrong_type.jsonl"
if [ $rc = 2 ] && tail -n 1 "$work/out" | "$jqt" '.type == "error" and .code == 2 and (.message | test("wrong_type.jsonl:1: field .pid.|wrong_type.jsonl:1: field .pasid."))' >/dev/null &&
	tail -n 1 "$work/out" | "$jqt" '.message | test("replay takes a JSON Lines capture")' >/dev/null; then
	ok "--json replay of a malformed capture: the stream ends with an error record naming line and field"
else
	not_ok "--json replay of a malformed capture: the stream ends with an error record"; show
fi
mkdir -p "$work/ro" && chmod 555 "$work/ro"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	cp "$bin" "$work/sva-trace" && chmod 755 "$work" "$work/sva-trace"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$work/sva-trace" --json -d 1 >"$work/out" 2>"$work/err"; rc=$?
	if [ $rc = 2 ] && "$jqt" '.type == "error" and .code == 2 and (.message | test("needs CAP_BPF and CAP_PERFMON")) and (.message | test("sudo sva-trace"))' "$work/out" >/dev/null; then
		ok "--json without privileges: an error record saying to run as root"
	else
		not_ok "--json without privileges: an error record saying to run as root"; show
	fi
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$work/sva-trace" --json --replay "$cap" --export "$work/ro/x.json" >"$work/out" 2>"$work/err"; rc=$?
	if [ $rc = 2 ] && "$jqt" '.type == "error" and .code == 2 and (.message | test("--export: cannot create files in"))' "$work/out" >/dev/null; then
		ok "--json with an unwritable --export folder: an error record"
	else
		not_ok "--json with an unwritable --export folder: an error record"; show
	fi
	unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && '$bin' --json -d 1" >"$work/out" 2>"$work/err"; rc=$?
	if [ $rc = 2 ] && "$jqt" '.type == "error" and .code == 2 and (.message | test("this kernel has no BTF")) and (.message | test("pass --btf FILE"))' "$work/out" >/dev/null; then
		ok "--json on a kernel without BTF: an error record with what to do"
	else
		not_ok "--json on a kernel without BTF: an error record with what to do"; show
	fi
	# A kernel with none of the SVA functions: this host's /proc/kallsyms replaced by an empty
	# file and our own BPF object's BTF (which names none of them) given as the kernel's.
	: >"$work/kallsyms"
	unshare -m sh -c "mount --bind '$work/kallsyms' /proc/kallsyms && '$bin' --btf '$top/.output/sva_trace.bpf.o' -d 1" \
		>"$work/out" 2>"$work/err"; rc=$?
	if [ $rc = 2 ] && grep -q "this kernel has none of the IOMMU SVA/PASID functions" "$work/err" &&
		grep -q "CONFIG_IOMMU_SVA" "$work/err" && grep -q "sva-trace --check" "$work/err"; then
		ok "a kernel with none of the SVA functions: exit 2, says so and what to use instead"
	else
		not_ok "a kernel with none of the SVA functions: exit 2, says so and what to use instead"; show
	fi
	unshare -m sh -c "mount --bind '$work/kallsyms' /proc/kallsyms && '$bin' --json --btf '$top/.output/sva_trace.bpf.o' -d 1" \
		>"$work/out" 2>"$work/err"; rc=$?
	if [ $rc = 2 ] && "$jqt" '.type == "error" and .code == 2 and (.message | test("none of the IOMMU SVA/PASID functions"))' "$work/out" >/dev/null; then
		ok "... and with --json the same as an error record"
	else
		not_ok "... and with --json the same as an error record"; show
	fi
else
	for d in "--json unprivileged" "--json unwritable export" "--json no BTF" "no SVA functions" "no SVA functions, JSON"; do
		skip "$d" "needs root, setpriv and unshare"
	done
fi

# Replay interrupted: the summary of what was read, exit 1, no export (the old one stays).
"$bin" --replay "$cap" --export "$work/r.json" >/dev/null 2>&1
cp "$work/r.json" "$work/r.before" 2>/dev/null
for s in TERM HUP INT; do
	{ cat "$cap"; sleep 3; } | "$bin" --replay - --export "$work/r.json" >"$work/out" 2>"$work/err" &
	p=$!
	sleep 1
	kill -$s $p; wait $p; rc=$?
	if [ $rc = 1 ] && grep -q "events" "$work/out" && grep -q "interrupted after line [0-9]* by" "$work/err" &&
		grep -q "the export was not written" "$work/err" && cmp -s "$work/r.json" "$work/r.before" &&
		[ -z "$(ls "$work" | grep '^r\.json\.')" ]; then
		ok "replay interrupted by SIG$s: exit 1, the summary so far, the previous export intact, no temp file"
	else
		not_ok "replay interrupted by SIG$s: exit 1, the summary so far, the previous export intact, no temp file"; show
	fi
done
wait

# EPIPE: sva-trace --replay ... --json | head -1 stops at once, exit 0, quietly.
awk 'NR == 1 { print; next } NR <= 9 { body = body $0 "\n" } END { for (i = 0; i < 20000; i++) printf "%s", body }' \
	"$cap" >"$work/big.jsonl"
start=$(date +%s%N)
{ "$bin" --replay "$work/big.jsonl" --json 2>"$work/err"; echo $? >"$work/rc"; } | head -n 1 >"$work/out"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
"$bin" --replay "$work/big.jsonl" --json >/dev/null 2>&1
start=$(date +%s%N); "$bin" --replay "$work/big.jsonl" --json >/dev/null 2>&1; full=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# | head -1 took $ms ms; the whole 160000-record replay $full ms"
if [ "$(cat "$work/rc")" = 0 ] && [ ! -s "$work/err" ] && grep -q '"type":"start"' "$work/out" && [ $ms -lt $((full / 2 + 50)) ]; then
	ok "--replay --json | head -1: exit 0, quiet, stops at the closed pipe (well before the end)"
else
	not_ok "--replay --json | head -1: exit 0, quiet, stops at the closed pipe"; show
fi

# A stdout that refuses writes (a full disk) loses output: exit 1 and why, on every path.
"$bin" --replay "$top/tests/replay/captures/leak_and_mismatch.jsonl" --export "$work/pm.json" >/dev/null 2>&1
bad=
for args in "--replay $cap" "--replay $work/big.jsonl --json" "--report $work/pm.json" "--report $work/pm.json --json" --help --version; do
	"$bin" $args >/dev/full 2>"$work/err"; rc=$?
	[ $rc = 1 ] && grep -qx "sva-trace: writing to stdout failed: No space left on device; the output is incomplete" "$work/err" ||
		bad="$bad [$args: rc $rc, $(head -c 200 "$work/err")]"
done
[ -z "$bad" ] && ok "stdout on a full disk (replay text and JSON, --report, --help, --version): exit 1, says so" ||
	not_ok "stdout on a full disk (replay text and JSON, --report, --help, --version): exit 1, says so:$bad"
bad=
for f in "" --json; do
	"$topbin" -b -n 3 -d 0.2 --speed 0 --replay "$cap" $f >/dev/full 2>"$work/err"; rc=$?
	[ $rc = 1 ] && grep -qx "sva-top: writing to stdout failed: No space left on device; frames are missing" "$work/err" ||
		bad="$bad [${f:-text}: rc $rc, $(head -c 200 "$work/err")]"
done
[ -z "$bad" ] && ok "sva-top -b on a full disk (text and --json frames): exit 1, says so" ||
	not_ok "sva-top -b on a full disk (text and --json frames): exit 1, says so:$bad"
# An export the disk has no room for (a 64 KiB tmpfs, full): exit 1, the previous file intact, no
# temporary file left, and with --json the stream ends with an error record saying why.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	mkdir -p "$work/full"
	unshare -m sh -c "mount -t tmpfs -o size=64k none '$work/full' &&
		echo previous >'$work/full/x.json' &&
		{ dd if=/dev/zero of='$work/full/fill' bs=1k count=64 2>/dev/null; true; } &&
		'$bin' --replay '$top/tests/replay/captures/state_at_start.jsonl' --export '$work/full/x.json' \
			>/dev/null 2>'$work/err.text'; echo \$? >'$work/rc.text'
		'$bin' --json --replay '$top/tests/replay/captures/state_at_start.jsonl' \
			--export '$work/full/x.json' >'$work/out' 2>'$work/err'; echo \$? >'$work/rc.json'
		cat '$work/full/x.json' >'$work/x.after'; ls '$work/full' >'$work/full.ls'
		echo previous >'$work/full/x.json'
		'$bin' --replay '$top/tests/replay/captures/state_at_start.jsonl' -q \
			--metrics-file '$work/full/x.json' >/dev/null 2>'$work/err.metrics'
		echo \$? >'$work/rc.metrics'; cat '$work/full/x.json' >'$work/m.after'"
	if [ "$(cat "$work/rc.text")" = 1 ] && [ "$(cat "$work/rc.json")" = 1 ] &&
		grep -q "No space left on device" "$work/err.text" && [ "$(cat "$work/x.after")" = previous ] &&
		[ "$(cat "$work/full.ls" | tr '\n' ' ')" = "fill x.json " ] &&
		tail -n 1 "$work/out" | "$jqt" '.type == "error" and .code == 1 and (.message | test("No space left on device")) and (.message | test("the export was not written"))' >/dev/null; then
		ok "an export on a full disk: exit 1, the previous file intact, no temporary file; --json ends with an error record"
	else
		not_ok "an export on a full disk: exit 1, the previous file intact, no temporary file; --json ends with an error record"
		echo "# rc $(cat "$work/rc.text") / $(cat "$work/rc.json"); left: $(cat "$work/full.ls" | tr '\n' ' ')"
		tail -n 1 "$work/out" | sed 's/^/#   /'
	fi
	if [ "$(cat "$work/rc.metrics")" = 1 ] && [ "$(cat "$work/m.after")" = previous ] &&
		grep -q "No space left on device" "$work/err.metrics" &&
		grep -qx "sva-trace: --metrics-file: the replay's end state was not written" "$work/err.metrics"; then
		ok "a replay's --metrics-file on a full disk: exit 1, says its end state was not written, the previous file intact"
	else
		not_ok "a replay's --metrics-file on a full disk: exit 1, says its end state was not written (rc $(cat "$work/rc.metrics"))"
		sed 's/^/#   /' "$work/err.metrics"
	fi
else
	skip "an export on a full disk" "needs root and unshare"
	skip "a replay's --metrics-file on a full disk" "needs root and unshare"
fi
# A capture in a FIFO (as --replay <(...) gives it): replayed whole, as from the file. Looking
# for an export there read its first lines (and a writer's worth of them were lost).
mkfifo "$work/fifo"
cat "$work/big.jsonl" >"$work/fifo" &
timeout 20 "$bin" --replay "$work/fifo" >"$work/out" 2>"$work/err"; rc=$?
wait
"$bin" --replay "$work/big.jsonl" >"$work/out.file" 2>&1
[ $rc = 0 ] && cmp -s "$work/out" "$work/out.file" && ok "--replay of a FIFO: the whole capture, as from the file" ||
	{ not_ok "--replay of a FIFO: the whole capture, as from the file (rc $rc)"; sed 's/^/#   /' "$work/err"; }
rm -f "$work/fifo"
# Lines getline cannot hold (each run under a 500 MB address-space limit, which the old code
# exhausted): /dev/zero is refused at its first byte; a line longer than memory allows after
# good records is an error naming it, not the end of the capture (exit 0, the rest unread).
(ulimit -v 500000; timeout 20 "$bin" --replay /dev/zero) >"$work/out" 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -qx "sva-trace: replay: /dev/zero:1: a NUL byte at the start of the line: binary data, not a capture" "$work/err" &&
	ok "--replay /dev/zero: exit 2 at its first byte, binary data" ||
	{ not_ok "--replay /dev/zero: exit 2 at its first byte, binary data (rc $rc)"; sed 's/^/#   /' "$work/err"; }
{ cat "$cap"; yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA | tr -d '\n'; } |
	(ulimit -v 500000; timeout 60 "$bin" --replay -) >"$work/out" 2>"$work/err"; rc=$?
[ $rc = 2 ] && grep -q "^sva-trace: replay: <stdin>:$(($(wc -l <"$cap") + 1)): cannot read the line: Cannot allocate memory" "$work/err" &&
	! grep -q '^8 events' "$work/out" &&
	ok "a line longer than memory allows after good records: exit 2 naming it, no summary as if it were the end" ||
	{ not_ok "a line longer than memory allows after good records: exit 2 naming it, no summary as if it were the end (rc $rc)"
	  sed 's/^/#   /' "$work/err"; }
# The reader goes away during a replay with --export: interrupted, as by a signal.
{ "$bin" --replay "$work/big.jsonl" --export "$work/r.json" 2>"$work/err"; echo $? >"$work/rc"; } | head -n 1 >/dev/null
if [ "$(cat "$work/rc")" = 1 ] && grep -q "the export was not written" "$work/err" &&
	cmp -s "$work/r.json" "$work/r.before" && [ -z "$(ls "$work" | grep '^r\.json\.')" ]; then
	ok "--replay --export | head -1: exit 1, says the export was not written, the previous one intact"
else
	not_ok "--replay --export | head -1: exit 1, says the export was not written, the previous one intact (rc $(cat "$work/rc"))"
	sed 's/^/#   /' "$work/err"
fi

# KASLR: the addresses of a capture made with --raw-pointers (lost_double_unbind.jsonl, and
# leak_and_mismatch.jsonl with kernel-looking addresses, whose bond stays bound) leave no front
# end unless --raw-pointers is given again.
sed 's/"pointers":"hashed"/"pointers":"raw"/; s/0x\([0-9a-f]\)\1\{15\}/0xffff8880000\1\1\1\1\1/g' \
	"$top/tests/replay/captures/leak_and_mismatch.jsonl" >"$work/raw_leak.jsonl"
grep -q '"pointers":"raw"' "$work/raw_leak.jsonl" && grep -q 0xffff888000033333 "$work/raw_leak.jsonl" ||
	bail "cannot make the --raw-pointers capture"
# raw_seen FILE...: the files hold one of the captures' raw addresses
raw_seen() {
	cat "$top/tests/replay/captures/lost_double_unbind.jsonl" "$work/raw_leak.jsonl" |
		grep -o '"0x[0-9a-f]\{16\}"' | tr -d '"' | sort -u >"$work/raw_addrs"
	cat "$@" | grep -qFf "$work/raw_addrs"
}
: >"$work/ptr_sva_trace"
for c in "$top/tests/replay/captures/lost_double_unbind.jsonl" "$work/raw_leak.jsonl"; do
	for f in "" --json -vv; do "$bin" --replay "$c" $f >>"$work/ptr_sva_trace" 2>&1; done
	"$bin" --replay "$c" --export "$work/ptr.json" --metrics-file "$work/ptr.prom" >/dev/null 2>&1
	cat "$work/ptr.json" "$work/ptr.prom" >>"$work/ptr_sva_trace"
done
if ! raw_seen "$work/ptr_sva_trace" && [ -s "$work/ptr.json" ] &&
	"$bin" --replay "$work/raw_leak.jsonl" --raw-pointers | raw_seen -; then
	ok "a --raw-pointers capture: sva-trace's text, JSON, -vv, export and metrics show none of its addresses"
else
	not_ok "a --raw-pointers capture: sva-trace's text, JSON, -vv, export and metrics show none of its addresses"
	grep -Ff "$work/raw_addrs" "$work/ptr_sva_trace" | head -n 5 | sed 's/^/#   /'
fi
: >"$work/ptr_top"
for c in "$top/tests/replay/captures/lost_double_unbind.jsonl" "$work/raw_leak.jsonl"; do
	for f in "" --json; do
		"$topbin" -b -n 50 -d 0.1 --speed 0 --replay "$c" $f >>"$work/ptr_top" 2>&1
	done
done
"$bin" --replay "$work/raw_leak.jsonl" | grep -o 'handle=0x[0-9a-f]*' | cut -d= -f2 | sort -u >"$work/ptr_hashes"
if ! raw_seen "$work/ptr_top" && grep -q FINDING "$work/ptr_top" &&
	grep -o 'handle=0x[0-9a-f]*' "$work/ptr_top" | cut -d= -f2 | grep -qFxf "$work/ptr_hashes" &&
	"$topbin" -b -n 50 -d 0.1 --speed 0 --raw-pointers --replay "$work/raw_leak.jsonl" | raw_seen -; then
	ok "sva-top -b of a --raw-pointers capture: the replay's hashes, not its addresses (unless --raw-pointers)"
else
	not_ok "sva-top -b of a --raw-pointers capture: the replay's hashes, not its addresses (unless --raw-pointers)"
	grep -Ff "$work/raw_addrs" "$work/ptr_top" | head -n 5 | sed 's/^/#   /'
fi
"$bin" --replay "$work/raw_leak.jsonl" --raw-pointers --export "$work/raw_export.json" >/dev/null 2>&1
for f in "" --json; do
	"$bin" --report "$work/raw_export.json" $f
	"$bin" --replay "$work/raw_export.json" $f
done >"$work/ptr_report" 2>&1
if grep -q '"pointers":"raw"' "$work/raw_export.json" && raw_seen "$work/raw_export.json" &&
	! raw_seen "$work/ptr_report" && grep -qFf "$work/ptr_hashes" "$work/ptr_report" &&
	"$bin" --report "$work/raw_export.json" --raw-pointers | raw_seen -; then
	ok "--report of a --raw-pointers export (text, --json, --replay of it): the replay's hashes, not its addresses"
else
	not_ok "--report of a --raw-pointers export (text, --json, --replay of it): the replay's hashes, not its addresses"
	grep -Ff "$work/raw_addrs" "$work/ptr_report" | head -n 5 | sed 's/^/#   /'
fi
tap_done
