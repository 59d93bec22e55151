#!/bin/sh
# test_metrics_vm.sh - TAP: a real Prometheus on the host scrapes sva-trace in the lab VM.
#
# The guest (lab kernel, QEMU user networking, 10.0.2.15) runs the dynamic sva-trace as a
# daemon, "sva-trace -q --json --metrics 0.0.0.0:9464", reached from the host through
#   -nic user,model=e1000,hostfwd=tcp:127.0.0.1:HOSTPORT-:9464
# Debian's prometheus, started here with its own config, port and storage (tests/lib/
# prometheus.sh), scrapes it every second with docs/prometheus/alerts.yml loaded. Once the first
# scrape is in, the host tells the guest (a second forwarded port, busybox nc) to run the lab
# scenarios basic, leak, mismatch and two-dev with sva_smoke; then the test reads through
# Prometheus's HTTP API the exact bind counts (7 ok, 1 EBUSY, as the scenarios make them, the
# mock's own counters and the daemon's own summary say), the leaked bond, and the firing
# SVABondLeaked and SVATypeMismatch alerts; runs promtool check metrics on a scrape through the
# forward; and prints the scrape duration and the daemon's memory.
#
# Needs: the lab kernel (lab/build-lab-kernel.sh; its config has INET and E1000 for this test),
# .output/sva-trace (make: the dynamic build, whose libraries go into the initramfs),
# prometheus, promtool, curl, jq, python3. Run it under flock /work/vm.lock like every VM test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$here/lab-guest.sh"
. "$top/tests/lib/prometheus.sh"
bin=$top/.output/sva-trace
work=$(mktemp -d)
vpid=
cleanup() {
	[ -z "$vpid" ] || kill "$vpid" 2>/dev/null
	prom_stop
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tap_plan 14
for t in prometheus promtool curl jq python3; do
	command -v $t >/dev/null 2>&1 || bail "$t missing: run scripts/setup-deps.sh"
done
[ -x "$bin" ] || bail "$bin missing: make"
lab_guest_build
lab_guest_cc sva_stress
dynamic_guest_files "$bin" sva-trace

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
mport=$(free_port)
cport=$(free_port)

# GO N: waits for the host's N-th knock on port 9465 (at most 400 s), then says so.
cat >"$work/run.sh" <<'EOF'
#!/bin/sh
echo
go() { timeout 400 nc -l -p 9465 </dev/null >/dev/null; echo "GO $1"; }
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && echo "NET up"
sva_stress counters | sed 's/^/C0 /'
sva-trace -q --json --leak-grace 1 --metrics 0.0.0.0:9464 --metrics-file /tmp/sva.prom \
	>/tmp/daemon.jsonl 2>/tmp/daemon.err &
tpid=$!
go 1
# Both threads (the tracing one and libmicrohttpd's) after the privilege drop
for t in /proc/$tpid/task/*; do
	echo "TASK $(cat $t/comm) $(grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs):' $t/status | tr -s '\t\n' '  ')"
done
sed -n 's/^sva_trace_snapshot_timestamp_seconds /F0 /p' /tmp/sva.prom
for s in basic leak mismatch two-dev; do
	sva_smoke $s >/tmp/$s.out 2>&1
	echo "RC $s $?"
done
sleep 2
sva_stress counters | sed 's/^/C1 /'
grep VmRSS /proc/$tpid/status | sed 's/^/MEM /'
stat -c 'FMODE %a' /tmp/sva.prom
sed 's/^/F /' /tmp/sva.prom
echo "SCENARIOS DONE"
go 2
kill -INT $tpid
wait $tpid
echo "RC trace $?"
sed 's/^/J /' /tmp/daemon.jsonl
sed 's/^/E /' /tmp/daemon.err
EOF
# shellcheck disable=SC2086
"$here/mkinitramfs.sh" "$work/initrd.gz" "$work/run.sh" "$work/sva_smoke" "$work/sva_stress" \
	$dynamic_files >/dev/null || bail "the initramfs could not be built"

cp "$top/docs/prometheus/alerts.yml" "$work/alerts.yml"
prom_start "127.0.0.1:$mport" "$work/alerts.yml"

t0=$(date +%s)
"$here/run-vm.sh" --timeout 600 --kernel "$kernel" --initrd "$work/initrd.gz" \
	--nic "user,model=e1000,hostfwd=tcp:127.0.0.1:$mport-:9464,hostfwd=tcp:127.0.0.1:$cport-:9465" \
	>"$work/log" 2>&1 &
vpid=$!

# wait_log PATTERN SECS: the console has a line matching PATTERN (the guest still running)
wait_log() {
	_i=0
	while [ $_i -lt $(($2 * 2)) ]; do
		grep -q "$1" "$work/log" && return 0
		kill -0 "$vpid" 2>/dev/null || return 1
		sleep 0.5
		_i=$((_i + 1))
	done
	return 1
}
# knock N: connects to the guest's nc until the guest says "GO N"
knock() {
	_i=0
	while [ $_i -lt 120 ]; do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()' "$cport" 2>/dev/null
		wait_log "^GO $1" 1 && return 0
		_i=$((_i + 1))
	done
	return 1
}

if wait_log '^NET up' 300 && prom_wait_value 'up{job="sva-trace"}' 1 300; then
	ok "the guest's network is up and Prometheus scrapes sva-trace in it (after $(($(date +%s) - t0)) s)"
else
	not_ok "the guest's network is up and Prometheus scrapes sva-trace in it"
	tail -n 20 "$work/log" | sed 's/^/# /'
	curl -sf "http://127.0.0.1:$prom_port/api/v1/targets" | jq -c '.data.activeTargets[0] | {health, lastError}' | sed 's/^/# /'
	[ -z "$vpid" ] || kill "$vpid" 2>/dev/null
	bail "no scrape of the guest"
fi
# Before the scenarios: the daemon has seen no bind (a baseline of 0 for every kind).
got=$(prom_value 'sum(sva_records_total{type="bind"})')
[ "$got" = 0 ] && ok "before the scenarios Prometheus has 0 binds" || not_ok "before the scenarios Prometheus has 0 binds (got '$got')"
knock 1 || bail "the guest never got the go for the scenarios"
wait_log '^SCENARIOS DONE' 400 || { tail -n 30 "$work/log" | sed 's/^/# /'; bail "the scenarios did not finish"; }
tasks=$(sed -n 's/^TASK //p' "$work/log")
ntask=$(echo "$tasks" | grep -c .)
z=0000000000000000
nzero=$(echo "$tasks" | grep "CapPrm: $z " | grep "CapEff: $z " | grep "CapBnd: $z " | grep -c 'NoNewPrivs: 1')
[ "$ntask" = 2 ] && [ "$nzero" = 2 ] && echo "$tasks" | grep -q '^MHD' &&
	ok "both threads, libmicrohttpd's too, run with no capability and no_new_privs" ||
	{ not_ok "both threads, libmicrohttpd's too, run with no capability and no_new_privs"; echo "$tasks" | sed 's/^/# /'; }
rcs=$(sed -n 's/^RC \([a-z-]*\) \([0-9]*\)$/\1=\2/p' "$work/log" | tr '\n' ' ')
[ "$rcs" = "basic=0 leak=0 mismatch=0 two-dev=0 " ] && ok "sva_smoke passed basic, leak, mismatch and two-dev" ||
	not_ok "sva_smoke passed basic, leak, mismatch and two-dev (got '$rcs')"

# Exact bind counts: basic 2, leak 2, mismatch 1 ok + 1 EBUSY, two-dev 2 (test_lab.sh's table).
q='sum by (result) (sva_operations_total{op="bind"})'
binds() { prom_query "$q" | jq -r 'map("\(.metric.result)=\(.value[1])") | sort | join(" ")'; }
i=0
while [ $i -lt 40 ] && [ "$(binds)" != "EBUSY=1 ok=7" ]; do sleep 0.5; i=$((i + 1)); done
got=$(binds)
[ "$got" = "EBUSY=1 ok=7" ] && ok "Prometheus's bind counts are exact: 7 ok, 1 EBUSY" ||
	not_ok "Prometheus's bind counts are exact: 7 ok, 1 EBUSY (got '$got')"
counter() {
	_v=$(sed -n "s/^$1 COUNTERS //p" "$work/log" | tr ' ' '\n' | sed -n "/^$2\$/{n;p;}")
	echo "${_v:-0}"
}
mock=$(( $(counter C1 binds) - $(counter C0 binds) ))
unb=$(prom_value 'sum(sva_operations_total{op="unbind"})')
mock_unb=$(( $(counter C1 unbinds) + $(counter C1 release_unbinds) - $(counter C0 unbinds) - $(counter C0 release_unbinds) ))
[ "$mock" = 7 ] && [ "$unb" = "$mock_unb" ] &&
	ok "they agree with the mock's own counts: $mock binds, $mock_unb unbinds" ||
	not_ok "they agree with the mock's own counts (mock: $mock binds, $mock_unb unbinds; Prometheus: $unb unbinds)"
# The leak is found --leak-grace (1 s) after the child's exit, then rendered and scraped.
i=0 got=
while [ $i -lt 40 ] && [ -z "$got" ]; do
	got=$(prom_query 'sva_leaked_bonds > 0' | jq -r 'map("\(.metric.device)=\(.value[1])") | join(" ")')
	[ -n "$got" ] || sleep 0.5
	i=$((i + 1))
done
case $got in
*=1) [ "$(echo "$got" | wc -w)" = 1 ] && ok "one leaked bond, on one device ($got)" || not_ok "one leaked bond, on one device (got '$got')" ;;
*) not_ok "one leaked bond, on one device (got '$got')" ;;
esac
leakdev=${got%=*}
i=0 alerts=
want="SVABondLeaked/$leakdev/firing SVATypeMismatch//firing"
while [ $i -lt 40 ]; do
	alerts=$(curl -sf "http://127.0.0.1:$prom_port/api/v1/alerts" |
		jq -r '[.data.alerts[] | "\(.labels.alertname)/\(.labels.device // "")/\(.state)"] | sort | join(" ")')
	[ "$alerts" = "$want" ] && break
	sleep 0.5
	i=$((i + 1))
done
[ "$alerts" = "$want" ] && ok "SVABondLeaked ($leakdev) and SVATypeMismatch fire, nothing else" ||
	not_ok "SVABondLeaked ($leakdev) and SVATypeMismatch fire, nothing else (got '$alerts')"
curl -sf -o "$work/scrape" "http://127.0.0.1:$mport/metrics"
t "promtool check metrics accepts a scrape through the port forward" sh -c "promtool check metrics <'$work/scrape'"
dur=$(prom_value 'max_over_time(scrape_duration_seconds{job="sva-trace"}[5m])')
avg=$(prom_value 'avg_over_time(scrape_duration_seconds{job="sva-trace"}[5m])')
nsc=$(prom_value 'count_over_time(up{job="sva-trace"}[10m])')
nok=$(prom_value 'sum_over_time(up{job="sva-trace"}[10m])')
echo "# $(($(date +%s) - t0)) s since boot; scrapes: $nsc, $nok answered; duration through QEMU user networking under TCG: avg ${avg}s, max ${dur}s; $(sed -n 's/^MEM //p' "$work/log")"

knock 2 || bail "the guest never got the go to stop"
wait "$vpid"
rc=$?
vpid=
[ $rc = 0 ] && grep -q '^RC trace 0$' "$work/log" && ok "the daemon ended with exit 0 on SIGINT, the guest with 0" ||
	{ not_ok "the daemon ended with exit 0 on SIGINT, the guest with 0 (rc $rc)"; guest_failed "$work/log" $rc; }
sed -n 's/^F //p' "$work/log" >"$work/file.prom"
f0=$(sed -n 's/^F0 //p' "$work/log")
f1=$(sed -n 's/^sva_trace_snapshot_timestamp_seconds //p' "$work/file.prom")
[ "$(sed -n 's/^FMODE //p' "$work/log")" = 644 ] && [ -n "$f0" ] && [ -n "$f1" ] &&
	[ "$(echo "$f1 > $f0 + 1" | bc)" = 1 ] &&
	grep -q '^sva_operations_total{op="bind",device="[^"]*",result="EBUSY"} 1$' "$work/file.prom" &&
	ok "--metrics-file was rewritten while tracing (mode 0644; snapshot $f0 then $f1)" ||
	not_ok "--metrics-file was rewritten while tracing (mode 0644; snapshot '$f0' then '$f1')"
t "promtool check metrics accepts the guest's textfile" sh -c "promtool check metrics <'$work/file.prom'"
sed -n 's/^J //p' "$work/log" | grep '^{' >"$work/daemon.jsonl"
sum=$(jq -r 'select(.type == "summary") | "\(.by_type.bind) \(.findings.leak) \(.findings["type-mismatch"])"' "$work/daemon.jsonl")
[ "$sum" = "8 1 1" ] && ok "the daemon's own summary agrees: 8 binds, 1 leak, 1 type-mismatch" ||
	not_ok "the daemon's own summary agrees: 8 binds, 1 leak, 1 type-mismatch (got '$sum')"
others=$(jq -r 'select(.type != "start" and .type != "summary") | .type' "$work/daemon.jsonl" | wc -l)
[ "$others" = 0 ] && ok "-q: the daemon wrote only its start and summary records" ||
	not_ok "-q: the daemon wrote only its start and summary records ($others others)"
tap_done
