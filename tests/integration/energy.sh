#!/bin/bash
# The energy indicators end to end: the Modbus simulator with known counter
# trajectories (a 32-bit Wh register that wraps, a meter that is reset)
# drives the agent, which is SIGKILLed and restarted within max_gap, then
# stopped for longer than max_gap and restarted.  The expected energies
# are computed here, independently, from the raw readings the agent wrote
# (file output); the ledger (footprint report), the InfluxDB points in a
# real influxd and the report must all agree with them.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
FP="$top_builddir/footprint"
SIM="$top_builddir/tests/sim/fpsim"
PROFILES="$top_srcdir/profiles"
test_begin

influx_up "$tmp/influx"
influx_q "" "CREATE DATABASE site" -XPOST >/dev/null

cat > "$tmp/wh-meter.conf" <<'EOP'
# A 32-bit Wh import counter (wraps at 4 294 967.296 kWh) and power.
table = "holding";
order = "ABCD";
registers = (
  { field = "energy_import_kwh"; address = 0; type = "uint32"; scale = 0.001; },
  { field = "power_w";           address = 2; type = "float32"; }
);
EOP
# Utility: wraps after about 3 s; UPS output: reset after 9 s; cooling.
"$SIM" --tcp 127.0.0.1:0 --port-file "$tmp/sim.port" --profiles-dir "$PROFILES" \
	--unit 1:"$tmp/wh-meter.conf",energy=4294967.0,ramp=0.1 \
	--unit 2:eastron-sdm120,energy=500,ramp=0.07,reset_at=9 \
	--unit 3:eastron-sdm120,energy=20,ramp=0.02 2>"$tmp/sim.err" &
pids+=($!)
wait_for 10 test -s "$tmp/sim.port" || { echo "# fpsim did not start"; cat "$tmp/sim.err"; }
PORT=$(cat "$tmp/sim.port")
cat > "$tmp/f.conf" <<EOC
agent: { site = "dc1"; interval = "1s"; state_dir = "$tmp/state"; };
outputs: {
  file = ( { path = "readings.lp"; } );
  influxdb = ( { url = "$INFLUX_URL"; database = "site"; flush_interval = "200ms"; } );
};
modbus: { profiles_dir = "$PROFILES"; devices = (
  { name = "utility"; url = "tcp://127.0.0.1:$PORT"; unit_id = 1; profile = "$tmp/wh-meter.conf"; role = "facility"; },
  { name = "ups"; url = "tcp://127.0.0.1:$PORT"; unit_id = 2; profile = "eastron-sdm120"; role = "it"; },
  { name = "crah"; url = "tcp://127.0.0.1:$PORT"; unit_id = 3; profile = "eastron-sdm120"; role = "cooling"; }
); };
indicators: {
  interval = "1s";
  max_gap = "4s";
  region = "XX";
  meters = ( { device = "utility"; counter_modulus = 4294967.296; max_rate = 5000.0; } );
  emission_factors = ( { region = "XX"; year = $(date -u +%Y); method = "location"; kg_per_kwh = 0.25; } );
};
EOC
out=$("$FPD" -c "$tmp/f.conf" --check-config -v 2>&1); rc=$?
check "--check-config -v accepts the indicators group and prints the meters and boundaries" \
	both [ "$rc" -eq 0 ] -- grep -q "indicators: meter utility (device utility): .*wraps at 4294967.296" <<<"$out"
check "--check-config -v prints each quantity's membership" \
	grep -q "indicators: facility = meters of role facility, renewable_onsite, fuel_diesel" <<<"$out"

start() { "$FPD" -c "$tmp/f.conf" 2>>"$tmp/fpd.err" & FPID=$!; pids+=($FPID); }
start
sleep 4.5
kill -KILL "$FPID"; wait "$FPID" 2>/dev/null
sleep 1          # back within max_gap (4 s): the delta is counted
start
sleep 6.5
kill -TERM "$FPID"; wait "$FPID"; rc1=$?
sleep 6          # down longer than max_gap: that time is missing
start
sleep 3.5
kill -TERM "$FPID"; wait "$FPID"; rc2=$?
check "the agent stops cleanly after SIGTERM" [ "$rc1" -eq 0 -a "$rc2" -eq 0 ]
sed 's/^/# /' "$tmp/fpd.err" | grep -v "^# <6>agent" | head -20

