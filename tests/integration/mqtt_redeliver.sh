#!/bin/bash
# QoS 1 messages redelivered after a SIGKILL (issue #20, item 9): a message
# whose points reached the spool but whose PUBACK had not left is sent
# again by the broker when the agent is back (persistent session).  A
# reception timestamp would make the second copy a second point; with the
# payload's own timestamp (time_path) the copy is the same point, and
# InfluxDB stores it once.  N messages, a SIGKILL while they flow, a
# restart: InfluxDB holds exactly N points, each message's value once.
# The broker's debug log shows the redeliveries (DUP flag "d1"), when the
# kill fell between a callback and its PUBACK.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v mosquitto >/dev/null 2>&1 || command -v /usr/sbin/mosquitto >/dev/null 2>&1 ||
	skip_all "mosquitto not installed (Debian package mosquitto)"
command -v "${INFLUXD:-influxd}" >/dev/null 2>&1 || skip_all "influxd not installed"
FPD="$top_builddir/footprintd"
test_begin
N=20000
# a window of 1000 messages in flight: a kill more often falls between a
# callback and its PUBACK (the agent reads up to 100 messages a turn
# before it writes their PUBACKs)
broker_up "$tmp/mosq" "$(printf 'max_queued_messages 1000000\nmax_inflight_messages 1000\nlog_type all')" || exit 1
influx_up "$tmp/influx"
influx_q "" "CREATE DATABASE fp" -XPOST >/dev/null
# InfluxDB is down until the end: the spool keeps every point the agent
# handled, so a message handled twice is there twice
influx_stop
mkdir -p "$tmp/state"
lp="$tmp/state/out.lp"
err="$tmp/fpd.err"
cat > "$tmp/f.conf" <<EOC
agent: { site = "rd"; interval = "1s"; state_dir = "$tmp/state"; };
outputs: { file = ( { path = "out.lp"; } );
  influxdb = ( { name = "db"; url = "$INFLUX_URL"; database = "fp"; flush_interval = "200ms"; retry_max = "2s"; } ); };
indicators: { enabled = false; };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-rd";
  clean_session = false;
  subscriptions = (
    { topic = "rd/probe"; format = "json"; fields = ( { path = "x"; field = "x"; } ); },
    { topic = "rd/+"; format = "json"; template = "rd/{device}"; qos = 1;
      fields = ( { path = "n"; field = "seq"; } ); time_path = "t"; time_format = "epoch_s"; } ); } ); };
EOC
fpd_start "$tmp/f.conf" "$err" rd "$lp"; rc=$?
FPID=$FPD_STARTED
check "the agent connects and subscribes" [ "$rc" -eq 0 ]

# N messages, each with its own time (one per second, ending an hour ago)
t0=$(( $(date -u +%s) - 3600 - N ))
seq 1 "$N" | awk -v t0="$t0" '{ printf "{\"n\":%d,\"t\":%d}\n", $1, t0 + $1 }' > "$tmp/msgs"
# the agent stopped (SIGSTOP) while they are published, so it then drains
# a backlog, always busy: a SIGKILL then falls inside a turn
kill -STOP "$FPID"
mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t rd/d1 -l < "$tmp/msgs"
kill -CONT "$FPID"
# SIGKILL while the backlog drains: some in the spool, not all
wait_for 60 sh -c "[ \"\$(grep -c '^meter,device=d1,' '$lp')\" -ge $((N / 20)) ]"
kill -KILL "$FPID"; wait "$FPID" 2>/dev/null; FPID=
got=$(grep -c '^meter,device=d1,' "$lp")
echo "# killed after $got of $N messages reached the file output"
check "killed while the messages flowed (not all had arrived)" [ "$got" -lt "$N" ]
fpd_start "$tmp/f.conf" "$err" rd "$lp"; rc=$?
FPID=$FPD_STARTED
check "restarted" [ "$rc" -eq 0 ]
# the points in the spool, one "seq=N" line per point
spooled() { cat "$tmp"/state/spool/db/* 2>/dev/null | grep -a -o 'meter,device=d1,[^ ]* seq=[0-9]*' | grep -o 'seq=[0-9]*'; }
all_spooled() { [ "$(spooled | sort -u | wc -l)" -eq "$N" ]; }
check "every message reaches the agent's spool after the restart" wait_for 120 all_spooled
dups=$(grep -c "Sending PUBLISH to fp-rd (d1, q1" "$tmp/mosq/mosquitto.log")
echo "# the broker redelivered $dups message(s) after the SIGKILL (DUP flag)"
twice=$(spooled | sort | uniq -d | wc -l)
echo "# $twice message(s) handled twice (twice in the spool)"
if [ "$twice" -gt 0 ]; then
	ok "some messages were handled twice (killed between a callback and its PUBACK)"
else
	ok "# SKIP the kill fell between turns this time: no message was handled twice"
fi
influx_restart
cs() { count_sum fp meter seq; }
all_in() { [ "$(cs)" = "$N $((N * (N + 1) / 2))" ]; }
check "InfluxDB stores one point per message: count $N, sum $((N * (N + 1) / 2))" wait_for 120 all_in
echo "# InfluxDB: $(cs) (count sum)"
kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
check "the agent stops cleanly" [ "$rc" -eq 0 ]
grep -v '^<6>' "$err" | head -10 | sed 's/^/# /'
done_testing
