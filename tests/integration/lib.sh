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
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# A free TCP port on 127.0.0.1 (bounded search).
free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$(( (RANDOM % 20000) + 30000 ))
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

# influx_start DIR: starts influxd on loopback; sets INFLUX_URL, INFLUX_PID.
influx_start() {
	local dir=$1 hp bp
	hp=$(free_port) || return 1
	bp=$(free_port) || return 1
	mkdir -p "$dir"
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
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
EOC
	"${INFLUXD:-influxd}" -config "$dir/influxd.conf" > "$dir/influxd.log" 2>&1 &
	INFLUX_PID=$!
	INFLUX_URL="http://127.0.0.1:$hp"
	if ! wait_for 30 curl -sf "$INFLUX_URL/ping"; then
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
