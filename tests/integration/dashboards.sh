#!/bin/bash
# The Grafana dashboards, proven by their queries.  Grafana is not packaged
# in Debian, so the test does what Grafana would do with each panel: every
# dashboard JSON is parsed and checked (unique ids, grid positions, the
# provisioned datasource uid, defined variables, units and thresholds),
# then every panel's raw InfluxQL query, with $timeFilter, $__interval and
# $site substituted as Grafana substitutes them, runs against a real
# influxd that two agents filled end to end (the Modbus simulator with one
# meter per role, mosquitto with MQTT meter data, a data-volume meter and
# lifecycle events, emission factors).  A query that fails or returns no
# value fails the test naming the dashboard and the panel; a broken query
# (a wrong field name) must be found empty, which shows the check can fail.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v jq >/dev/null 2>&1 || { echo "1..1"; echo "not ok 1 - jq is installed (Debian package jq)"; exit 1; }
FPD="$top_builddir/footprintd"
SIM="$top_builddir/tests/sim/fpsim"
PROFILES="$top_srcdir/profiles"
DASH="$top_srcdir/dashboards"
DS_UID=footprint-influxdb
SITE=dc-lyon
SITE2=edge-7
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done
	influx_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${FP_KEEP_TMP:-}" ] && trap 'rm -rf "$FP_KEEP_TMP"; cp -r "$tmp" "$FP_KEEP_TMP"; cleanup' EXIT

# The InfluxQL dashboards; the ones over a Prometheus-type datasource
# (*-prometheus.json) are dashboards_vm.sh's.
dashboards=()
for f in "$DASH"/*.json; do
	case $f in *-prometheus.json) ;; *) dashboards+=("$f") ;; esac
done

# ---- 1. structure of the provisioning files and the dashboards ----------
ds="$DASH/provisioning/datasources/footprint.yaml"
# Grafana expands $NAME and ${NAME} with Go's os.ExpandEnv: ${NAME:-x}
# would read a variable named "NAME:-x", so always an empty value.
check "datasource provisioning: influxdb, InfluxQL, uid $DS_UID, url and database from the environment (no :- defaults)" \
	both grep -q "^ *type: influxdb *$" "$ds" -- both grep -q "^ *uid: $DS_UID *$" "$ds" -- \
	both grep -q '^ *url: \${FOOTPRINT_INFLUX_URL}$' "$ds" -- both grep -q '^ *dbName: \${FOOTPRINT_INFLUX_DB}$' "$ds" -- \
	both grep -q '^ *version: InfluxQL$' "$ds" -- not grep -q '^[^#]*\${[A-Z_]*:-' "$ds"
prov="$top_builddir/dashboards/provisioning/dashboards/footprint.yaml"
check "dashboard provider generated with the installed dashboards folder" \
	both grep -q "path: .*/footprint/dashboards\$" "$prov" -- not grep -q '@' "$prov"
check "the five dashboards are there" [ "$(jq -r .uid "${dashboards[@]}" | sort | tr '\n' ' ')" = \
	"footprint-agent footprint-fleet footprint-lifecycle footprint-site-energy footprint-telecom " ]

# structure FILE: prints one line per problem (nothing when sound).
structure() {
	jq -r --arg ds "$DS_UID" --arg type influxdb -f "$top_srcdir/tests/integration/dashboard-lint.jq" "$1" 2>&1
}
# Negative control: a dashboard with a duplicate panel id, a panel on
# another datasource, one without a unit and an undefined variable.
jq '.panels[1].id = .panels[2].id | .panels[3].datasource.uid = "other"
	| .panels[4].fieldConfig.defaults.unit = null
	| .panels[5].targets[0].query += " AND $nowhere"' "$DASH/footprint-site-energy.json" > "$tmp/bad.json"
structure "$tmp/bad.json" > "$tmp/bad.out"
check "negative control: the structure check finds a broken dashboard's 4 problems" both \
	grep -q "used more than once" "$tmp/bad.out" -- both grep -q "datasource is not uid" "$tmp/bad.out" -- \
	both grep -q "no unit" "$tmp/bad.out" -- grep -q 'variable $nowhere is used but not defined' "$tmp/bad.out"
