#!/bin/bash
# A payload far larger than max_payload (issue #20, item 8) through a real
# mosquitto into the real daemon.  With protocol = "5" the agent's CONNECT
# carries Maximum Packet Size (max_payload plus room for the topic), so
# the broker drops the message for this client: the agent's peak memory
# (VmHWM) stays far below the payload, and later messages still arrive.
# With 3.1.1 the bound is the broker's max_packet_size, which refuses the
# message from its publisher.  And a v5 persistent session outlives its
# connection (Session Expiry Interval).
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v mosquitto >/dev/null 2>&1 || command -v /usr/sbin/mosquitto >/dev/null 2>&1 ||
	skip_all "mosquitto not installed (Debian package mosquitto)"
FPD="$top_builddir/footprintd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
MPID=
FPID=
cleanup() {
	[ -n "$FPID" ] && { kill -KILL "$FPID"; wait "$FPID"; } 2>/dev/null
	broker_down
	rm -rf "$tmp"
}
trap cleanup EXIT
BIG=$((48 * 1024 * 1024))
head -c "$BIG" /dev/zero | tr '\0' 7 > "$tmp/big"
head -c $((100 * 1024)) /dev/zero | tr '\0' 7 > "$tmp/over"   # over max_payload, under the packet limit
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }     # kB
pub() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" "$@"; }
last() { grep "^footprintd,component=$1," "$lp" | tail -1 | grep -o "[ ,]$2=[0-9]*i" | sed 's/.*=//; s/i$//'; }

# ---- protocol 5: the broker never sends the big packet ----
broker_up "$tmp/mosq" || exit 1
mkdir -p "$tmp/state"
lp="$tmp/state/out.lp"
err="$tmp/fpd.err"
cat > "$tmp/f.conf" <<EOC
agent: { site = "lim"; interval = "1s"; state_dir = "$tmp/state"; };
outputs: { file = ( { path = "out.lp"; } ); };
indicators: { enabled = false; };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-lim5";
  clean_session = false; protocol = "5"; max_payload = "64KiB";
  subscriptions = (
    { topic = "lim/probe"; format = "json"; fields = ( { path = "x"; field = "x"; } ); },
    { topic = "big/+"; format = "value"; template = "big/{device}"; field = "v"; qos = 1; } ); } ); };
EOC
fpd_start "$tmp/f.conf" "$err" lim "$lp"; rc=$?
FPID=$FPD_STARTED
check "v5: the agent connects and subscribes" [ "$rc" -eq 0 ]
before=$(hwm "$FPID")
pub -q 1 -t big/m1 -f "$tmp/big"
pub -q 1 -t big/m1 -f "$tmp/over"
pub -q 1 -t big/m1 -m 42
check "v5: a later normal message arrives" wait_for 60 grep -q '^meter,device=m1,.* v=42 ' "$lp"
check "v5: the broker dropped the big message for the agent (its log says so)" \
	wait_for 10 grep -q "Dropping too large outgoing PUBLISH for fp-lim5" "$tmp/mosq/mosquitto.log"
after=$(hwm "$FPID")
echo "# VmHWM before ${before} kB, after ${after} kB; payload $((BIG / 1024)) kB"
check "v5: the agent's peak memory grew far less than the payload (+$((after - before)) kB)" \
	[ $((after - before)) -lt $((BIG / 1024 / 8)) ]
check "v5: a payload over max_payload within the packet limit is counted as malformed" \
	wait_for 20 sh -c "[ \"\$(grep '^footprintd,component=mqtt/b/big/+,' '$lp' | tail -1 | grep -o 'mqtt_malformed=[0-9]*')\" = mqtt_malformed=1 ]"
check "v5: two messages of big/+ reached the agent (not the big one)" [ "$(last mqtt/b/big/+ mqtt_messages)" = 2 ]
kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
check "v5: the agent stops cleanly" [ "$rc" -eq 0 ]
# v5 with clean_session = false: the session outlives the connection
for i in 1 2 3 4 5; do pub -q 1 -t big/away -m "$i"; done
fpd_start "$tmp/f.conf" "$err" lim "$lp"; rc=$?
FPID=$FPD_STARTED
check "v5 persistent session: the 5 messages published while the agent was away arrive" \
	wait_for 30 sh -c "[ \"\$(grep -c '^meter,device=away,' '$lp')\" -eq 5 ]"
kill -TERM "$FPID"; wait "$FPID"; FPID=
broker_down

# ---- 3.1.1: the broker's max_packet_size is the bound ----
: > "$lp"
broker_up "$tmp/mosq3" "max_packet_size 1000000" || exit 1
sed -i "s/protocol = \"5\"; //; s/mqtt:\/\/127.0.0.1:[0-9]*/mqtt:\/\/127.0.0.1:$MPORT/; s/fp-lim5/fp-lim3/" "$tmp/f.conf"
fpd_start "$tmp/f.conf" "$err" lim "$lp"; rc=$?
FPID=$FPD_STARTED
check "3.1.1: the agent connects and subscribes" [ "$rc" -eq 0 ]
before=$(hwm "$FPID")
pub -q 1 -t big/m2 -f "$tmp/big" 2>/dev/null
pub -q 1 -t big/m2 -m 43
check "3.1.1 + max_packet_size: a later normal message arrives" wait_for 60 grep -q '^meter,device=m2,.* v=43 ' "$lp"
after=$(hwm "$FPID")
echo "# VmHWM before ${before} kB, after ${after} kB"
check "3.1.1 + max_packet_size: the agent's peak memory grew far less than the payload (+$((after - before)) kB)" \
	[ $((after - before)) -lt $((BIG / 1024 / 8)) ]
kill -TERM "$FPID"; wait "$FPID"; FPID=
grep -v '^<6>' "$err" | head -10 | sed 's/^/# /'
done_testing
