#!/bin/bash
# The InfluxDB output with engine = "victoriametrics" against a real
# VictoriaMetrics (Debian's victoria-metrics, single node) on loopback
# (#17).  VictoriaMetrics keeps every write of a sample, also at a
# timestamp it already has, so the agent sends a window row once, when it
# is final, and the running totals (energy_total, meter_total) at the
# current time for the running values.  One agent (site "v") writes a file
# output (every write) and VictoriaMetrics; two meters (facility 720 kW,
# IT 576 kW: PUE 1.25) publish cumulative kWh with their own timestamps
# over the 3 past hours and a little of the current one.
#
# Run 1 takes one reading of each meter (the running totals start at 0);
# the rest waits at the broker (persistent session, QoS 1) and reaches
# run 2 in one burst at its start, before its first window write: every
# past hour is closed and past indicators.settle, so final at its first
# write.  Then, through VictoriaMetrics' own APIs:
#   (a) no duplicate sample of any window row;
#   (b) each window row in VictoriaMetrics is the agent's first final
#       write of that row and equals its last write (the file output),
#       every energy and efficiency row made final is there, the 3 past
#       hours among them: 720 kWh and PUE 1.25;
#   (c) no window row of the current hour, day, month or year (running
#       values are not sent), which the file output has;
#   (d) the running total of the facility (energy_total_kwh) grows over
#       the run by the sum of its hour windows (export: last - first), and
#       the documented MetricsQL (increase, increase / increase for the
#       PUE) gives the same;
#   (e) an asset lifecycle event: its string fields (asset_id, event_id)
#       are labels, not 0-valued series;
#   (g) every meter reading of the file output is in VictoriaMetrics once.
# (f) A second agent (site "r") with retention = "1h" back-fills readings
#     of the 3 past hours: nothing older than 1 h is sent (no window row,
#     no old reading), the readings of the last hour are, points_too_old
#     counts the others and a warning says so.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v jq >/dev/null 2>&1 || { echo "1..1"; echo "not ok 1 - jq is installed (Debian package jq)"; exit 1; }
[ -x "${VICTORIA_METRICS:-/usr/bin/victoria-metrics}" ] ||
	skip_all "victoria-metrics not installed (Debian package victoria-metrics)"
FPD="$top_builddir/footprintd"
CATS="$top_srcdir/data/ewaste-categories.csv"
tmp=$(mktemp -d)
chmod 755 "$tmp"
MPID=
FPID=
VM_PID=
cleanup() {
	[ -n "$FPID" ] && { kill -KILL "$FPID"; wait "$FPID"; } 2>/dev/null
	broker_down
	vm_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${FP_KEEP_TMP:-}" ] && trap 'rm -rf "$FP_KEEP_TMP"; cp -r "$tmp" "$FP_KEEP_TMP"; cleanup' EXIT
export TZ=UTC

# Every window of the scenario is either past or current for the whole
# run: not in the last 100 s of an hour, nor in its first 20 s.
m=$(( $(date +%s) % 3600 ))
if [ "$m" -gt 3500 ] || [ "$m" -lt 20 ]; then
	echo "# waiting for 20 s into the next hour"
	inside_hour() { m=$(( $(date +%s) % 3600 )); [ "$m" -ge 20 ] && [ "$m" -le 3500 ]; }
	wait_for 130 inside_hour
fi

# VictoriaMetrics keeps 1 month (31 days) by default and silently drops
# older samples (vm_rows_ignored_total{reason="small_timestamp"}): the row
# of a year window, stamped on January 1, and the final row of a 31-day
# month, stamped 31 days + indicators.settle before it is written, need a
# longer retention there and in the agent (400d below).
vm_start "$tmp/vm" -retentionPeriod=2y -search.latencyOffset=1s || { echo "1..1"; echo "not ok 1 - victoria-metrics starts"; exit 1; }
ok "victoria-metrics starts on loopback ($VM_URL)"
broker_up "$tmp/mosq" || exit 1

H=$(( $(date +%s) / 3600 * 3600 ))   # the current hour
T0=$(( H - 3 * 3600 ))                # the first reading
# reading SITE METER SECONDS: the message of METER (utility: 720 kW,
# ups: 576 kW) at T0 + SECONDS, its counter in kWh.
reading() {
	awk -v t="$3" -v t0="$T0" -v m="$2" 'BEGIN {
		printf "{\"ts\":%d000,\"kwh\":%.2f}\n", t0 + t, m == "utility" ? 1000 + 0.2 * t : 500 + 0.16 * t }'
}
pub() { mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "$1" "${@:2}"; }

