#!/bin/bash
# Hostile and damaged state and answers for the InfluxDB output, through the
# real daemon (footprintd) and a real influxd: a cursor that cannot be
# trusted, a segment that cannot be read, a segment that is a link, a huge
# garbage segment and a crafted one (memory and time at start-up); and,
# through the output code (outdrive) and a small HTTP endpoint: Retry-After
# of 0, in the past or huge, a proxy's 400, credentials in the URL.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v "${INFLUXD:-influxd}" >/dev/null 2>&1 || skip_all "influxd not installed (Debian package influxdb)"
B="$top_builddir/tests/integration"
FPD="$top_builddir/footprintd"
test_begin
influx_up "$tmp/influx"
influx_q "" "CREATE DATABASE fp" -XPOST >/dev/null
DEAD="http://127.0.0.1:$(free_port)"   # nothing listens there

# conf NAME URL [extra output settings]: $tmp/NAME.conf, one InfluxDB output
# "db" (spool $tmp/NAME/spool/db, spool_max $SPOOL_MAX, default 1MB: 125 kB
# segments) and a file output of everything (the self-metrics included) in
# $tmp/NAME/all.lp.
conf() {
	local name=$1 url=$2; shift 2
	mkdir -p "$tmp/$name"
	cat > "$tmp/$name.conf" <<EOC
agent: { site = "$name"; state_dir = "$tmp/$name"; interval = "500ms"; shutdown_timeout = "${SHUTDOWN:-5s}"; };
outputs: { influxdb = ( { name = "db"; url = "$url"; database = "fp"; batch_size = ${BATCH:-1000};
  flush_interval = "200ms"; retry_max = "2s"; spool_max = "${SPOOL_MAX:-1MB}"; $* } );
  file = ( { name = "lp"; path = "$tmp/$name/all.lp"; } ); };
indicators: { enabled = false; };
EOC
}
# landed SITE: "count sum" of seq for site SITE in influxd.
landed() {
	influx_q fp "SELECT count(seq), sum(seq) FROM drive WHERE site = '$1'" |
		grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//; s/,/ /'
}
# expect_landed SITE N: seq 0..N-1 landed exactly.
expect_landed() { [ "$(landed "$1")" = "$2 $(( $2 * ($2 - 1) / 2 ))" ]; }
# expect_max SITE N: the largest seq landed for SITE is N.
expect_max() {
	influx_q fp "SELECT max(seq) FROM drive WHERE site = '$1'" | grep -q "Z\",$2\]"
}
# spool NAME N: N points (seq 0..N-1) left in NAME's spool by a run whose
# database is unreachable.
spool() {
	SHUTDOWN=1s conf "$1" "$DEAD"
	"$B/outdrive" -c "$tmp/$1.conf" --points "$2" --per-tick 100 --tick-ms 0 >"$tmp/$1.fill" 2>&1
	[ "$(metric "$tmp/$1.fill" points_spooled)" = "$2" ]
}
# run NAME [user]: footprintd on NAME's config (as user when given), in the
# background; its log in $tmp/NAME.err.
run() {
	conf "$1" "${URL:-$INFLUX_URL}"
	if [ -n "${2:-}" ]; then
		chown -R "$(id -u "$2"):$(id -g "$2")" "$tmp/$1"
		setpriv --reuid="$(id -u "$2")" --regid="$(id -g "$2")" --clear-groups \
			"$FPD" -c "$tmp/$1.conf" 2>"$tmp/$1.err" &
	else
		"$FPD" -c "$tmp/$1.conf" 2>"$tmp/$1.err" &
	fi
	FPID=$!
}
# stop: SIGTERM to footprintd; its exit status.
stop() {
	local rc
	kill -TERM "$FPID" 2>/dev/null
	wait "$FPID"; rc=$?
	FPID=
	return $rc
}
seg() { printf '%s/%s/spool/db/seg-%020d.log' "$tmp" "$1" "$2"; }

# 1. A cursor that cannot be trusted: once "9 0 0" (past the newest
#    segment) deleted the whole spool; now each is ignored, logged and
#    counted, and everything is replayed.
for c in "9 0 0" "1 5 0" "1 999999999 0" "garbage"; do
	n=cur$((++ncur))
	spool "$n" 3000 || not_ok "cursor '$c': the spool holds the 3000 points"
	nseg=$(ls "$tmp/$n/spool/db" | grep -c '^seg-.*\.log$')
	printf '%s\n' "$c" > "$tmp/$n/spool/db/cursor"
	run "$n"
	check "cursor '$c' ($nseg segments): all 3000 points land" \
		wait_for 60 expect_landed "$n" 3000
	check "cursor '$c': logged and counted (spool_cursor_resets=1)" both \
		grep -q "the cursor cannot be trusted" "$tmp/$n.err" -- \
		wait_for 30 grep -q "component=output/db,.*spool_cursor_resets=1i" "$tmp/$n/all.lp"
	stop
	check "cursor '$c': the agent exits 0" [ $? -eq 0 ]
