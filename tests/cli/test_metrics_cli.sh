#!/bin/sh
# test_metrics_cli.sh - TAP: --metrics, --metrics-file and -q on the host, through --replay
# (which serves the replayed state until interrupted, so no BPF is needed): usage errors, the
# textfile's exact content and mode, promtool check metrics on every scrape, content
# negotiation, 404/405 for anything but GET /metrics, a port in use (exit 2 naming it), and 64
# idle clients that neither get more than the 16 connections nor stall the replay.
# Needs curl, python3 and promtool (Debian's prometheus package; scripts/setup-deps.sh).
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
bin=${SVA_TRACE_BIN:-$here/../../.output/sva-trace}
cap=$here/../replay/captures/leak_and_mismatch.jsonl
work=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tap_plan 27
for t in curl python3 promtool; do
	command -v $t >/dev/null 2>&1 || bail "$t missing: run scripts/setup-deps.sh"
done

# A port nobody listens on now (the kernel picks it; closed again at once).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# expect DESCRIPTION RC STDERR_PATTERN -- ARGS...: exit code and a stderr substring
expect() {
	d=$1 want_rc=$2 pat=$3; shift 4
	"$bin" "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	if [ "$rc" = "$want_rc" ] && grep -qF -- "$pat" "$work/err"; then
		ok "$d"
	else
		not_ok "$d"
		echo "# rc=$rc (want $want_rc), stderr:"; sed 's/^/#   /' "$work/err"
	fi
}

expect "--metrics port 0 is a usage error naming the range" 2 "invalid --metrics '0': the port '0' is not a number from 1 to 65535" -- --metrics 0
expect "--metrics with an IPv6 address needs brackets" 2 "[ADDR]:PORT" -- --metrics ::1:9464
expect "--metrics-interval below 0.1 s is refused" 2 "invalid --metrics-interval '0.05'" -- --metrics-interval 0.05
expect "--metrics cannot be combined with --check" 2 "cannot be combined with --check" -- --metrics 9464 --check
expect "--metrics-file in a missing folder is an error before any work" 2 "--metrics-file: cannot create files in '$work/none'" -- --replay "$cap" --metrics-file "$work/none/m.prom"
expect "an address that does not resolve is an exit-2 error naming it" 2 "cannot resolve 'no-such-host.invalid'" -- --replay "$cap" --metrics no-such-host.invalid:9464

# -q: the summary, no records.
"$bin" --replay "$cap" -q >"$work/q.out" 2>&1
if ! grep -q '^FINDING\|^TIME(s)' "$work/q.out" && [ "$(grep -c . "$work/q.out")" = 4 ] &&
	grep -q '^10 events' "$work/q.out"; then
	ok "-q prints the summary and no event or finding line"
else
	not_ok "-q prints the summary and no event or finding line"; sed 's/^/#   /' "$work/q.out"
fi

# The textfile: exact content (but the two lines that vary: the libbpf version and the time).
"$bin" --replay "$cap" -q --metrics-file "$work/m.prom" >/dev/null 2>"$work/err"
rc=$?
[ $rc = 0 ] && [ "$(stat -c %a "$work/m.prom")" = 644 ] &&
	ok "--metrics-file is written at the end of a replay, mode 0644 (node_exporter reads it)" ||
	not_ok "--metrics-file is written at the end of a replay, mode 0644 (rc $rc, mode $(stat -c %a "$work/m.prom" 2>&1))"
grep -v '^sva_trace_build_info\|^sva_trace_snapshot_timestamp_seconds ' "$work/m.prom" >"$work/m.body"
if diff -u "$here/metrics/leak_and_mismatch.prom" "$work/m.body" >"$work/diff"; then
	ok "the textfile of leak_and_mismatch.jsonl is exactly tests/cli/metrics/leak_and_mismatch.prom"
else
	not_ok "the textfile of leak_and_mismatch.jsonl is exactly tests/cli/metrics/leak_and_mismatch.prom"
	head -n 30 "$work/diff" | sed 's/^/#   /'
