#!/bin/bash
# The report as a person reads it.  A real agent builds a ledger from a
# year of timestamped daily MQTT readings (facility, IT, water) with an
# emission factor, a GO and some report.eu items; an inventory is imported.
# Then footprint report, with no --state (the state dir comes from the
# config), in Markdown and HTML: the HTML has every section of the
# Markdown, the basis and the EU block; headless Chromium renders it at
# 1280 px with no horizontal overflow (a negative control overflows) and
# prints it on A4 (pdfinfo, pdftoppm: pages produced and not blank).  A
# state dir with only an inventory gives the e-waste part.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
FP="$top_builddir/footprint"
CATS="$top_srcdir/data/ewaste-categories.csv"
for c in chromium pdftoppm pdfinfo pdftotext; do
	command -v "$c" >/dev/null || skip_all "$c is not installed"
done
tmp=$(mktemp -d)
chmod 755 "$tmp"
FPID=
cleanup() {
	[ -n "$FPID" ] && { kill -KILL "$FPID"; wait "$FPID"; } 2>/dev/null
	broker_down
	rm -rf "$tmp"
}
trap cleanup EXIT
broker_up "$tmp/mosq" || exit 1

export TZ=UTC
Y=$(($(date -u +%Y) - 1)) # last year: a whole calendar year in the past
sub() { # sub TOPIC ROLE FIELD
	printf '{ topic = "dc9/%s"; format = "json"; role = "%s"; template = "dc9/{device}";
      fields = ( { path = "v"; field = "%s"; } ); time_path = "ts"; time_format = "epoch_ms"; },\n    ' \
		"$1" "$2" "$3"
}
cat >"$tmp/f.conf" <<EOC
agent: { site = "dc9"; interval = "1s"; state_dir = "$tmp/state"; timezone = "UTC"; };
outputs: { file = ( { path = "$tmp/out.lp"; } ); };
mqtt: { brokers = ( { url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-report-html";
  subscriptions = (
    $(sub utility facility energy_import_kwh)$(sub ups it energy_import_kwh)$(sub water water water_m3){ topic = "dc9/factor"; format = "emission-factor"; }
  ); } ); };
indicators: { interval = "1s"; max_gap = "2d"; region = "XX";
  emission_factors = (
    { region = "XX"; year = $Y; method = "location"; kg_per_kwh = 0.25; source = "Grid average $Y (test)"; },
    { region = "XX"; year = $Y; method = "market"; kg_per_kwh = 0.4; source = "Residual mix $Y (test)"; } );
  certificates = ( { type = "go"; from = "$Y-01-01"; to = "$Y-12-31"; kwh = 500000.0; } ); };
report: { eu: { name = "DC Nine"; lau_code = "FR 75056"; type = "colocation";
  floor_area_m2 = 1200.0; redundancy_electrical_hv = "2N"; refrigerants = [ "R-134a" ]; }; };
EOC
mkdir -p "$tmp/state"
"$FPD" -c "$tmp/f.conf" 2>"$tmp/fpd.err" &
FPID=$!
subscribed() {
	local i
	for i in $(seq 1 20); do
		mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t dc9/factor \
			-m "{\"region\":\"ZZ\",\"year\":$Y,\"method\":\"location\",\"kg_per_kwh\":0.5,\"source\":\"probe\"}"
		wait_for 2 grep -q "emission factor ZZ $Y location set to 0.5" "$tmp/fpd.err" && return 0
	done
	return 1
}
check "the agent subscribes" subscribed

# daily TOPIC KWH_PER_DAY SEASON: a reading at 00:00 every day of Y and on
# 1 January of Y+1; the day's amount varies by SEASON over the year.
daily() {
	local a b
	a=$(date -u -d "$Y-01-01" +%s)
	b=$(date -u -d "$((Y + 1))-01-01" +%s)
	awk -v a="$a" -v b="$b" -v k="$2" -v s="$3" 'BEGIN {
		v = 1000
		for (t = a; t <= b; t += 86400) {
			printf "{\"ts\":%d000,\"v\":%.3f}\n", t, v
			d = (t - a) / 86400
			v += k * (1 + s * cos(6.2831853 * d / 365))
		}
	}' | mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "dc9/$1" -l
}
daily utility 9600 0.15
daily ups 7680 0
daily water 3 0.5
rep() { "$FP" report --config "$tmp/f.conf" --from "$Y-01-01" --to "$Y-12-31" "$@"; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }
counted() {
	rep --format json >"$tmp/poll.json" 2>/dev/null &&
		near "$(jq -r .total.energy.it.value "$tmp/poll.json")" $((7680 * 365)) 1e-6
}
check "the agent counted a year of IT energy (365 x 7680 kWh), read with no --state" \
	wait_for 90 counted
