#!/bin/bash
# Hostile input through a real mosquitto into the real daemon (issue #20,
# items 1 and 2): timestamps that used to wrap (milliseconds given as
# epoch_s, a lifecycle event in 2600) are rejected, counted and logged
# once with the unit named; an event_id carrying "\n<0>FORGED" gives one
# escaped log line, never a line of its own; 1000 malformed messages and
# 1000 rejected lifecycle events give a bounded number of log lines plus
# the count of the suppressed ones, every message accounted for.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v mosquitto >/dev/null 2>&1 || command -v /usr/sbin/mosquitto >/dev/null 2>&1 ||
	skip_all "mosquitto not installed (Debian package mosquitto)"
FPD="$top_builddir/footprintd"
FP="$top_builddir/footprint"
CATS="$top_srcdir/data/ewaste-categories.csv"
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
broker_up "$tmp/mosq" || exit 1
export TZ=UTC
mkdir -p "$tmp/state"
lp="$tmp/state/out.lp"
err="$tmp/fpd.err"

cat > "$tmp/f.conf" <<EOC
agent: { site = "dc9"; interval = "1s"; state_dir = "$tmp/state";
         log_ratelimit_burst = 5; log_ratelimit_interval = "2s"; };
outputs: { file = ( { path = "out.lp"; } ); };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-hostile";
  subscriptions = (
    { topic = "meters/+"; format = "json"; template = "meters/{device}"; qos = 1;
      fields = ( { path = "p"; field = "power_w"; } ); time_path = "t"; time_format = "epoch_s"; },
    { topic = "assets/events"; format = "lifecycle"; qos = 1; } ); } ); };
indicators: { interval = "1s"; };
inventory: { categories_file = "$CATS"; };
EOC
"$FPD" -c "$tmp/f.conf" 2>"$err" &
FPID=$!
wait_for 20 grep -q "subscribed to" "$err"
# subscribed once the broker delivers a probe (no fixed sleep)
wait_for 20 sh -c "mosquitto_pub -h 127.0.0.1 -p $MPORT -q 1 -t meters/probe -m '{\"p\":1}' &&
	grep -q '^meter,device=probe,' '$lp'"
pub() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 "$@"; }
# last COMPONENT FIELD: the field's value in the newest self-metrics line
last() { grep "^footprintd,component=$1," "$lp" | tail -1 | grep -o "[ ,]$2=[0-9]*i" | sed 's/.*=//; s/i$//'; }

# ---- 1. timestamps: never wrapped ----
now=$(date -u +%s)
year=$(date -u +%Y)
pub -t meters/m1 -m "{\"p\":100,\"t\":$now}"
pub -t meters/m1 -m "{\"p\":200,\"t\":${now}123}"      # milliseconds given as epoch_s
pub -t assets/events -m '{"event_id":"far","asset_id":"srv-far","event":"in_service","time":"2600-01-01T00:00:00Z","category":"0307","mass_kg":20}'
pub -t assets/events -m '{"event_id":"ok","asset_id":"srv-ok","event":"in_service","time":"'"$year"'-01-01T00:00:00Z","category":"0307","mass_kg":20}'
wait_for 30 sh -c "grep -q 'power_w=100 ' '$lp' && [ \"\$(grep '^footprintd,component=mqtt/b,' '$lp' | tail -1 | grep -o 'mqtt_time_rejected=[0-9]*')\" = mqtt_time_rejected=2 ]"
check "a good epoch_s time is kept to the second" grep -q "^meter,device=m1,.* power_w=100 ${now}000000000$" "$lp"
check "milliseconds given as epoch_s: no point (it was stored in 2186)" not grep -q "power_w=200" "$lp"
check "self-metric: mqtt_time_rejected counts both" [ "$(last mqtt/b mqtt_time_rejected)" = 2 ]
check "per subscription: one on meters/+" grep -q "^footprintd,component=mqtt/b/meters/+,.*mqtt_time_rejected=1i" "$lp"
check "the unit mistake is logged once, named" \
	[ "$(grep -c 'meters/m1: the timestamp looks like milliseconds, not seconds; message rejected' "$err")" = 1 ]
check "the event in 2600 is logged once" \
	[ "$(grep -c 'assets/events: the timestamp is after now + timestamp_ahead; message rejected' "$err")" = 1 ]
wait_for 30 sh -c "'$FP' assets list --state '$tmp/state' --format json | grep -q srv-ok"
"$FP" assets list --state "$tmp/state" --format json > "$tmp/list.json"
check "the event in 2600 never reached the inventory (it was stored in 2015)" \
	both grep -q '"srv-ok"' "$tmp/list.json" -- not grep -q '"srv-far"' "$tmp/list.json"
check "no asset_event point for it" not grep -q 'event_id="far"' "$lp"
# the CLI's own times: refused the same way
"$FP" assets event --state "$tmp/state" --asset srv-cli --event received --category 0307 \
	--mass-kg 5 --time 2600-01-01T00:00:00Z 2>"$tmp/cli.err"; rc=$?
