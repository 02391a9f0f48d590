#!/bin/bash
# Foreign lifecycle events through a map, against a real mosquitto:
# Zigbee2MQTT's bridge/event (device_joined, device_leave; its interview
# and announce messages ignored; a rejoin repeats a state and changes
# nothing) and an asset tool's own JSON (its own event names, numeric
# asset numbers, epoch_ms times, its ids: a redelivered event counts
# once).  The inventory the agent keeps and its self-metrics are checked,
# and the map's mistakes are named with FILE:LINE.
. "${top_srcdir:-.}/tests/integration/lib.sh"
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
export TZ=UTC

cat > "$tmp/bad.conf" <<EOC
agent: { site = "lf"; };
mqtt: { brokers = ( { url = "mqtt://127.0.0.1:1"; name = "b";
  subscriptions = (
    { topic = "zigbee2mqtt/bridge/event"; format = "lifecycle";
      map = { event = "type";
              events = { device_joined = "in_servic"; }; }; },
    { topic = "x"; format = "json"; fields = ( { path = "a"; field = "a"; } ); map = { event = "e"; }; }
  ); } ); };
EOC
"$FPD" --check-config -c "$tmp/bad.conf" >"$tmp/bad.out" 2>&1; rc=$?
check "a map without asset_id is named with its line" \
	both [ "$rc" -eq 78 ] -- grep -q "bad.conf:5: .*asset_id.*is required" "$tmp/bad.out"
check "an unknown lifecycle event in the events table is named with its line" \
	grep -q "bad.conf:6: .*'in_servic' is not a lifecycle event" "$tmp/bad.out"
check "a map on a json subscription is refused" \
	grep -q "bad.conf:7: .*map.*belongs to format = \"lifecycle\"" "$tmp/bad.out"
sed 's/^/# /' "$tmp/bad.out"

broker_up "$tmp/mosq" || exit 1
mkdir -p "$tmp/state"
cat > "$tmp/f.conf" <<EOC
agent: { site = "lf"; interval = "1s"; state_dir = "$tmp/state"; };
outputs: { file = ( { path = "out.lp"; } ); };
mqtt: { brokers = ( { url = "mqtt://127.0.0.1:$MPORT"; name = "b"; client_id = "fp-lf"; clean_session = false;
  subscriptions = (
    { topic = "lf/probe"; format = "json"; fields = ( { path = "x"; field = "x"; } ); role = "none"; },
    { topic = "zigbee2mqtt/bridge/event"; format = "lifecycle"; qos = 1;
      map = { event = "type"; asset_id = "data.ieee_address";
              events = { device_joined = "in_service"; device_leave = "spare"; };
              defaults = { category = "0301"; mass_kg = 0.12; expected_life_y = 6; }; }; },
    { topic = "itam/events"; format = "lifecycle"; qos = 1;
      time_path = "at"; time_format = "epoch_ms";
      map = { event_id = "uuid"; event = "action"; asset_id = "asset.number";
              category = "asset.unu"; mass_kg = "asset.kg"; destination = "handler";
              events = ( ("Goods received", "received"), ("Deployed", "in_service"),
                         ("Retired", "decommissioned"), ("Sent to recycler", "recycled") ); }; }
  ); } ); };