lp="$tmp/state/readings.lp"
# The independent expectation: per device, the sum of the deltas of its
# energy register between consecutive readings no more than 4 s apart; a
# decrease is a wrap for the 32-bit utility register, a reset otherwise.
expect() { # expect DEVICE [MODULUS]
	grep "^meter,device=$1,.*energy_import_kwh=" "$lp" |
	sed 's/.*[ ,]energy_import_kwh=\([^, ]*\).* \([0-9]*\)$/\1 \2/' |
	awk -v m="${2:-0}" '
		NR > 1 { d = $1 - v; dt = ($2 - t) / 1e9
			 if (d < 0) d = (m > 0 && v - $1 > m / 2) ? d + m : -1
			 if (d >= 0 && dt <= 4) s += d; else if (d < 0) resets++ }
		{ v = $1; t = $2 }
		END { printf "%.6f\n", s }'
}
e_fac=$(expect utility 4294967.296)
e_it=$(expect ups)
e_cool=$(expect crah)
echo "# expected from the readings: facility $e_fac, it $e_it, cooling $e_cool kWh"
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }

today=$(date -u +%F)
from=$(date -u -d yesterday +%F)
"$FP" report --state "$tmp/state" --from "$from" --to "$today" --format json > "$tmp/r.json" 2>"$tmp/r.err"
check "footprint report --format json runs on the ledger alone" [ -s "$tmp/r.json" ]
jget() { jq -r "$1" "$tmp/r.json"; }
r_fac=$(jget .total.energy.facility.value)
r_it=$(jget .total.energy.it.value)
r_cool=$(jget .total.energy.cooling.value)
r_pue=$(jget .total.indicators.pue.value)
echo "# report: facility $r_fac, it $r_it, cooling $r_cool kWh, PUE $r_pue"
check "ledger E_DC equals the readings' sum across a 32-bit wrap" near "$r_fac" "$e_fac" 0.0005
check "ledger E_IT equals the readings' sum across a meter reset" near "$r_it" "$e_it" 0.0005
check "ledger cooling energy equals the readings' sum" near "$r_cool" "$e_cool" 0.0005
check "the readings span the whole run (E_DC > 1 kWh at 0.1 kWh/s)" \
	awk -v a="$e_fac" 'BEGIN { exit !(a > 1.0) }'
# The PUE relates E_DC and E_IT over the part where both are measured
# (sums first): the amounts it relates, and what it leaves out.
r_num=$(jget .total.indicators.pue.numerator)
r_den=$(jget .total.indicators.pue.denominator)
echo "# report PUE over the common part: $r_num / $r_den kWh, unmatched E_DC $(jget .data_quality.unmatched_e_dc_kwh), E_IT $(jget .data_quality.unmatched_e_it_kwh)"
check "report PUE = matched E_DC / matched E_IT" near "$r_pue" "$(awk -v a="$r_num" -v b="$r_den" 'BEGIN { printf "%.15g", a / b }')" 0.000000001
# The simulated meters ramp at 0.1 and 0.07 kWh/s: the true PUE is 10/7.
# The IT meter's reset step is not measured, so the facility energy of
# that interval is left out of the numerator too (sums of the totals would
# give 1.55).  Within 1%: the meters are read one after the other, so
# their measured spans are offset by the time between two reads (tens of
# ms on a loaded machine, over a run of about 12 s); the common part of an
# hour is the shorter of the terms' measured time, not an intersection of
# instants.
check "the PUE is the meters' true ratio (0.1 / 0.07) within 1%, the IT reset's interval left out of both terms" \
	awk -v p="$r_pue" -v n="$r_num" -v d="$r_den" -v f="$r_fac" -v i="$r_it" \
	'BEGIN { t = 0.1 / 0.07; e = p - t; if (e < 0) e = -e; exit !(e < 0.01 * t && n <= f + 1e-9 && d <= i + 1e-9) }'