fi
t "promtool check metrics accepts the textfile" sh -c "promtool check metrics <'$work/m.prom'"
ls "$work"/m.prom.* >/dev/null 2>&1 && not_ok "no temporary file is left next to the textfile" ||
	ok "no temporary file is left next to the textfile"

# The endpoint: serves the replayed state until SIGTERM.
port=$(free_port)
"$bin" --replay "$cap" -q --metrics "$port" >"$work/serve.out" 2>"$work/serve.err" &
spid=$!
pids="$pids $spid"
i=0
while [ $i -lt 50 ] && ! grep -q 'serving the replayed' "$work/serve.err"; do sleep 0.1; i=$((i + 1)); done
grep -qF "serving the replayed state's metrics on http://127.0.0.1:$port/metrics" "$work/serve.err" &&
	ok "a replay with --metrics says where it serves" ||
	{ not_ok "a replay with --metrics says where it serves"; sed 's/^/#   /' "$work/serve.err"; }

code=$(curl -s -o "$work/scrape" -D "$work/hdr" -w '%{http_code}' "http://127.0.0.1:$port/metrics")
[ "$code" = 200 ] && grep -qi '^content-type: text/plain; version=0.0.4' "$work/hdr" &&
	ok "GET /metrics: 200, text/plain; version=0.0.4" ||
	not_ok "GET /metrics: 200, text/plain; version=0.0.4 (got $code)"
t "promtool check metrics accepts the scrape" sh -c "promtool check metrics <'$work/scrape'"
grep -v '^sva_trace_snapshot_timestamp_seconds ' "$work/scrape" >"$work/scrape.body"
grep -v '^sva_trace_snapshot_timestamp_seconds ' "$work/m.prom" >"$work/m.body2"
cmp -s "$work/scrape.body" "$work/m.body2" && ok "the scrape and the textfile say the same" ||
	not_ok "the scrape and the textfile say the same"

code=$(curl -s -o "$work/om" -D "$work/hdr" -w '%{http_code}' \
	-H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
	"http://127.0.0.1:$port/metrics")
[ "$code" = 200 ] && grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$work/hdr" &&
	[ "$(tail -n 1 "$work/om")" = "# EOF" ] && grep -q '^# TYPE sva_operations counter$' "$work/om" &&
	ok "Accept: application/openmetrics-text gets OpenMetrics 1.0.0, ending in # EOF" ||
	not_ok "Accept: application/openmetrics-text gets OpenMetrics 1.0.0, ending in # EOF (got $code)"

# status METHOD PATH: the HTTP status code
status() {
	curl -s -o /dev/null -w '%{http_code}' -X "$1" --path-as-is --max-time 5 "http://127.0.0.1:$port$2"
}
got="$(status GET /) $(status GET /metricsx) $(status GET /metrics/) $(status GET /../metrics)"
[ "$got" = "404 404 404 404" ] && ok "GET of another path is 404" || not_ok "GET of another path is 404 (got $got)"
got="$(status POST /metrics) $(status PUT /metrics) $(status DELETE /metrics) $(status OPTIONS /metrics)"
[ "$got" = "405 405 405 405" ] && ok "another method on /metrics is 405" || not_ok "another method on /metrics is 405 (got $got)"
curl -s -o /dev/null -D "$work/hdr" -X POST --data-binary @"$cap" "http://127.0.0.1:$port/metrics"
grep -qi '^allow: GET' "$work/hdr" && ok "a 405 says Allow: GET (and a request body is not read)" ||
	not_ok "a 405 says Allow: GET (and a request body is not read)"
# Garbage instead of HTTP: the connection is answered or closed, the server goes on.
printf 'NOT HTTP AT ALL\r\n\r\n' | python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.stdin.buffer.read()); s.recv(4096)' "$port" 2>/dev/null
[ "$(status GET /metrics)" = 200 ] && ok "a malformed request does not stop the server" ||
	not_ok "a malformed request does not stop the server"

