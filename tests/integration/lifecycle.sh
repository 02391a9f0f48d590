#!/bin/bash
# The inventory end to end: assets imported with footprint assets import,
# lifecycle events published to a real mosquitto (a duplicate, an illegal
# transition, events out of time order, an unknown asset without a
# category), the inventory the agent keeps, the ewaste points in a real
# influxd and the report's e-waste figures, all against values computed
# here from the scenario.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
FP="$top_builddir/footprint"
CATS="$top_srcdir/data/ewaste-categories.csv"
test_begin

influx_up "$tmp/influx"
influx_q "" "CREATE DATABASE site" -XPOST >/dev/null
broker_up "$tmp/mosq" || exit 1

export TZ=UTC
P=$(( $(date -u +%Y) - 1 ))   # last year: every event is in the past
mkdir -p "$tmp/state"
cat > "$tmp/assets.csv" <<EOC
asset_id,category,model,mass_kg,commissioned,state,expected_life_y,embodied_co2e_kg
srv-a,0307,"PowerEdge R740, 2U",30,$((P - 3))-01-15,in_service,,
srv-b,0307,PowerEdge R640,25,$((P - 1))-06-01,in_service,,
sw-a,0301,Access switch,2,$((P - 10))-01-01,in_service,,
EOC
cat > "$tmp/bad.csv" <<EOC
asset_id,category,model,mass_kg,commissioned,state
x-1,0307,ok,10,$P-01-01,in_service
x-2,0399,bad category,10,$P-01-01,in_service
x-3,0307,bad date,10,$P-02-30,in_service
EOC
"$FP" assets import "$tmp/bad.csv" --state "$tmp/state" --categories "$CATS" >"$tmp/bad.out" 2>&1; rc=$?
check "import of a CSV with bad rows: exit 1, each bad row named by its line" \
	both [ "$rc" -eq 1 ] -- both grep -q "bad.csv:3: category '0399'" "$tmp/bad.out" -- \
	both grep -q "bad.csv:4: commissioned '$P-02-30'" "$tmp/bad.out" -- grep -q "nothing imported" "$tmp/bad.out"
printf '{"asset_id": "x-9", "category": "0307"}\n' > "$tmp/obj.json"
"$FP" assets import "$tmp/obj.json" --state "$tmp/state" --categories "$CATS" >"$tmp/obj.out" 2>&1; rc=$?
check "a JSON object instead of an array is named as such" \
	both [ "$rc" -eq 1 ] -- grep -q "obj.json:1: a JSON object: the assets go in an array" "$tmp/obj.out"
printf '[{"asset_id": "x-9", "category": "0307"' > "$tmp/cut.json"
"$FP" assets import "$tmp/cut.json" --state "$tmp/state" --categories "$CATS" >"$tmp/cut.out" 2>&1; rc=$?
check "a truncated JSON array is named as such" \
	both [ "$rc" -eq 1 ] -- grep -q "cut.json:1: not a JSON array of assets: the file ends inside" "$tmp/cut.out"
# The good file as a spreadsheet saves it: with a UTF-8 byte order mark.
{ printf '\xEF\xBB\xBF'; cat "$tmp/assets.csv"; } > "$tmp/assets-bom.csv"
out=$("$FP" assets import "$tmp/assets-bom.csv" --state "$tmp/state" --categories "$CATS" 2>&1); rc=$?
check "import of a good CSV (with a byte order mark)" both [ "$rc" -eq 0 ] -- grep -q "3 assets imported" <<<"$out"
check "nothing of the bad file was imported" not grep -q '"x-1"' <("$FP" assets list --state "$tmp/state" --format json)

cat > "$tmp/f.conf" <<EOC
agent: { site = "dc3"; interval = "1s"; state_dir = "$tmp/state"; };
outputs: { influxdb = ( { url = "$INFLUX_URL"; database = "site"; flush_interval = "200ms"; } );
           file = ( { path = "out.lp"; } ); };
mqtt: { brokers = ( { url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-lifecycle"; clean_session = false;
  subscriptions = ( { topic = "assets/events"; format = "lifecycle"; qos = 1; } ); } ); };