uids=()
for f in "${dashboards[@]}"; do
	name=$(basename "$f")
	if ! jq -e . "$f" >/dev/null 2>&1; then
		not_ok "$name: valid JSON"
		continue
	fi
	probs=$(structure "$f")
	if [ -z "$probs" ]; then ok "$name: structure (ids, grid, datasource uid, variables, units, thresholds)"
	else not_ok "$name: structure"; sed 's/^/# /' <<<"$probs"; fi
	uids+=("$(jq -r .uid "$f")")
done
check "dashboard uids are unique" [ "$(printf '%s\n' "${uids[@]}" | sort -u | wc -l)" -eq "${#dashboards[@]}" ]

# ---- 2. two agents fill a real influxd ----------------------------------
influx_start "$tmp/influx" || { echo "not ok - influxd starts"; done_testing; exit 1; }
influx_q "" "CREATE DATABASE footprint" -XPOST >/dev/null
broker_up "$tmp/mosq" || exit 1
pids+=("$MPID")

# One simulated meter per role (the facility incomer is three-phase: its
# points per phase must not be counted twice), and a second site.
"$SIM" --tcp 127.0.0.1:0 --port-file "$tmp/sim.port" --profiles-dir "$PROFILES" \
	--unit 1:eastron-sdm630,power=30000 --unit 2:eastron-sdm120,power=16000 \
	--unit 3:eastron-sdm120,power=7000 --unit 4:eastron-sdm120,power=800 \
	--unit 5:eastron-sdm120,power=3000 --unit 6:eastron-sdm120,power=2500 \
	--unit 7:eastron-sdm120,power=3500 --unit 8:eastron-sdm120,power=5000 \
	--unit 9:eastron-sdm630,power=9000 --unit 10:eastron-sdm120,power=6000 2>"$tmp/sim.err" &
pids+=($!)
wait_for 10 test -s "$tmp/sim.port" || { echo "# fpsim did not start"; cat "$tmp/sim.err"; }
PORT=$(cat "$tmp/sim.port")
year=$(date -u +%Y)
indicators() { cat <<EOC
indicators: { interval = "1s"; region = "FR"; pue_category = 2;
  emission_factors = (
    { region = "FR"; year = $year; method = "location"; kg_per_kwh = 0.052; source = "test"; },
    { region = "FR"; year = $year; method = "market"; kg_per_kwh = 0.08; source = "test"; } ); };
EOC
}
devs() { # devs NAME:UNIT:PROFILE:ROLE...: a list of Modbus devices
	local d sep=
	for d in "$@"; do
		IFS=: read -r n u p r <<<"$d"
		printf '%s{ name = "%s"; url = "tcp://127.0.0.1:%s"; unit_id = %s; profile = "%s"; role = "%s"; }' \
			"$sep" "$n" "$PORT" "$u" "$p" "$r"
		sep=$',\n  '
	done
}
cat > "$tmp/a.conf" <<EOC
agent: { site = "$SITE"; interval = "1s"; state_dir = "$tmp/state-a"; };
outputs: { influxdb = ( { name = "central"; url = "$INFLUX_URL"; database = "footprint"; flush_interval = "200ms"; } ); };
modbus: { profiles_dir = "$PROFILES"; devices = (
  $(devs incomer:1:eastron-sdm630:facility pdu-a:2:eastron-sdm120:it crah-1:3:eastron-sdm120:cooling \
	lights:4:eastron-sdm120:lighting pv-roof:5:eastron-sdm120:renewable_onsite \
	heat-export:6:eastron-sdm120:reuse ran-rack:7:eastron-sdm120:telecom_equipment \
	bts-site:8:eastron-sdm120:telecom_site)
); };
mqtt: { brokers = ( { name = "site"; url = "mqtt://127.0.0.1:$MPORT"; subscriptions = (
  { topic = "tele/+/SENSOR"; format = "tasmota"; role = "it"; },
  { topic = "meters/water"; format = "value"; field = "water_m3"; role = "water"; template = "meters/{device}"; },
  { topic = "meters/backhaul"; format = "value"; field = "data_bytes"; role = "data_volume"; template = "meters/{device}"; },
  { topic = "assets/events"; format = "lifecycle"; }
); } ); };
$(indicators)
inventory: { categories_file = "$top_srcdir/data/ewaste-categories.csv"; };
EOC
cat > "$tmp/b.conf" <<EOC
agent: { site = "$SITE2"; interval = "1s"; state_dir = "$tmp/state-b"; };
outputs: { influxdb = ( { url = "$INFLUX_URL"; database = "footprint"; flush_interval = "200ms"; } ); };
modbus: { profiles_dir = "$PROFILES"; devices = (
  $(devs edge-incomer:9:eastron-sdm630:facility edge-it:10:eastron-sdm120:it)
); };
$(indicators)
inventory: { categories_file = "$top_srcdir/data/ewaste-categories.csv"; };
EOC
agents=()
for c in a b; do
	out=$("$FPD" -c "$tmp/$c.conf" --check-config 2>&1) || { echo "# $c.conf:"; sed 's/^/# /' <<<"$out"; }
	"$FPD" -c "$tmp/$c.conf" 2>"$tmp/fpd-$c.err" &
	pids+=($!)
	agents+=($!)
