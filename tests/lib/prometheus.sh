# prometheus.sh - a Prometheus server of the test's own (Debian's prometheus package), sourced
# after tests/lib/tap.sh; needs $work (removed by the test) and python3, curl, jq:
#   prom_start TARGET [RULES]   prometheus on 127.0.0.1:$prom_port with its storage in
#                               $work/prom, scraping TARGET (HOST:PORT) as job "sva-trace" every
#                               second and evaluating RULES every second; waits until it answers;
#                               sets $prom_pid. Never the packaged service, never port 9090.
#   prom_query EXPR             the instant query's result as JSON (.data.result), "" on failure
#   prom_value EXPR             the first sample's value ("" when none)
#   prom_wait_value EXPR WANT SECS   polls until prom_value EXPR is WANT; 0 if it came
#   prom_stop                   SIGTERM, then waits for it
prom_start() {
	prom_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$work/prom"
	{
		echo 'global:'
		echo '  scrape_interval: 1s'
		echo '  scrape_timeout: 1s'
		echo '  evaluation_interval: 1s'
		[ -z "${2:-}" ] || { echo 'rule_files:'; echo "  - $2"; }
		echo 'scrape_configs:'
		echo '  - job_name: sva-trace'
		echo '    static_configs:'
		echo "      - targets: ['$1']"
	} >"$work/prom/prometheus.yml"
	prometheus --config.file="$work/prom/prometheus.yml" --storage.tsdb.path="$work/prom/data" \
		--web.listen-address="127.0.0.1:$prom_port" --log.level=warn \
		>"$work/prom/log" 2>&1 &
	prom_pid=$!
	_i=0
	while [ $_i -lt 150 ]; do
		curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null 2>&1 && return 0
		kill -0 "$prom_pid" 2>/dev/null || break
		sleep 0.2
		_i=$((_i + 1))
	done
	tail -n 20 "$work/prom/log" | sed 's/^/# /'
	bail "prometheus did not become ready on 127.0.0.1:$prom_port"
}

prom_query() {
	curl -sf --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
		jq -c '.data.result' 2>/dev/null
}

prom_value() {
	prom_query "$1" | jq -r '.[0].value[1] // empty' 2>/dev/null
}

prom_wait_value() {
	_i=0
	while [ $_i -lt $(($3 * 5)) ]; do
		[ "$(prom_value "$1")" = "$2" ] && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}

prom_stop() {
	[ -z "${prom_pid:-}" ] && return 0
	kill -TERM "$prom_pid" 2>/dev/null
	wait "$prom_pid" 2>/dev/null
	prom_pid=
}
