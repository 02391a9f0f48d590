#!/bin/bash
# Several InfluxDB outputs at once: a dead one never delays a live one,
# and each keeps its own spool.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v "${INFLUXD:-influxd}" >/dev/null 2>&1 || skip_all "influxd not installed (Debian package influxdb)"
test_begin
influx_up "$tmp/influx"
influx_q "" "CREATE DATABASE live" -XPOST >/dev/null
DEAD="http://127.0.0.1:$(free_port)"
cat > "$tmp/multi.conf" <<EOC
agent: { site = "multi"; state_dir = "$tmp/state"; shutdown_timeout = "2s"; };
outputs: { influxdb = (
  { name = "dead"; url = "$DEAD"; database = "x"; flush_interval = "100ms"; retry_max = "30s"; timeout = "5s"; },
  { name = "live"; url = "$INFLUX_URL"; database = "live"; flush_interval = "100ms"; }
); };
EOC
t0=$(date +%s%N)
"$top_builddir/tests/integration/outdrive" -c "$tmp/multi.conf" --points 5000 --per-tick 250 --tick-ms 50 \
	>"$tmp/out" 2>"$tmp/err" &
FPID=$!
got=
for i in $(seq 1 100); do
	got=$(influx_q live "SELECT count(seq) FROM drive" | grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//')
	[ "$got" = 5000 ] && break
	sleep 0.1
done
t1=$(date +%s%N)
wait "$FPID"; FPID=
ms=$(( (t1 - t0) / 1000000 ))
check "the live output delivered all 5000 points while the other was dead (${ms} ms)" \
	both [ "$got" = 5000 ] -- [ "$ms" -lt 8000 ]
check "the dead output kept all 5000 in its own spool" \
	grep -q 'component=output/dead,.*points_spooled=5000i' "$tmp/out"
check "the two spools are separate folders" both test -d "$tmp/state/spool/dead" -- test -d "$tmp/state/spool/live"
done_testing