# conf SITE [extra output settings]: an agent with a file output and the
# VictoriaMetrics output "vm".
conf() {
	local site=$1 d="$tmp/$1"; shift
	mkdir -p "$d"
	cat > "$d/f.conf" <<EOC
agent: { site = "$site"; interval = "1s"; state_dir = "$d/state"; timezone = "UTC"; };
outputs: { file = ( { path = "$d/out.lp"; } );
  influxdb = ( { name = "vm"; url = "$VM_URL"; database = "site"; engine = "victoriametrics";
    flush_interval = "200ms"; retry_max = "2s"; $* } ); };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-vm-$site";
  clean_session = false;
  subscriptions = (
    { topic = "$site/utility"; format = "json"; role = "facility"; template = "$site/{device}"; qos = 1;
      fields = ( { path = "kwh"; field = "energy_import_kwh"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "$site/ups"; format = "json"; role = "it"; template = "$site/{device}"; qos = 1;
      fields = ( { path = "kwh"; field = "energy_import_kwh"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "$site/assets"; format = "lifecycle"; qos = 1; },
    { topic = "$site/probe"; format = "json"; fields = ( { path = "x"; field = "x"; } ); }
  ); } ); };
indicators: { interval = "1s"; settle = "2s"; };
inventory: { categories_file = "$CATS"; };
EOC
}
# start_agent SITE: footprintd; true once its subscriptions are made.
start_agent() {
	local rc=0
	fpd_start "$tmp/$1/f.conf" "$tmp/$1/fpd.err" "$1" "$tmp/$1/out.lp" || rc=1
	FPID=$FPD_STARTED
	return $rc
}
stop_agent() {
	local rc
	kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
	check "$1: the agent stops cleanly on SIGTERM" [ "$rc" -eq 0 ]
	grep -v "^<6>" "$tmp/$1/fpd.err" | sed "s/^/# $1: /" | head -10
}
agent_failed() { # SITE: why the agent did not start, as TAP comments
	sed "s/^/# $1: /" "$tmp/$1/fpd.err" | tail -5
	[ -n "$FPID" ] && { kill -KILL "$FPID"; wait "$FPID"; } 2>/dev/null
	FPID=
}

last_metric() { lp_metric "$tmp/$1/out.lp" "$2" "$3"; }
# settled SITE READINGS: the indicators saw READINGS readings and have no
# window left to write.  What is still on its way to the output "vm" is
# delivered by the stop that follows (SIGTERM drains the outputs; the
# agent then exits 0): an idle output is not waited for, since on a
# loaded machine the running totals and self-metrics of every second
# keep it busy at the instants its self-metrics are taken.
settled() { lp_settled "$tmp/$1/out.lp" "$2"; }
near() { awk -v a="$1" -v b="$2" -v t="${3:-1e-9}" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(a != "" && b != "" && d <= t * m) }'; }
vm_has() { vm_flush "$VM_URL" && [ -n "$(vm_export "$1")" ]; }

# ---- site v, run 1: the first reading of each meter ----
conf v 'retention = "400d";'
if ! start_agent v; then
	not_ok "v: run 1: the agent starts with engine = \"victoriametrics\" and subscribes"
	agent_failed v
	done_testing; exit
fi
ok "v: run 1: the agent starts with engine = \"victoriametrics\" and subscribes"
reading v utility 0 | pub v/utility -l
reading v ups 0 | pub v/ups -l
check "v: run 1: the running totals (0 kWh) reach VictoriaMetrics" wait_for 30 both \
	vm_has 'energy_total_kwh{site="v",role="facility"}' -- vm_has 'energy_total_kwh{site="v",role="it"}'
stop_agent v

# ---- the backlog at the broker: 3 past hours and the current one ----
now=$(date +%s)
d=$(( (now - 1 - H) / 2 )); [ "$d" -gt 60 ] && d=60
{ seq 60 60 10800; echo $((10800 + d)); echo $((10800 + 2 * d)); } > "$tmp/v/times"
N=$(( $(wc -l < "$tmp/v/times") * 2 ))
for m in utility ups; do
	while read -r t; do reading v "$m" "$t"; done < "$tmp/v/times" | pub "v/$m" -l
done
E_FAC=$(awk -v d="$d" 'BEGIN { printf "%.10f", 0.2 * (10800 + 2 * d) }')
E_IT=$(awk -v d="$d" 'BEGIN { printf "%.10f", 0.16 * (10800 + 2 * d) }')
EV_T=$(date -u -d "@$(( T0 + 5400 ))" +%FT%TZ)
pub v/assets -m '{"event_id":"v-e1","asset_id":"srv-v","event":"in_service","time":"'"$EV_T"'","category":"0307","mass_kg":20,"model":"R740"}'
echo "# published $N readings (every minute from $(date -u -d "@$T0" +%FT%TZ), then 2 in the current hour $d s apart) and an asset event"

# ---- run 2: the backlog in one burst ----
if ! start_agent v; then
	not_ok "v: run 2: the agent starts"
	agent_failed v
	done_testing; exit
fi
ok "v: run 2: the agent starts"
check "v: run 2: every reading counted, the back-fill written" wait_for 60 settled v "$N"
stop_agent v
check "v: VictoriaMetrics flushes" vm_flush

lp_rows "$tmp/v/out.lp" v last > "$tmp/v/last.txt"
lp_rows "$tmp/v/out.lp" v final > "$tmp/v/final.txt"
vm_rows '{__name__=~"(energy|efficiency|telecom|ewaste)_.+",site="v",window=~".+"}' > "$tmp/v/vm.txt"
echo "# file output: $(cut -d' ' -f1,2 "$tmp/v/last.txt" | sort -u | wc -l) window rows; final writes: $(cut -d' ' -f1,2 "$tmp/v/final.txt" | sort -u | wc -l); VictoriaMetrics: $(cut -d' ' -f1,2 "$tmp/v/vm.txt" | sort -u | wc -l) rows, $(wc -l < "$tmp/v/vm.txt") samples"

# (a) no duplicates
dups=$(cut -d' ' -f1-3 "$tmp/v/vm.txt" | uniq -d)
check "(a) VictoriaMetrics: each window row's sample once per timestamp ($(wc -l <<<"$dups" | awk -v s="$dups" '{ print s == "" ? 0 : $1 }') duplicated)" \
	both [ -s "$tmp/v/vm.txt" ] -- [ -z "$dups" ]
head -5 <<<"$dups" | sed 's/^/#   duplicate: /'
twice() {
	vm_export '{__name__=~"energy_kwh|efficiency_.+",site="v"}' |
		jq -e 'select((.timestamps | length) != (.timestamps | unique | length))' >/dev/null
}
check "(a) energy_kwh and efficiency_*: no series of the export has a timestamp twice" not twice

# (b) what VictoriaMetrics holds is the first final write of each row
# (later ones with final=true are corrections, not sent); the energy and
# efficiency rows the agent made final are all there (within the
# retention); and each equals the agent's last write of the row.
cut -d' ' -f1,2 "$tmp/v/vm.txt" | sort -u > "$tmp/v/vm_rows.txt"
sent() { # ROWS FILE: the lines of FILE of the rows (series ts) in ROWS
	awk 'FILENAME == ARGV[1] { r[$1 " " $2] = 1; next } ($1 " " $2) in r' "$1" "$2"
}
sent "$tmp/v/vm_rows.txt" "$tmp/v/final.txt" > "$tmp/v/final_sent.txt"
check "(b) each row in VictoriaMetrics is the agent's first final write of it" \
	rows_equal "$tmp/v/final_sent.txt" "$tmp/v/vm.txt"
awk '$1 ~ /^(energy|efficiency),/ { print $1, $2 }' "$tmp/v/final.txt" | sort -u > "$tmp/v/final_rows.txt"
missing=$(comm -23 "$tmp/v/final_rows.txt" "$tmp/v/vm_rows.txt")
check "(b) every energy and efficiency row the agent wrote final ($(wc -l < "$tmp/v/final_rows.txt")) is in VictoriaMetrics ($(grep -c . <<<"$missing") missing)" \
	[ -z "$missing" ]
sed 's/^/#   missing: /' <<<"$missing" | head -5
sent "$tmp/v/vm_rows.txt" "$tmp/v/last.txt" | grep -v " final " > "$tmp/v/last_sent.txt"
grep -v " final " "$tmp/v/vm.txt" > "$tmp/v/vm_nofinal.txt"
check "(b) each row in VictoriaMetrics equals the agent's last write of it (file output)" \
	rows_equal "$tmp/v/last_sent.txt" "$tmp/v/vm_nofinal.txt"
val() { awk -v s="$2" -v t="$3" -v f="$4" '$1 == s && $2 == t && $3 == f { print $4 }' "$1"; }
EFF=$(awk '$1 ~ /^efficiency,category=[0-9]+,site=v,window=1h$/ { print $1; exit }' "$tmp/v/last.txt")
for h in 3 2 1; do
	ws=$(( H - h * 3600 )); at=$(date -u -d "@$ws" +%H:%MZ)
	vk=$(val "$tmp/v/vm.txt" "energy,role=facility,site=v,window=1h" "$ws" kwh)
	fk=$(val "$tmp/v/last.txt" "energy,role=facility,site=v,window=1h" "$ws" kwh)
	vp=$(val "$tmp/v/vm.txt" "$EFF" "$ws" pue)
	fp=$(val "$tmp/v/last.txt" "$EFF" "$ws" pue)
	check "(b) hour $at: energy_kwh{role=facility} in VictoriaMetrics ($vk) = the last write ($fk) = 720" \
		both near "$vk" "$fk" -- near "$vk" 720
	check "(b) hour $at: efficiency_pue in VictoriaMetrics ($vp) = the last write ($fp) = 1.25" \
		both near "$vp" "$fp" -- near "$vp" 1.25
done

# (c) the current windows: in the file output (running), not in VictoriaMetrics
now=$(date +%s)
for w in 1h 1d 1mo 1y; do
	case $w in
	1h) ws=$(( now / 3600 * 3600 )) ;;
	1d) ws=$(date -u -d "$(date -u -d "@$now" +%F)" +%s) ;;
	1mo) ws=$(date -u -d "$(date -u -d "@$now" +%Y-%m-01)" +%s) ;;
	1y) ws=$(date -u -d "$(date -u -d "@$now" +%Y-01-01)" +%s) ;;
	esac
	nf=$(awk -v t="$ws" -v w="window=$w" '$2 == t && index($1 ",", "," w ",")' "$tmp/v/last.txt" | cut -d' ' -f1 | sort -u | wc -l)
	nv=$(awk -v t="$ws" -v w="window=$w" '$2 == t && index($1 ",", "," w ",")' "$tmp/v/vm.txt" | wc -l)
	check "(c) the current $w window: $nf rows in the file output, none in VictoriaMetrics ($nv samples)" \
		both [ "$nf" -gt 0 ] -- [ "$nv" -eq 0 ]
