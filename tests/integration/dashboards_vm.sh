#!/bin/bash
# The Grafana dashboard over a Prometheus-type datasource
# (footprint-fleet-prometheus.json, datasource uid footprint-vm), proven by
# its queries against a real VictoriaMetrics (Debian's victoria-metrics,
# single node) that two agents filled end to end (#17).  Grafana is not
# packaged in Debian, so the test does what Grafana does with each panel:
# the dashboard's structure is checked (valid JSON, unique panel ids, the
# datasource uid and a description on every panel, every $variable
# defined), its site variable is filled from its own query, then every
# panel target's MetricsQL, with $site, $__range, $__range_s and
# $__interval substituted as Grafana substitutes them, runs on
# /api/v1/query (instant targets, at the end time) or /api/v1/query_range
# (range targets).  A target that fails or returns nothing fails the test
# naming the panel; a per-site target must show both sites.  The key
# panels' figures are checked against the increments the meters were fed.
#
# Two agents (sites a and b) write to VictoriaMetrics with engine =
# "victoriametrics"; over MQTT each gets cumulative counters with their
# own timestamps (kWh of the facility incomer, the IT, the on-site PV and
# the reused heat; m3 of water), every 5 minutes: first one reading, until
# the running totals (0) are in VictoriaMetrics, then half an hour in the
# middle of the month before the previous one (whose window rows become
# final at their first write: Scope 2, REF, e-waste) and the last 3 hours.  The counters stay flat
# across the gap between the two stretches, so each running total grows by
# exactly rate x steps.  Asset lifecycle events of that month give the
# e-waste rows and the inventory's running totals (ewaste_total, written
# with the energy totals: "now" and what was recorded, by arrival).  (Not the previous month: an agent makes the previous
# window of each kind final at its start, even with nothing in it, and an
# append-only engine gets no correction of a final row.)  Negative controls: a wrong metric name is found empty,
# a broken expression failing, a broken dashboard's structure problems.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v jq >/dev/null 2>&1 || { echo "1..1"; echo "not ok 1 - jq is installed (Debian package jq)"; exit 1; }
[ -x "${VICTORIA_METRICS:-/usr/bin/victoria-metrics}" ] ||
	skip_all "victoria-metrics not installed (Debian package victoria-metrics)"