done
check "the cursor tests had several segments to lose" [ "$nseg" -ge 2 ]

# 2. A segment nobody can read (mode 000; as root the agent runs as nobody,
#    since root reads it anyway): once exit 1 (a restart loop under
#    systemd); now it is set aside as .bad, named in the log, counted,
#    and the rest is delivered.
spool unread 3000
bad=$(seg unread 1)
chmod 000 "$bad"
user=
[ "$(id -u)" -eq 0 ] && user=nobody
run unread $user
check "unreadable segment: the agent runs" wait_for 30 grep -q "agent: started" "$tmp/unread.err"
check "unreadable segment: named in the log and set aside" both \
	grep -q "seg-00000000000000000001.log cannot be used (Permission denied): set aside as .*\.log\.bad" "$tmp/unread.err" -- \
	test -e "$bad.bad"
check "unreadable segment: counted (spool_segments_set_aside=1)" \
	wait_for 30 grep -q "component=output/db,.*spool_segments_set_aside=1i" "$tmp/unread/all.lp"
check "unreadable segment: the other segment's points land, up to the last (seq 2999)" \
	wait_for 60 expect_max unread 2999
stop
check "unreadable segment: the agent exits 0" [ $? -eq 0 ]

# 3. The newest segment is a link to another file: never followed (the
#    file is not truncated nor written), set aside, the rest delivered.
spool link 3000
printf 'precious\n' > "$tmp/victim"
last=$(ls "$tmp/link/spool/db" | grep -c '^seg-.*\.log$')
ln -s "$tmp/victim" "$(seg link $((last + 1)))"
run link
check "link as the newest segment: all 3000 points land" wait_for 60 expect_landed link 3000
check "link as the newest segment: set aside and counted" both test -L "$(seg link $((last + 1))).bad" -- \
	wait_for 30 grep -q "component=output/db,.*spool_segments_set_aside=1i" "$tmp/link/all.lp"
stop
check "link as the newest segment: its target is untouched" [ "$(cat "$tmp/victim")" = precious ]

# 4. A 300 MB garbage segment (zeros) before the spooled points: read in
#    bounded pieces at start and while replaying (once 305 MB, and as
#    much again for the replay).
spool big 3000
mv "$(seg big 1)" "$(seg big 5)"; [ -e "$(seg big 2)" ] && mv "$(seg big 2)" "$(seg big 6)"
truncate -s 300M "$(seg big 4)"
rm -f "$tmp/big/spool/db/cursor"
run big
check "300 MB garbage segment: all 3000 points land" wait_for 120 expect_landed big 3000
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$FPID/status")
check "300 MB garbage segment: the agent's peak RSS stays bounded (${hwm} kB < 100 MB)" [ "${hwm:-999999}" -lt 102400 ]
check "300 MB garbage segment: counted as damage (spool_corrupt_bytes)" \
	wait_for 30 grep -q "component=output/db,.*spool_corrupt_bytes=[1-9][0-9]\{8\}i" "$tmp/big/all.lp"
stop

# 5. A crafted 2 MB segment (a false record header every 16 bytes, each
#    claiming the rest of the file): start-up once took 14 s (quadratic);
#    now it is linear: compared with a start on 2 MB of valid records,
#    generously.
started_ms() { # NAME: ms from the start of footprintd to "agent: started"
	local t0 t1
	t0=$(date +%s%N)
	URL=$DEAD SHUTDOWN=1s SPOOL_MAX=100MB run "$1"
	wait_for 120 grep -q "agent: started" "$tmp/$1.err"
	t1=$(date +%s%N)
	stop
	echo $(( (t1 - t0) / 1000000 ))
}
SPOOL_MAX=100MB spool valid 36000
mkdir -p "$tmp/crafted/spool/db"
perl -e '$n = 2 << 20; for ($i = 0; $i + 16 <= $n; $i += 16) { print "FPS1", pack("V", $n - $i - 16), "\x01" x 8 }' \
	> "$(seg crafted 1)"
tv=$(started_ms valid)
tc=$(started_ms crafted)
check "crafted 2 MB segment: start-up ${tc} ms, with 2 MB of valid records ${tv} ms (at most 10x + 1 s)" \
	[ "$tc" -le $(( 10 * tv + 1000 )) ]
