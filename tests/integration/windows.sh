#!/bin/bash
# Indicator windows that stay true all the way to the dashboard (#17).
# The agent re-writes a window's row (energy, efficiency, telecom; stamped
# at the window's start) at every indicators.interval with running values,
# and InfluxDB merges the fields of one series and timestamp: a field
# written early and omitted later survives there.  One footprintd per
# scenario writes both a file output and a real influxd; what influxd
# holds for each window row must equal the agent's LAST write of that row
# in the file output, field by field.  Meter readings carry their own
# timestamps (epoch_ms, 1 s apart, in the recent past) and are published
# to a real mosquitto in stages; each stage waits until a window write has
# seen it, so the early writes are deterministic and no sleep is needed.
#
# (a) site "a", no emission factor: the facility meter (1400 W) reads
#     alone first, the IT meter (1000 W) starts 2 s later.
# (b) site "b": IT metered from t0, facility from t0 + 3 s; the true PUE
#     is 1.4.  b1: each 1h row's pue in influxd equals the last write's;
#     b2: every pue the agent ever wrote for a window is 1.4 (never a
#     ratio of energies over different spans: it was 0.56 on the first
#     writes before ratios were taken over the common part of their terms).
# (c) site "c": a whole past calendar year of hourly kWh counter readings
#     (facility and IT) published at once; the engine back-fills every
#     window of that year, paced (500 a write).  Once the self-metrics say
#     every reading is counted and none is pending: every window row of
#     that year in influxd equals the last write (one TAP line per series),
#     the number of rows, exact energies and PUEs, and every row has a
#     final write.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v jq >/dev/null 2>&1 || { echo "1..1"; echo "not ok 1 - jq is installed (Debian package jq)"; exit 1; }
FPD="$top_builddir/footprintd"
test_begin

influx_up "$tmp/influx"
influx_q "" "CREATE DATABASE site" -XPOST >/dev/null
# (c) publishes 2 x 8760 messages at once: more than mosquitto's default
# queue per client (1000), which would drop the excess.
broker_up "$tmp/mosq" "max_queued_messages 100000" || exit 1

N=180                 # seconds of readings per scenario, one a second
# t0 about ten minutes ago, moved back so that every reading (t0 to
# t0 + N) falls in one UTC hour: one row per window and measurement.
t0=$(( $(date +%s) - 600 ))
[ $(( (t0 + N) / 3600 )) -ne $(( t0 / 3600 )) ] && t0=$(( (t0 + N) / 3600 * 3600 - N - 10 ))
kwh() { awk -v w="$1" -v s="$2" 'BEGIN { printf "%.17g", w * s / 3600000 }'; }

# start_agent SITE [PATH FIELD INDICATORS]: footprintd with a file output
# and influxd, its MQTT subscriptions subscribed (a probe message on the
# last one is counted in the self-metrics: the broker handles SUBSCRIBEs
# in order); the meters' JSON PATH read as FIELD (default "w" as power_w),
# INDICATORS the indicators group's settings (default the interval, 1 s).
start_agent() {
	local site=$1 d="$tmp/$1" path=${2:-w} field=${3:-power_w} ind=${4:-'interval = "1s";'}
	mkdir -p "$d"
	cat > "$d/f.conf" <<EOC
agent: { site = "$site"; interval = "1s"; state_dir = "$d/state"; timezone = "UTC"; };
outputs: { file = ( { path = "$d/out.lp"; } );
  influxdb = ( { url = "$INFLUX_URL"; database = "site"; flush_interval = "200ms"; } ); };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-$site";
  subscriptions = (
    { topic = "$site/facility"; format = "json"; role = "facility"; template = "$site/{device}";
      fields = ( { path = "$path"; field = "$field"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "$site/it"; format = "json"; role = "it"; template = "$site/{device}";
      fields = ( { path = "$path"; field = "$field"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "$site/probe"; format = "json"; fields = ( { path = "x"; field = "x"; } ); }
  ); } ); };
indicators: { $ind };
EOC
	published=0
	local rc=0
	fpd_start "$d/f.conf" "$d/fpd.err" "$site" "$d/out.lp" || rc=1
	FPID=$FPD_STARTED
	return $rc
}

# stop_agent SITE: SIGTERM (the outputs drain), exit status checked.
stop_agent() {
	local rc
	kill -TERM "$FPID"; wait "$FPID"; rc=$?; FPID=
	check "$1: the agent stops cleanly on SIGTERM" [ "$rc" -eq 0 ]
	grep -v "^<6>" "$tmp/$1/fpd.err" | sed "s/^/# $1: /" | head -10
}

# pub SITE METER WATTS FROM TO: readings of METER every second from
# t0 + FROM to t0 + TO (inclusive), one message each, published at once.
pub() {
	awk -v t0="$t0" -v w="$3" -v a="$4" -v b="$5" 'BEGIN {
		for (t = a; t <= b; t++) printf "{\"ts\":%d000,\"w\":%d}\n", t0 + t, w }' |
		mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "$1/$2" -l
	published=$((published + $5 - $4 + 1))
}