check "the report states the unmatched energy" near "$(jget .data_quality.unmatched_e_dc_kwh)" \
	"$(awk -v a="$r_fac" -v b="$r_num" 'BEGIN { printf "%.12g", a - b }')" 0.000001
check "the report's data quality names the PUE as over part of the period, with its coverage" \
	near "$(jget .data_quality.partial_coverage.pue)" "$(jget .total.indicators.pue.coverage)" 0.0000001
check "each partial ratio's left-out amounts: the PUE's are the unmatched E_DC and E_IT" \
	both near "$(jget .data_quality.left_out.pue.facility)" "$(jget .data_quality.unmatched_e_dc_kwh)" 0.000000001 -- \
	near "$(jget .data_quality.left_out.pue.it)" "$(jget .data_quality.unmatched_e_it_kwh)" 0.000000001
check "DCiE leaves out the same energy, its terms swapped" \
	both near "$(jget .data_quality.left_out.dcie.facility)" "$(jget .data_quality.unmatched_e_dc_kwh)" 0.000000001 -- \
	near "$(jget .data_quality.left_out.dcie.it)" "$(jget .data_quality.unmatched_e_it_kwh)" 0.000000001
check "the Markdown report lists the indicators over part of the period, with what they left out" \
	sh -c '"$1" report --state "$2" --from "$3" --to "$4" | grep -q "^- Indicators over part of the period.*PUE over [0-9.]* *% (left out: [0-9.]* kWh of facility)"' \
	sh "$FP" "$tmp/state" "$from" "$today"
check "one wrap and one reset recorded" both [ "$(jget .data_quality.wraps)" = 1 ] -- \
	[ "$(jget .data_quality.resets)" = 1 ]
check "the long stop is a gap (missing) for each of the 3 meters" [ "$(jget .data_quality.gaps)" = 3 ]
check "coverage < 1: the stop shows as missing time" \
	awk -v c="$(jget .total.energy.facility.coverage)" 'BEGIN { exit !(c > 0 && c < 1) }'
check "Scope 2 location-based = E_grid x factor" \
	near "$(jget .total.scope2.location_kg)" "$(awk -v a="$e_fac" 'BEGIN { print a * 0.25 }')" 0.0002

# The points the agent wrote into influxd: the final year window.
q() { influx_q site "$1" | grep -o '"values":\[\[[^]]*\]' | sed 's/.*Z",//; s/\]//'; }
i_fac=$(q "SELECT last(kwh) FROM energy WHERE role='facility' AND \"window\"='1y'")
i_pue=$(q "SELECT last(pue) FROM efficiency WHERE \"window\"='1y'")
i_cov=$(q "SELECT last(coverage) FROM efficiency WHERE \"window\"='1h'")
echo "# influxd: facility $i_fac kWh, PUE $i_pue, last hour coverage $i_cov"
check "influxd energy point (1y window) equals the ledger" near "$i_fac" "$r_fac" 0.0005
check "influxd efficiency point (1y window) PUE equals the report's" near "$i_pue" "$r_pue" 0.0001
check "coverage is written with the ratios" awk -v c="$i_cov" 'BEGIN { exit !(c > 0 && c <= 1) }'
# The running totals for append-only engines: the last ones equal the
# ledger's whole-run sums, through the 32-bit wrap, the reset and the
# restarts (the report covers the whole run).
t_fac=$(q "SELECT last(kwh) FROM energy_total WHERE role='facility'")
t_ups=$(q "SELECT last(value) FROM meter_total WHERE meter='ups'")
t_ups_s=$(q "SELECT last(measured_s) FROM meter_total WHERE meter='ups'")
echo "# influxd running totals: facility $t_fac kWh, ups $t_ups kWh over $t_ups_s s"
check "energy_total (facility) equals the ledger's E_DC" near "$t_fac" "$r_fac" 0.000001
check "meter_total (ups) equals the ledger's E_IT, with its measured seconds" both \
	near "$t_ups" "$r_it" 0.000001 -- awk -v s="$t_ups_s" 'BEGIN { exit !(s > 5 && s < 60) }'