done

# (d) the running totals
vm_export 'energy_total_kwh{site="v",role="facility"}' > "$tmp/v/total.json"
read -r first last n < <(jq -r '[.values[0], .values[-1], (.values | length)] | @tsv' "$tmp/v/total.json")
inc=$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.10f", b - a }')
sum=$(awk '$1 == "energy,role=facility,site=v,window=1h" && $3 == "kwh" { s += $4 } END { printf "%.10f", s }' "$tmp/v/last.txt")
echo "# energy_total_kwh{role=facility}: $n samples, from $first to $last"
check "(d) energy_total_kwh{role=facility} starts at 0 (run 1)" near "$first" 0 0
check "(d) its increase over the run ($inc kWh) = the sum of the facility hour windows ($sum) = $E_FAC" \
	both near "$inc" "$sum" -- near "$inc" "$E_FAC"
run=$(( $(date +%s) - T0 + 60 ))
q_inc=$(vm_query "increase(energy_total_kwh{site=\"v\",role=\"facility\"}[${run}s])" "" \
	--data-urlencode "time=$(date +%s)" --data-urlencode nocache=1 | jq -r '.data.result[0].value[1]')
check "(d) MetricsQL increase(energy_total_kwh{role=\"facility\"}[${run}s]) = $q_inc = $E_FAC" near "$q_inc" "$E_FAC"
q_pue=$(vm_query "sum(increase(energy_total_kwh{site=\"v\",role=\"facility\"}[${run}s])) / sum(increase(energy_total_kwh{site=\"v\",role=\"it\"}[${run}s]))" "" \
	--data-urlencode "time=$(date +%s)" --data-urlencode nocache=1 | jq -r '.data.result[0].value[1]')
