#!/bin/bash
# The organisation's report: two sites' ledgers built by two real agents
# from timestamped MQTT readings (small exact numbers), then footprint
# report over both (--state twice, and --merge of their JSON reports).
# Site "alpha" (UTC, region AA at 0.2 kgCO2e/kWh): facility 400 kW and IT
# 320 kW from 00:00 to 10:00.  Site "beta" (Europe/Paris, region BB at 0.5):
# IT 200 kW from 00:00 to 10:00, its facility meter only from 04:00 (360
# kW), so its PUE relates 2160 kWh to 1200 kWh, not to its 2000 kWh of IT.
# The organisation's PUE is (4000 + 2160) / (3200 + 1200) = 1.4, sums
# first; the ratio of the summed totals (6160 / 5200) would be wrong.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
FP="$top_builddir/footprint"
tmp=$(mktemp -d)
chmod 755 "$tmp"
PA=
PB=
cleanup() {
	for p in $PA $PB; do { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done
	broker_down
	rm -rf "$tmp"
}
trap cleanup EXIT
broker_up "$tmp/mosq" || exit 1

# conf SITE TZ REGION FACTOR: an agent reading SITE/utility and SITE/ups.
conf() {
	cat > "$tmp/$1.conf" <<EOC
agent: { site = "$1"; interval = "1s"; state_dir = "$tmp/$1"; timezone = "$2"; };
outputs: { file = ( { path = "$tmp/$1.lp"; } ); };
mqtt: { brokers = ( { url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-org-$1";
  subscriptions = (
    { topic = "$1/utility"; format = "json"; role = "facility"; template = "$1/{device}";
      fields = ( { path = "kwh"; field = "energy_import_kwh"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "$1/ups"; format = "json"; role = "it"; template = "$1/{device}";
      fields = ( { path = "kwh"; field = "energy_import_kwh"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "$1/factor"; format = "emission-factor"; }
  ); } ); };
indicators: { interval = "1s"; max_gap = "20m"; region = "$3";
  emission_factors = ( { region = "$3"; year = 2026; method = "location"; kg_per_kwh = $4; source = "config"; } ); };
EOC
}
conf alpha UTC AA 0.2
conf beta Europe/Paris BB 0.5
"$FPD" -c "$tmp/alpha.conf" 2>"$tmp/alpha.err" &
PA=$!
"$FPD" -c "$tmp/beta.conf" 2>"$tmp/beta.err" &
PB=$!

# subscribed SITE REGION FACTOR: the agent's last subscription (its
# factor topic) is active: a factor published there is logged.
subscribed() {
	local i
	for i in $(seq 1 20); do
		mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "$1/factor" \
			-m "{\"region\":\"$2\",\"year\":2026,\"method\":\"location\",\"kg_per_kwh\":$3,\"source\":\"test\"}"
		wait_for 2 grep -q "emission factor $2 2026 location set to $3" "$tmp/$1.err" && return 0
	done
	return 1
}
check "alpha subscribes" subscribed alpha AA 0.2
check "beta subscribes" subscribed beta BB 0.5

# msgs SITE METER TZ FROM TO KWH_PER_STEP: a reading every 15 minutes of
# 2026-01-10 local, from FROM to TO (HH:MM), the counter growing per step.
msgs() {
	local a b
	a=$(TZ=$3 date -d "2026-01-10 $4" +%s)
	b=$(TZ=$3 date -d "2026-01-10 $5" +%s)
	awk -v a="$a" -v b="$b" -v k="$6" 'BEGIN {
		for (t = a; t <= b; t += 900)
			printf "{\"ts\":%d000,\"kwh\":%.1f}\n", t, 1000 + k * (t - a) / 900
	}' | mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "$1/$2" -l
}
msgs alpha utility UTC 00:00 10:00 100
msgs alpha ups UTC 00:00 10:00 80
msgs beta ups Europe/Paris 00:00 10:00 50
msgs beta utility Europe/Paris 04:00 10:00 90

near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }
day() { "$FP" report --state "$tmp/$1" --from 2026-01-10 --to 2026-01-10 --format json "${@:2}"; }
# counted SITE E_DC E_IT: the agent has counted every reading.
counted() {
	day "$1" > "$tmp/$1.poll" &&
		near "$(jq -r .total.energy.facility.value "$tmp/$1.poll")" "$2" 1e-9 &&
		near "$(jq -r .total.energy.it.value "$tmp/$1.poll")" "$3" 1e-9
}
check "alpha counted 10 h x 400 kW and 10 h x 320 kW" wait_for 30 counted alpha 4000 3200
check "beta counted 6 h x 360 kW and 10 h x 200 kW" wait_for 30 counted beta 2160 2000
kill -TERM "$PA" "$PB"
wait "$PA"; ra=$?
wait "$PB"; rb=$?
PA= PB=
check "both agents stop cleanly" both [ "$ra" -eq 0 ] -- [ "$rb" -eq 0 ]

day alpha > "$tmp/a.json"
day beta > "$tmp/b.json"
ja() { jq -r "$1" "$tmp/a.json"; }
jb() { jq -r "$1" "$tmp/b.json"; }
check "alpha's PUE: 4000 / 3200" near "$(ja .total.indicators.pue.value)" 1.25 1e-9
check "beta's PUE over its common part: 2160 / 1200" near "$(jb .total.indicators.pue.value)" 1.8 1e-9
check "beta's PUE denominator (1200) is not its E_IT (2000)" \
	near "$(jb .total.indicators.pue.denominator)" 1200 1e-9
check "beta's Scope 2: 2160 kWh x 0.5" near "$(jb .total.scope2.location_kg)" 1080 1e-6

org() { "$FP" report --state "$tmp/alpha" --state "$tmp/beta" --from 2026-01-10 --to 2026-01-10 "$@"; }
org --format json > "$tmp/o.json"; rc=$?
j() { jq -r "$1" "$tmp/o.json"; }
check "org json: exit 0, schema footprint.org-report/1" both [ "$rc" -eq 0 ] -- \
	[ "$(j .schema)" = footprint.org-report/1 ]
check "org json: two sites, each its own footprint.report/1 object unchanged" both \
	[ "$(j '.sites | length')" = 2 ] -- both \
	[ "$(jq -S '.sites[0]' "$tmp/o.json")" = "$(jq -S . "$tmp/a.json")" ] -- \
	[ "$(jq -S '.sites[1]' "$tmp/o.json")" = "$(jq -S . "$tmp/b.json")" ]
check "org total: sites = 2" [ "$(j .total.sites)" = 2 ]
check "org E_DC = 4000 + 2160" near "$(j .total.energy.facility.value)" 6160 1e-9
check "org E_IT = 3200 + 2000" near "$(j .total.energy.it.value)" 5200 1e-9
check "org PUE = sum of numerators / sum of denominators = 6160 / 4400 = 1.4" \
	near "$(j .total.indicators.pue.value)" "$(awk 'BEGIN { printf "%.17g", (4000 + 2160) / (3200 + 1200) }')" 1e-9
check "org PUE numerator and denominator are the sums" both \
	near "$(j .total.indicators.pue.numerator)" 6160 1e-9 -- \
	near "$(j .total.indicators.pue.denominator)" 4400 1e-9
check "org PUE is not the ratio of the summed totals nor the mean of the PUEs" both \
	not near "$(j .total.indicators.pue.value)" "$(awk 'BEGIN { print 6160 / 5200 }')" 1e-3 -- \
	not near "$(j .total.indicators.pue.value)" "$(awk 'BEGIN { print (1.25 + 1.8) / 2 }')" 1e-3
check "org DCiE = 4400 / 6160" near "$(j .total.indicators.dcie.value)" "$(awk 'BEGIN { printf "%.17g", 4400 / 6160 }')" 1e-9
check "org PUE: coverage stated per site (null), 2 sites in it" both \
	[ "$(j .total.indicators.pue.coverage)" = null ] -- [ "$(j .total.indicators.pue.sites)" = 2 ]
check "org Scope 2 = 4000 x 0.2 + 2160 x 0.5, each site its own factor" \
	near "$(j .total.scope2.location_kg)" 1880 1e-6
check "org CUE = 1880 / (3200 + 1200): each site's over its common part of grid and IT" \
	near "$(j .total.indicators.cue_location.value)" "$(awk 'BEGIN { printf "%.17g", 1880 / (3200 + 1200) }')" 1e-9
check "org monthly breakdown: January summed" both [ "$(j '.months | length')" = 1 ] -- \
	near "$(j '.months[0].indicators.pue.value')" 1.4 1e-9
check "org time zone and region differ per site: null" both [ "$(j .timezone)" = null ] -- \
	[ "$(j .region)" = null ]

# --merge of the sites' JSON reports gives the same figures.
"$FP" report --merge "$tmp/a.json" "$tmp/b.json" --format json > "$tmp/m.json"; rc=$?
check "--merge: exit 0, the same total as --state twice" both [ "$rc" -eq 0 ] -- \
	[ "$(jq -S .total "$tmp/m.json")" = "$(jq -S .total "$tmp/o.json")" ]
check "--merge: the sites' objects are the files, unchanged" \
	[ "$(jq -S '.sites[1]' "$tmp/m.json")" = "$(jq -S . "$tmp/b.json")" ]
"$FP" report --state "$tmp/alpha" --from 2026-01-10 --to 2026-01-10 --merge "$tmp/b.json" \
	--format json > "$tmp/mix.json"
check "--state and --merge together" near "$(jq -r .total.indicators.pue.value "$tmp/mix.json")" 1.4 1e-9
jq '.total.scope2.location_kg = null | .total.indicators.cue_location = null' "$tmp/b.json" > "$tmp/b-nos2.json"
"$FP" report --merge "$tmp/a.json" "$tmp/b-nos2.json" --format json > "$tmp/n.json"
check "a site without Scope 2 makes the organisation's undefined, naming it" both \
	[ "$(jq -r .total.scope2.location_kg "$tmp/n.json")" = null ] -- \
	[ "$(jq -c .total.scope2.location_undefined_sites "$tmp/n.json")" = '["beta"]' ]

# md, csv, html
org --format md > "$tmp/o.md"
check "md: the per-site table, one row per site and the organisation's" both \
	grep -q '^| alpha | AA | UTC | 24 | 41.7 % | 4000.000 | 3200.000 | 1.2500 | 4000.000 | 3200.000 | 41.7 % | 800.0 |' "$tmp/o.md" -- both \
	grep -q '^| beta | BB | Europe/Paris | 24 | 25.0 % | 2160.000 | 2000.000 | 1.8000 | 2160.000 | 1200.000 | 25.0 % | 1080.0 |' "$tmp/o.md" -- \
	grep -q '^| organisation | per site | each site.s own | 24 | per site | 6160.000 | 5200.000 | 1.4000 | 6160.000 | 4400.000 | per site | 1880.0 |' "$tmp/o.md"
check "md: the organisation's indicators, sums first" both grep -q '^| PUE1 = E_DC / E_IT | 1.4000 | - | per site |' "$tmp/o.md" -- \
	grep -q 'sums first' "$tmp/o.md"
org --format csv > "$tmp/o.csv"
check "csv: a site column, a block per site and the organisation's" both \
	grep -q '^site,period,e_dc_kwh,e_it_kwh,pue,' "$tmp/o.csv" -- both \
	grep -q '^alpha,total,4000,3200,1.25,' "$tmp/o.csv" -- both \
	grep -q '^beta,total,2160,2000,1.8,' "$tmp/o.csv" -- \
	grep -q '^(organisation),total,6160,5200,1.4,' "$tmp/o.csv"
check "csv: every row has the header's cells" \
	[ "$(awk -F, '{ print NF }' "$tmp/o.csv" | sort -u | wc -l)" -eq 1 ]
org --format html --output "$tmp/o.html"
check "html: the per-site table and no external reference" both grep -q '<h2>Sites</h2>' "$tmp/o.html" -- \
	not grep -Eq '(src|href)=|url\(|@import' "$tmp/o.html"
timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/chromium" \
	--enable-logging=stderr --v=0 --dump-dom "file://$tmp/o.html" >"$tmp/o.dom" 2>"$tmp/o.log"
check "html: headless Chromium renders it with no console message" \
	both grep -q '</html>' "$tmp/o.dom" -- not grep -q ':CONSOLE' "$tmp/o.log"

# One --state is the site's report, as before.
day alpha --format md > "$tmp/a.md"
check "one --state: the site's own report" both grep -q '^# Environmental report: alpha' "$tmp/a.md" -- \
	not grep -q '^## Sites' "$tmp/a.md"

# Errors.
out=$(org --output "$tmp/x" --state "$tmp/nowhere" 2>&1); rc=$?
check "a missing state dir: exit 1 naming it" both [ "$rc" -eq 1 ] -- grep -q "nowhere: cannot read the ledger" <<<"$out"
out=$("$FP" report --state "$tmp/alpha" --state "$tmp/alpha" --from 2026-01-10 --to 2026-01-10 2>&1); rc=$?
check "a site twice: exit 1" both [ "$rc" -eq 1 ] -- grep -q "site 'alpha' appears twice" <<<"$out"
jq '.to = "2026-01-11"' "$tmp/b.json" > "$tmp/b-later.json"
out=$("$FP" report --merge "$tmp/a.json" "$tmp/b-later.json" 2>&1); rc=$?
check "--merge of different periods: exit 1 with both periods" both [ "$rc" -eq 1 ] -- \
	grep -q "different periods.*2026-01-10 to 2026-01-10.*2026-01-10 to 2026-01-11" <<<"$out"
out=$("$FP" report --merge "$tmp/a.json" --from 2026-01-09 --to 2026-01-10 2>&1); rc=$?
check "--merge with another --from: exit 1" both [ "$rc" -eq 1 ] -- grep -q "covers 2026-01-10 to 2026-01-10" <<<"$out"
echo '{"schema":"other"}' > "$tmp/other.json"
out=$("$FP" report --merge "$tmp/a.json" "$tmp/other.json" 2>&1); rc=$?
check "--merge of a file that is not a site's report: exit 1" both [ "$rc" -eq 1 ] -- \
	grep -q "other.json: not a footprint.report/1" <<<"$out"
out=$("$FP" report --merge 2>&1); rc=$?
check "--merge without files: exit 64 (usage)" [ "$rc" -eq 64 ]
out=$(org --site alpha 2>&1); rc=$?
check "--site with several sites: exit 64 (usage)" [ "$rc" -eq 64 ]
done_testing