kill -TERM "$FPID"
wait "$FPID"
FPID=
"$FP" assets import /dev/stdin --state "$tmp/state" --categories "$CATS" >/dev/null <<EOC
asset_id,category,model,mass_kg,commissioned,state,expected_life_y,embodied_co2e_kg
srv-a,0307,"PowerEdge R740, 2U",30,$((Y - 3))-01-15,in_service,,
srv-b,0307,PowerEdge R640,25,$Y-06-01,in_service,,
sw-a,0301,Access switch,2,$((Y - 10))-01-01,in_service,,
EOC

rep --format md >"$tmp/r.md"
rep --format html --output "$tmp/r.html"
rep --format json >"$tmp/r.json"
check "html report written" [ -s "$tmp/r.html" ]
grep '^## ' "$tmp/r.md" | sed 's/^## //' >"$tmp/md.h2"
grep -o '<h2>[^<]*</h2>' "$tmp/r.html" | sed 's/<h2>//; s/<\/h2>//; s/&amp;/\&/g' >"$tmp/html.h2"
check "the html has every section of the Markdown, in its order" \
	both [ "$(wc -l <"$tmp/md.h2")" -ge 9 ] -- cmp -s "$tmp/md.h2" "$tmp/html.h2"
for s in 'Mean age (years)' 'Modelled e-waste generated' 'Documented rate = recycled' \
	'WUE L/kWh' 'CO2e loc. kg' 'To complete' 'Emission factors (Scope 2)' \
	'Grid average '"$Y"' (test)' 'Measurement points' 'PUE category 1'; do
	check "md and html both carry '$s'" both grep -qF "$s" "$tmp/r.md" -- grep -qF "$s" "$tmp/r.html"
done
check "the EU block states SDC from report.eu and EDC from the meters" both \
	grep -q '<td>II 1(b)</td><td>Total floor area</td><td>SDC</td><td class="n">1200</td>' "$tmp/r.html" -- \
	grep -q '<td>II 1(d)</td><td>Total energy consumption</td><td>EDC</td>' "$tmp/r.html"
check "no recalled-symbol caveat" both not grep -q 'recalled\|\[R\]' "$tmp/r.md" "$tmp/r.html" -- \
	[ "$(jq -r .eu_2024_1364.recalled_symbols "$tmp/r.json")" = "" ]
check "json basis: the factors used with their source, the GO" both \
	[ "$(jq -r '.basis.factors[] | select(.method == "location") | .source' "$tmp/r.json")" = "Grid average $Y (test)" ] -- \
	[ "$(jq -r '.basis.certificates[0].type' "$tmp/r.json")" = go ]
check "six charts (PUE, energy, REF, Scope 2, WUE, e-waste), each with gridlines and axis titles" \
	both [ "$(grep -o '<svg' "$tmp/r.html" | wc -l)" -eq 6 ] -- \
	[ "$(grep '<svg' "$tmp/r.html" | grep -c 'class="g".*class="g".*>Month</text>')" -eq 6 ]
check "the PUE chart labels the 12 months" \
	[ "$(grep '<svg' "$tmp/r.html" | head -1 | grep -o ">$Y-[01][0-9]<" | sort -u | wc -l)" -eq 12 ]

