#!/bin/sh
# test_alerts.sh - TAP: docs/prometheus/alerts.yml with promtool (check rules, the unit tests of
# alerts.test.yml, which must fail when a rule is broken), then a real Prometheus (Debian's
# package, run here with its own config, port and storage) scraping sva-trace --metrics on the
# host, serving a replayed capture: the scrape is up, the exact values come back through the
# HTTP API, and SVABondLeaked fires for the capture's leaked bond. Also: the systemd unit in
# contrib/ passes systemd-analyze verify and keeps its hardening.
# Needs promtool and prometheus (package prometheus), curl, jq, python3, systemd-analyze.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/prometheus.sh"
bin=${SVA_TRACE_BIN:-$top/.output/sva-trace}
rules=$top/docs/prometheus/alerts.yml
work=$(mktemp -d)
spid=
trap '[ -z "$spid" ] || kill "$spid" 2>/dev/null; prom_stop; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

tap_plan 13
for t in promtool prometheus curl jq python3; do
	command -v $t >/dev/null 2>&1 || bail "$t missing: run scripts/setup-deps.sh"
done

t "promtool check rules accepts alerts.yml" promtool check rules "$rules"
t "promtool test rules: alerts.test.yml passes" sh -c "cd '$top/docs/prometheus' && promtool test rules alerts.test.yml"
missing=
for a in $(sed -n 's/^ *- alert: //p' "$rules"); do
	grep -q "alertname: $a\$" "$top/docs/prometheus/alerts.test.yml" || missing="$missing $a"
done
[ -z "$missing" ] && ok "every alert of alerts.yml has unit tests" || not_ok "every alert of alerts.yml has unit tests (none for:$missing)"
# The unit tests must notice a broken rule: a leak threshold of 1 instead of 0.
mkdir -p "$work/mut"
sed 's/sum by (instance, device) (sva_leaked_bonds) > 0/sum by (instance, device) (sva_leaked_bonds) > 1/' "$rules" >"$work/mut/alerts.yml"
cp "$top/docs/prometheus/alerts.test.yml" "$work/mut/"
if ! cmp -s "$rules" "$work/mut/alerts.yml" && ! (cd "$work/mut" && promtool test rules alerts.test.yml >/dev/null 2>&1); then
	ok "the unit tests fail when SVABondLeaked's threshold is broken"
else
	not_ok "the unit tests fail when SVABondLeaked's threshold is broken"
fi

# A real server against the endpoint, serving leak_and_mismatch.jsonl's end state.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --replay "$top/tests/replay/captures/leak_and_mismatch.jsonl" -q --metrics "$port" \
	>/dev/null 2>"$work/serve.err" &
spid=$!
cp "$rules" "$work/alerts.yml"
prom_start "127.0.0.1:$port" "$work/alerts.yml"
prom_wait_value 'up{job="sva-trace"}' 1 20 && ok "Prometheus scrapes sva-trace (up == 1)" ||
	{ not_ok "Prometheus scrapes sva-trace (up == 1)"; prom_query 'up' | sed 's/^/# /'; tail -n 5 "$work/prom/log" | sed 's/^/# /'; }
# The scrape's format as Prometheus took it: it asks for OpenMetrics first.
fmt=$(curl -sf "http://127.0.0.1:$prom_port/api/v1/targets" | jq -r '.data.activeTargets[0].lastError')
[ -z "$fmt" ] && ok "the target's last scrape has no error" || not_ok "the target's last scrape has no error ($fmt)"
got=$(prom_query 'sva_operations_total{op="bind"}' | jq -r 'map("\(.metric.device)/\(.metric.result)=\(.value[1])") | sort | join(" ")')
[ "$got" = "mock0/ok=2 mock1/EBUSY=1" ] && ok "bind counts through the API: mock0 ok 2, mock1 EBUSY 1" ||
	not_ok "bind counts through the API: mock0 ok 2, mock1 EBUSY 1 (got '$got')"
got=$(prom_value 'sva_leaked_bonds{device="mock0"}') 
[ "$got" = 1 ] && ok "sva_leaked_bonds{device=mock0} is 1" || not_ok "sva_leaked_bonds{device=mock0} is 1 (got '$got')"
# OpenMetrics families come back with their sample names: counters end in _total.
got=$(prom_value 'sva_findings_total{kind="type-mismatch",severity="error"}')
[ "$got" = 1 ] && ok "sva_findings_total{kind=type-mismatch} is 1" || not_ok "sva_findings_total{kind=type-mismatch} is 1 (got '$got')"
i=0 alerts=
while [ $i -lt 50 ]; do
	alerts=$(curl -sf "http://127.0.0.1:$prom_port/api/v1/alerts" |
		jq -r '[.data.alerts[] | "\(.labels.alertname)/\(.labels.device // "")/\(.state)"] | sort | join(" ")')
	[ "$alerts" = "SVABondLeaked/mock0/firing" ] && break
	sleep 0.2
	i=$((i + 1))
done
[ "$alerts" = "SVABondLeaked/mock0/firing" ] && ok "SVABondLeaked fires for mock0, and no other alert" ||
	not_ok "SVABondLeaked fires for mock0, and no other alert (got '$alerts')"
kill -TERM "$spid"
wait "$spid"
rc=$?
spid=
[ $rc = 0 ] && ok "sva-trace exits 0 on SIGTERM" || not_ok "sva-trace exits 0 on SIGTERM (rc $rc)"

unit=$top/contrib/sva-trace-metrics.service
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the ExecStart binary to exist: point it at this build's
	sed "s|/usr/local/sbin/sva-trace|$bin|" "$unit" >"$work/sva-trace-metrics.service"
	t "systemd-analyze verify accepts contrib/sva-trace-metrics.service" sh -c \
		"out=\$(systemd-analyze verify --man=no '$work/sva-trace-metrics.service' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
else
	skip "systemd-analyze verify accepts contrib/sva-trace-metrics.service" "no systemd-analyze"
fi
missing=
for d in 'NoNewPrivileges=yes' 'CapabilityBoundingSet=CAP_BPF CAP_PERFMON' 'ProtectSystem=strict' \
	'ProtectHome=yes' 'PrivateDevices=yes' 'IPAddressAllow=localhost' 'ExecStart=/usr/local/sbin/sva-trace -q --metrics 127.0.0.1:9464'; do
	grep -q "^$d" "$unit" || missing="$missing '$d'"
done
[ -z "$missing" ] && ok "the unit bounds capabilities, sets no_new_privs, mounts read-only, serves loopback" ||
	not_ok "the unit bounds capabilities, sets no_new_privs, mounts read-only, serves loopback (missing:$missing)"
tap_done