FPD="$top_builddir/footprintd"
CATS="$top_srcdir/data/ewaste-categories.csv"
DASH="$top_srcdir/dashboards"
DS_UID=footprint-vm
tmp=$(mktemp -d)
chmod 755 "$tmp"
declare -A FPIDS=()
MPID=
VM_PID=
cleanup() {
	local p
	for p in "${FPIDS[@]}"; do { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done
	broker_down
	vm_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${FP_KEEP_TMP:-}" ] && trap 'rm -rf "$FP_KEEP_TMP"; cp -r "$tmp" "$FP_KEEP_TMP"; cleanup' EXIT
export TZ=UTC
shopt -u patsub_replacement 2>/dev/null

dashboards=("$DASH"/*-prometheus.json)

# ---- 1. structure of the datasource file and the dashboard --------------
ds="$DASH/provisioning/datasources/footprint-vm.yaml"
check "datasource provisioning: prometheus, uid $DS_UID, url from the environment (no :- defaults)" \
	both grep -q "^ *type: prometheus *$" "$ds" -- both grep -q "^ *uid: $DS_UID *$" "$ds" -- \
	both grep -q '^ *url: \${FOOTPRINT_VM_URL}$' "$ds" -- not grep -q '^[^#]*\${[A-Z_]*:-' "$ds"
check "footprint.env sets FOOTPRINT_VM_URL" grep -q '^FOOTPRINT_VM_URL=http' "$DASH/provisioning/footprint.env"
check "the Prometheus-type dashboard is there" [ "$(jq -r .uid "${dashboards[@]}" | tr '\n' ' ')" = "footprint-fleet-prom " ]

# structure FILE: prints one line per problem (nothing when sound).
structure() {
	jq -r --arg ds "$DS_UID" --arg type prometheus -f "$top_srcdir/tests/integration/dashboard-lint.jq" "$1" 2>&1
}
# Negative control: a duplicate panel id, a panel on another datasource,
# one without a description and an undefined variable.
jq '.panels[1].id = .panels[2].id | .panels[3].datasource.uid = "other"
	| .panels[4].description = null
	| .panels[5].targets[0].expr += " + $nowhere"' "${dashboards[0]}" > "$tmp/bad.json"
structure "$tmp/bad.json" > "$tmp/bad.out"
check "negative control: the structure check finds a broken dashboard's 4 problems" both \
	grep -q "used more than once" "$tmp/bad.out" -- both grep -q "datasource is not uid" "$tmp/bad.out" -- \
	both grep -q "no description" "$tmp/bad.out" -- grep -q 'variable $nowhere is used but not defined' "$tmp/bad.out"
for f in "${dashboards[@]}"; do
	name=$(basename "$f")
	if ! jq -e . "$f" >/dev/null 2>&1; then
		not_ok "$name: valid JSON"
		continue
	fi
	probs=$(structure "$f")
	if [ -z "$probs" ]; then ok "$name: structure (ids, grid, datasource uid, descriptions, variables, units)"
	else not_ok "$name: structure"; sed 's/^/# /' <<<"$probs"; fi
done

# ---- 2. two agents fill a real VictoriaMetrics --------------------------
# VictoriaMetrics keeps 1 month by default and drops older samples: the
# final row of a month, stamped at its start, needs more, here and in the
# agents (retention = "400d").
vm_start "$tmp/vm" -retentionPeriod=2y -search.latencyOffset=1s || { echo "not ok - victoria-metrics starts"; done_testing; exit 1; }
ok "victoria-metrics starts on loopback"
broker_up "$tmp/mosq" || exit 1

# The meters of each site and their increment per 5-minute step (kWh; m3
# for water), and where the readings start: day 15 of the month before
# the previous one.
declare -A RATE=([a.utility]=50 [a.ups]=40 [a.pv]=5 [a.heat]=4 [a.water]=0.04
	[b.utility]=30 [b.ups]=20 [b.pv]=3 [b.heat]=1 [b.water]=0.03)
declare -A BASE=([utility]=1000 [ups]=500 [pv]=200 [heat]=100 [water]=50)
MASS=([0]=0 [1]=20 [2]=15)   # the decommissioned server of a (1) and b (2), kg
LAP=([1]=3 [2]=2)            # the laptop of a (1) and b (2), past its 0.1-year life, kg
SW=6                         # the switch of each site, kg (in service)
METERS="utility ups pv heat water"
year=$(date -u +%Y)
PREV=$(date -u -d "$(date -u +%Y-%m-01) 2 months ago" +%Y-%m-01)
P0=$(date -u -d "$PREV + 14 days 10:00" +%s)
pyear=${PREV%%-*}
EF_LOC=0.05 EF_MKT=0.08

conf() { # conf SITE: an agent with a file output and the VictoriaMetrics output "vm"
	local s=$1 d="$tmp/$1"
	mkdir -p "$d"
	sub() { # sub METER ROLE FIELD
		printf '{ topic = "%s/%s"; format = "json"; role = "%s"; template = "%s/{device}"; qos = 1;
      fields = ( { path = "v"; field = "%s"; } ); time_path = "ts"; time_format = "epoch_ms"; },\n    ' \
			"$s" "$1" "$2" "$s" "$3"
	}
	cat > "$d/f.conf" <<EOC
agent: { site = "$s"; interval = "1s"; state_dir = "$d/state"; timezone = "UTC"; };
outputs: { file = ( { path = "$d/out.lp"; } );
  influxdb = ( { name = "vm"; url = "$VM_URL"; database = "footprint"; engine = "victoriametrics";
    flush_interval = "200ms"; retry_max = "2s"; retention = "400d"; } ); };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-dvm-$s";
  clean_session = false;
  subscriptions = (
    $(sub utility facility energy_import_kwh)$(sub ups it energy_import_kwh)$(sub pv renewable_onsite energy_export_kwh)$(sub heat reuse energy_import_kwh)$(sub water water water_m3){ topic = "$s/assets"; format = "lifecycle"; qos = 1; },
    { topic = "$s/probe"; format = "json"; fields = ( { path = "x"; field = "x"; } ); }
  ); } ); };
indicators: { interval = "1s"; settle = "2s"; region = "FR";
  emission_factors = (
    { region = "FR"; year = $pyear; method = "location"; kg_per_kwh = $EF_LOC; source = "test"; },
    { region = "FR"; year = $pyear; method = "market"; kg_per_kwh = $EF_MKT; source = "test"; },
    { region = "FR"; year = $year; method = "location"; kg_per_kwh = $EF_LOC; source = "test"; },
    { region = "FR"; year = $year; method = "market"; kg_per_kwh = $EF_MKT; source = "test"; } ); };
inventory: { categories_file = "$CATS"; };
EOC
}
pub() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "$1" "${@:2}"; }
start_agent() { # SITE: true once its subscriptions are made
	local rc=0
	fpd_start "$tmp/$1/f.conf" "$tmp/$1/fpd.err" "$1" "$tmp/$1/out.lp" || rc=1
	FPIDS[$1]=$FPD_STARTED
	return $rc
}
# settled SITE READINGS EVENTS: the indicators counted READINGS readings
# and applied EVENTS lifecycle events and have no window left to write
# (delivery is not waited for here: on a loaded machine the output is
# rarely idle when its self-metrics are taken; the rows are polled in
# VictoriaMetrics below, and the stop drains the outputs).
settled() { lp_settled "$tmp/$1/out.lp" "$2" "$3"; }
vm_has() { vm_flush && [ -n "$(vm_export "$1")" ]; }
# reading SITE METER K T: the message of METER's K-th value at epoch T.
reading() {
	awk -v b="${BASE[$2]}" -v r="${RATE[$1.$2]}" -v k="$3" -v t="$4" \
		'BEGIN { printf "{\"ts\":%d000,\"v\":%.6f}\n", t, b + r * k }'
}
ev() { # ev SITE ID ASSET EVENT EPOCH CATEGORY MASS [MORE JSON]
	pub "$1/assets" -m "{\"event_id\":\"$1-$2\",\"asset_id\":\"$3\",\"event\":\"$4\",\"time\":\"$(date -u -d "@$5" +%FT%TZ)\",\"category\":\"$6\",\"mass_kg\":$7${8:+,$8}}"
}

start_agents() { # RUN: both agents
	local s started=1
	for s in a b; do
		if start_agent "$s"; then ok "$s: $1: the agent starts with engine = \"victoriametrics\" and subscribes"
		else not_ok "$s: $1: the agent starts"; sed "s/^/# $s: /" "$tmp/$s/fpd.err" | tail -5; started=; fi
	done
	[ -n "$started" ] || { done_testing; exit 1; }
}
stop_agents() { # RUN: both agents, SIGTERM
	local s p rc
	for s in a b; do
		p=${FPIDS[$s]}
		kill -TERM "$p"; wait "$p"; rc=$?; unset "FPIDS[$s]"
		check "$s: $1: the agent stops cleanly on SIGTERM" [ "$rc" -eq 0 ]
		grep -v "^<6>" "$tmp/$s/fpd.err" | sed "s/^/# $s: /" | head -10
		: > "$tmp/$s/fpd.err"
	done
}

# Run 1: the first reading of each meter; the running totals start at 0.
# (A window row is final at its first write when its window is closed, and
# an append-only engine gets no correction of it: the rest, queued at the
# broker for the agents' persistent sessions, reaches run 2 in one burst
# before its first window write.)
for s in a b; do conf "$s"; done
start_agents "run 1"

# The first reading of each meter: the running totals start at 0.
for s in a b; do for m in $METERS; do reading "$s" "$m" 0 "$P0" | pub "$s/$m" -l; done; done
totals_in() {
	local s r
	for s in a b; do
		for r in facility it renewable_onsite reuse; do
			vm_has "energy_total_kwh{site=\"$s\",role=\"$r\"}" || return 1
		done
		vm_has "energy_total_m3{site=\"$s\",role=\"water\"}" || return 1
		vm_has "ewaste_total_decommissioned_kg{site=\"$s\",category=\"all\"}" || return 1
	done
}
check "the running totals of the first readings (0) and of the empty inventories are in VictoriaMetrics" wait_for 30 totals_in
stop_agents "run 1"

# The rest: 6 more steps in that month, then, the counters flat
# across the gap, the last 3 hours from step 6 on.
T0=$(( ($(date +%s) - 3 * 3600) / 300 * 300 ))
now=$(date +%s)
: > "$tmp/times"
for k in 1 2 3 4 5 6; do echo "$k $((P0 + 300 * k))" >> "$tmp/times"; done
for (( t = T0, k = 6; t < now - 5; t += 300, k++ )); do echo "$k $t" >> "$tmp/times"; done
STEPS=$(tail -1 "$tmp/times" | cut -d' ' -f1)
N=$(( $(wc -l < "$tmp/times") * 5 ))
for s in a b; do
	for m in $METERS; do
		while read -r k t; do reading "$s" "$m" "$k" "$t"; done < "$tmp/times" | pub "$s/$m" -l
	done
	i=1; [ "$s" = b ] && i=2
	ev "$s" e1 "srv-$s" in_service $((P0 - 5 * 86400)) 0302 "${MASS[$i]}" '"embodied_co2e_kg":1200,"expected_life_y":5'
	ev "$s" e2 "sw-$s" in_service $((P0 - 5 * 86400)) 0303 "$SW"
	ev "$s" e5 "lap-$s" in_service $((P0 - 5 * 86400)) 0303 "${LAP[$i]}" '"expected_life_y":0.1'
	ev "$s" e3 "srv-$s" decommissioned $((P0 + 86400)) 0302 "${MASS[$i]}"
	ev "$s" e4 "srv-$s" recycled $((P0 + 2 * 86400)) 0302 "${MASS[$i]}" '"destination":"WEEE recycler B"'
done
start_agents "run 2"
echo "# published $N readings per site ($STEPS steps of 5 minutes from $(date -u -d "@$P0" +%FT%TZ), then from $(date -u -d "@$T0" +%FT%TZ)) and 5 asset events"
for s in a b; do
	check "$s: every reading and event counted, the windows written" wait_for 90 settled "$s" "$N" 5
done
rows_in() {
	local s
	for s in a b; do
		vm_has "efficiency_co2e_location_kg{site=\"$s\",window=\"1mo\"}" || return 1
		vm_has "ewaste_decommissioned_kg{site=\"$s\",window=\"1mo\",category=\"all\"}" || return 1
	done
}
check "that month's final rows (efficiency, ewaste) of both sites are in VictoriaMetrics" wait_for 30 rows_in
stop_agents "run 2"
check "VictoriaMetrics flushes" vm_flush
# The last running total of each quantity in the file output is the last
# sample in VictoriaMetrics (the shutdown write arrived).
last_total() {
	grep "^energy_total,role=$2,site=$1 " "$tmp/$1/out.lp" | tail -1 | sed 's/.*=\([-0-9.e+]*\) .*/\1/'
}
vm_last() { vm_export "energy_total_kwh{site=\"$1\",role=\"$2\"}" | jq -r '.values[-1]'; }
near() { awk -v a="$1" -v b="$2" -v t="${3:-1e-6}" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(a != "" && b != "" && d <= t * m) }'; }
for s in a b; do
	check "$s: the last facility total in VictoriaMetrics ($(vm_last "$s" facility)) is the agent's last ($(last_total "$s" facility))" \
		near "$(vm_last "$s" facility)" "$(last_total "$s" facility)" 1e-9
done

# ---- 3. every panel target, as Grafana would send it --------------------
export FOOTPRINT_VM_URL=$VM_URL
perl -pe 's/\$\{(\w+)\}|\$(\w+)/$ENV{$1 \/\/ $2} \/\/ ""/ge' "$ds" > "$tmp/ds.yaml"
DS_URL=$(sed -n 's/^ *url: *//p' "$tmp/ds.yaml")
check "the datasource, expanded with FOOTPRINT_VM_URL, names this VictoriaMetrics" [ "$DS_URL" = "$VM_URL" ]

END_T=$(date +%s)
# The site variable from its own query (label_values(METRIC, LABEL) is
# Grafana's /api/v1/label/LABEL/values?match[]=METRIC).
declare -A vars=()
while read -r vj; do
	name=$(jq -r .name <<<"$vj")
	vq=$(jq -r '.query | if type == "object" then .query else . end' <<<"$vj")
	if [[ $vq =~ ^label_values\(([^,]+),\ *([A-Za-z_]+)\)$ ]]; then
		vals=$(curl -s -G "$DS_URL/api/v1/label/${BASH_REMATCH[2]}/values" \
			--data-urlencode "match[]=${BASH_REMATCH[1]}" | jq -r '.data[]?' | sort -u)
	else
		vals=
	fi
	check "variable \$$name ($vq) lists $(echo $vals)" [ "$(echo $vals)" = "a b" ]
	# a multi-value variable with every value: Grafana's regex (a|b)
	vars[$name]="($(tr '\n' '|' <<<"$vals" | sed 's/|$//'))"
done < <(jq -c '.templating.list[]' "${dashboards[0]}")

# range_s SPEC: seconds of Grafana's "now-90d" or a panel's "30d".
range_s() {
	local n=${1#now-} u
	u=${n//[0-9]/}; n=${n%"$u"}
	case $u in
	s) echo "$n" ;; m) echo $((n * 60)) ;; h) echo $((n * 3600)) ;; d) echo $((n * 86400)) ;;
	w) echo $((n * 604800)) ;; M) echo $((n * 2592000)) ;; y) echo $((n * 31536000)) ;; *) return 1 ;;
	esac
}
# expand EXPR RANGE_S INTERVAL_S: the variables substituted.
expand() {
	local q=$1 v
	for v in "${!vars[@]}"; do
		q=${q//"\${$v}"/${vars[$v]}}; q=${q//"\$$v"/${vars[$v]}}
	done
	q=${q//'$__range_s'/$2}; q=${q//'$__range_ms'/$(($2 * 1000))}; q=${q//'$__range'/"${2}s"}
	q=${q//'$__interval_ms'/$(($3 * 1000))}; q=${q//'$__rate_interval'/"$((4 * $3))s"}
	q=${q//'$__interval'/"${3}s"}
	echo "$q"
}
vmq() { # vmq EXPR: the instant query at END_T (its JSON, also on an error)
	curl -s --max-time 30 "$DS_URL/api/v1/query" --data-urlencode "query=$1" --data-urlencode "time=$END_T"
}
vmq_range() { # vmq_range EXPR RANGE_S STEP_S
	curl -s --max-time 30 "$DS_URL/api/v1/query_range" --data-urlencode "query=$1" \
		--data-urlencode "start=$((END_T - $2))" --data-urlencode "end=$END_T" --data-urlencode "step=$3"
}
# verdict JSON: "ok N SITES" (N series with a finite value), "empty" or "error: ...".
verdict() {
	jq -r 'def finite: . != null and . != "NaN" and . != "+Inf" and . != "-Inf";
		if .status != "success" then "error: \(.errorType // "") \(.error // "no status")"
		else [.data.result[] | select(((.value // empty), (.values[]? // empty)) | .[1] | finite)] as $s
		| if ($s | length) == 0 then "empty"
		  else "ok \($s | length) \([$s[].metric.site // empty] | unique | join(","))" end end' \
		2>/dev/null <<<"$1" || echo "error: not JSON: $1"
}
dfrom=$(jq -r .time.from "${dashboards[0]}")
while read -r pj; do
	title=$(jq -r .title <<<"$pj")
	R=$(range_s "$(jq -r '.timeFrom // empty' <<<"$pj")" 2>/dev/null) || R=$(range_s "$dfrom")
	bad= res=
	while read -r tj; do
		ref=$(jq -r .refId <<<"$tj")
		expr=$(jq -r .expr <<<"$tj")
		if [ "$(jq -r .instant <<<"$tj")" = true ]; then
			# Grafana's $__interval for an instant query: range / 1000 points, >= 60 s
			runs=("$R $(( R / 1000 < 60 ? 60 : R / 1000 ))")
		else
			# the last 2 hours at a 60 s step: the counters of the test
			# moved in its last minutes, after the last whole step of
			# the dashboard's 90 days (2 h 10 min)
			runs=("7200 60")
		fi
		for run in "${runs[@]}"; do
			read -r rs is <<<"$run"
			q=$(expand "$expr" "$rs" "$is")
			if [ "$(jq -r .instant <<<"$tj")" = true ]; then v=$(verdict "$(vmq "$q")")
			else v=$(verdict "$(vmq_range "$q" "$rs" "$is")"); fi
			# A target by site must show every site.
			if [ "${v%% *}" = ok ] && [[ $q == *'by (site'* ]] && [[ $v != *' a,b' ]]; then
				v="not both sites ($v)"
			fi
			res+=" $ref: $v;"
			[ "${v%% *}" = ok ] || { bad=1; echo "# $q"; }
		done
	done < <(jq -c '.targets[]' <<<"$pj")
	if [ -z "$bad" ]; then ok "$title:$res"; else not_ok "$title:$res"; fi
done < <(jq -c '.panels[] | select(.type != "row")' "${dashboards[0]}")

# Negative controls: a wrong metric name is found empty, a broken
# expression failing, and the query itself passes.
R=$(range_s "$dfrom")
q=$(jq -r '.panels[] | select(.title == "Fleet PUE over the range") | .targets[0].expr' "${dashboards[0]}")
v=$(verdict "$(vmq "$(expand "${q//energy_total_kwh/energy_total_kwhx}" "$R" 60)")")
check "negative control: a wrong metric name is found empty ($v)" [ "${v%% *}" = empty ]
v=$(verdict "$(vmq "$(expand "${q//'sum('/'sum(('}" "$R" 60)")")
check "negative control: a broken expression is found failing ($v)" [ "${v%%:*}" = error ]
v=$(verdict "$(vmq "$(expand "$q" "$R" 60)")")
check "... and the query itself passes ($v)" [ "${v%% *}" = ok ]

# ---- 4. the figures of the key panels -----------------------------------
# values TITLE REFID: "SITE VALUE" lines of an instant target ("fleet"
# when the result has no site).
values() {
	local e
	e=$(jq -r --arg t "$1" --arg r "$2" '.panels[] | select(.title == $t) | .targets[] | select(.refId == $r) | .expr' \
		"${dashboards[0]}")
	vmq "$(expand "$e" "$R" 60)" | jq -r '.data.result[]? | "\(.metric.site // "fleet") \(.value[1])"'
}
val() { awk -v s="$1" '$1 == s { print $2 }' <<<"$2"; }
# want SITE METER...: the sum of the meters' increments over the run
want() {
	local s=$1 m t=0; shift
	for m in "$@"; do
		for x in ${s//,/ }; do t=$(awk -v t="$t" -v r="${RATE[$x.$m]}" -v n="$STEPS" 'BEGIN { printf "%.10f", t + r * n }'); done
	done
	echo "$t"
}
div() { awk -v a="$1" -v b="$2" -v k="${3:-1}" 'BEGIN { printf "%.12g", a * k / b }'; }
# checkfig TITLE REFID NAME [SITE:EXPECTED...]
checkfig() {
	local title=$1 ref=$2 name=$3 out s e got; shift 3
	out=$(values "$title" "$ref")
	for se in "$@"; do
		s=${se%%:*} e=${se#*:}
		got=$(val "$s" "$out")
		check "$title ($ref): $name of $s = $got, expected $e (1e-6)" near "$got" "$e"
	done
}
# E_DC: the incomer and the on-site PV (a renewable_onsite meter counts into both)
declare -A DC IT REN REU W
for s in a b a,b; do
	DC[$s]=$(want "$s" utility pv); IT[$s]=$(want "$s" ups); REN[$s]=$(want "$s" pv)
	REU[$s]=$(want "$s" heat); W[$s]=$(want "$s" water)
done
echo "# expected: E_DC a ${DC[a]} b ${DC[b]}, E_IT a ${IT[a]} b ${IT[b]} kWh over $STEPS steps"
checkfig "Fleet PUE over the range" A "fleet PUE (sum E_DC / sum E_IT)" "fleet:$(div "${DC[a,b]}" "${IT[a,b]}")"
checkfig "PUE by site over the range" A PUE "a:$(div "${DC[a]}" "${IT[a]}")" "b:$(div "${DC[b]}" "${IT[b]}")"
checkfig "E_DC and E_IT by site over the range" A E_DC "a:${DC[a]}" "b:${DC[b]}"
checkfig "E_DC and E_IT by site over the range" B E_IT "a:${IT[a]}" "b:${IT[b]}"
checkfig "REF, on-site renewable, over the range" A "fleet REF" "fleet:$(div "${REN[a,b]}" "${DC[a,b]}")"
checkfig "REF, on-site renewable, over the range" B REF "a:$(div "${REN[a]}" "${DC[a]}")" "b:$(div "${REN[b]}" "${DC[b]}")"
checkfig "ERF over the range" A "fleet ERF" "fleet:$(div "${REU[a,b]}" "${DC[a,b]}")"
checkfig "ERF over the range" B ERF "a:$(div "${REU[a]}" "${DC[a]}")" "b:$(div "${REU[b]}" "${DC[b]}")"
checkfig "WUE over the range" A "fleet WUE (L/kWh)" "fleet:$(div "${W[a,b]}" "${IT[a,b]}" 1000)"
checkfig "WUE over the range" B "WUE (L/kWh)" "a:$(div "${W[a]}" "${IT[a]}" 1000)" "b:$(div "${W[b]}" "${IT[b]}" 1000)"
# That month: 6 steps of the incomer (grid) energy, times the factor.
checkfig "Scope 2 CO2e, closed months of the last year" A "location-based kg" \
	"a:$(div "$(( ${RATE[a.utility]} * 6 ))" 1 "$EF_LOC")" "b:$(div "$(( ${RATE[b.utility]} * 6 ))" 1 "$EF_LOC")"
checkfig "E-waste by site, closed months of the last year" A "decommissioned kg" "a:${MASS[1]}" "b:${MASS[2]}"
# The installed base at the end of the latest closed month: the previous
# month's row, which each agent made final at its first start, before any
# asset event (0 kg; its later corrections, the switch and the laptop, are not sent).
first_final() { # SITE MEASUREMENT-AND-TAGS TIMESTAMP FIELD: its first final write
	awk -v k="$2" -v t="${3}000000000" -v f="$4" '$1 == k && $3 == t && index("," $2 ",", ",final=true,") {
		n = split($2, a, ","); for (i = 1; i <= n; i++) if (index(a[i], f "=") == 1) { print substr(a[i], length(f) + 2); exit } }' \
		"$tmp/$1/out.lp"
}
LASTM=$(date -u -d "$(date -u +%Y-%m-01) 1 month ago" +%s)
checkfig "E-waste by site, closed months of the last year" B "installed kg (the previous month's final row)" \
	"a:$(first_final a ewaste,category=all,site=a,window=1mo "$LASTM" installed_kg)" \
	"b:$(first_final b ewaste,category=all,site=b,window=1mo "$LASTM" installed_kg)"
checkfig "Documented collection rate, closed months of the last year" A "documented rate" "a:1" "b:1"
# The inventory's running totals (ewaste_total, category all): the state
# at the agents' last write (the switch and the laptop in service, the
# laptop past its life), which the previous month's final row above
# missed, and the decommissioned kg recorded in the range.
checkfig "Installed base now" A "installed kg" "a:$((SW + LAP[1]))" "b:$((SW + LAP[2]))"
checkfig "Installed base now" B "installed kg" "fleet:$((2 * SW + LAP[1] + LAP[2]))"
checkfig "Installed base now" C "installed units" "a:2" "b:2"
checkfig "Installed base now" D "installed units" "fleet:4"
checkfig "Devices past their lifespan now" A "units" "a:1" "b:1"
checkfig "Devices past their lifespan now" B "units" "fleet:2"
checkfig "E-waste recorded in the range" A "decommissioned kg" "a:${MASS[1]}" "b:${MASS[2]}"
checkfig "E-waste recorded in the range" B "decommissioned kg" "fleet:$((MASS[1] + MASS[2]))"
# By arrival: over the last 2 hours the decommissionings (dated more than
# a month ago, applied in run 2) are all there, while the monthly rows,
# by date, have nothing in that range.
R=7200
checkfig "E-waste recorded in the range" A "decommissioned kg over the last 2 h" "a:${MASS[1]}" "b:${MASS[2]}"
checkfig "E-waste recorded in the range" B "decommissioned kg over the last 2 h" "fleet:$((MASS[1] + MASS[2]))"
q=$(jq -r '.panels[] | select(.title == "E-waste by site, closed months of the last year") | .targets[0].expr' "${dashboards[0]}")
v=$(verdict "$(vmq "$(expand "$q" "$R" 60)")")
check "E-waste by site, closed months of the last year, over the last 2 h: nothing dated there ($v)" [ "$v" = empty ]
done_testing
