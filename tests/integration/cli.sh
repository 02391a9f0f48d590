#!/bin/bash
# footprint's command line (#18): one usage per command and subcommand with
# every option it takes, sysexits exit statuses (64 usage, 78 config, 1
# failure), assets list/events as CSV (RFC 4180) and RFC 3339 times;
# footprintd --test --test-wait naming the MQTT subscriptions that got
# nothing, against a real mosquitto on loopback.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FP="$top_builddir/footprint"
CATS="$top_srcdir/data/ewaste-categories.csv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=Europe/Paris # times must come out in UTC whatever the zone

# help CMD... -- OPTION...: CMD --help exits 0, prints its own usage, lists
# every OPTION.
help_lists() {
	local cmd=() o missing= rc
	while [ "$1" != -- ]; do cmd+=("$1"); shift; done
	shift
	"$FP" "${cmd[@]}" --help >"$tmp/help" 2>&1; rc=$?
	for o in "$@"; do grep -q -- "$o\b" "$tmp/help" || missing="$missing $o"; done
	check "footprint ${cmd[*]} --help: its usage, every option${missing:+ (missing:$missing)}" \
		both [ "$rc" -eq 0 ] -- both [ -z "$missing" ] -- grep -q "^Usage: footprint ${cmd[*]}" "$tmp/help"
}
help_lists report -- --state --from --to --site --config --merge --format --output --help
help_lists assets import -- --state --site --categories --profile --timestamp-min --help
help_lists assets list -- --state --format csv --help
help_lists assets events -- --state --asset --format csv --help
help_lists assets event -- --state --asset --event --time --id --site --category --mass-kg \
	--model --destination --expected-life-y --embodied-co2e-kg --categories --profile \
	--timestamp-min --help
"$FP" --help >"$tmp/help" 2>&1; rc=$?
check "footprint --help lists the commands and the exit statuses" \
	both [ "$rc" -eq 0 ] -- both grep -q "assets import" "$tmp/help" -- grep -q "64 usage error, 78 configuration error" "$tmp/help"
"$FP" assets --help >"$tmp/help" 2>&1; rc=$?
check "footprint assets --help lists the subcommands" \
	both [ "$rc" -eq 0 ] -- both grep -q "^  events " "$tmp/help" -- not grep -q "^Usage: footprint COMMAND" "$tmp/help"
"$FP" help assets import >"$tmp/help2" 2>&1
check "footprint help assets import = footprint assets import --help" \
	cmp -s "$tmp/help2" <("$FP" assets import --help)

# Exit statuses.
status() { "$@" >"$tmp/out" 2>&1; echo $?; }
check "no command: 64" [ "$(status "$FP")" -eq 64 ]
check "an unknown command: 64" [ "$(status "$FP" frobnicate)" -eq 64 ]
check "an unknown option: 64, and where the help is" \
	both [ "$(status "$FP" report --frobnicate)" -eq 64 ] -- grep -q "Try 'footprint report --help'" "$tmp/out"
check "report without --from: 64" [ "$(status "$FP" report --state "$tmp")" -eq 64 ]
check "report --format pdf: 64" [ "$(status "$FP" report --state "$tmp" --from 2026-01-01 --to 2026-01-31 --format pdf)" -eq 64 ]
check "assets without --state: 64" [ "$(status "$FP" assets list)" -eq 64 ]
check "an unknown assets subcommand: 64" [ "$(status "$FP" assets frob --state "$tmp")" -eq 64 ]
check "an option of another subcommand: 64, named" \
	both [ "$(status "$FP" assets list --state "$tmp" --asset x)" -eq 64 ] -- grep -q -- "--asset does not apply to list" "$tmp/out"
check "assets list --format xml: 64" [ "$(status "$FP" assets list --state "$tmp" --format xml)" -eq 64 ]
check "assets event without --event: 64" [ "$(status "$FP" assets event --state "$tmp" --asset a)" -eq 64 ]
printf 'agent: { site = lab; };\n' > "$tmp/bad.conf"
check "report --config with a syntax error: 78, the line quoted" \
	both [ "$(status "$FP" report --config "$tmp/bad.conf" --state "$tmp" --from 2026-01-01 --to 2026-01-31)" -eq 78 ] -- \
	grep -q "bad.conf:1: syntax error near 'agent: { site = lab; };'" "$tmp/out"
check "report on a state dir without a ledger: 1" [ "$(status "$FP" report --state "$tmp/none" --from 2026-01-01 --to 2026-01-31)" -eq 1 ]

# CSV and RFC 3339.
mkdir -p "$tmp/state"
cat > "$tmp/assets.csv" <<EOC
asset_id,category,model,mass_kg,commissioned,state
srv-a,0307,"PowerEdge R740, 2U ""rack""",30,2024-01-15,in_service
sw-a,0301,Access switch,2,2020-01-01,in_service
EOC
"$FP" assets import "$tmp/assets.csv" --state "$tmp/state" --categories "$CATS" >"$tmp/out" 2>&1; rc=$?
check "import: exit 0" [ "$rc" -eq 0 ]
"$FP" assets event --state "$tmp/state" --asset sw-a --event decommissioned \
	--time 2026-03-14T10:25:00Z --id "e,1" >/dev/null 2>&1
"$FP" assets list --state "$tmp/state" --format csv >"$tmp/list.csv"; rc=$?
sed 's/^/# /' "$tmp/list.csv"
check "assets list --format csv: a header row" \
	both [ "$rc" -eq 0 ] -- grep -qx "asset_id,category,model,mass_kg,mass_estimated,expected_life_y,life_estimated,embodied_co2e_kg,state,commissioned,decommissioned,destination,site" <(head -1 "$tmp/list.csv")
