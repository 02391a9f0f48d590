#!/bin/bash
# Overload never loses silently (issue #21, item 1): a backlog longer than
# a keepalive period.  The agent (keepalive 5 s, the default persistent
# session with its client id from the site and broker name, QoS 1) is
# stopped (SIGSTOP) while N messages are published, until the broker has
# closed its connection for the missing keepalive; then it goes on and
# drains the backlog.  Every message lands once, the drain itself ends in
# no keepalive timeout (slowed to a fifth, it drains over several
# keepalive periods), the disconnect is logged with its reason and
# counted, and the session was kept (sessions_lost 0).  Then a QoS 0
# backlog drained over several keepalives: the connection holds (it closed
# itself before, losing the rest).  Then the same with
# clean_session = true: the reconnection without a session is logged and
# counted in sessions_lost.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v mosquitto >/dev/null 2>&1 || command -v /usr/sbin/mosquitto >/dev/null 2>&1 ||
	skip_all "mosquitto not installed (Debian package mosquitto)"
FPD="$top_builddir/footprintd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
MPID=
FPID=
cleanup() {
	[ -n "$FPID" ] && { kill -CONT "$FPID"; kill -KILL "$FPID"; wait "$FPID"; } 2>/dev/null
	broker_down
	rm -rf "$tmp"
}
trap cleanup EXIT
# at most 50000: mosquitto_pub -l at QoS 1 (2.0.11) ends at the first
# acknowledgement whose 16-bit message id equals the last message's
N=50000
# mosquitto's default keeps 1000 queued messages per client
broker_up "$tmp/mosq" "max_queued_messages 1000000" || exit 1
mkdir -p "$tmp/state"
lp="$tmp/state/out.lp"
err="$tmp/fpd.err"
conf() { # conf EXTRA_BROKER_KEYS
	cat > "$tmp/f.conf" <<EOC
agent: { site = "ov"; interval = "1s"; state_dir = "$tmp/state"; queue_max = 1000000; };
outputs: { file = ( { path = "out.lp"; } ); };
indicators: { enabled = false; };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; keepalive = "5s";
  reconnect_min = "100ms"; reconnect_max = "1s"; $1
  subscriptions = (
    { topic = "ov/probe"; format = "json"; fields = ( { path = "x"; field = "x"; } ); },
    { topic = "ov/d/+"; format = "value"; template = "ov/d/{device}"; field = "seq"; qos = 1; } ); } ); };
EOC
}
# metric FIELD: of the broker's newest self-metrics line
bm() { lp_metric "$lp" mqtt/b "$1"; }
lines() { grep -c "^meter,device=$1," "$lp"; }

conf ""
fpd_start "$tmp/f.conf" "$err" ov "$lp"; rc=$?
FPID=$FPD_STARTED
check "the agent connects and subscribes" [ "$rc" -eq 0 ]
check "its client id is footprintd-ov-b (the broker says)" \
	grep -q "as footprintd-ov-b (p2, c0, k5)" "$tmp/mosq/mosquitto.log"

kill -STOP "$FPID"
seq 1 "$N" | mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t ov/d/d1 -l
check "stopped: the broker closes the connection after 1.5 keepalives" \
	wait_for 60 grep -q "Client footprintd-ov-b has exceeded timeout" "$tmp/mosq/mosquitto.log"
kill -CONT "$FPID"
t0=$(date +%s)
distinct() { grep '^meter,device=d1,' "$lp" | grep -o ' seq=[0-9]*' | sort -u | wc -l; }
all() { [ "$(lines d1)" -ge "$N" ] && [ "$(distinct)" -eq "$N" ]; }
# slowed for 15 s: it runs a twentieth of the time (stopped 0.95 s of
# each second, far less than the broker's 7.5 s), so the drain spans
# several keepalives; then it goes on at full speed
for _ in $(seq 1 15); do
	[ "$(lines d1)" -ge "$N" ] && break
	kill -STOP "$FPID"; sleep 0.95; kill -CONT "$FPID"; sleep 0.05
done
check "the backlog drains: every one of the $N messages lands" wait_for 300 all
dt=$(( $(date +%s) - t0 ))
check "the drain took longer than a keepalive ($dt s > 5 s)" [ "$dt" -gt 5 ]
# the messages the broker had in flight when it closed the connection
# (its max_inflight_messages, 20) were read after SIGCONT, but their
# PUBACKs could no longer leave: they come again (reception timestamps)
check "duplicates only from the broker's in-flight window ($(( $(lines d1) - N )) <= 20)" \
	[ $(( $(lines d1) - N )) -le 20 ]