indicators: { interval = "1s"; };
inventory: { categories_file = "$CATS"; };
EOC
"$FPD" -c "$tmp/f.conf" 2>"$tmp/fpd.err" &
FPID=$!
wait_for 10 grep -q "subscribed to" "$tmp/fpd.err"
ev() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t assets/events -m "$1"; }
ev '{"event_id":"e1","asset_id":"srv-c","event":"in_service","time":"'$P'-01-10T00:00:00Z","category":"0307","mass_kg":20,"embodied_co2e_kg":1600}'
ev '{"event_id":"e1","asset_id":"srv-c","event":"in_service","time":"'$P'-01-10T00:00:00Z","category":"0307","mass_kg":20,"embodied_co2e_kg":1600}'
ev '{"event_id":"e2","asset_id":"srv-a","event":"decommissioned","time":"'$P'-02-01T00:00:00Z"}'
ev '{"event_id":"e3","asset_id":"srv-a","event":"recycled","time":"'$P'-02-15T00:00:00Z","destination":"ATF Lyon, certificate 42"}'
ev '{"event_id":"e4","asset_id":"srv-b","event":"recycled","time":"'$P'-02-20T00:00:00Z"}'
ev '{"event_id":"e5","asset_id":"srv-b","event":"decommissioned","time":"'$P'-03-10T00:00:00Z"}'
ev '{"event_id":"e6","asset_id":"srv-b","event":"spare","time":"'$P'-03-01T00:00:00Z"}'
ev '{"event_id":"e7","asset_id":"srv-b","event":"reused","time":"'$P'-03-20T00:00:00Z"}'
ev '{"event_id":"e8","asset_id":"ghost-1","event":"in_service","time":"'$P'-04-01T00:00:00Z"}'
# the 9 events counted: applied, duplicate or rejected
events_counted() {
	local f="$tmp/state/out.lp" a d r
	a=$(lp_metric "$f" indicators lifecycle_applied)
	d=$(lp_metric "$f" indicators lifecycle_duplicates)
	r=$(lp_metric "$f" indicators lifecycle_rejected)
	[ $(( ${a:-0} + ${d:-0} + ${r:-0} )) -ge 9 ]
}
check "the 9 events are counted (applied, duplicates, rejected)" wait_for 30 events_counted
kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
check "the agent stops cleanly" [ "$rc" -eq 0 ]
grep "inventory" "$tmp/fpd.err" | sed 's/^/# /'

"$FP" assets list --state "$tmp/state" --format json > "$tmp/list.json"
st() { jq -r ".[] | select(.asset_id == \"$1\") | .state" "$tmp/list.json"; }
check "srv-a was recycled" [ "$(st srv-a)" = recycled ]
check "srv-b: spare placed by its own time before the decommissioning, then reused" [ "$(st srv-b)" = reused ]
check "srv-c was created by its first event, in service" [ "$(st srv-c)" = in_service ]
check "the unknown asset without a category was not created" [ -z "$(st ghost-1)" ]
"$FP" assets events --state "$tmp/state" --format json > "$tmp/events.json"
check "the duplicate counted once" [ "$(jq '[.[] | select(.event_id == "e1")] | length' "$tmp/events.json")" = 1 ]
check "the illegal transition is recorded as rejected with its reason" \
	grep -Eq "illegal transition in_service -> recycled at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" <(jq -r '.[] | select(.event_id == "e4") | .reason' "$tmp/events.json")
"$FP" assets --help >"$tmp/help.out" 2>&1; rc=$?
check "footprint assets --help: exit 0 and the usage" both [ "$rc" -eq 0 ] -- grep -q "^Usage: footprint assets SUBCOMMAND" "$tmp/help.out"
for bad in nan inf -1 1e12 12kg; do
	"$FP" assets event --state "$tmp/state" --asset srv-z --event received --category 0302 \
		--mass-kg "$bad" 2>"$tmp/bad.err"; rc=$?
	check "assets event --mass-kg $bad is refused (exit 64, named)" \
		both [ "$rc" -eq 64 ] -- grep -q "'$bad' is not a number from 0 to 1e9" "$tmp/bad.err"
done
"$FP" assets event --state "$tmp/state" --asset srv-z --event received --category 0302 \
	--time 2026-13-01 2>"$tmp/bad.err"; rc=$?
check "assets event with a bad --time names it (exit 64)" \
	both [ "$rc" -eq 64 ] -- grep -q -- "--time '2026-13-01' is not YYYY-MM-DD" "$tmp/bad.err"
metric() { grep "component=indicators" "$tmp/state/out.lp" | tail -1 | grep -o "[ ,]$1=[0-9]*" | sed 's/.*=//'; }
check "self-metrics: 6 applied, 1 duplicate, 2 rejected" \
	both [ "$(metric lifecycle_applied)" = 6 ] -- both [ "$(metric lifecycle_duplicates)" = 1 ] -- \
	[ "$(metric lifecycle_rejected)" = 2 ]

# The expected figures for calendar year P, computed here.
end=$(date -u -d "$((P + 1))-01-01" +%s)
life_c=$(jq -r '.[] | select(.asset_id == "srv-c") | .expected_life_y' "$tmp/list.json")
read -r age_c age_sw proj emb < <(awk -v end="$end" -v c="$(date -u -d "$P-01-10" +%s)" \
	-v sw="$(date -u -d "$((P - 10))-01-01" +%s)" -v lc="$life_c" 'function F(x, a, b) { return x <= 0 ? 0 : 1 - exp(-exp(a * log(x / b))) }
	function R(age, a, b) { return (F(age + 1, a, b) - F(age, a, b)) / (1 - F(age, a, b)) }
	BEGIN { y = 8760 * 3600; ac = (end - c) / y; asw = (end - sw) / y
		printf "%.12g %.12g %.12g %.12g\n", ac, asw, 20 * R(ac, 1.46, 7.78) + 2 * R(asw, 1.25, 5.91),
			1600 * (end - c) / 3600 / (lc * 8760) }')
echo "# expected: ages $age_c and $age_sw y, projected $proj kg, embodied $emb kg"
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }

"$FP" report --state "$tmp/state" --from "$P-01-01" --to "$P-12-31" --format json > "$tmp/r.json"
j() { jq -r ".ewaste.categories[] | select(.category == \"all\") | .$1" "$tmp/r.json"; }
check "report: installed base at the end of $P: 2 units, 22 kg" both [ "$(j installed_units)" = 2 ] -- near "$(j installed_kg)" 22 1e-9
check "report: commissioned 20 kg, decommissioned 55 kg in $P" both near "$(j commissioned_kg)" 20 1e-9 -- near "$(j decommissioned_kg)" 55 1e-9
check "report: recycled 30 kg (30 documented), reused 25 kg" \
	both near "$(j recycled_kg)" 30 1e-9 -- both near "$(j recycled_documented_kg)" 30 1e-9 -- near "$(j reused_kg)" 25 1e-9
check "report: documented collection rate 30/55, reuse rate 25/55" \
	both near "$(j documented_rate)" "$(awk 'BEGIN { printf "%.15g", 30 / 55 }')" 1e-9 -- \
	near "$(j reuse_rate)" "$(awk 'BEGIN { printf "%.15g", 25 / 55 }')" 1e-9
check "report: one asset past its expected life (the 10-year-old switch)" [ "$(j beyond_lifespan_units)" = 1 ]
check "report: mean age of the installed base" near "$(j mean_age_y)" "$(awk -v a="$age_c" -v b="$age_sw" 'BEGIN { printf "%.15g", (a + b) / 2 }')" 1e-6
check "report: projected e-waste, next 12 months (conditional Weibull)" near "$(j projected_kg_12m)" "$proj" 1e-6
check "report: embodied CO2e amortised straight-line" near "$(j embodied_co2e_kg)" "$emb" 1e-6
check "report: per-category rows" [ "$(jq '.ewaste.categories | length' "$tmp/r.json")" = 3 ]

q() { influx_q site "$1" | grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//'; }
t0=$(date -u -d "$P-01-01" +%s)
i_dec=$(q "SELECT decommissioned_kg FROM ewaste WHERE category='all' AND \"window\"='1y' AND time = ${t0}s")
i_rate=$(q "SELECT documented_rate FROM ewaste WHERE category='0307' AND \"window\"='1y' AND time = ${t0}s")
i_mon=$(q "SELECT decommissioned_kg FROM ewaste WHERE category='all' AND \"window\"='1mo' AND time = $(date -u -d "$P-03-01" +%s)s")
echo "# influxd: $P decommissioned $i_dec kg, documented rate (0307) $i_rate, March $i_mon kg"
check "influxd: the ewaste year window of $P (back-filled by the events)" near "$i_dec" 55 1e-9
check "influxd: the documented rate of category 0307" near "$i_rate" "$(awk 'BEGIN { printf "%.15g", 30 / 55 }')" 1e-9
check "influxd: the March window: srv-b's 25 kg" near "$i_mon" 25 1e-9
# the cohort model of year P, from the commissioning years in the test:
# 30 kg in P-3, 25 kg in P-1, 20 kg in P (0307) and 2 kg in P-10 (0301)
ewg=$(awk 'function f(x, a, b) { return (a / b) * exp((a - 1) * log(x / b)) * exp(-exp(a * log(x / b))) }
	BEGIN { printf "%.12g", 30 * f(3.5, 1.46, 7.78) + 25 * f(1.5, 1.46, 7.78) + 20 * f(0.5, 1.46, 7.78) + 2 * f(10.5, 1.25, 5.91) }')
i_ewg=$(q "SELECT ewg_model_kg FROM ewaste WHERE category='all' AND \"window\"='1y' AND time = ${t0}s")
check "influxd: the cohort model (Weibull mid-year pdf) of $P's e-waste generated" near "$i_ewg" "$ewg" 1e-6
check "influxd: asset_event points for the events" \
	[ "$(q "SELECT count(asset_id) FROM asset_event" | tr -d ' ')" -ge 8 ]

"$FP" report --state "$tmp/state" --from "$P-01-01" --to "$P-12-31" --format md > "$tmp/r.md"
check "md report has the e-waste section" grep -q "^## E-waste and device lifecycle" "$tmp/r.md"
"$FP" report --state "$tmp/state" --from "$P-01-01" --to "$P-12-31" --format csv > "$tmp/r.csv"
check "csv report carries the e-waste columns" grep -q ",documented_rate,reuse_rate,.*,mean_age_y$" "$tmp/r.csv"
check "csv report: every row has the header's number of cells" \
	[ "$(awk -F, '{ print NF }' "$tmp/r.csv" | sort -u | wc -l)" = 1 ]
done_testing