# counted SITE: a window write has seen every reading published so far:
# after the indicators' self-metric "readings" reached that number, a
# window row was written, or (should nothing be written for that state)
# two more self-metric lines passed, each indicators.interval apart.
counted() {
	awk -v k="$published" -v site="$1" '
	function field(name,   n, a, i) {
		n = split($2, a, ",")
		for (i = 1; i <= n; i++)
			if (index(a[i], name "=") == 1) return substr(a[i], length(name) + 2) + 0
		return -1
	}
	index($1, "footprintd,component=indicators,") == 1 {
		if (seen) after++
		else if (field("readings") >= k) seen = 1
	}
	seen && $1 ~ /^(energy|efficiency|telecom),/ && index($1 ",", ",site=" site ",") { row = 1 }
	END { exit !(seen && (row || after >= 2)) }' "$tmp/$1/out.lp"
}

# last_is SITE SERIES FIELD VALUE: the last write of SERIES (after
# last_writes) has FIELD = VALUE (relative 1e-9).
last_is() {
	awk -v s="$2" -v f="$3" -v v="$4" '$1 == s && $3 == f {
		d = $4 - v; if (d < 0) d = -d
		if (d <= 1e-9 * (v < 0 ? -v : v)) found = 1
	} END { exit !found }' "$tmp/$1/last.txt"
}

# last_writes SITE: "series ts_s field value" for every field of the last
# line written of each window row (energy, efficiency, telecom; booleans
# as 1 and 0).
last_writes() { lp_rows "$tmp/$1/out.lp" "$1" last | grep -E '^(energy|efficiency|telecom),'; }

# stored SITE: the same from influxd (tags sorted as in line protocol).
stored() {
	influx_q site "SELECT * FROM energy, efficiency, telecom WHERE site = '$1' GROUP BY *" \
		--data-urlencode epoch=s | jq -r '
		.results[0].series[]? |
		(.name + (.tags | to_entries | map(select(.value != "")) | sort_by(.key)
			| map(",\(.key)=\(.value)") | join(""))) as $s |
		.columns as $c | .values[] | . as $r |
		range(1; $c | length) as $i | select($r[$i] != null) |
		"\($s) \($r[0]) \($c[$i]) \($r[$i] | if . == true then 1 elif . == false then 0 else . end)"' | sort
}

