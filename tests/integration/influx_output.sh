#!/bin/bash
# The InfluxDB output against a real influxd on loopback (and a small HTTP
# endpoint for the v2 API and injected 503s and 413s): writes, gzip, partial writes,
# authentication, and the fault tests (a)-(f), each ending with an exact
# count and sum of what landed.
#   FP_OUTAGE_S  length of the database outage of (a) and (b), default 60
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v "${INFLUXD:-influxd}" >/dev/null 2>&1 || skip_all "influxd not installed (Debian package influxdb)"
B="$top_builddir/tests/integration"
OUTAGE=${FP_OUTAGE_S:-60}
test_begin
cleanup_more() { mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"; }
influx_up "$tmp/influx"
influx_q "" "CREATE DATABASE fp" -XPOST >/dev/null
DEAD="http://127.0.0.1:$(free_port)"   # nothing listens there

# conf NAME URL [extra settings]: writes $tmp/NAME.conf with one InfluxDB output.
conf() {
	local name=$1 url=$2 api=${API:-'database = "fp";'}; shift 2
	mkdir -p "$tmp/$name"
	cat > "$tmp/$name.conf" <<EOC
agent: { site = "$name"; state_dir = "$tmp/$name"; shutdown_timeout = "${SHUTDOWN:-10s}"; };
outputs: { influxdb = ( { name = "db"; url = "$url"; $api
  batch_size = ${BATCH:-1000}; flush_interval = "200ms"; retry_max = "2s"; $* } ); };
EOC
}
# expect_landed DB SITE N: count and sum of seq for site SITE are exactly 0..N-1.
expect_landed() {
	local got want
	got=$(influx_q "$1" "SELECT count(seq), sum(seq) FROM drive WHERE site = '$2'" |
		grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//; s/,/ /')
	want="$3 $(( $3 * ($3 - 1) / 2 ))"
	[ "$got" = "$want" ] || { echo "# $2: landed [count sum] = [$got], want [$want]"; return 1; }
}

# 1. Plain writes with gzip: every point lands once.
conf basic "$INFLUX_URL"
"$B/outdrive" -c "$tmp/basic.conf" --points 20000 --per-tick 500 --tick-ms 2 >"$tmp/basic.out" 2>"$tmp/basic.err"
check "20000 points written with gzip land exactly (count and sum)" expect_landed fp basic 20000
check "self-metrics: points_written=20000" [ "$(metric "$tmp/basic.out" points_written)" = 20000 ]
check "self-metrics: the gzip body is smaller than the text" \
	[ "$(metric "$tmp/basic.out" batch_bytes_gzip)" -lt "$(metric "$tmp/basic.out" batch_bytes)" ]
check "the spool is empty after delivery" [ "$(metric "$tmp/basic.out" points_spooled)" = 0 ]
check "self-metrics: write_wait_ms (idle waiting) within write_time_ms, both counted" both \
	[ "$(metric "$tmp/basic.out" write_wait_ms)" -le "$(metric "$tmp/basic.out" write_time_ms)" ] -- \
	[ "$(metric "$tmp/basic.out" write_time_ms)" -gt 0 ]

# 2. Without gzip.
conf plain "$INFLUX_URL" "gzip = false;"
"$B/outdrive" -c "$tmp/plain.conf" --points 3000 >"$tmp/plain.out" 2>&1
check "gzip = false: 3000 points land exactly" expect_landed fp plain 3000
check "gzip = false: no gzip body" [ "$(metric "$tmp/plain.out" batch_bytes_gzip)" = 0 ]

# 3. Partial writes: the good lines land, the bad are counted, nothing is
#    resent.  (InfluxDB 1.x reports either parse errors or type conflicts
#    in one answer, so each case is a batch of its own.)
conf partial "$INFLUX_URL"
printf 'conflict v=1i 1\n' | "$B/outdrive" -c "$tmp/partial.conf" --stdin >/dev/null 2>&1
printf 'conflict v=2.5 2\ngood v=1 10\nconflict v=3.5 3\ngood v=2 11\ngood v=3 12\n' |
	"$B/outdrive" -c "$tmp/partial.conf" --stdin >"$tmp/partial.out" 2>"$tmp/partial.err"
sed 's/^/# /' "$tmp/partial.err"
check "type conflicts: the 3 good lines land" \
	grep -q '"values":\[\["1970-01-01T00:00:00Z",3,6\]' <<<"$(influx_q fp 'SELECT count(v), sum(v) FROM good')"
check "type conflicts: 2 points counted as rejected" [ "$(metric "$tmp/partial.out" points_rejected)" = 2 ]
check "type conflicts: 3 points counted as written" [ "$(metric "$tmp/partial.out" points_written)" = 3 ]
check "type conflicts: the batch is not resent (1 request)" [ "$(metric "$tmp/partial.out" requests)" = 1 ]
check "type conflicts: the rejection is logged" grep -q "2 of 5 points rejected.*field type conflict" "$tmp/partial.err"
printf 'fine v=1 10\nthis is not line protocol\nfine v=2 11\nneither=is this\n' |
	"$B/outdrive" -c "$tmp/partial.conf" --stdin >"$tmp/parse.out" 2>"$tmp/parse.err"
sed 's/^/# /' "$tmp/parse.err"
check "parse errors: the 2 good lines land" \
	grep -q '"values":\[\["1970-01-01T00:00:00Z",2,3\]' <<<"$(influx_q fp 'SELECT count(v), sum(v) FROM fine')"
check "parse errors: 2 points counted as rejected, 2 written, 1 request" \
	[ "$(metric "$tmp/parse.out" points_rejected)/$(metric "$tmp/parse.out" points_written)/$(metric "$tmp/parse.out" requests)" = 2/2/1 ]
check "parse errors: the bad lines are logged" grep -q "unable to parse 'this is not line protocol'" "$tmp/parse.err"

# 4. v2 API: path, query, token header and gzip body, against a local endpoint
#    (Debian has no InfluxDB 2 server).
mkdir -p "$tmp/v2req"
"$B/httpstub" --port-file "$tmp/v2.port" --dir "$tmp/v2req" --status 204 &
pids+=($!)
wait_for 10 test -s "$tmp/v2.port"
printf 's3cr3t-token\n' > "$tmp/token"
API='api = "v2"; org = "my org"; bucket = "b/1"; token_file = "'$tmp/token'";' \
	conf v2 "http://127.0.0.1:$(cat "$tmp/v2.port")"
"$B/outdrive" -c "$tmp/v2.conf" --points 100 --per-tick 100 >"$tmp/v2.out" 2>&1
req="$tmp/v2req/req-0001.txt"
check "v2: the request line" grep -q '^POST /api/v2/write?org=my%20org&bucket=b%2F1&precision=ns HTTP/1.1$' "$req"
check "v2: Authorization: Token from token_file" grep -q '^Authorization: Token s3cr3t-token$' "$req"
check "v2: Content-Encoding: gzip" grep -q '^Content-Encoding: gzip$' "$req"
check "v2: the gunzipped body holds the 100 points" [ "$(grep -c '^drive,site=v2 seq=' "$req")" -eq 100 ]
check "v2: the token never appears in the log" not grep -q s3cr3t "$tmp/v2.out"

# 5. Authentication (v1): a wrong password keeps the data; the right one delivers it.
MAIN_URL=$INFLUX_URL MAIN_PID=$INFLUX_PID MAIN_CONF=$INFLUX_CONF
influx_start "$tmp/influx-auth" auth >/dev/null || true
AUTH_URL=$INFLUX_URL AUTH_PID=$INFLUX_PID
INFLUX_URL=$MAIN_URL INFLUX_PID=$MAIN_PID INFLUX_CONF=$MAIN_CONF
curl -s -XPOST "$AUTH_URL/query" --data-urlencode "q=CREATE USER admin WITH PASSWORD 'right' WITH ALL PRIVILEGES" >/dev/null
curl -s -XPOST -u admin:right "$AUTH_URL/query" --data-urlencode "q=CREATE DATABASE fp" >/dev/null
printf 'wrong\n' > "$tmp/pw.wrong"; printf 'right\n' > "$tmp/pw.right"
SHUTDOWN=1s conf auth "$AUTH_URL" "username = \"admin\"; password_file = \"$tmp/pw.wrong\";"
"$B/outdrive" -c "$tmp/auth.conf" --points 500 >"$tmp/auth.out" 2>"$tmp/auth.err"
check "auth: a 401 is counted and logged as an error" \
	both [ "$(metric "$tmp/auth.out" write_errors_auth)" -ge 1 ] -- grep -q "HTTP 401" "$tmp/auth.err"
check "auth: the 500 points are kept in the spool" [ "$(metric "$tmp/auth.out" points_spooled)" = 500 ]
conf auth "$AUTH_URL" "username = \"admin\"; password_file = \"$tmp/pw.right\";"
"$B/outdrive" -c "$tmp/auth.conf" --points 0 >"$tmp/auth2.out" 2>&1
got=$(curl -s -G -u admin:right "$AUTH_URL/query" --data-urlencode db=fp \
	--data-urlencode "q=SELECT count(seq), sum(seq) FROM drive WHERE site='auth'" |
	grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//')
check "auth: with the right password the spooled points land exactly ($got)" [ "$got" = "500,124750" ]
kill -KILL "$AUTH_PID" 2>/dev/null; wait "$AUTH_PID" 2>/dev/null

# 6. TLS: the certificate is verified by default; ca_file trusts a private
#    CA; insecure_skip_verify skips the check with a warning.
mkdir -p "$tmp/tls"
if (cd "$tmp/tls" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=fp test CA" &&
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" &&
	printf 'subjectAltName=IP:127.0.0.1\n' > ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext
   ) >"$tmp/tls/openssl.log" 2>&1; then
	MAIN_URL=$INFLUX_URL MAIN_PID=$INFLUX_PID MAIN_CONF=$INFLUX_CONF
	TLS_CERT="$tmp/tls/srv.pem" TLS_KEY="$tmp/tls/srv.key" influx_start "$tmp/influx-tls" tls
	TLS_URL=$INFLUX_URL TLS_PID=$INFLUX_PID
	INFLUX_URL=$MAIN_URL INFLUX_PID=$MAIN_PID INFLUX_CONF=$MAIN_CONF
	curl -s --cacert "$tmp/tls/ca.pem" -XPOST "$TLS_URL/query" --data-urlencode "q=CREATE DATABASE fp" >/dev/null
	tls_landed() {
		curl -s -G --cacert "$tmp/tls/ca.pem" "$TLS_URL/query" --data-urlencode db=fp \
			--data-urlencode "q=SELECT count(seq), sum(seq) FROM drive WHERE site='$1'" |
			grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//'
	}
	SHUTDOWN=1s conf tlsnoca "$TLS_URL"
	"$B/outdrive" -c "$tmp/tlsnoca.conf" --points 200 >"$tmp/tlsnoca.out" 2>"$tmp/tlsnoca.err"
	check "TLS: an unknown CA is refused by default (logged, data kept)" \
		both grep -q "SSL certificate problem" "$tmp/tlsnoca.err" -- [ "$(metric "$tmp/tlsnoca.out" points_spooled)" = 200 ]
	conf tlsca "$TLS_URL" "ca_file = \"$tmp/tls/ca.pem\";"
	"$B/outdrive" -c "$tmp/tlsca.conf" --points 300 >"$tmp/tlsca.out" 2>&1
	check "TLS: with ca_file every point lands exactly" [ "$(tls_landed tlsca)" = "300,44850" ]
	conf tlsins "$TLS_URL" "insecure_skip_verify = true;"
	"$B/outdrive" -c "$tmp/tlsins.conf" --points 100 >"$tmp/tlsins.out" 2>"$tmp/tlsins.err"
	check "TLS: insecure_skip_verify delivers, with a warning" \
		both [ "$(tls_landed tlsins)" = "100,4950" ] -- grep -q "NOT checked" "$tmp/tlsins.err"
	{ kill -KILL "$TLS_PID"; wait "$TLS_PID"; } 2>/dev/null
else
	sed 's/^/# /' "$tmp/tls/openssl.log"
	not_ok "TLS: cannot make test certificates with openssl"
fi

# (c) 503 with Retry-After, then a proxy to the real influxd.
mkdir -p "$tmp/c-req"
"$B/httpstub" --port-file "$tmp/c.port" --dir "$tmp/c-req" --status 503,503,f \
	--retry-after 1 --forward "$INFLUX_URL" &
pids+=($!)
wait_for 10 test -s "$tmp/c.port"
conf c "http://127.0.0.1:$(cat "$tmp/c.port")"
t0=$(date +%s%N)
"$B/outdrive" -c "$tmp/c.conf" --points 3000 --per-tick 1000 --tick-ms 0 >"$tmp/c.out" 2>"$tmp/c.err"
t1=$(date +%s%N)
check "(c) after two 503s with Retry-After every point lands exactly" expect_landed fp c 3000
check "(c) the 503s are counted as server errors" [ "$(metric "$tmp/c.out" write_errors_server)" = 2 ]
check "(c) Retry-After: 1 is honoured (at least 2 s in all)" [ $(( (t1 - t0) / 1000000 )) -ge 1900 ]
# firsts DIR SITE: the first seq of each recorded request body, in order.
firsts() {
	local r
	for r in "$1"/req-*.txt; do
		grep -m1 -o "^drive,site=$2 seq=[0-9]*" "$r" | sed 's/.*=//'
	done | tr '\n' ' '
}
# The batch read ahead during a failed request is dropped: the retry and
# what follows come from the cursor, in order.
f=$(firsts "$tmp/c-req" c)
check "(c) the retries resend the first batch, then the rest in order ($f)" [ "$f" = "0 0 0 1000 2000 " ]

# (f) 413: the batch is split in halves, each compressed again; the batches
#     read ahead while a request is in flight keep the spool's order.
mkdir -p "$tmp/f-req"
"$B/httpstub" --port-file "$tmp/f.port" --dir "$tmp/f-req" --status 413,f --forward "$INFLUX_URL" &
pids+=($!)
wait_for 10 test -s "$tmp/f.port"
conf f "http://127.0.0.1:$(cat "$tmp/f.port")"
"$B/outdrive" -c "$tmp/f.conf" --points 3000 --per-tick 500 --tick-ms 0 >"$tmp/f.out" 2>"$tmp/f.err"
check "(f) 413: every point lands exactly after the split" expect_landed fp f 3000
f=$(firsts "$tmp/f-req" f)
h1=$(grep -c '^drive,site=f seq=' "$tmp/f-req/req-0002.txt")
h2=$(grep -c '^drive,site=f seq=' "$tmp/f-req/req-0003.txt")
check "(f) 413: the two halves ($h1 + $h2 points), then the next batches in order ($f)" \
	both [ "$f" = "0 0 $h1 1000 2000 " ] -- [ $((h1 + h2)) -eq 1000 ]
check "(f) 413: the halves are sent as gzip bodies" \
	both grep -q '^Content-Encoding: gzip$' "$tmp/f-req/req-0002.txt" -- \
	grep -q '^Content-Encoding: gzip$' "$tmp/f-req/req-0003.txt"

# (a) influxd stopped for $OUTAGE s while points flow, then restarted.
conf a "$INFLUX_URL"
N=$(( (OUTAGE + 12) * 500 ))
"$B/outdrive" -c "$tmp/a.conf" --points $N --per-tick 50 --tick-ms 100 >"$tmp/a.out" 2>"$tmp/a.err" &
drv=$!; pids+=($drv)
sleep 3
influx_stop
sleep "$OUTAGE"
influx_restart
wait "$drv"
check "(a) influxd down ${OUTAGE}s: all $N points land exactly once" expect_landed fp a $N
check "(a) the outage was seen (network errors counted)" [ "$(metric "$tmp/a.out" write_errors_network)" -ge 1 ]

# (b) the same, and the agent SIGKILLed during the outage, then restarted.
conf b "$INFLUX_URL"
N=$(( (OUTAGE + 12) * 500 ))
"$B/outdrive" -c "$tmp/b.conf" --points $N --per-tick 50 --tick-ms 100 --progress "$tmp/b.progress" \
	>"$tmp/b.out" 2>"$tmp/b.err" &
drv=$!; pids+=($drv)
sleep 3
influx_stop
sleep $(( OUTAGE / 2 ))
kill -KILL "$drv"; wait "$drv" 2>/dev/null
spooled=$(ls "$tmp/b/spool/db/" | grep -c seg-)
sleep $(( OUTAGE - OUTAGE / 2 ))
influx_restart
# Resume where the killed run was: what it had dispatched is in the spool
# (and must come from there); the new run starts at its last progress mark
# (at most one tick is sent twice, and InfluxDB keeps a re-sent point once).
done_pts=$(( 10#$(cat "$tmp/b.progress") ))
"$B/outdrive" -c "$tmp/b.conf" --points $(( N - done_pts )) --start $done_pts --per-tick 1000 --tick-ms 0 >"$tmp/b2.out" 2>"$tmp/b2.err"
check "(b) the killed agent left its points in the spool ($done_pts dispatched)" both [ "$spooled" -ge 1 ] -- [ "$done_pts" -gt 0 ]
check "(b) SIGKILL during the outage: all $N points land exactly once" expect_landed fp b $N

# (d) the spool limit reached: the oldest are evicted and counted, the rest land.
SHUTDOWN=1s conf d "$DEAD" 'spool_max = "1MB";'
"$B/outdrive" -c "$tmp/d.conf" --points 40000 --per-tick 1000 --tick-ms 0 >"$tmp/d.out" 2>"$tmp/d.err"
ev=$(metric "$tmp/d.out" points_evicted); sp=$(metric "$tmp/d.out" points_spooled)
check "(d) points were evicted, counted and logged" both [ "${ev:-0}" -gt 0 ] -- grep -q "evicted the oldest" "$tmp/d.err"
check "(d) evicted + spooled = all 40000 points" [ $(( ev + sp )) -eq 40000 ]
check "(d) the spool stays within spool_max" [ "$(du -sb "$tmp/d/spool/db" | cut -f1)" -le 1010000 ]
conf d "$INFLUX_URL" 'spool_max = "1MB";'
"$B/outdrive" -c "$tmp/d.conf" --points 0 >"$tmp/d2.out" 2>&1
got=$(influx_q fp "SELECT count(seq), min(seq), max(seq) FROM drive WHERE site = 'd'" | grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//')
check "(d) exactly the $sp newest points land after the database is back ($got)" [ "$got" = "$sp,$ev,39999" ]

# (e) the spool's disk is full: a clear error, no crash, bounded memory.
mkdir -p "$tmp/full"
if mount -t tmpfs -o size=256k tmpfs "$tmp/full" 2>/dev/null; then
	cat > "$tmp/e.conf" <<EOC
agent: { site = "e"; state_dir = "$tmp/full/state"; shutdown_timeout = "1s"; };
outputs: { influxdb = ( { name = "db"; url = "$DEAD"; database = "fp"; retry_max = "2s"; } ); };
EOC
	"$B/outdrive" -c "$tmp/e.conf" --points 100000 --per-tick 1000 --tick-ms 0 >"$tmp/e.out" 2>"$tmp/e.err"; rc=$?
	check "(e) disk full: no crash (exit 0)" [ "$rc" -eq 0 ]
	check "(e) disk full: a clear error names the spool" grep -q "cannot write the spool .*No space left on device" "$tmp/e.err"
	sp=$(metric "$tmp/e.out" points_spooled); dr=$(metric "$tmp/e.out" points_dropped)
	check "(e) disk full: every point is spooled or counted as dropped ($sp + $dr)" [ $(( sp + dr )) -eq 100000 ]
	check "(e) disk full: memory stays bounded (points dropped, not hoarded)" [ "${dr:-0}" -gt 0 ]
	umount "$tmp/full"
else
	tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP (e) cannot mount a tmpfs here (needs root)"
fi

# (g) the spool's disk full of undelivered points when InfluxDB comes back
# while points flow, one per chunk: what memory holds goes a batch at a
# time, in turn with the spool, whose replay frees the disk; nothing of
# the flow is dropped.
mkdir -p "$tmp/full2"
if mount -t tmpfs -o size=512k tmpfs "$tmp/full2" 2>/dev/null; then
	fconf() { cat > "$tmp/f.conf" <<EOC
agent: { site = "f"; state_dir = "$tmp/full2/state"; shutdown_timeout = "$2"; };
outputs: { influxdb = ( { name = "db"; url = "$1"; database = "fp"; batch_size = 1000; retry_max = "1s"; } ); };
EOC
	}
	fconf "$DEAD" 1s
	"$B/outdrive" -c "$tmp/f.conf" --points 20000 --per-tick 100 --tick-ms 0 >"$tmp/f1.out" 2>"$tmp/f1.err"
	sp1=$(metric "$tmp/f1.out" points_spooled)
	check "(g) the outage fills the spool's disk ($sp1 points spooled)" \
		both [ "${sp1:-0}" -gt 0 ] -- grep -q "No space left on device" "$tmp/f1.err"
	fconf "$INFLUX_URL" 30s
	"$B/outdrive" -c "$tmp/f.conf" --start 20000 --points 30000 --per-tick 3 --tick-ms 1 >"$tmp/f2.out" 2>"$tmp/f2.err"
	dr=$(metric "$tmp/f2.out" points_dropped); sp=$(metric "$tmp/f2.out" points_spooled)
	got=$(influx_q fp "SELECT count(seq) FROM drive WHERE site = 'f' AND seq >= 20000" | grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//')
	check "(g) back up: nothing of the flow dropped, the spool drained (dropped ${dr:-?}, spooled ${sp:-?})" \
		both [ "${dr:-1}" -eq 0 ] -- [ "${sp:-1}" -eq 0 ]
	check "(g) back up: all 30000 points of the flow landed ($got)" [ "${got:-0}" -eq 30000 ]
	rq=$(metric "$tmp/f2.out" requests)
	check "(g) back up: what memory held went in batches, not a request per chunk ($rq requests for 10000 chunks)" \
		[ "${rq:-99999}" -le 300 ]
	umount "$tmp/full2"
else
	tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP (g) cannot mount a tmpfs here (needs root)"
fi

done_testing
