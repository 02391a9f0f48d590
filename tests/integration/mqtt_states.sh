#!/bin/bash
# Issue #19 through the daemon and a real mosquitto: text states (value
# maps on a json selector and on a plain LWT payload), a string field,
# field names from a topic level (one subscription for an OpenDTU's
# quantities) with the device's name from a retained topic, the role
# "none", and the same OpenDTU data in two message orders giving the
# same energy in the ledger (footprint report).
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
FP="$top_builddir/footprint"
tmp=$(mktemp -d)
chmod 755 "$tmp"
MPID=
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done
	broker_down
	rm -rf "$tmp"
}
trap cleanup EXIT
broker_up "$tmp/mosq" || exit 1
pub() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 "$@"; }

# conf NAME PREFIX: an agent reading PREFIX/solar/... (and the states on
# agent a).
conf() {
	cat > "$tmp/$1.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/$1"; interval = "1s"; round_interval = false; };
outputs: { file = ( { name = "lp"; path = "out.lp"; } ); };
indicators: { interval = "1s"; };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-states-$1";
  subscriptions = (
    { topic = "$2/solar/+/0/+"; format = "value"; role = "renewable_onsite";
      template = "$2/solar/{device}/{channel}/{field}"; name_topic = "$2/solar/{device}/name";
      fields = ( { level = "yieldtotal"; field = "energy_export_kwh"; },
                 { level = "power"; field = "power_w"; } ); },
    { topic = "$2/z2m/+"; format = "json"; template = "$2/z2m/{device}"; role = "none";
      fields = ( { path = "state"; field = "relay"; values = { ON = 1; OFF = 0; }; },
                 { path = "power"; field = "power_w"; },
                 { path = "update.state"; field = "update"; type = "string"; } ); },
    { topic = "$2/lwt/+"; format = "value"; template = "$2/lwt/{device}"; field = "online";
      role = "none"; values = ( ("online", true), ("offline", false) ); }
  ); } ); };
EOC
}
conf a a
conf b b
for n in a b; do
	out=$("$FPD" -c "$tmp/$n.conf" --check-config 2>&1)
	check "agent $n: the config is valid" [ $? -eq 0 ]
	echo "$out" | sed 's/^/# /' | head -5
done
# The name topic is retained before the agents start.
pub -r -t a/solar/114190001/name -m "Roof east"
pub -r -t b/solar/114190001/name -m "Roof east"
for n in a b; do
	"$FPD" -c "$tmp/$n.conf" 2>"$tmp/$n.err" &
	pids+=($!)
done
for n in a b; do
	# three subscriptions and the name topic
	check "agent $n: subscribed (4 topics)" wait_for 20 grep -q "subscribed to 4 topics" "$tmp/$n.err"
done
# OpenDTU publishes one value per topic: the counter says 5 kWh, the power
# (integrated) would say almost nothing.  Agent a gets the counter first,
# agent b the power first.
pub -t a/solar/114190001/0/yieldtotal -m 100
pub -t a/solar/114190001/0/power -m 1000
pub -t b/solar/114190001/0/power -m 1000
pub -t b/solar/114190001/0/yieldtotal -m 100
for n in a b; do
	wait_for 20 grep -q "energy_export_kwh=100 " "$tmp/$n/out.lp"
	wait_for 20 grep -q "power_w=1000 " "$tmp/$n/out.lp"
done
pub -t a/solar/114190001/0/yieldtotal -m 105
pub -t a/solar/114190001/0/power -m 1000
pub -t b/solar/114190001/0/power -m 1000
pub -t b/solar/114190001/0/yieldtotal -m 105
# text states, a string field, an LWT; an unknown state is malformed
pub -t a/z2m/plug1 -m '{"state":"ON","power":12.5,"update":{"state":"idle"}}'
pub -t a/solar/114190001/0/voltage -m 231.5
wait_for 20 grep -q "power_w=12.5," "$tmp/a/out.lp"
pub -t a/z2m/plug1 -m '{"state":"OFF","power":3600000}'
pub -t a/lwt/plug1 -m online
pub -t a/lwt/plug1 -m rebooting
pub -t a/lwt/plug1 -m offline
lp="$tmp/a/out.lp"
wait_for 20 grep -q "online=false" "$lp"
wait_for 20 grep -q "relay=0,power_w=3600000 " "$lp"
wait_for 20 grep -q "energy_export_kwh=105 " "$tmp/b/out.lp"
wait_for 20 grep -q "energy_export_kwh=105 " "$lp"
check "a {field} level names the field, with the retained name as a tag" \
	grep -q '^meter,channel=0,device=114190001,name=Roof\\ east,role=renewable_onsite,site=lab,source=mqtt energy_export_kwh=100 ' "$lp"
check "a renamed level (power as power_w), an unlisted one keeps its name" \
	both grep -q 'name=Roof\\ east,.*source=mqtt power_w=1000 ' "$lp" -- grep -q 'source=mqtt voltage=231.5 ' "$lp"
check "json text state ON = 1, a string field" \
	grep -q '^meter,device=plug1,role=none,site=lab,source=mqtt relay=1,power_w=12.5,update="idle" ' "$lp"
check "LWT online/offline as booleans" both grep -q 'role=none,site=lab,source=mqtt online=true ' "$lp" -- \
	grep -q 'role=none,site=lab,source=mqtt online=false ' "$lp"
malformed() { [ "$(lp_metric "$lp" "mqtt/b/a/lwt/+" mqtt_malformed)" = 1 ]; }
check "an unmapped state is counted malformed" wait_for 20 malformed
check "and logged" grep -q "a/lwt/plug1: the payload is not a number nor a state of values" "$tmp/a.err"
for i in 0 1; do
	kill -TERM "${pids[$i]}"; wait "${pids[$i]}"; rc=$?
	check "agent $i stops cleanly" [ "$rc" -eq 0 ]
done
pids=()
today=$(date +%F)
for n in a b; do
	"$FP" report --state "$tmp/$n" --from "$today" --to "$today" --format json > "$tmp/$n.json" 2>"$tmp/$n.rerr"
	e[${#e[@]}]=$(jq -r '.total.energy.renewable_onsite.value // 0' "$tmp/$n.json")
	o[${#o[@]}]=$(jq -r '[.total.energy[].value // 0] | add' "$tmp/$n.json")
done
echo "# renewable energy: counter first ${e[0]}, power first ${e[1]}; all quantities: ${o[0]}"
check "counter first: the counter's 5 kWh" [ "${e[0]}" = 5 ]
check "power first: the same 5 kWh (the counter in the subscription wins)" [ "${e[1]}" = 5 ]
# 3.6 MW on the none plug (other before: 1 kWh a millisecond) counts nowhere
check "the role none counts nowhere: E_renewable and the facility only" \
	[ "$(jq -r '[.total.energy | to_entries[] | select(.value.value > 0) | .key] | sort | join(",")' "$tmp/a.json")" = "facility,renewable_onsite" ]
done_testing