# compare_rows SITE: $tmp/SITE/cmp.txt, one line per window row, "OK" or
# "NOK", "series at time" and the detail, tab-separated: influxd has
# exactly the fields of the last write, with its values (floats relative
# 1e-9); checks that there are rows.
compare_rows() {
	local site=$1
	last_writes "$site" > "$tmp/$site/last.txt"
	stored "$site" > "$tmp/$site/stored.txt"
	check "$site: the file output and influxd hold window rows" \
		both [ -s "$tmp/$site/last.txt" ] -- [ -s "$tmp/$site/stored.txt" ]
	awk '
	function num(x) { return x ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
	function same(a, b,   d, m) {
		if (a == b) return 1
		if (!num(a) || !num(b)) return 0
		d = a - b; if (d < 0) d = -d
		m = (a < 0 ? -a : a); if ((b < 0 ? -b : b) > m) m = (b < 0 ? -b : b)
		return d <= 1e-9 * m
	}
	{
		src = FILENAME == ARGV[1] ? 1 : 2; row = $1 " " $2; rows[row] = 1
		val[src, row, $3] = $4; n[src, row]++
		if (!((row, $3) in seen)) { seen[row, $3] = 1; fl[row, ++nf[row]] = $3 }
	}
	END {
		for (row in rows) {
			split(row, r, " ")
			msg = ""
			for (i = 1; i <= nf[row]; i++) {
				f = fl[row, i]
				a = ((1, row, f) in val); b = ((2, row, f) in val)
				if (a && !b)
					msg = msg "; " f ": last write " val[1, row, f] ", influxd has none"
				else if (!a && b)
					msg = msg "; " f ": influxd " val[2, row, f] ", the last write has none (stale)"
				else if (!same(val[1, row, f], val[2, row, f]))
					msg = msg "; " f ": influxd " val[2, row, f] ", last write " val[1, row, f]
			}
			t = strftime("%Y-%m-%dT%H:%M:%SZ", r[2], 1)
			if (!((1, row) in n))
				print "NOK\t" r[1] " at " t "\tinfluxd has a row the agent never wrote"
			else if (msg != "")
				print "NOK\t" r[1] " at " t "\t" substr(msg, 3)
			else
				print "OK\t" r[1] " at " t "\t" n[1, row] " fields"
		}
	}' "$tmp/$site/last.txt" "$tmp/$site/stored.txt" | sort -t "	" -k2 > "$tmp/$site/cmp.txt"
}

# compare SITE: compare_rows, one TAP line per window row.
compare() {
	local site=$1 verdict row detail
	compare_rows "$site"
	while IFS="	" read -r verdict row detail; do
		if [ "$verdict" = OK ]; then
			ok "$site: $row: influxd equals the last write ($detail)"
		else
			not_ok "$site: $row: influxd equals the last write"
			echo "#   $detail"
		fi
	done < "$tmp/$site/cmp.txt"
}

# ---- (a) stale fields: facility first, IT 2 s later, no emission factor ----
check "a: the agent starts and subscribes" start_agent a
pub a facility 1400 0 0
check "a: a write saw the facility meter's first reading alone" wait_for 20 counted a
pub a it 1000 2 3
check "a: a write saw the IT meter's first second (the facility meter still at one reading)" \
	wait_for 20 counted a
pub a facility 1400 1 "$N"
pub a it 1000 4 "$N"
check "a: a write saw every reading ($published: E_DC over $N s, E_IT over $((N - 2)) s)" \
	wait_for 30 counted a
stop_agent a
compare a
check "a: the last write of the 1y energy rows: E_DC = 1400 W x $N s, E_IT = 1000 W x $((N - 2)) s" \
	both last_is a "energy,role=facility,site=a,window=1y" kwh "$(kwh 1400 "$N")" -- \
	last_is a "energy,role=it,site=a,window=1y" kwh "$(kwh 1000 $((N - 2)))"

# ---- (b) mismatched spans: IT from t0, facility from t0 + 3 s ----
check "b: the agent starts and subscribes" start_agent b
pub b it 1000 0 5
pub b facility 1400 3 5
check "b: a write saw IT over 5 s and the facility over 2 s" wait_for 20 counted b
pub b facility 1400 6 "$N"
pub b it 1000 6 "$N"
check "b: a write saw every reading ($published: E_DC over $((N - 3)) s, E_IT over $N s)" \
	wait_for 30 counted b
stop_agent b
compare b
check "b: the last write of the 1y energy rows: E_DC = 1400 W x $((N - 3)) s, E_IT = 1000 W x $N s" \
	both last_is b "energy,role=facility,site=b,window=1y" kwh "$(kwh 1400 $((N - 3)))" -- \
	last_is b "energy,role=it,site=b,window=1y" kwh "$(kwh 1000 "$N")"

# b1: each 1h efficiency row's pue in influxd equals the last write's.
grep "^efficiency,[^ ]*window=1h [^ ]* pue " "$tmp/b/last.txt" > "$tmp/b/pue_last.txt"
grep "^efficiency,[^ ]*window=1h [^ ]* pue " "$tmp/b/stored.txt" > "$tmp/b/pue_stored.txt"
check "b1: the 1h window's pue was written" [ -s "$tmp/b/pue_last.txt" ]
while read -r series ts _ v; do
	s=$(awk -v s="$series" -v t="$ts" '$1 == s && $2 == t { print $4 }' "$tmp/b/pue_stored.txt")
	check "b1: $series at $(date -u -d "@$ts" +%FT%TZ): pue in influxd ($s) equals the last write ($v)" \
		awk -v a="$s" -v b="$v" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-9 * b) }'
