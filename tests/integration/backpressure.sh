#!/bin/bash
# Backpressure: when every output is full (here the only one, a file on a
# full disk, with a queue of 100 points), the MQTT collector waits instead
# of dropping points; its QoS 1 messages stay with the broker (a persistent
# session) and all arrive once the disk has room again.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQ" ] || skip_all "mosquitto not installed (Debian package mosquitto)"
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid= MPID=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$MPID" ] && kill -KILL "$MPID" 2>/dev/null
	wait 2>/dev/null
	umount "$tmp/full" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/full"
mount -t tmpfs -o size=256k tmpfs "$tmp/full" 2>/dev/null ||
	skip_all "cannot mount a tmpfs here (needs root)"
N=3000

# mosquitto keeps every queued message of the session (its default keeps
# 1000 and drops the rest, silently for the subscriber).
MPORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n' "$MPORT" > "$tmp/mosquitto.conf"
chmod 644 "$tmp/mosquitto.conf"
"$MOSQ" -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 & MPID=$!
wait_for 20 mosquitto_sub -p "$MPORT" -h 127.0.0.1 -t probe -W 1 -C 1 -E ||
	{ echo "1..1"; echo "not ok 1 - mosquitto starts"; exit 1; }

cat > "$tmp/fp.conf" <<EOC
agent: { site = "bp"; state_dir = "$tmp/state"; interval = "1s"; queue_max = 100; };
outputs: { file = ( { path = "$tmp/full/out.lp"; } ); };
indicators: { enabled = false; };
mqtt: { brokers = ( { url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-bp"; clean_session = false;
  subscriptions = ( { topic = "bp/+"; format = "value"; template = "bp/{device}"; field = "seq"; qos = 1; } ); } ); };
EOC
"$FPD" -c "$tmp/fp.conf" 2>"$tmp/fp.err" & pid=$!
wait_for 10 grep -q "subscribed to" "$tmp/fp.err"
dd if=/dev/zero of="$tmp/full/filler" bs=4k 2>/dev/null   # the disk is full
seq 1 "$N" | mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t bp/d1 -l
check "full outputs: the agent says the collectors wait" \
	wait_for 30 grep -q "every output is full: the collectors wait" "$tmp/fp.err"
check "full outputs: the agent runs on" kill -0 "$pid"
n=$(grep -c '^meter,device=d1,' "$tmp/full/out.lp" 2>/dev/null)
check "full outputs: not everything is written yet (${n:-0} of $N)" [ "${n:-0}" -lt "$N" ]
rm -f "$tmp/full/filler"
# the file output retries with a backoff (at most a few seconds here)
check "room again: all $N messages are written" \
	wait_for 60 bash -c "[ \"\$(grep -c '^meter,device=d1,' '$tmp/full/out.lp')\" -ge $N ]"
sum=$(grep '^meter,device=d1,' "$tmp/full/out.lp" | grep -o ' seq=[0-9.e+-]*' | cut -d= -f2 |
	awk '{ s += $1 } END { printf "%.0f", s }')
check "room again: each message exactly once (count $(grep -c '^meter,device=d1,' "$tmp/full/out.lp"), sum $sum)" \
	both [ "$(grep -c '^meter,device=d1,' "$tmp/full/out.lp")" -eq "$N" ] -- [ "$sum" = $((N * (N + 1) / 2)) ]
check "the wait is counted (backpressure_waits)" \
	wait_for 5 grep -q "component=agent.* .*backpressure_waits=[1-9]" "$tmp/full/out.lp"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
check "SIGTERM exits 0" [ "$rc" -eq 0 ]
sed 's/^/# /' "$tmp/fp.err" | head -20
done_testing