done
wait_for 10 grep -q "subscribed to" "$tmp/fpd-a.err"

# MQTT: a Tasmota plug (1.4 kW), a water meter (5 mL/s: a WUE near 1 L/kWh)
# and the backhaul's byte counter (1 Gbit/s) once a second; lifecycle
# events of the last weeks (and a malformed one).
pub() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 "$@"; }
(
	for i in $(seq 0 13); do
		pub -t tele/rack3-plug/SENSOR -m "{\"ENERGY\":{\"Total\":$(awk -v i="$i" 'BEGIN { print 120 + i * 0.0004 }'),\"Power\":1400,\"Voltage\":231,\"Current\":6.1,\"Factor\":0.99}}"
		pub -t meters/water -m "$(awk -v i="$i" 'BEGIN { printf "%.6f", 512 + i * 0.000005 }')"
		pub -t meters/backhaul -m "$((900000000000 + i * 125000000))"
		sleep 1
	done
) &
pids+=($!)
pubpid=$!
ev() { # ev ID ASSET EVENT DAYS_AGO|HOURSh CATEGORY MASS [MORE JSON]
	local ago="$4 days ago"
	case $4 in *h) ago="${4%h} hours ago" ;; esac
	pub -t assets/events -m "{\"event_id\":\"$1\",\"asset_id\":\"$2\",\"event\":\"$3\",\"time\":\"$(date -u -d "$ago" +%FT%TZ)\",\"category\":\"$5\",\"mass_kg\":$6${7:+,$7}}"
}
ev ev-1 srv-0101 received 20 0302 18.5 '"model":"R650","embodied_co2e_kg":1300,"expected_life_y":5'
ev ev-2 srv-0101 in_service 19 0302 18.5
ev ev-0a srv-0042 in_service 80 0302 17.9 '"embodied_co2e_kg":1100'
ev ev-0b sw-0007 in_service 70 0303 6.2
# (the flows of the last hours: this year's windows have them, whatever the date)
ev ev-0c sw-0007 decommissioned 3h 0303 6.2
ev ev-3 srv-0042 decommissioned 6h 0302 17.9
ev ev-4 srv-0042 refurbished 2h 0302 17.9 '"destination":"refurbisher A"'
ev ev-5 sw-0007 recycled 1h 0303 6.2 '"destination":"WEEE recycler B"'
pub -t assets/events -m '{"event_id":"ev-6","event":"teleported"}'
wait "$pubpid" 2>/dev/null
# the publisher's last reading is in influxd (the rest came before it)
wait_for 30 sh -c 'curl -s -G "$1/query" --data-urlencode db=footprint \
	--data-urlencode "q=SELECT last(data_bytes) FROM meter WHERE device = '"'backhaul'"'" |
	grep -q 901625000000' sh "$INFLUX_URL" ||
	echo "# the last backhaul reading did not reach influxd in time"
