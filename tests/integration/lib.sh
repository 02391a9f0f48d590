# lib.sh - helpers for the integration tests (sourced).  TAP output,
# servers on loopback started by PID and always stopped.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"

tap_n=0
tap_failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
check() { # check "description" command...
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
not() { ! "$@"; }
both() { # both CMD1... -- CMD2...: true when both commands are
	local a=() ; while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	"${a[@]}" && "$@"
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }
# FP_SKIP_TESTS="fleet ...": those tests report SKIP (never a pass); the
# distcheck stage of scripts/test uses it for the tests the other stages
# ran already.
case " ${FP_SKIP_TESTS:-} " in
*" $(basename "$0" .sh) "*) skip_all "FP_SKIP_TESTS names it" ;;
esac

# A free TCP port on 127.0.0.1 (bounded search).
# Below Linux's ephemeral range (32768-60999 by default): a port that the
# kernel lends to an outgoing connection looks free here but cannot be
# bound (a loaded run met it once).
free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$(( (RANDOM % 12000) + 20000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_for SECONDS command... : polls every 0.1 s.
wait_for() { # wait_for SECONDS COMMAND...: true once COMMAND is, polled
	# every 0.1 s, at most SECONDS x 10 x FP_WAIT_SCALE times (so never
	# less than SECONDS; FP_WAIT_SCALE defaults to 1, scripts/test
	# --under-load sets 3)
	local t=$(( $1 * 10 * ${FP_WAIT_SCALE:-1} )); shift
	while [ "$t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# influx_start DIR [auth|tls]: starts influxd on loopback; sets INFLUX_URL,
# INFLUX_PID, INFLUX_CONF.  With "auth", HTTP authentication is on; with
# "tls", HTTPS with the certificate and key in $TLS_CERT and $TLS_KEY.
influx_start() {
	local dir=$1 auth=false tls=false scheme=http hp bp
	[ "${2:-}" = auth ] && auth=true
	[ "${2:-}" = tls ] && tls=true scheme=https
	local try
	mkdir -p "$dir"
	# a few tries: a port taken between free_port and influxd's bind
	for try in 1 2 3; do
		hp=$(free_port) || return 1
		bp=$(free_port) || return 1
		[ "$bp" = "$hp" ] && bp=$(( hp + 1 ))
	cat > "$dir/influxd.conf" <<EOC
reporting-disabled = true
bind-address = "127.0.0.1:$bp"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$hp"
  log-enabled = false
  auth-enabled = $auth
  https-enabled = $tls
  https-certificate = "${TLS_CERT:-}"
  https-private-key = "${TLS_KEY:-}"
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
EOC
	INFLUX_CONF="$dir/influxd.conf"
	INFLUX_URL="$scheme://127.0.0.1:$hp"
		influx_restart && return 0
		grep -q "address already in use" "$dir/influxd.log" || return 1
		echo "# influxd: a port was taken; trying others"
		: > "$dir/influxd.log"
	done
	return 1
}

# influx_restart: starts influxd again with the same config (same port).
influx_restart() {
	local dir
	dir=$(dirname "$INFLUX_CONF")
	"${INFLUXD:-influxd}" -config "$INFLUX_CONF" >> "$dir/influxd.log" 2>&1 &
	INFLUX_PID=$!
	if ! wait_for 30 curl -k -s -o /dev/null "$INFLUX_URL/ping"; then
		echo "# influxd did not start:"; sed 's/^/# /' "$dir/influxd.log" | tail -20
		influx_stop
		return 1
	fi
}

# influxd can sit 30 s after SIGTERM: SIGKILL after a few seconds (it
# fsyncs each write before answering 204, so nothing acknowledged is lost).
influx_stop() {
	[ -n "${INFLUX_PID:-}" ] || return 0
	kill -TERM "$INFLUX_PID" 2>/dev/null
	local i
	for i in $(seq 1 30); do
		kill -0 "$INFLUX_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$INFLUX_PID" 2>/dev/null
	wait "$INFLUX_PID" 2>/dev/null
	INFLUX_PID=
}

# influx_q DB QUERY [curl args...]: the JSON answer of an InfluxQL query.
influx_q() {
	local db=$1 q=$2; shift 2
	curl -s -G "$INFLUX_URL/query" --data-urlencode "db=$db" --data-urlencode "q=$q" "$@"
}

# count_sum DB MEASUREMENT FIELD: prints "count sum" of a field.
count_sum() {
	influx_q "$1" "SELECT count(\"$3\"), sum(\"$3\") FROM \"$2\"" |
		grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//; s/,/ /' |
		awk '{ printf "%d %d\n", $1, $2 }'
	true
}

# metric FILE NAME: the integer value of field NAME in line protocol FILE.
metric() {
	grep -o "[ ,]$2=[0-9-]*i" "$1" | head -1 | sed 's/.*=//; s/i$//'
}

# broker_up DIR [LINE]: Debian's mosquitto on a free loopback port
# (anonymous, no persistence; LINE, such as "max_queued_messages 100000",
# added to its configuration); sets MPORT and MPID, and fails with a TAP
# line when it is not installed or does not start.  broker_down stops it.
broker_up() {
	local mosq
	mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
	[ -x "$mosq" ] || { echo "1..1"; echo "not ok 1 - mosquitto is installed (Debian package mosquitto)"; return 1; }
	mkdir -p "$1"
	chmod 755 "$1"
	# A few tries: a parallel test may take the free port first, and a
	# loaded machine (the sanitizer run) starts slowly.
	local try
	for try in 1 2 3; do
		MPORT=$(free_port) || return 1
		printf 'listener %s 127.0.0.1\nallow_anonymous true\n%s\n' "$MPORT" "${2:-}" > "$1/mosquitto.conf"
		chmod 644 "$1/mosquitto.conf"   # mosquitto reads it after dropping root
		"$mosq" -c "$1/mosquitto.conf" >>"$1/mosquitto.log" 2>&1 &
		MPID=$!
		wait_for 20 mosquitto_sub -p "$MPORT" -h 127.0.0.1 -t probe -W 1 -C 1 -E && return 0
		broker_down
	done
	echo "1..1"; echo "not ok 1 - mosquitto starts"; sed 's/^/# /' "$1/mosquitto.log" | tail -5
	return 1
}
broker_down() {
	[ -n "${MPID:-}" ] || return 0
	kill -KILL "$MPID" 2>/dev/null
	wait "$MPID" 2>/dev/null
	MPID=
}

# test_begin: $tmp, a fresh directory (mode 755: servers that drop to
# another user read it), and an EXIT trap, test_end, that runs the test's
# own cleanup_more when it defines one, kills FPID and the processes of
# the array pids, stops the broker and influxd when they were started, and
# removes $tmp (copied to $FP_KEEP_TMP first when that is set).
test_begin() {
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	pids=() FPID='' MPID=''
	trap test_end EXIT
}
test_end() {
	local p
	declare -F cleanup_more >/dev/null && cleanup_more
	for p in "${FPID:-}" "${pids[@]}"; do
		[ -n "$p" ] && { kill -KILL "$p"; wait "$p"; } 2>/dev/null
	done
	broker_down
	influx_stop
	[ -n "${FP_KEEP_TMP:-}" ] && { rm -rf "$FP_KEEP_TMP"; cp -r "$tmp" "$FP_KEEP_TMP"; }
	rm -rf "$tmp"
}
# influx_up DIR: influx_start DIR, or the test ends here, failed.
influx_up() { influx_start "$1" || { echo "1..1"; echo "not ok 1 - influxd starts"; exit 1; }; }

# vm_start DIR [--port N] [flags...]: Debian's victoria-metrics (single
# node) on loopback with -storageDataPath=DIR/data; sets VM_URL, VM_PID
# and VM_PORT.  Without --port, a free port (a few tries when it is taken
# meanwhile); with --port N (a restart on the same data), that port only.
# The response cache is off: the tests write into the past and query at
# once.  Extra flags are passed on (-retentionPeriod etc.).  vm_stop stops
# it, vm_flush makes what it received searchable.
vm_start() {
	local dir=$1 port="" tries=3 bin=${VICTORIA_METRICS:-/usr/bin/victoria-metrics}
	shift
	[ "${1:-}" = --port ] && { port=$2; tries=1; shift 2; }
	[ -x "$bin" ] || { echo "# victoria-metrics is not installed (Debian package victoria-metrics)"; return 1; }
	mkdir -p "$dir"
	for _ in $(seq 1 "$tries"); do
		[ "$tries" -gt 1 ] && { port=$(free_port) || return 1; }
		# its log is appended to vm.log (kept with FP_KEEP_TMP); this
		# start's part begins at off
		local off
		off=$(stat -c %s "$dir/vm.log" 2>/dev/null || echo 0)
		"$bin" -storageDataPath="$dir/data" -httpListenAddr="127.0.0.1:$port" \
			-search.disableCache -loggerLevel=WARN "$@" >>"$dir/vm.log" 2>&1 &
		VM_PID=$!
		VM_PORT=$port
		VM_URL="http://127.0.0.1:$port"
		export VM_URL VM_PID VM_PORT
		wait_for 30 vm_healthy && return 0
		vm_stop
		if tail -c +$((off + 1)) "$dir/vm.log" | grep -q "address already in use" &&
		   [ "$tries" -gt 1 ]; then
			echo "# victoria-metrics: port $port was taken; trying another"
			continue
		fi
		echo "# victoria-metrics did not start:"
		tail -c +$((off + 1)) "$dir/vm.log" | tail -20 | sed 's/^/# /'
		return 1
	done
	return 1
}
vm_healthy() {
	kill -0 "$VM_PID" 2>/dev/null && [ "$(curl -s --max-time 2 "$VM_URL/health")" = OK ]
}

# stop_pid PID: SIGTERM, SIGKILL after 5 s, reaped.
stop_pid() { # stop_pid PID [SECONDS]: SIGTERM, SIGKILL after SECONDS (5)
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 $(( ${2:-5} * 10 ))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
# vm_stop: stops the victoria-metrics of VM_PID (it flushes on SIGTERM;
# what it acknowledged in the last second is only in memory, so it gets
# 60 s before a SIGKILL, for a loaded machine).
vm_stop() { stop_pid "${VM_PID:-}" 60; VM_PID=; }

# vm_flush [URL]: what VictoriaMetrics received becomes searchable
# (otherwise within about a second).
vm_flush() { curl -s -f --max-time 10 -o /dev/null "${1:-$VM_URL}/internal/force_flush"; }

# vm_export MATCH [URL]: /api/v1/export of the series matching MATCH (one
# JSON object per series and line: "metric", "values", "timestamps").
vm_export() {
	curl -s -f --max-time 30 "${2:-$VM_URL}/api/v1/export" --data-urlencode "match[]=$1"
}

# vm_query QUERY [URL] [curl args...]: the JSON answer of a MetricsQL
# instant query (/api/v1/query).
vm_query() {
	local q=$1 u=${2:-$VM_URL}
	shift; [ $# -gt 0 ] && shift
	curl -s -f --max-time 30 "$u/api/v1/query" --data-urlencode "query=$q" "$@"
}

# vmagent_start DIR [--port N] URL... [-- flags...]: vmagent on loopback
# that accepts line protocol on /write and remote-writes everything to
# each URL (full remote write URLs, e.g. $VM_URL/api/v1/write; one
# -remoteWrite.url each: replication), its queue in DIR/queue.  Sets
# VMAGENT_URL, VMAGENT_PID and VMAGENT_PORT; vmagent_stop stops it.
vmagent_start() {
	local dir=$1 port="" tries=3 bin=${VMAGENT:-/usr/bin/vmagent} urls=() flags=()
	shift
	[ "${1:-}" = --port ] && { port=$2; tries=1; shift 2; }
	while [ $# -gt 0 ] && [ "$1" != -- ]; do urls+=("-remoteWrite.url=$1"); shift; done
	[ "${1:-}" = -- ] && { shift; flags=("$@"); }
	[ -x "$bin" ] || { echo "# vmagent is not installed (Debian package victoria-metrics)"; return 1; }
	mkdir -p "$dir"
	for _ in $(seq 1 "$tries"); do
		[ "$tries" -gt 1 ] && { port=$(free_port) || return 1; }
		# its log is appended to vmagent.log (kept with FP_KEEP_TMP: its
		# retries); this start's part begins at off
		local off
		off=$(stat -c %s "$dir/vmagent.log" 2>/dev/null || echo 0)
		"$bin" -httpListenAddr="127.0.0.1:$port" -remoteWrite.tmpDataPath="$dir/queue" \
			-loggerLevel=WARN "${urls[@]}" "${flags[@]}" >>"$dir/vmagent.log" 2>&1 &
		VMAGENT_PID=$!
		VMAGENT_PORT=$port
		VMAGENT_URL="http://127.0.0.1:$port"
		export VMAGENT_URL VMAGENT_PID VMAGENT_PORT
		wait_for 30 vmagent_healthy && return 0
		vmagent_stop
		if tail -c +$((off + 1)) "$dir/vmagent.log" | grep -q "address already in use" &&
		   [ "$tries" -gt 1 ]; then
			echo "# vmagent: port $port was taken; trying another"
			continue
		fi
		echo "# vmagent did not start:"
		tail -c +$((off + 1)) "$dir/vmagent.log" | tail -20 | sed 's/^/# /'
		return 1
	done
	return 1
}
vmagent_healthy() {
	kill -0 "$VMAGENT_PID" 2>/dev/null && [ "$(curl -s --max-time 2 "$VMAGENT_URL/health")" = OK ]
}
vmagent_stop() { stop_pid "${VMAGENT_PID:-}"; VMAGENT_PID=; }

# vmagent_pending [URL]: the bytes vmagent still holds for its remote
# storages (sum of vmagent_remotewrite_pending_data_bytes, memory and disk
# queues); prints nothing when the metric is missing.
vmagent_pending() {
	curl -s -f --max-time 5 "${1:-$VMAGENT_URL}/metrics" |
		awk '/^vmagent_remotewrite_pending_data_bytes[{ ]/ { s += $NF; n++ } END { if (n) printf "%d\n", s }'
}

# vmagent_unsent [URL]: what vmagent accepted and its remote storages did
# not acknowledge yet, as "buffered=ROWS queued=BYTES in_flight=BLOCKS
# dropped=BLOCKS" (nothing when its metrics cannot be read).  The queue's
# bytes (vmagent_pending) are not all of it: rows wait up to
# -remoteWrite.flushInterval (1 s) in a buffer before they become a block
# (rows_pushed_after_relabel - block_size_rows_sum; one sample a series
# with line protocol), and a block a worker took from the queue is no
# longer counted there while it is sent and retried, with a backoff
# doubling up to a minute after a storage's outage (blocks_sent, counted
# once a block, - requests 2XX - packets_dropped, as vmagent 1.79 of
# Debian counts them; later versions count blocks_sent on success only,
# and in_flight then reads 0).  dropped: blocks a storage refused with
# 400 or 409 and vmagent skipped (lost).
vmagent_unsent() {
	curl -s -f --max-time 5 "${1:-$VMAGENT_URL}/metrics" | awk '
	function url() { return match($0, /url="[^"]*"/) ? substr($0, RSTART, RLENGTH) : "" }
	/^vmagent_remotewrite_rows_pushed_after_relabel_total[{]/ { pushed += $NF; n++ }
	/^vmagent_remotewrite_block_size_rows_sum[{ ]/ { blocked += $NF }
	/^vmagent_remotewrite_pending_data_bytes[{]/ { queued += $NF }
	/^vmagent_remotewrite_blocks_sent_total[{]/ { sent[url()] += $NF }
	/^vmagent_remotewrite_requests_total[{]/ && /status_code="2XX"/ { done[url()] += $NF }
	/^vmagent_remotewrite_packets_dropped_total[{]/ { dropped[url()] += $NF; d += $NF }
	END {
		if (!n) exit 1
		for (u in sent) f += sent[u] - done[u] - dropped[u]
		printf "buffered=%d queued=%d in_flight=%d dropped=%d\n", pushed - blocked, queued, f, d
	}'
}
# vmagent_delivered [URL]: vmagent_unsent says nothing is left to send.
vmagent_delivered() {
	case "$(vmagent_unsent "$@")" in "buffered=0 queued=0 in_flight=0 "*) return 0 ;; esac
	return 1
}

# lp_rows FILE SITE [last|first|final]: the window rows (energy,
# efficiency, telecom, ewaste; stamped at their window's start) of SITE
# in line protocol FILE, one "series ts_s field value" line per field
# (booleans as 1/0, integers without the i), sorted: of the last write of
# each row (default), of its first write, or of its first write with
# final=true (a later one with final=true is a correction).
lp_rows() {
	awk -v site="$2" -v mode="${3:-last}" '
	$1 ~ /^(energy|efficiency|telecom|ewaste),/ && index($1 ",", ",site=" site ",") && NF == 3 {
		k = $1 " " $3
		if (mode == "final" && !index("," $2 ",", ",final=true,")) next
		if (mode != "last" && (k in row)) next
		row[k] = $2
	}
	END {
		for (k in row) {
			split(k, sk, " ")
			ts = sk[2]
			if (substr(ts, length(ts) - 8) != "000000000") { print "bad timestamp " k > "/dev/stderr"; continue }
			ts = substr(ts, 1, length(ts) - 9)
			n = split(row[k], a, ",")
			for (i = 1; i <= n; i++) {
				j = index(a[i], "=")
				v = substr(a[i], j + 1)
				if (v ~ /^-?[0-9]+i$/) v = substr(v, 1, length(v) - 1)
				else if (v == "true") v = 1
				else if (v == "false") v = 0
				print sk[1], ts, substr(a[i], 1, j - 1), v
			}
		}
	}' "$1" | sort
}

# vm_rows MATCH [URL]: the samples of the series matching MATCH in
# VictoriaMetrics as "series ts_s field value" lines (the series in line
# protocol form: measurement = the metric name up to its first "_", the
# labels but db sorted), sorted, duplicates kept.
vm_rows() {
	vm_export "$1" "${2:-$VM_URL}" | jq -r '
		.metric as $m | ($m.__name__ | capture("^(?<meas>[^_]+)_(?<field>.+)$")) as $n |
		($n.meas + ($m | del(.__name__, .db) | to_entries | sort_by(.key)
			| map(",\(.key)=\(.value)") | join(""))) as $s |
		range(0; .values | length) as $i |
		"\($s) \(.timestamps[$i] / 1000 | floor) \($n.field) \(.values[$i])"' | sort
}

# rows_equal A B: the two row files hold the same samples (floats within
# 1e-9 relative); prints the differences as TAP comments.
rows_equal() {
	awk '
	function num(x) { return x ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
	function same(a, b,   d, m) {
		if (a == b) return 1
		if (!num(a) || !num(b)) return 0
		d = a - b; if (d < 0) d = -d
		m = (a < 0 ? -a : a); if ((b < 0 ? -b : b) > m) m = (b < 0 ? -b : b)
		return d <= 1e-9 * m
	}
	{ k = $1 " " $2 " " $3 }
	FILENAME == ARGV[1] { a[k] = $4; na[k]++; next }
	{ b[k] = $4; nb[k]++ }
	END {
		for (k in a)
			if (!(k in b)) { print "#   only in " ARGV[1] ": " k " " a[k]; bad++ }
			else if (na[k] != nb[k]) { print "#   " k ": " na[k] " vs " nb[k] " samples"; bad++ }
			else if (!same(a[k], b[k])) { print "#   " k ": " a[k] " vs " b[k]; bad++ }
		for (k in b)
			if (!(k in a)) { print "#   only in " ARGV[2] ": " k " " b[k]; bad++ }
		exit bad > 0
	}' "$1" "$2" | head -20
	return "${PIPESTATUS[0]}"
}

# alive PID: the process runs (not exited, not a zombie waiting for us).
alive() {
	kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

# ---- a footprintd with an MQTT probe subscription ----
# The agents of the MQTT tests subscribe SITE/probe (a json subscription on
# the broker named "b") so that a test can tell when their subscriptions
# are made: a probe message is then counted in the self-metrics.

# mqtt_probe SITE FILE [OFFSET]: publishes {} to SITE/probe on the test
# broker ($MPORT); true once FILE (the agent's file output), after its
# first OFFSET bytes (what an earlier agent wrote), counts a message of
# that subscription.
mqtt_probe() {
	mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "$1/probe" -m '{}' &&
		tail -c +$(( ${3:-0} + 1 )) "$2" 2>/dev/null |
		grep -q "^footprintd,component=mqtt/b/$1/probe,.* mqtt_messages=[1-9]"
}

# fpd_start CONF ERR SITE OUT: $FPD -c CONF in the background, stderr
# appended to ERR, its PID in FPD_STARTED; true once its subscriptions are
# made (mqtt_probe SITE OUT, on what this agent wrote to OUT), false when
# it exits first or after 20 s (x FP_WAIT_SCALE).
fpd_start() {
	local t=$(( 200 * ${FP_WAIT_SCALE:-1} )) off
	off=$(stat -c %s "$4" 2>/dev/null || echo 0)
	"$FPD" -c "$1" 2>>"$2" &
	FPD_STARTED=$!
	while [ "$t" -gt 0 ]; do
		alive "$FPD_STARTED" || return 1
		mqtt_probe "$3" "$4" "$off" && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# lp_metric FILE COMPONENT FIELD: FIELD of the last self-metric line of
# COMPONENT in FILE (a file output), without its integer suffix.
lp_metric() {
	awk -v c="footprintd,component=$2," -v f="$3" 'index($1, c) == 1 { l = $2 }
	END { n = split(l, a, ","); for (i = 1; i <= n; i++) if (index(a[i], f "=") == 1) v = substr(a[i], length(f) + 2)
		sub(/i$/, "", v); print v }' "$1"
}

# lp_settled FILE READINGS [EVENTS]: in FILE (a file output), a self-metric
# line of the indicators says READINGS readings counted (and EVENTS
# lifecycle events applied) and no window left to write.
lp_settled() {
	awk -v k="$2" -v e="${3:-0}" '
	function field(name,   n, a, i) {
		n = split($2, a, ",")
		for (i = 1; i <= n; i++)
			if (index(a[i], name "=") == 1) return substr(a[i], length(name) + 2) + 0
		return -1
	}
	index($1, "footprintd,component=indicators,") == 1 &&
		field("readings") >= k && (e == 0 || field("lifecycle_applied") >= e) &&
		field("backfill_windows_pending") == 0 { seen = 1 }
	END { exit !seen }' "$1"
}
