#!/bin/bash
# Every shipped Modbus profile (profiles/*.conf, *.csv) against the
# project's simulator on loopback: fpsim serves the profile frozen and
# writes the value each field is served with (--values-file, computed
# from the register pattern and the field's type, not by the agent's
# decoder); footprintd --test must read every field back exactly, on its
# phase point, and write no field a unit serves as "not available" (the
# sentinels, fpsim's na option).  --check-config -v accepts each profile
# and plans every field; each profile is installed (Makefile.am) and
# listed in docs/modbus.md's table and in footprintd.conf(5).  The
# register maps verified against public sources keep their plan and word
# order.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
SIM="$top_builddir/tests/sim/fpsim"
PROFILES=$(cd "$top_srcdir/profiles" && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do { kill -TERM "$p"; wait "$p"; } 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# compare VALUES OUT UNIT DEVICE: prints one line per field that is not
# read back exactly (or is written although served as not available);
# the last line is "checked N".
compare() {
	awk -v unit="$3" -v dev="$4" '
	FNR == NR {
		if ($1 != unit)
			next
		want[$2 "|" $3] = $4
		next
	}
	$1 ~ "^meter,device=" dev "(,|$)" {
		ph = "-"
		n = split($1, tags, ",")
		for (i = 2; i <= n; i++)
			if (tags[i] ~ /^phase=/)
				ph = substr(tags[i], 7)
		n = split($2, kv, ",")
		for (i = 1; i <= n; i++) {
			eq = index(kv[i], "=")
			v = substr(kv[i], eq + 1)
			sub(/i$/, "", v)
			got[substr(kv[i], 1, eq - 1) "|" ph] = v
		}
	}
	END {
		for (k in want) {
			if (want[k] == "?")
				continue
			if (want[k] == "NA") {
				if (k in got)
					print "  " k ": written (" got[k] ") although served as not available"
			} else if (!(k in got))
				print "  " k ": missing (served " want[k] ")"
			else if (got[k] + 0 != want[k] + 0)
				print "  " k ": read " got[k] ", served " want[k]
			checked++
		}
		print "checked " checked + 0
	}' "$1" "$2"
}

n_profiles=0
for file in "$PROFILES"/*.conf "$PROFILES"/*.csv; do
	[ -e "$file" ] || continue
	name=$(basename "$file"); name=${name%.*}
	n_profiles=$((n_profiles + 1))
	"$SIM" --tcp 127.0.0.1:0 --port-file "$tmp/$name.port" --profiles-dir "$PROFILES" --frozen \
		--values-file "$tmp/$name.values" --unit 1:"$name" --unit 2:"$name",na,power=1234 \
		2>"$tmp/$name.sim.err" &
	sim=$!; pids+=($sim)
	if ! wait_for 10 test -s "$tmp/$name.port" -a -s "$tmp/$name.values"; then
		not_ok "$name: fpsim serves it"; sed 's/^/# /' "$tmp/$name.sim.err"; continue
	fi
	port=$(cat "$tmp/$name.port")
	cat > "$tmp/$name.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state"; };
modbus: { profiles_dir = "$PROFILES";
  devices = (
    { name = "m"; url = "tcp://127.0.0.1:$port"; unit_id = 1; profile = "$name"; role = "it"; },
    { name = "na"; url = "tcp://127.0.0.1:$port"; unit_id = 2; profile = "$name"; }
  ); };
EOC
	nf=$(awk '$1 == 1' "$tmp/$name.values" | wc -l)
	out=$("$FPD" -c "$tmp/$name.conf" --check-config -v 2>&1); rc=$?
	printf '%s\n' "$out" >"$tmp/$name.check"
	check "$name: --check-config -v accepts it and plans its $nf fields" \
		both [ "$rc" -eq 0 ] -- grep -q "modbus device m (tcp://127.0.0.1:$port unit 1, $nf fields): " <<<"$out"
	"$FPD" -c "$tmp/$name.conf" --test >"$tmp/$name.out" 2>"$tmp/$name.err"
	for u in 1:m 2:na; do
		res=$(compare "$tmp/$name.values" "$tmp/$name.out" "${u%%:*}" "${u#*:}")
		nbad=$(grep -c '^  ' <<<"$res")
		nchk=$(tail -1 <<<"$res" | sed 's/checked //')
		nna=$(awk -v u="${u%%:*}" '$1 == u && $4 == "NA"' "$tmp/$name.values" | wc -l)
		what="every field read back exactly"
		[ "$nna" -gt 0 ] && what="$what, none of the $nna served as not available written"
		check "$name unit ${u%%:*}: $what ($nchk fields)" [ "$nbad" -eq 0 -a "$nchk" -gt 0 ]
		[ "$nbad" -eq 0 ] || { echo "$res" | sed 's/^/# /'; sed 's/^/# /' "$tmp/$name.err" | head; }
	done
	kill -TERM "$sim"; wait "$sim" 2>/dev/null
	check "$name: installed (Makefile.am dist_profiles_DATA)" \
		grep -q "profiles/$(basename "$file")" "$top_srcdir/Makefile.am"
	check "$name: listed in docs/modbus.md's table of shipped profiles" grep -q "^| \`$name\` |" "$top_srcdir/docs/modbus.md"
	check "$name: listed in footprintd.conf(5)" grep -q "^\\\\fB$name\\\\fR" "$top_srcdir/man/footprintd.conf.5"
done
check "the shipped profiles were all tried ($n_profiles)" [ "$n_profiles" -ge 2 ]

# The register maps verified against two public sources (cited in each
# profile's header) keep their function code, ranges and word order:
# footprintd's plan (--check-config -v) must be exactly the verified one.
# verified NAME ORDER: the expected plan lines on stdin.
verified() {
	local want got
	want=$(cat)
	got=$(awk '/^modbus device m /{p = 1; next} p && /^  /{sub(/^  /, ""); print; next} {p = 0}' \
		"$tmp/$1.check")
	check "$1: footprintd plans the verified registers" [ "$got" = "$want" ]
	[ "$got" = "$want" ] || diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
	check "$1: word order $2 as verified" grep -q "^order = \"$2\";" "$PROFILES/$1.conf"
}
verified phoenix-eem-ma370 CDAB <<'EOP'
holding 32774-32787 (14) for 7 fields
holding 32790-32795 (6) for 3 fields
EOP
verified siemens-pac3200 ABCD <<'EOP'
input 1-6 (6) for 3 fields
input 13-18 (6) for 3 fields
input 25-30 (6) for 3 fields
input 37-42 (6) for 3 fields
input 55-56 (2) for 1 fields
input 63-70 (8) for 4 fields
input 801-804 (4) for 1 fields
input 809-812 (4) for 1 fields
EOP
verified schneider-pm5000 ABCD <<'EOP'
holding 2999-3004 (6) for 3 fields
holding 3027-3032 (6) for 3 fields
holding 3053-3060 (8) for 4 fields
holding 3083-3084 (2) for 1 fields
holding 3109-3110 (2) for 1 fields
holding 3203-3210 (8) for 2 fields
EOP
verified socomec-diris-a40 ABCD <<'EOP'
holding 50520-50533 (14) for 7 fields
holding 50536-50549 (14) for 7 fields
holding 50770-50771 (2) for 1 fields
holding 50776-50777 (2) for 1 fields
EOP
done_testing