kill -TERM "${agents[@]}" 2>/dev/null
rc=0
for p in "${agents[@]}"; do wait "$p" || rc=$?; done
check "both agents ran and stopped cleanly" [ "$rc" -eq 0 ]
grep -hv "^<6>" "$tmp"/fpd-*.err | sed 's/^/# /' | head -10

# ---- 3. every panel's query, as Grafana would send it -------------------
# The datasource file expanded as Grafana expands it ($NAME and ${NAME}
# from its environment): its url and database are the ones queried.
export FOOTPRINT_INFLUX_URL=$INFLUX_URL FOOTPRINT_INFLUX_DB=footprint
perl -pe 's/\$\{(\w+)\}|\$(\w+)/$ENV{$1 \/\/ $2} \/\/ ""/ge' "$ds" > "$tmp/ds.yaml"
DS_URL=$(sed -n 's/^ *url: *//p' "$tmp/ds.yaml")
DB=$(sed -n 's/^ *dbName: *//p' "$tmp/ds.yaml")
check "the datasource, expanded with FOOTPRINT_INFLUX_URL and FOOTPRINT_INFLUX_DB, names this influxd and database" \
	both [ "$DS_URL" = "$INFLUX_URL" ] -- [ "$DB" = footprint ]

shopt -u patsub_replacement 2>/dev/null
# ms_ago SPEC: Grafana's "now-7d" (or a panel's relative time "30d") as
# epoch milliseconds.
ms_ago() {
	local n=${1#now-} u
	u=${n//[0-9]/}; n=${n%"$u"}
	case $u in
	s) u=seconds ;; m) u=minutes ;; h) u=hours ;; d) u=days ;; w) u=weeks ;; M) u=months ;; y) u=years ;;
	*) return 1 ;;
	esac
	date -d "$n $u ago" +%s%3N
}
# verdict JSON: "ok N" (N series with values), "empty" or "error: ...".
verdict() {
	jq -r '(.results[0] // {}) as $r
		| if .error then "error: \(.error)" elif $r.error then "error: \($r.error)"
		  elif (($r.series // []) | length) == 0 then "empty"
		  elif ([$r.series[] | select([.values[]?[1:][] | select(. != null)] | length > 0)] | length) == 0
		  then "empty (no values)"
		  else "ok \([$r.series[] | select([.values[]?[1:][] | select(. != null)] | length > 0)] | length)" end' \
		2>/dev/null <<<"$1" || echo "error: not JSON: $1"
}
# expand QUERY: $variables, $timeFilter and $__interval substituted (the
# variables are in vars[], the range in $from_ms).
expand() {
	local q=$1 v
	for v in "${!vars[@]}"; do
		q=${q//"\${$v}"/${vars[$v]}}; q=${q//"[[$v]]"/${vars[$v]}}; q=${q//"\$$v"/${vars[$v]}}
	done
	q=${q//'$timeFilter'/"time >= ${from_ms}ms and time <= ${now_ms}ms"}
	q=${q//'$__interval'/10s}
	echo "$q"
}
sites_seen=
for f in "${dashboards[@]}"; do
	dt=$(jq -r .title "$f")
	declare -A vars=()
	# The variables, in order, from their own queries (as Grafana fills
	# the drop-downs); the site is this test's site, a multi-value
	# variable takes all its values.
	while read -r vj; do
		name=$(jq -r .name <<<"$vj")
		from_ms=$(ms_ago 1h) now_ms=$(date +%s%3N)
		vq=$(expand "$(jq -r .query <<<"$vj")")
		vals=$(influx_q "$DB" "$vq" | jq -r '.results[0].series[]?.values[][1]' | sort -u)
		if [ "$(jq -r '.multi or .includeAll' <<<"$vj")" = true ]; then
			vars[$name]="($(tr '\n' '|' <<<"$vals" | sed 's/|$//'))"
		elif [ "$name" = site ]; then
			vars[$name]=$SITE
		else
			vars[$name]=$(head -1 <<<"$vals")
		fi
		want=$SITE; [ "$name" = site ] || want=.
		if grep -q "^$want" <<<"$vals"; then ok "$dt: variable \$$name lists $(echo $vals)"
		else not_ok "$dt: variable \$$name ($vq) lists no value (or not $want)"; fi
		[ "$name" = site ] && [ "$(jq -r .multi <<<"$vj")" = true ] && sites_seen=$vals
	done < <(jq -c '.templating.list[]' "$f")
	dfrom=$(jq -r .time.from "$f")
	while read -r pj; do
		title=$(jq -r .title <<<"$pj")
		from_ms=$(ms_ago "$(jq -r '.timeFrom // empty' <<<"$pj")" 2>/dev/null) || from_ms=$(ms_ago "$dfrom")
		now_ms=$(date +%s%3N)
		bad= res=
		while read -r tj; do
			q=$(expand "$(jq -r .query <<<"$tj")")
			v=$(verdict "$(influx_q "$DB" "$q")")
			# A fleet query grouped by site must show every site.
			if [ "${v%% *}" = ok ] && [[ $q == *'GROUP BY "site"'* ]] && [ "${v#ok }" -lt 2 ]; then
				v="only ${v#ok } site(s)"
			fi
			res+=" $(jq -r .refId <<<"$tj"): $v;"
			[ "${v%% *}" = ok ] || { bad=1; echo "# $q"; }
		done < <(jq -c '.targets[]' <<<"$pj")
		if [ -z "$bad" ]; then ok "$dt / $title:$res"; else not_ok "$dt / $title:$res"; fi
	done < <(jq -c '.panels[] | select(.type != "row")' "$f")
	unset vars
done
check "the fleet's site variable lists both sites" [ "$(echo $sites_seen)" = "$SITE $SITE2" ]

# Negative controls: the same check on a query with a wrong field name,
# and on one InfluxDB refuses.
declare -A vars=([site]=$SITE)
from_ms=$(ms_ago 30d) now_ms=$(date +%s%3N)
q=$(jq -r '.panels[] | select(.title == "PUE by day") | .targets[0].query' "$DASH/footprint-site-energy.json")
v=$(verdict "$(influx_q "$DB" "$(expand "${q//'"pue"'/'"pue_ratio"'}")")")
check "negative control: a wrong field name is found empty ($v)" [ "${v%% *}" = empty ]
v=$(verdict "$(influx_q "$DB" "$(expand "${q//'WHERE'/'WHER'}")")")
check "negative control: a broken query is found failing ($v)" [ "${v%%:*}" = error ]
v=$(verdict "$(influx_q "$DB" "$(expand "$q")")")
check "... and the query itself passes ($v)" [ "${v%% *}" = ok ]

# Values, not only presence: "Power by role" shows the three-phase incomer
# (fpsim power=30000 W) by its total, its per-phase points left out.
from_ms=$(ms_ago 1h)
q=$(jq -r '.panels[] | select(.title == "Power by role") | .targets[] | select(.refId == "B") | .query' \
	"$DASH/footprint-site-energy.json")
mean() { influx_q "$DB" "$(expand "$1")" | jq '[.results[0].series[0].values[][1]] | add / length | floor'; }
p1=$(mean "$q")
p2=$(mean "${q//'"phase" = '"''"' AND '/}")
check "Power by role: the three-phase incomer's total only ($p1 W; $p2 W with its phase points mixed in)" \
	both [ "${p1:-0}" -gt 27000 -a "${p1:-0}" -lt 33000 ] -- [ "${p2:-99999}" -lt 20000 ]
done_testing