expect "a second sva-trace on the same port: exit 2 naming 127.0.0.1:PORT" 2 \
	"cannot serve metrics on 127.0.0.1:$port: the port is already in use" -- --replay "$cap" -q --metrics "$port"

kill -TERM "$spid"
wait "$spid"
rc=$?
[ $rc = 0 ] && ok "SIGTERM ends the serving replay with exit 0" || not_ok "SIGTERM ends the serving replay with exit 0 (rc $rc)"
pids=

# 64 idle clients while a replay runs from a pipe: at most 16 connections are held, the replay
# is not stalled by them, and once they time out (5 s) a scrape is answered again.
{ head -n 1 "$here/../replay/captures/clean_nested.jsonl"; i=0
  while [ $i -lt 1000 ]; do sed -n '2,9p' "$here/../replay/captures/clean_nested.jsonl"; i=$((i + 1)); done; } >"$work/big.jsonl"
mkfifo "$work/fifo"
port=$(free_port)
"$bin" --replay - -q --metrics "$port" <"$work/fifo" >"$work/big.out" 2>"$work/big.err" &
spid=$!
pids="$pids $spid"
exec 3>"$work/fifo"
head -n 1 "$work/big.jsonl" >&3
i=0
while [ $i -lt 50 ] && ! curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; do sleep 0.1; i=$((i + 1)); done
# 3>&-: the client must not hold the pipe open, or the replay never sees its end
python3 - "$port" >"$work/idle.out" 2>&1 3>&- <<'EOF' &
import socket, sys, time
held = []
for _ in range(64):
    try:
        # past the 16 connections and the listen backlog the kernel drops the SYN: give up soon
        held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.3))
    except OSError as e:
        print("connect:", e)
print("connected", len(held), flush=True)
time.sleep(12)
EOF
ipid=$!
pids="$pids $ipid"
i=0
while [ $i -lt 50 ] && ! grep -q connected "$work/idle.out"; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
socks=$(ls -l /proc/$spid/fd 2>/dev/null | grep -c 'socket:')
[ "$socks" -ge 2 ] && [ "$socks" -le 17 ] &&
	ok "64 idle clients: sva-trace holds at most 16 connections plus the listener (holds $((socks - 1)))" ||
	not_ok "64 idle clients: sva-trace holds at most 16 connections plus the listener (sockets: $socks)"
t0=$(date +%s)
tail -n +2 "$work/big.jsonl" >&3
exec 3>&-
i=0
while [ $i -lt 100 ] && ! grep -q 'serving the replayed' "$work/big.err"; do sleep 0.1; i=$((i + 1)); done
t1=$(date +%s)
grep -q '^8000 events' "$work/big.out" && [ $((t1 - t0)) -le 4 ] &&
	ok "the replay of 8000 records went on while the clients held every connection ($((t1 - t0)) s)" ||
	{ not_ok "the replay of 8000 records went on while the clients held every connection ($((t1 - t0)) s)"; head -n 3 "$work/big.out" "$work/big.err" | sed 's/^/#   /'; }
# The idle ones are dropped after 5 s of silence; a scrape gets through again.
code=000 i=0
while [ $i -lt 20 ] && [ "$code" != 200 ]; do
	code=$(curl -s -o "$work/scrape2" -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/metrics")
	[ "$code" = 200 ] || sleep 0.5
	i=$((i + 1))
done
[ "$code" = 200 ] && grep -q '^sva_records_total{type="bind"} 3000$' "$work/scrape2" &&
	ok "after the idle clients time out a scrape is answered, with the replay's counts" ||
	not_ok "after the idle clients time out a scrape is answered, with the replay's counts (got $code)"
t "promtool check metrics accepts that scrape" sh -c "promtool check metrics <'$work/scrape2'"
kill "$ipid" 2>/dev/null
kill -INT "$spid"
wait "$spid"
rc=$?
[ $rc = 0 ] && ok "SIGINT ends it with exit 0" || not_ok "SIGINT ends it with exit 0 (rc $rc)"
pids=
tap_done