# At 1280 px: a copy without the CSP, with a script that writes the page's
# width and the tables wider than their box into the DOM.
measure() { # measure HTML OUT: OUT gets "scrollWidth overflowing-tables"
	sed 's|<meta http-equiv="Content-Security-Policy"[^>]*>||; s|</body>|<script>document.body.setAttribute("data-m", document.documentElement.scrollWidth + " " + [...document.querySelectorAll("table,svg,figure")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).length);</script></body>|' \
		"$1" >"$1.m.html"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$tmp/chromium" --window-size=1280,900 --virtual-time-budget=3000 \
		--dump-dom "file://$1.m.html" 2>/dev/null | grep -o 'data-m="[0-9]* [0-9]*"' |
		sed 's/data-m="//; s/"//' >"$2"
}
measure "$tmp/r.html" "$tmp/w"
check "at 1280 px: the page is no wider than the window, no table or chart sticks out" \
	both grep -q . "$tmp/w" -- awk '{ exit !($1 <= 1280 && $2 == 0) }' "$tmp/w"
sed 's|<h2>Indicators</h2>|<table><tr><td><div style="width:2000px">wide</div></td></tr></table><h2>Indicators</h2>|' \
	"$tmp/r.html" >"$tmp/bad.html"
measure "$tmp/bad.html" "$tmp/wbad"
check "negative control: a 2000 px table is measured as overflowing" \
	awk '{ exit !($1 > 1280 && $2 > 0) }' "$tmp/wbad"
timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$tmp/chromium" --window-size=1280,900 --screenshot="$tmp/shot.png" \
	"file://$tmp/r.html" >/dev/null 2>&1
pngw() { od -An -tu1 -j16 -N4 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'; }
check "screenshot at 1280 px" both [ -s "$tmp/shot.png" ] -- [ "$(pngw "$tmp/shot.png")" -eq 1280 ]

# On A4: print to PDF, then each page to an image that is not blank.
timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/chromium" \
	--no-pdf-header-footer --print-to-pdf="$tmp/r.pdf" "file://$tmp/r.html" >/dev/null 2>&1
pdfinfo "$tmp/r.pdf" >"$tmp/pdfinfo" 2>&1
pages=$(awk '/^Pages:/ { print $2 }' "$tmp/pdfinfo")
check "printed on A4: several pages" both [ "${pages:-0}" -ge 2 ] -- \
	grep -q '^Page size:.*(A4)' "$tmp/pdfinfo"
pdftoppm -r 30 -gray "$tmp/r.pdf" "$tmp/page"
check "pdftoppm renders every page" [ "$(ls "$tmp"/page*.pgm 2>/dev/null | wc -l)" -eq "${pages:-0}" ]
inked() { # inked PGM: more than 200 pixels darker than light grey
	tail -c +16 "$1" | od -An -v -tu1 -w64 | awk '{ for (i = 1; i <= NF; i++) n += ($i < 160) } END { exit !(n > 200) }'
}
blank=0
for p in "$tmp"/page*.pgm; do inked "$p" || blank=$((blank + 1)); done
check "no printed page is blank" [ "$blank" -eq 0 ]
pdftotext -f "${pages:-1}" -l "${pages:-1}" "$tmp/r.pdf" "$tmp/last.txt" 2>/dev/null
check "the last printed page ends the report (its data quality)" grep -q 'Counter wraps' "$tmp/last.txt"

# A state dir with only an inventory: the e-waste part, not an error.
mkdir -p "$tmp/inv"
"$FP" assets import /dev/stdin --state "$tmp/inv" --categories "$CATS" >/dev/null <<EOC
asset_id,category,model,mass_kg,commissioned,state
srv-x,0307,R740,30,$((Y - 2))-01-15,in_service
EOC
out=$(STATE_DIRECTORY="$tmp/inv" "$FP" report --from "$Y-01-01" --to "$Y-12-31" 2>&1); rc=$?
check "inventory only, default state dir: exit 0 and the e-waste part" both [ "$rc" -eq 0 ] -- \
	both grep -q '^## E-waste and device lifecycle' <<<"$out" -- not grep -q 'cannot read the ledger' <<<"$out"
out=$("$FP" report --config "$tmp/nowhere.conf" --from "$Y-01-01" --to "$Y-12-31" 2>&1); rc=$?
check "a missing --config: exit 78 naming it" both [ "$rc" -eq 78 ] -- grep -q 'nowhere.conf: cannot read: No such file or directory' <<<"$out"
done_testing