# the self-metrics after the drain (a line written once all had landed)
after() { [ "$(bm connects)" = 2 ] && [ -n "$(bm keepalive_timeouts)" ]; }
wait_for 30 after
echo "# connects $(bm connects), disconnects $(bm disconnects), keepalive_timeouts $(bm keepalive_timeouts), sessions_lost $(bm sessions_lost)"
check "the disconnect is counted (disconnects 1, connects 2)" \
	both [ "$(bm disconnects)" = 1 ] -- [ "$(bm connects)" = 2 ]
check "and logged with its reason" grep -q "mqtt\[b\]: connection lost (.*); reconnecting" "$err"
check "the draining connection never timed out (no keepalive closes since)" \
	both [ "$(bm keepalive_timeouts)" = 0 ] -- [ "$(grep -c "as footprintd-ov-b" "$tmp/mosq/mosquitto.log")" -eq 2 ]
check "the session was kept (sessions_lost 0)" [ "$(bm sessions_lost)" = 0 ]

# QoS 0 (published at QoS 0): the agent sends no PUBACK, so libmosquitto
# sends a PINGREQ while the backlog drains, and its PINGRESP waits behind
# the backlog; the agent's UNSUBSCRIBE every half keepalive keeps the
# connection (before, it closed itself: MOSQ_ERR_KEEPALIVE).
N0=250000
lost0=$(grep -c "connection lost" "$err")
kill -STOP "$FPID"
seq 1 "$N0" | mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 0 -t ov/d/d3 -l
kill -CONT "$FPID"
t0=$(date +%s)
for _ in $(seq 1 15); do
	[ "$(lines d3)" -ge "$N0" ] && break
	[ "$(grep -c "connection lost" "$err")" -gt "$lost0" ] && break
	kill -STOP "$FPID"; sleep 0.95; kill -CONT "$FPID"; sleep 0.05
done
all0() { [ "$(lines d3)" -ge "$N0" ] || [ "$(grep -c "connection lost" "$err")" -gt "$lost0" ]; }
wait_for 300 all0
dt=$(( $(date +%s) - t0 ))
echo "# QoS 0: $(lines d3) of $N0 in $dt s"
check "QoS 0: the drain took longer than a keepalive ($dt s > 5 s)" [ "$dt" -gt 5 ]
check "QoS 0: the connection held while the backlog drained (no new disconnect)" \
	[ "$(grep -c "connection lost" "$err")" -eq "$lost0" ]
check "QoS 0: every one of the $N0 messages landed" [ "$(lines d3)" -eq "$N0" ]
# a self-metrics line written after the drain
drained() { [ "$(bm mqtt_messages)" -ge $((N + N0)) ]; }
wait_for 30 drained
check "QoS 0: keepalive_timeouts 0, connects 2 (none since)" \
	both [ "$(bm keepalive_timeouts)" = 0 ] -- [ "$(bm connects)" = 2 ]
kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
check "the agent stops cleanly" [ "$rc" -eq 0 ]

# clean_session = true: the same stop loses what was published meanwhile,
# and says so
conf 'client_id = "fp-ov-clean"; clean_session = true;'
: > "$lp"   # fpd_start waits for this agent's own probe line
fpd_start "$tmp/f.conf" "$err" ov "$lp"; rc=$?
FPID=$FPD_STARTED
check "clean session: the agent connects" [ "$rc" -eq 0 ]
kill -STOP "$FPID"
seq 1 100 | mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t ov/d/d2 -l
check "clean session: the broker closes the stopped agent's connection" \
	wait_for 60 grep -q "Client fp-ov-clean has exceeded timeout" "$tmp/mosq/mosquitto.log"
kill -CONT "$FPID"
lost() { [ "$(bm sessions_lost)" = 1 ]; }
check "clean session: the reconnection without a session is counted (sessions_lost 1)" wait_for 60 lost
check "clean session: and logged" grep -q "mqtt\[b\]: reconnected with a clean session (clean_session = true): messages published while disconnected are lost" "$err"
echo "# clean session: $(lines d2) of 100 messages arrived (those in flight before the close)"
kill -TERM "$FPID"; wait "$FPID"; FPID=
grep -v '^<6>' "$err" | head -10 | sed 's/^/# /'
done_testing