done < "$tmp/b/pue_last.txt"

# b2: every pue ever written for a window is the true PUE, 1.4: a ratio
# relates its terms over the part where both are measured, so the late
# facility meter never gives E_DC over a shorter span than E_IT.
# pue_writes WINDOW: "line-number pue" of every efficiency write of site b.
pue_writes() {
	awk -v w="$1" 'index($1, "efficiency,") == 1 && index($1 ",", ",site=b,") &&
		index($1 ",", ",window=" w ",") {
		n = split($2, a, ",")
		for (i = 1; i <= n; i++)
			if (index(a[i], "pue=") == 1) print NR, substr(a[i], 5)
	}' "$tmp/b/out.lp"
}
for w in 1h 1d 1mo 1y; do
	pue_writes "$w" > "$tmp/b/pue_$w.txt"
	low=$(awk 'function abs(x) { return x < 0 ? -x : x } abs($2 - 1.4) > 1e-9' "$tmp/b/pue_$w.txt" | wc -l)
	detail=$(awk 'NR == 1 || $2 < min { min = $2; at = $1 } END { if (NR) printf "%d writes, lowest %s at line %d", NR, min, at; else printf "no writes" }' "$tmp/b/pue_$w.txt")
	check "b2: every pue written for the $w window is 1.4 within 1e-9 ($detail; $low off)" \
		both [ -s "$tmp/b/pue_$w.txt" ] -- [ "$low" -eq 0 ]
	[ "$low" -gt 0 ] && awk 'function abs(x) { return x < 0 ? -x : x } abs($2 - 1.4) > 1e-9' "$tmp/b/pue_$w.txt" | head -5 |
		while read -r at v; do echo "#   efficiency,site=b,window=$w: pue=$v at line $at of the file output"; done
done
final=$(awk '{ v = $2 } END { print v }' "$tmp/b/pue_1h.txt")
echo "# b: the last pue written for the 1h window: $final (1400 W / 1000 W = 1.4)"
# ---- (c) a whole past year at once: hourly kWh counters, back-filled ----
# Last calendar year (UTC), one reading an hour from Jan 1 00:00 to Dec 31
# 23:00 (H readings a meter, both meters published at once): the facility
# counter grows 14 kWh an hour (12 in June), the IT counter 10.  The first
# reading only starts each counter: H - 1 steps, the last one ending at
# Dec 31 23:00, so the hour Dec 31 23:00-24:00 holds nothing and is never
# written: H - 1 hour rows.  The engine back-fills every window of the
# year, at most 500 a write (indicators.interval = 1 s).
Y=$(( $(date -u +%Y) - 1 ))
y0=$(date -u -d "$Y-01-01" +%s)
y1=$(date -u -d "$((Y + 1))-01-01" +%s)
mar=$(date -u -d "$Y-03-01" +%s)
jun=$(date -u -d "$Y-06-01" +%s)
jul=$(date -u -d "$Y-07-01" +%s)
dec=$(date -u -d "$Y-12-01" +%s)
H=$(( (y1 - y0) / 3600 ))
D=$(( (y1 - y0) / 86400 ))
nwin=$(( H - 1 + D + 12 + 1 ))
e_dc=$(( 14 * (H - 1) - 2 * (jul - jun) / 3600 ))
e_it=$(( 10 * (H - 1) ))