sum_it=$(awk '$1 == "energy,role=it,site=v,window=1h" && $3 == "kwh" { s += $4 } END { printf "%.10f", s }' "$tmp/v/last.txt")
pue_f=$(awk -v a="$sum" -v b="$sum_it" 'BEGIN { if (b > 0) printf "%.15g", a / b }')
check "(d) MetricsQL PUE over the run, increase / increase = $q_pue = the file output's sum of facility hour windows / sum of IT hour windows ($pue_f) = $E_FAC / $E_IT" \
	both near "$q_pue" "$pue_f" -- near "$q_pue" 1.25
check "(d) meter_total_value of the facility meter is in VictoriaMetrics" \
	vm_has 'meter_total_value{site="v",role="facility"}'

# (e) the asset event
vm_export '{__name__=~"asset_event_.+",site="v"}' > "$tmp/v/events.json"
labelled() { jq -e 'select(.metric.asset_id == "srv-v" and .metric.event_id == "v-e1")' "$tmp/v/events.json" >/dev/null; }
as_series() { jq -e 'select(.metric.__name__ | test("^asset_event_(asset_id|event_id|model|destination)$"))' "$tmp/v/events.json" >/dev/null; }
check "(e) asset_event: asset_id and event_id are labels of an asset_event_* series" labelled
check "(e) no asset_event_asset_id (or other 0-valued string field) series" not as_series

