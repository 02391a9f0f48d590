#!/bin/bash
# The energy indicators over a compressed period: four days of meter
# readings (every 15 minutes, each with its own timestamp) published to a
# real mosquitto in a few seconds, across the 2026 spring DST change in
# Europe/Paris (a 23-hour day) and a month boundary.  The ledger (footprint
# report) and the windows the agent writes into a real influxd must equal
# the values computed here from the trajectories.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
FP="$top_builddir/footprint"
test_begin

influx_up "$tmp/influx"
influx_q "" "CREATE DATABASE site" -XPOST >/dev/null
broker_up "$tmp/mosq" || exit 1

cat > "$tmp/f.conf" <<EOC
agent: { site = "dc2"; interval = "1s"; state_dir = "$tmp/state"; timezone = "Europe/Paris"; };
outputs: { influxdb = ( { url = "$INFLUX_URL"; database = "site"; flush_interval = "200ms"; } ); };
mqtt: { brokers = ( { url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-energy"; clean_session = false;
  subscriptions = (
    { topic = "dc/utility"; format = "json"; role = "facility"; template = "dc/{device}";
      fields = ( { path = "kwh"; field = "energy_import_kwh"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "dc/ups"; format = "json"; role = "it"; template = "dc/{device}";
      fields = ( { path = "wh"; field = "energy_import_kwh"; scale = 0.001; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "dc/water"; format = "json"; role = "water"; template = "dc/{device}";
      fields = ( { path = "m3"; field = "water_m3"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "dc/genset"; format = "json"; role = "fuel_diesel"; template = "dc/{device}";
      fields = ( { path = "litres"; field = "fuel_l"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "site/emission-factor"; format = "emission-factor"; }
  ); } ); };
indicators: { interval = "2s"; max_gap = "20m"; region = "XX";
  emission_factors = ( { region = "XX"; year = 2026; method = "location"; kg_per_kwh = 0.1; source = "config"; } ); };
EOC
"$FPD" -c "$tmp/f.conf" 2>"$tmp/fpd.err" &
FPID=$!
wait_for 10 grep -q "subscribed to" "$tmp/fpd.err"

# 2026-03-28 00:00 to 2026-04-01 02:00 local, every 15 minutes: the
# utility meter grows 100 kWh per step (400 kW), the UPS output 80 kWh
# (in Wh), the water meter 0.5 m3; the genset burns 10 l once on the 29th.
t0=$(TZ=Europe/Paris date -d '2026-03-28 00:00' +%s)
t1=$(TZ=Europe/Paris date -d '2026-04-01 02:00' +%s)
gen=$(TZ=Europe/Paris date -d '2026-03-29 12:00' +%s)
awk -v t0="$t0" -v t1="$t1" -v g="$gen" -v d="$tmp" 'BEGIN {
	for (t = t0; t <= t1; t += 900) {
		i = (t - t0) / 900
		printf "{\"ts\":%d000,\"kwh\":%.1f}\n", t, 1000 + 100 * i > (d "/utility.msgs")
		printf "{\"ts\":%d000,\"wh\":%d}\n", t, 5000000 + 80000 * i > (d "/ups.msgs")
		printf "{\"ts\":%d000,\"m3\":%.1f}\n", t, 100 + 0.5 * i > (d "/water.msgs")
		printf "{\"ts\":%d000,\"litres\":%d}\n", t, (t > g ? 510 : 500) > (d "/genset.msgs")
	}
}'
# The configured 0.1 kgCO2e/kWh is overridden at run time over MQTT; a
# malformed factor changes nothing.
mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t site/emission-factor \
	-m '{"region":"XX","year":2026,"method":"location","kg_per_kwh":0.3,"source":"grid operator"}'
mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t site/emission-factor \
	-m '{"region":"XX","year":2026,"method":"location","kg_per_kwh":"lots"}'
for m in utility ups water genset; do
	mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "dc/$m" -l < "$tmp/$m.msgs"
done
n=$(wc -l < "$tmp/utility.msgs")
echo "# published $n readings per meter"
# The back-fill's progress in the self-metrics: 97 hours (95 + 2), 5 days and 2
# months written again (2026 is still open), none left.
q() { influx_q site "$1" | grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//'; }
bf_done() {
	[ "$(q "SELECT last(backfill_windows_pending) FROM footprintd WHERE component='indicators'")" = 0 ] &&
		[ "$(q "SELECT max(backfill_windows_written) FROM footprintd WHERE component='indicators'")" -ge 104 ]
}
# every reading of the 4 meters counted first
counted() { [ "$(q "SELECT last(readings) FROM footprintd WHERE component='indicators'")" -ge $(( 4 * n )) ]; }
check "self-metrics: every reading counted ($(( 4 * n )))" wait_for 60 counted
check "self-metrics: the back-filled windows written again, none pending" wait_for 20 bf_done
kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
check "the agent stops cleanly" [ "$rc" -eq 0 ]
grep -v "^<6>" "$tmp/fpd.err" | sed 's/^/# /' | head -10

near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }
rep() { "$FP" report --state "$tmp/state" --from "$1" --to "$2" --format json > "$tmp/r.json"; }
j() { jq -r "$1" "$tmp/r.json"; }

rep 2026-03-29 2026-03-29
check "the DST day in Europe/Paris has 23 hours" [ "$(j .hours)" = 23 ]
check "its E_DC: 23 h x 400 kW + 10 l of diesel x 9.9 kWh/l = 9299 kWh" near "$(j .total.energy.facility.value)" 9299 1e-6
check "its E_IT: 23 h x 320 kW = 7360 kWh" near "$(j .total.energy.it.value)" 7360 1e-6
check "its fuel energy: 99 kWh (EDC-BG, Annex II 1(d))" near "$(j '.eu_2024_1364.items[] | select(.symbol == "EDC-BG") | .value')" 99 1e-9
check "its coverage is complete" near "$(j .total.coverage)" 1 1e-9

rep 2026-03-28 2026-04-01
check "two months in the breakdown" [ "$(j '.months | length')" = 2 ]
check "March: 95 h x 400 kW + 99 kWh" near "$(j '.months[0].energy.facility.value')" 38099 1e-6
check "April 1 until 02:00: 2 h x 400 kW" near "$(j '.months[1].energy.facility.value')" 800 1e-6
check "April 1 coverage: 2 h of 24" near "$(j '.months[1].energy.facility.coverage')" "$(awk 'BEGIN { printf "%.15g", 2 / 24 }')" 1e-9
check "March PUE = 38099 / 30400 (sums first)" near "$(j '.months[0].indicators.pue.value')" "$(awk 'BEGIN { printf "%.15g", 38099 / 30400 }')" 1e-9
check "March WUE = 190 m3 / 30400 kWh in L/kWh" near "$(j '.months[0].indicators.wue_l_per_kwh.value')" 6.25 1e-9
check "total PUE = 38899 / 31040" near "$(j .total.indicators.pue.value)" "$(awk 'BEGIN { printf "%.15g", 38899 / 31040 }')" 1e-9
check "Scope 2 location-based uses the MQTT override: 38800 kWh x 0.3" \
	near "$(j .total.scope2.location_kg)" 11640 1e-6
check "market-based falls back to the grid average without a market factor" \
	near "$(j .total.scope2.market_kg)" 11640 1e-6
check "the override and the refusal are logged" both grep -q "emission factor XX 2026 location set to 0.3" "$tmp/fpd.err" -- \
	grep -q "malformed\|kg_per_kwh" "$tmp/fpd.err"

# The windows of the back-filled hours were written into influxd.
day=$(TZ=Europe/Paris date -d '2026-03-29 00:00' +%s)
march=$(TZ=Europe/Paris date -d '2026-03-01 00:00' +%s)
i_day=$(q "SELECT kwh FROM energy WHERE role='facility' AND \"window\"='1d' AND time = ${day}s")
i_pue=$(q "SELECT pue FROM efficiency WHERE \"window\"='1mo' AND time = ${march}s")
i_hours=$(q "SELECT count(kwh) FROM energy WHERE role='facility' AND \"window\"='1h'")
echo "# influxd: DST day $i_day kWh, March PUE $i_pue, $i_hours hourly windows"
check "influxd: the DST day's energy window (back-filled) = 9299 kWh" near "$i_day" 9299 1e-6
check "influxd: the March efficiency window's PUE matches the report" \
	near "$i_pue" "$(awk 'BEGIN { printf "%.15g", 38099 / 30400 }')" 1e-9
# An hour whose only reading is its first (the last one published) has no
# energy yet: its window is not written (no 0 for "nothing measured").
check "influxd: one hourly window per hour with energy (95 + 24 + 2 - 1 = 97)" \
	[ "$i_hours" -ge 97 ]
done_testing