# backfilled SITE: a self-metric line of the indicators says that every
# reading published was counted and no window is left to write again
# (both under the engine's lock: the windows a reading marks are pending
# from the commit that counts it).
backfilled() {
	awk -v k="$published" '
	function field(name,   n, a, i) {
		n = split($2, a, ",")
		for (i = 1; i <= n; i++)
			if (index(a[i], name "=") == 1) return substr(a[i], length(name) + 2) + 0
		return -1
	}
	index($1, "footprintd,component=indicators,") == 1 && field("readings") >= k &&
		field("backfill_windows_pending") == 0 { found = 1; exit }
	END { exit !found }' "$tmp/$1/out.lp"
}
# selfmetric SITE FIELD: the field's value in the last self-metric line of
# the indicators.
selfmetric() { lp_metric "$tmp/$1/out.lp" indicators "$2"; }
# in_year FILE MEASUREMENT ROLE WINDOW: the distinct timestamps of year Y
# of the rows of FILE (last.txt or stored.txt) of that series (ROLE "" for
# none).
in_year() {
	awk -v m="$2" -v r="$3" -v w="$4" -v a="$y0" -v b="$y1" '
	index($1, m ",") == 1 && (r == "" || index($1 ",", ",role=" r ",")) &&
		index($1 ",", ",window=" w ",") && $2 >= a && $2 < b && !seen[$2]++ { print $2 }' "$1"
}
# value_of FILE MEASUREMENT ROLE WINDOW TS FIELD: that field's value.
value_of() {
	awk -v m="$2" -v r="$3" -v w="$4" -v t="$5" -v f="$6" '
	index($1, m ",") == 1 && (r == "" || index($1 ",", ",role=" r ",")) &&
		index($1 ",", ",window=" w ",") && $2 == t && $3 == f { print $4; exit }' "$1"
}
# is VALUE EXPECTED: equal within 1e-9 relative.
is() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b
	exit !(a != "" && d <= 1e-9 * m) }'; }

check "c: the agent starts and subscribes" start_agent c kwh energy_import_kwh \
	'interval = "1s"; max_gap = "2h";'
awk -v y0="$y0" -v H="$H" -v j0="$jun" -v j1="$jul" -v d="$tmp/c" 'BEGIN {
	f = 1000; it = 500
	for (i = 0; i < H; i++) {
		t = y0 + 3600 * i
		if (i) { h = t - 3600; f += (h >= j0 && h < j1) ? 12 : 14; it += 10 }
		printf "{\"ts\":%d000,\"kwh\":%d}\n", t, f > (d "/facility.msgs")
		printf "{\"ts\":%d000,\"kwh\":%d}\n", t, it > (d "/it.msgs")
	}
}'
# fewer than 65536 lines each: one mosquitto_pub -l (see bench/mqtt)
c_start=$(date +%s)
mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t c/facility -l < "$tmp/c/facility.msgs" & p1=$!
mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t c/it -l < "$tmp/c/it.msgs" & p2=$!
wait "$p1"; r1=$?; wait "$p2"; r2=$?
check "c: $((2 * H)) readings of $Y published at once" [ "$r1$r2" = 00 ]
published=$((2 * H))
check "c: every reading counted and the back-fill done (readings >= $published, backfill_windows_pending = 0)" \
	wait_for 80 backfilled c
c_bf=$(( $(date +%s) - c_start ))
bfw=$(selfmetric c backfill_windows_written)
check "c: backfill_windows_written ($bfw) >= the $nwin windows of $Y ($((H - 1)) h + $D d + 12 mo + 1 y), in ${c_bf} s" \
	[ "${bfw:-0}" -ge "$nwin" ]
check "c: no reading dropped, no gap, no reset" \
	[ "$(selfmetric c readings_dropped)/$(selfmetric c gaps)/$(selfmetric c resets)" = 0/0/0 ]
stop_agent c
compare_rows c
# One TAP line per series and year (not per row: ~$((3 * nwin)) rows).
awk -F '	' '{
	split($2, a, " at "); k = a[1] " of " substr(a[2], 1, 4); n[k]++
	if ($1 != "OK") { bad[k]++; if (bad[k] <= 5) why[k] = why[k] "\\n#   " a[2] ": " $3 }
} END { for (k in n) printf "%s\t%d\t%d\t%s\n", k, n[k], bad[k], why[k] }' "$tmp/c/cmp.txt" |
	sort > "$tmp/c/cmp_series.txt"
while IFS="	" read -r k rows bad why; do
	if [ "$bad" -eq 0 ]; then
		ok "c: $k: influxd equals the last write of each of the $rows rows"
	else
		not_ok "c: $k: influxd equals the last write of each of the $rows rows ($bad differ)"
		printf '%b\n' "${why#\\n}"
	fi