check "footprint assets event --time 2600-...: exit 1, named" \
	both [ "$rc" -eq 1 ] -- grep -q "after now + timestamp_ahead" "$tmp/cli.err"
"$FP" assets event --state "$tmp/state" --asset srv-cli --event received --category 0307 \
	--mass-kg 5 --time 1995-01-01 2>"$tmp/cli.err"; rc=$?
check "--time 1995-01-01: refused (before timestamp_min)" \
	both [ "$rc" -eq 1 ] -- grep -q "before timestamp_min" "$tmp/cli.err"
"$FP" assets event --state "$tmp/state" --asset srv-cli --event received --category 0307 \
	--mass-kg 5 --time 1995-01-01 --timestamp-min 1990-01-01 >/dev/null 2>"$tmp/cli.err"; rc=$?
check "--timestamp-min 1990-01-01 accepts it" [ "$rc" -eq 0 ]

# ---- 2. a forged log line ----
pub -t assets/events -m '{"event_id":"x\n<0>FORGED emergency","asset_id":"ghost","event":"in_service","time":"'"$year"'-01-02T00:00:00Z"}'
wait_for 30 grep -q "FORGED" "$err"
check "the forged event_id gives one line" [ "$(grep -c FORGED "$err")" = 1 ]
check "that line is the agent's warning, the newline escaped" \
	grep -q '^<4>inventory: event x\\n<0>FORGED emergency (in_service of asset ghost) rejected' "$err"
check "no emergency line, no line but the agent's own" \
	both not grep -q '^<0>' "$err" -- not grep -qv '^<[3-7]>' "$err"

# ---- 3. floods: bounded lines, every message counted ----
seq 1 1000 | sed 's/.*/not json &/' | pub -t meters/flood -l
for i in $(seq 1 1000); do
	printf '{"event_id":"bad-%d","asset_id":"nobody-%d","event":"in_service","time":"%s-01-03T00:00:00Z"}\n' "$i" "$i" "$year"
done | pub -t assets/events -l
# lines printed + the suppressed counts reported = the messages
accounted() { # accounted PRINTED_PATTERN CAUSE
	local printed sup
	printed=$(grep -c "$1" "$err")
	sup=$(grep -o "$2: [0-9]* similar messages suppressed" "$err" | awk '{ s += $(NF - 3) } END { print s + 0 }')
	echo $((printed + sup))
}
wait_for 60 sh -c "[ \"\$(grep '^footprintd,component=mqtt/b,' '$lp' | tail -1 | grep -o 'mqtt_malformed=[0-9]*')\" = mqtt_malformed=1000 ]"
wait_for 30 sh -c '[ "$(grep -c "meters/flood: not valid JSON" "$1")" -ge 1 ] && [ "$(grep -o "mqtt: malformed messages: [0-9]* similar" "$1" | awk "{ s += \$(NF - 1) } END { print s + 0 }")" -ge 1 ]' _ "$err"
wait_for 30 sh -c '[ $(( $(grep -c "meters/flood: not valid JSON" "$1") + $(grep -o "mqtt: malformed messages: [0-9]* similar" "$1" | awk "{ s += \$(NF - 1) } END { print s + 0 }") )) -eq 1000 ]' _ "$err"
check "1000 malformed messages counted" [ "$(last mqtt/b mqtt_malformed)" = 1000 ]
n=$(grep -c "meters/flood: not valid JSON" "$err")
echo "# malformed: $n lines, $(grep -c 'mqtt: malformed messages: .* suppressed' "$err") suppression lines"
check "malformed: a bounded number of lines ($n <= 40)" [ "$n" -le 40 ]
check "malformed: the lines and the suppressed counts add up to 1000" \
	[ "$(accounted 'meters/flood: not valid JSON' 'mqtt: malformed messages')" = 1000 ]
wait_for 90 sh -c "grep '^footprintd,component=indicators,' '$lp' | tail -1 | grep -q 'lifecycle_rejected=1001i'"
wait_for 30 sh -c '[ $(( $(grep -c "inventory: event .* rejected" "$1") + $(grep -o "inventory: rejected events: [0-9]* similar" "$1" | awk "{ s += \$(NF - 1) } END { print s + 0 }") )) -eq 1001 ]' _ "$err"
check "1001 rejected lifecycle events counted" [ "$(last indicators lifecycle_rejected)" = 1001 ]
n=$(grep -c "inventory: event .* rejected" "$err")
echo "# rejected events: $n lines, $(grep -c 'inventory: rejected events: .* suppressed' "$err") suppression lines"
check "rejected events: a bounded number of lines ($n <= 100)" [ "$n" -le 100 ]
check "rejected events: the lines and the suppressed counts add up to 1001" \
	[ "$(accounted 'inventory: event .* rejected' 'inventory: rejected events')" = 1001 ]
kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
check "the agent stops cleanly" [ "$rc" -eq 0 ]
grep -v '^<6>' "$err" | head -20 | sed 's/^/# /'
done_testing
