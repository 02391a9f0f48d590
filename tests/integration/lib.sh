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
wait_for() {
	local t=$(( $1 * 10 )); shift
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