done < "$tmp/c/cmp_series.txt"
# 4 rows a window: energy of facility, grid (the facility meter counts
# into both) and it, efficiency.
c_ok=$(awk -F '	' -v y="$Y" 'index($2, " at " y "-") && $1 == "OK"' "$tmp/c/cmp.txt" | wc -l)
check "c: all $((4 * nwin)) window rows of $Y compared and equal ($c_ok), none of another year" \
	both [ "$c_ok" -eq $((4 * nwin)) ] -- [ "$(wc -l < "$tmp/c/cmp.txt")" -eq $((4 * nwin)) ]

# The rows of year Y in influxd and in the last writes, per series.
for s in "energy facility" "energy grid" "energy it" "efficiency -"; do
	set -- $s; r=${2#-}
	for w in "1h $((H - 1))" "1d $D" "1mo 12" "1y 1"; do
		set -- $w
		ni=$(in_year "$tmp/c/stored.txt" "${s% *}" "$r" "$1" | wc -l)
		nl=$(in_year "$tmp/c/last.txt" "${s% *}" "$r" "$1" | wc -l)
		check "c: ${s% *}${r:+ $r} $1 rows of $Y: $ni in influxd, $nl in the file output, $2 expected" \
			[ "$ni/$nl" = "$2/$2" ]
	done
done
last_h=$((y1 - 3600))
check "c: no 1h row at $Y-12-31T23:00Z (no step in that hour: the last reading ends the one before)" \
	[ -z "$(value_of "$tmp/c/stored.txt" energy facility 1h "$last_h" kwh)" ]

# Values in influxd.
v=$(value_of "$tmp/c/stored.txt" energy facility 1y "$y0" kwh)
check "c: 1y E_DC in influxd: $v = $((H - 1)) h x 14 kWh - 720 h x 2 kWh (June) = $e_dc" is "$v" "$e_dc"
v=$(value_of "$tmp/c/stored.txt" energy it 1y "$y0" kwh)
check "c: 1y E_IT in influxd: $v = $((H - 1)) h x 10 kWh = $e_it" is "$v" "$e_it"
v=$(value_of "$tmp/c/stored.txt" efficiency "" 1y "$y0" pue)
check "c: 1y PUE in influxd: $v = $e_dc / $e_it (sums first)" is "$v" "$(awk -v a="$e_dc" -v b="$e_it" 'BEGIN { printf "%.17g", a / b }')"
v=$(value_of "$tmp/c/stored.txt" efficiency "" 1mo "$mar" pue)
check "c: March PUE in influxd: $v = 14 / 10 = 1.4" is "$v" 1.4
v=$(value_of "$tmp/c/stored.txt" energy facility 1mo "$mar" kwh)
check "c: March E_DC in influxd: $v = 744 h x 14 kWh = 10416" is "$v" 10416
v=$(value_of "$tmp/c/stored.txt" efficiency "" 1mo "$jun" pue)
check "c: June PUE in influxd: $v = 12 / 10 = 1.2" is "$v" 1.2
v=$(value_of "$tmp/c/stored.txt" energy facility 1mo "$dec" kwh)
check "c: December E_DC in influxd: $v = 743 h x 14 kWh = 10402 (its last hour not measured)" is "$v" 10402
v=$(value_of "$tmp/c/stored.txt" energy facility 1h "$((jun + 3600))" kwh)
check "c: E_DC of $Y-06-01T01:00Z in influxd: $v = 12" is "$v" 12

# Final writes: each window row of year Y has a write with final=true in
# the file output (a back-filled window never written before is final at
# its first write), and its last write is final.
read -r nrows nfinal nlast < <(awk -v a="$y0" -v b="$y1" '
	$1 ~ /^(energy|efficiency|telecom),/ && index($1 ",", ",site=c,") && NF == 3 {
		ts = substr($3, 1, length($3) - 9) + 0
		if (ts < a || ts >= b) next
		k = $1 " " ts; rows[k] = 1
		fin = index("," $2 ",", ",final=true,") > 0
		if (fin) has[k] = 1
		last[k] = fin
	}
	END { for (k in rows) { n++; if (k in has) f++; if (last[k]) l++ } print n + 0, f + 0, l + 0 }' "$tmp/c/out.lp")
check "c: each of the $nrows window rows of $Y in the file output has a write with final=true ($nfinal have one)" \
	both [ "$nrows" -eq $((4 * nwin)) ] -- [ "$nfinal" = "$nrows" ]
check "c: the last write of each is final ($nlast of $nrows)" [ "$nlast" = "$nrows" ]
done_testing