# (g) the meter readings
meters_lp() { # FILE SITE: "device ts_ms value" of its meter points
	awk -v site="$2" 'index($1, "meter,") == 1 && index($1 ",", ",site=" site ",") {
		n = split($1, t, ","); dev = ""
		for (i = 2; i <= n; i++) if (index(t[i], "device=") == 1) dev = substr(t[i], 8)
		m = split($2, f, ",")
		for (i = 1; i <= m; i++) if (index(f[i], "energy_import_kwh=") == 1)
			printf "%s %s %.10g\n", dev, substr($3, 1, length($3) - 6), substr(f[i], 19)
	}' "$1" | sort
}
meters_vm() { # SITE [URL]
	vm_export "meter_energy_import_kwh{site=\"$1\"}" "${2:-$VM_URL}" | jq -r '.metric.device as $d |
		range(0; .values | length) as $i | "\($d) \(.timestamps[$i]) \(.values[$i])"' |
		awk '{ printf "%s %s %.10g\n", $1, $2, $3 }' | sort
}
meters_lp "$tmp/v/out.lp" v > "$tmp/v/meters_lp.txt"
meters_vm v > "$tmp/v/meters_vm.txt"
check "(g) every meter reading ($(wc -l < "$tmp/v/meters_lp.txt") in the file output, $(( N + 2 )) published) is in VictoriaMetrics once ($(wc -l < "$tmp/v/meters_vm.txt"))" \
	both [ "$(wc -l < "$tmp/v/meters_lp.txt")" -eq $(( N + 2 )) ] -- cmp -s "$tmp/v/meters_lp.txt" "$tmp/v/meters_vm.txt"