check "assets list --format csv: RFC 4180 quoting of a comma and quotes" \
	grep -q '^srv-a,0307,"PowerEdge R740, 2U ""rack""",30' "$tmp/list.csv"
check "assets list --format csv: RFC 3339 UTC times" \
	grep -q '^sw-a,.*,decommissioned,2019-12-31T23:00:00Z,2026-03-14T10:25:00Z,' "$tmp/list.csv"
check "assets list --format csv: every row has the header's 13 columns" \
	[ "$(python3 -c 'import csv,sys; print(sorted({len(r) for r in csv.reader(open(sys.argv[1]))}))' "$tmp/list.csv")" = "[13]" ]
"$FP" assets events --state "$tmp/state" --format csv >"$tmp/events.csv"; rc=$?
sed 's/^/# /' "$tmp/events.csv"
check "assets events --format csv: header, quoted id, RFC 3339" \
	both [ "$rc" -eq 0 ] -- both grep -qx "time,asset_id,event,status,event_id,destination,reason,source" <(head -1 "$tmp/events.csv") -- \
	grep -q '^2026-03-14T10:25:00Z,sw-a,decommissioned,applied,"e,1",,,cli$' "$tmp/events.csv"
"$FP" assets list --state "$tmp/state" --format json >"$tmp/list.json"
check "assets list --format json: RFC 3339 UTC, no +0000" \
	both grep -q '"decommissioned":"2026-03-14T10:25:00Z"' <(tr -d ' \n' <"$tmp/list.json") -- not grep -q '+0[0-9]00' "$tmp/list.json"
# footprintd --test --test-wait: every MQTT subscription that gave no point
# in the window is named with its topic filter, the reason and the broker,
# and --test exits 1, as for a silent Modbus device; an event subscription
# (lifecycle) is named but is no failure.  Retained messages arrive at the
# subscription, so what each one gets is known without timing.
FPD="$top_builddir/footprintd"
trap 'broker_down; rm -rf "$tmp"' EXIT
if broker_up "$tmp/mosq"; then
	mosquitto_pub -p "$MPORT" -h 127.0.0.1 -r -t water/a/m3 -m 5
	mosquitto_pub -p "$MPORT" -h 127.0.0.1 -r -t bms/x/kw -m warm
	mq_conf() { # mq_conf PORT SUBSCRIPTION...: a config with those subscriptions
		local port=$1 sub
		shift
		printf 'agent: { site = "lab"; state_dir = "%s"; };\n' "$tmp/mqstate"
		printf 'mqtt: { brokers = ( { name = "site"; url = "mqtt://127.0.0.1:%s"; subscriptions = (\n' "$port"
		for sub in "$@"; do printf '%s\n' "$sub"; done | paste -sd, -
		printf '); } ); };\n'
	}
	water='{ topic = "water/+/m3"; format = "value"; field = "water_m3"; template = "water/{device}/m3"; role = "water"; }'
	tasmota='{ topic = "tele/+/SENSOR"; format = "tasmota"; role = "it"; }'
	bms='{ topic = "bms/+/kw"; format = "value"; field = "power_w"; template = "bms/{device}/kw"; role = "cooling"; }'
	events='{ topic = "assets/events"; format = "lifecycle"; }'
	mq_conf "$MPORT" "$water" "$tasmota" "$bms" "$events" >"$tmp/mq.conf"
	"$FPD" -c "$tmp/mq.conf" --test --test-wait 2 >"$tmp/out" 2>"$tmp/err"; rc=$?
	sed 's/^/# /' "$tmp/err" | grep -e '--test'
	check "--test --test-wait: a subscription that got nothing makes it exit 1" [ "$rc" -eq 1 ]
	check "--test --test-wait: what arrived is printed" \
		grep -q '^meter,device=a,role=water,site=lab,source=mqtt water_m3=5 ' "$tmp/out"
	check "--test --test-wait: the silent subscription named, with its filter and broker" \
		grep -qF "footprintd: --test: mqtt/site/tele/+/SENSOR produced nothing in 2 s (no message; broker mqtt://127.0.0.1:$MPORT)" "$tmp/err"
	check "--test --test-wait: one that got only malformed messages, named with the count" \
		grep -qF "footprintd: --test: mqtt/site/bms/+/kw produced nothing in 2 s (1 message(s), none valid: 1 malformed," "$tmp/err"
	check "--test --test-wait: an event subscription is named, not a failure" \
		grep -qF "mqtt/site/assets/events produced nothing in 2 s (no message; broker mqtt://127.0.0.1:$MPORT); an event subscription: not a failure" "$tmp/err"
	check "--test --test-wait: a subscription that got its message is not named" \
		not grep -qF "mqtt/site/water/" "$tmp/err"
	mq_conf "$MPORT" "$water" "$events" >"$tmp/mq.conf"
	"$FPD" -c "$tmp/mq.conf" --test --test-wait 2 >"$tmp/out" 2>"$tmp/err"; rc=$?
	check "--test --test-wait: exit 0 when only an event subscription got nothing" \
		both [ "$rc" -eq 0 ] -- grep -q "mqtt/site/assets/events produced nothing" "$tmp/err"
	port=$(free_port)
	mq_conf "$port" "$water" >"$tmp/mq.conf"
	"$FPD" -c "$tmp/mq.conf" --test --test-wait 1 >"$tmp/out" 2>"$tmp/err"; rc=$?
	check "--test --test-wait: a broker never reached: exit 1, its subscriptions named" \
		both [ "$rc" -eq 1 ] -- grep -qF "mqtt/site/water/+/m3 produced nothing in 1 s (never connected to the broker; broker mqtt://127.0.0.1:$port)" "$tmp/err"
	broker_down
fi
done_testing