indicators: { interval = "1s"; };
inventory: { categories_file = "$CATS"; };
EOC
fpd_start "$tmp/f.conf" "$tmp/fpd.err" lf "$tmp/state/out.lp"; rc=$?
FPID=$FPD_STARTED
check "the agent starts and subscribes" [ "$rc" -eq 0 ]
z() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t zigbee2mqtt/bridge/event -m "$1"; }
it() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t itam/events -m "$1"; }
applied() { [ "$(lp_metric "$tmp/state/out.lp" indicators lifecycle_applied)" = "$1" ]; }
z '{"type":"device_interview","data":{"friendly_name":"plug-1","ieee_address":"0x00158d0001a2b3c1","status":"started"}}'
z '{"type":"device_joined","data":{"friendly_name":"plug-1","ieee_address":"0x00158d0001a2b3c1"}}'
z '{"type":"device_joined","data":{"friendly_name":"plug-2","ieee_address":"0x00158d0001a2b3c2"}}'
z '{"type":"device_announce","data":{"friendly_name":"plug-1","ieee_address":"0x00158d0001a2b3c1"}}'
check "two devices joined: two events applied" wait_for 30 applied 2
z '{"type":"device_leave","data":{"friendly_name":"plug-2","ieee_address":"0x00158d0001a2b3c2"}}'
check "a device left: a third event applied" wait_for 30 applied 3
# a rejoin of a device that is in service: a repeated state, no change
z '{"type":"device_joined","data":{"friendly_name":"plug-1","ieee_address":"0x00158d0001a2b3c1"}}'
dups() { [ "$(lp_metric "$tmp/state/out.lp" indicators lifecycle_duplicates)" = "$1" ]; }
check "a rejoin of a device in service changes nothing (counted with the duplicates)" wait_for 30 dups 1

P=$(( $(date -u +%Y) - 1 ))
ms() { echo "$(date -u -d "$1" +%s)000"; }
it '{"uuid":"a1","action":"Goods received","at":'"$(ms "$P-01-05")"',"asset":{"number":4711,"unu":"0307","kg":21.5}}'
it '{"uuid":"a2","action":"Deployed","at":'"$(ms "$P-01-20")"',"asset":{"number":4711}}'
it '{"uuid":"a3","action":"Retired","at":'"$(ms "$P-06-30")"',"asset":{"number":4711}}'
it '{"uuid":"a3","action":"Retired","at":'"$(ms "$P-06-30")"',"asset":{"number":4711}}'
it '{"uuid":"a4","action":"Sent to recycler","at":'"$(ms "$P-07-10")"',"asset":{"number":4711},"handler":"ATF Lyon, cert 42"}'
it '{"uuid":"a5","action":"Audited","at":'"$(ms "$P-07-11")"',"asset":{"number":4711}}'
check "the asset tool's four events applied, its redelivered one counted once" \
	both wait_for 30 applied 7 -- wait_for 30 dups 2
kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
check "the agent stops cleanly" [ "$rc" -eq 0 ]

"$FP" assets list --state "$tmp/state" --format json > "$tmp/list.json"
a() { jq -r ".[] | select(.asset_id == \"$1\") | .$2" "$tmp/list.json"; }
check "plug-1 is in service, category and mass from the map's defaults" \
	both [ "$(a 0x00158d0001a2b3c1 state)" = in_service ] -- \
	both [ "$(a 0x00158d0001a2b3c1 category)" = 0301 ] -- [ "$(a 0x00158d0001a2b3c1 mass_kg)" = 0.12 ]
check "plug-2 left: spare" [ "$(a 0x00158d0001a2b3c2 state)" = spare ]
check "the asset tool's asset 4711: recycled, 21.5 kg, category 0307" \
	both [ "$(a 4711 state)" = recycled ] -- both [ "$(a 4711 mass_kg)" = 21.5 ] -- [ "$(a 4711 category)" = 0307 ]
"$FP" assets events --state "$tmp/state" --format json > "$tmp/events.json"
ev_t() { jq -r ".[] | select(.event_id == \"$1\") | .time" "$tmp/events.json"; }
check "event times from the payload's epoch_ms" [ "$(ev_t a3 | cut -c1-10)" = "$P-06-30" ]
check "the destination of the recycling" \
	[ "$(jq -r '.[] | select(.event_id == "a4") | .destination' "$tmp/events.json")" = "ATF Lyon, cert 42" ]
check "no event rejected, none of the ignored names recorded" \
	both [ "$(lp_metric "$tmp/state/out.lp" indicators lifecycle_rejected)" = 0 ] -- \
	not grep -q -e interview -e announce -e Audited "$tmp/events.json"
done_testing