# ---- (f) retention = "1h": back-filled readings older than that ----
conf r 'retention = "1h";'
if start_agent r; then
	ok "(f) r: the agent starts with retention = \"1h\""
	t_start=$(date +%s)
	rd=$(( (t_start - 1 - H) / 2 )); [ "$rd" -gt 60 ] && rd=60
	{ seq 0 60 10800; echo $((10800 + rd)); echo $((10800 + 2 * rd)); } > "$tmp/r/times"
	NR_=$(( $(wc -l < "$tmp/r/times") * 2 ))
	for m in utility ups; do
		while read -r t; do reading r "$m" "$t"; done < "$tmp/r/times" | pub "r/$m" -l
	done
	check "(f) r: every reading counted, the back-fill written" wait_for 60 settled r "$NR_"
	t_done=$(date +%s)
	stop_agent r
	vm_flush "$VM_URL"
	too_old=$(last_metric r output/vm points_too_old)
	check "(f) r: points_too_old in the output's self-metrics (${too_old:-none}) > 0" [ "${too_old:-0}" -gt 0 ]
	check "(f) r: a warning names the points too old for the retention" \
		grep -qiE '^<4>.*(too old|retention)' "$tmp/r/fpd.err"
	lp_rows "$tmp/r/out.lp" r final > "$tmp/r/final.txt" 2>/dev/null
	vm_rows '{__name__=~"(energy|efficiency|telecom|ewaste)_.+",site="r",window=~".+"}' > "$tmp/r/vm.txt"
	check "(f) r: the agent made final writes of the past hours ($(cut -d' ' -f1,2 "$tmp/r/final.txt" | sort -u | wc -l) rows)" \
		[ -s "$tmp/r/final.txt" ]
	check "(f) r: none of them, all older than 1 h, is in VictoriaMetrics ($(wc -l < "$tmp/r/vm.txt") samples)" \
		not [ -s "$tmp/r/vm.txt" ]
	meters_vm r > "$tmp/r/meters_vm.txt"
	meters_lp "$tmp/r/out.lp" r > "$tmp/r/meters_lp.txt"
	old=$(awk -v t=$(( (t_start - 3600) * 1000 )) '$2 < t' "$tmp/r/meters_vm.txt" | wc -l)
	awk -v t=$(( (t_done - 3600) * 1000 )) '$2 >= t' "$tmp/r/meters_lp.txt" > "$tmp/r/recent.txt"
	missing=$(comm -23 "$tmp/r/recent.txt" "$tmp/r/meters_vm.txt" | wc -l)
	check "(f) r: no meter reading older than 1 h in VictoriaMetrics ($old)" [ "$old" -eq 0 ]
	check "(f) r: the readings of the last hour are ($(wc -l < "$tmp/r/recent.txt"), $missing missing)" \
		both [ -s "$tmp/r/recent.txt" ] -- [ "$missing" -eq 0 ]
else
	not_ok "(f) r: the agent starts with retention = \"1h\""
	agent_failed r
fi
done_testing