check "energy points carry site, role and window tags" \
	grep -q '^energy,role=cooling,site=dc1,window=1d kwh=' "$lp"

# Report formats and errors.
"$FP" report --state "$tmp/state" --from "$from" --to "$today" --format md > "$tmp/r.md"
check "md report has the PUE line and the EU block" both grep -q '^| PUE1 = E_DC / E_IT | ' "$tmp/r.md" -- \
	grep -q 'Delegated Regulation 2024/1364' "$tmp/r.md"
"$FP" report --state "$tmp/state" --from "$from" --to "$today" --format csv > "$tmp/r.csv"
check "csv report: a header, one row per month and a total" both \
	grep -q '^period,e_dc_kwh,e_it_kwh,pue,' "$tmp/r.csv" -- grep -q '^total,' "$tmp/r.csv"
# html: one file, no external reference, loaded in headless Chromium with
# no console message (its Content-Security-Policy turns any external load
# into one: the negative control shows the check can fail).
"$FP" report --state "$tmp/state" --from "$from" --to "$today" --format html --output "$tmp/r.html"
check "html report: no external reference" both [ -s "$tmp/r.html" ] -- \
	not grep -Eq '(src|href)=|url\(|@import' "$tmp/r.html"
chrome() { # chrome FILE: dumps the DOM to FILE.dom, the browser log to FILE.log
	timeout 120 "$(command -v chromium || echo chromium)" --headless --no-sandbox --disable-gpu \
		--user-data-dir="$tmp/chromium" --enable-logging=stderr --v=0 --dump-dom \
		"file://$1" >"$1.dom" 2>"$1.log"
}
chrome "$tmp/r.html"
check "headless Chromium renders the html report with no console message" \
	both grep -q '</html>' "$tmp/r.html.dom" -- not grep -q ':CONSOLE' "$tmp/r.html.log"
check "five inline SVG charts (monthly PUE, energy by role, REF, Scope 2, WUE)" \
	[ "$(grep -o "<svg" "$tmp/r.html.dom" | wc -l)" -eq 5 ]
sed 's|<h2>Indicators</h2>|<img src="https://127.0.0.1:1/x.png"><h2>Indicators</h2>|' "$tmp/r.html" >"$tmp/bad.html"
chrome "$tmp/bad.html"
check "negative control: an external image is reported on the console" grep -q ':CONSOLE' "$tmp/bad.html.log"
out=$("$FP" report --state "$tmp/nowhere" --from "$from" --to "$today" 2>&1); rc=$?
check "report on a missing state dir: exit 1 and a clear error" both [ "$rc" -eq 1 ] -- \
	grep -q "cannot read the ledger" <<<"$out"
out=$("$FP" report --state "$tmp/state" --from "$today" --to 2026-02-30 2>&1); rc=$?
check "report with a bad date: exit 1 naming it" both [ "$rc" -eq 1 ] -- grep -q "2026-02-30" <<<"$out"
out=$(timeout 20 "$FP" report --state "$tmp/state" --from 1970-01-02 --to 9999-12-31 2>&1); rc=$?
check "report over 8000 years: refused at once" both [ "$rc" -eq 1 ] -- grep -q "at most 100 years" <<<"$out"
out=$("$FP" report --state "$tmp/state" --from "$from" --to "$today" --site other 2>&1); rc=$?
check "report for another site: refused" both [ "$rc" -eq 1 ] -- grep -q "site 'dc1'" <<<"$out"

# A config error in the indicators group names the file and line.
printf 'indicators: {\n  meters = ( { device = "x"; role = "facilty"; } );\n};\n' > "$tmp/bad.conf"
out=$("$FPD" -c "$tmp/bad.conf" --check-config 2>&1); rc=$?
check "bad role: exit 78, FILE:LINE named" both [ "$rc" -eq 78 ] -- grep -q "bad.conf:2: .*facilty" <<<"$out"
done_testing