check "crafted 2 MB segment: the false headers are logged" grep -q "false record headers\|damaged bytes" "$tmp/crafted.err"

# 6. Retry-After "0", a date in the past, and a huge number: a floor, never
#    below the output's own backoff (once hundreds of requests a second),
#    and no overflow (UBSan).
for ra in 0 "Thu, 01 Jan 1970 00:00:01 GMT" 99999999999999999999999; do
	n=ra$((++nra))
	mkdir -p "$tmp/$n.req"
	"$B/httpstub" --port-file "$tmp/$n.port" --dir "$tmp/$n.req" --status 503 --retry-after "$ra" &
	pids+=($!)
	wait_for 10 test -s "$tmp/$n.port"
	SHUTDOWN=4s conf "$n" "http://127.0.0.1:$(cat "$tmp/$n.port")"
	t0=$(date +%s%N)
	"$B/outdrive" -c "$tmp/$n.conf" --points 100 --per-tick 100 >"$tmp/$n.out" 2>"$tmp/$n.err"
	t1=$(date +%s%N)
	rq=$(metric "$tmp/$n.out" requests); ms=$(( (t1 - t0) / 1000000 ))
	check "Retry-After: $ra: $rq requests in $ms ms (a backoff from 500 ms: at most 3 a second)" \
		both [ "${rq:-0}" -ge 2 ] -- [ "${rq:-99999}" -le $(( 3 + 3 * ms / 1000 )) ]
	check "Retry-After: $ra: the 100 points are kept" [ "$(metric "$tmp/$n.out" points_spooled)" = 100 ]
done

# 7. A proxy's 400 (HTML, no InfluxDB header): not a rejection of the
#    points (once the whole batch was dropped as rejected), but a transient
#    failure: logged with the status, retried; everything lands.
mkdir -p "$tmp/px.req"
"$B/httpstub" --port-file "$tmp/px.port" --dir "$tmp/px.req" --status 400p,f --forward "$INFLUX_URL" &
pids+=($!)
wait_for 10 test -s "$tmp/px.port"
conf proxy "http://127.0.0.1:$(cat "$tmp/px.port")"
"$B/outdrive" -c "$tmp/proxy.conf" --points 3000 --per-tick 1000 --tick-ms 0 >"$tmp/proxy.out" 2>"$tmp/proxy.err"
check "proxy 400: all 3000 points land" expect_landed proxy 3000
check "proxy 400: nothing counted as rejected" [ "$(metric "$tmp/proxy.out" points_rejected)" = 0 ]
check "proxy 400: logged with its status as a failure to retry" \
	grep -q "HTTP 400 from .* without InfluxDB's answer (a proxy?): 1000 points kept for retry" "$tmp/proxy.err"

# 8. Credentials in the URL never reach the log (a 401, a network error,
#    --check-config -v).
mkdir -p "$tmp/au.req"
"$B/httpstub" --port-file "$tmp/au.port" --dir "$tmp/au.req" --status 401 &
pids+=($!)
wait_for 10 test -s "$tmp/au.port"
SHUTDOWN=1s conf cred "http://fpuser:pw-$$-secret@127.0.0.1:$(cat "$tmp/au.port")"
"$B/outdrive" -c "$tmp/cred.conf" --points 10 >"$tmp/cred.out" 2>"$tmp/cred.err"
check "credentials in the URL: the 401 is logged, with the URL redacted" \
	grep -q "HTTP 401 from http://\*\*\*@127.0.0.1:" "$tmp/cred.err"
check "credentials in the URL: sent as Basic authentication" grep -q "^Authorization: Basic " "$tmp/au.req/req-0001.txt"
SHUTDOWN=1s conf cred2 "http://fpuser:pw-$$-secret@${DEAD#http://}/prefix"
"$B/outdrive" -c "$tmp/cred2.conf" --points 10 >"$tmp/cred2.out" 2>"$tmp/cred2.err"
check "credentials in the URL: the network error names the URL redacted" \
	grep -q "http://\*\*\*@127.0.0.1:[0-9]*/prefix: " "$tmp/cred2.err"
"$FPD" -c "$tmp/cred2.conf" --check-config -v >"$tmp/cred2.v" 2>&1
check "credentials in the URL: --check-config -v shows it redacted" \
	grep -q 'url="http://\*\*\*@127.0.0.1:[0-9]*/prefix"' "$tmp/cred2.v"
check "credentials in the URL: the password is in no log" \
	not grep -q "pw-$$-secret" "$tmp/cred.err" "$tmp/cred.out" "$tmp/cred2.err" "$tmp/cred2.out" "$tmp/cred2.v"
done_testing
