#!/bin/bash
# footprintd's command line: --check-config, --test, --once, signals.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# 1. A typo, a wrong type and an unknown key: three FILE:LINE errors, exit 78.
cat > "$tmp/bad.conf" <<EOC
agent: {
  state_dir = "$tmp/state";
  intervall = "10s";
  site = 42;
  colour = "blue";
};
EOC
out=$("$FPD" -c "$tmp/bad.conf" --check-config 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
check "--check-config exits 78 (EX_CONFIG) on a bad config" [ "$rc" -eq 78 ]
check "three errors reported" [ "$(echo "$out" | grep -c "^$tmp/bad.conf:[0-9]*: ")" -eq 3 ]
check "the typo names its line and suggests the key" \
	grep -q "^$tmp/bad.conf:3: agent.intervall: unknown key (did you mean 'interval'?)" <<<"$out"
check "the wrong type names its line" grep -q "^$tmp/bad.conf:4: agent.site: expected a string" <<<"$out"
check "the unknown key names its line" grep -q "^$tmp/bad.conf:5: agent.colour: unknown key" <<<"$out"

# 2. The example config is valid.
out=$("$FPD" -c "$top_srcdir/examples/footprintd.conf" --check-config 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
check "examples/footprintd.conf passes --check-config" [ "$rc" -eq 0 ]
# The whole site to start from (examples/site.conf, installed beside the
# profiles): valid as shipped once the profiles and the category table are
# where an installed agent has them (here: the source tree's).
sed -e "s|^modbus: {|modbus: {\n  profiles_dir = \"$top_srcdir/profiles\";|" \
	-e "s|^inventory: { };|inventory: { categories_file = \"$top_srcdir/data/ewaste-categories.csv\"; };|" \
	-e "s|/var/lib/footprint|$tmp/site-state|" "$top_srcdir/examples/site.conf" > "$tmp/site.conf"
"$FPD" -c "$tmp/site.conf" --check-config -v >"$tmp/site.out" 2>&1; rc=$?
check "examples/site.conf passes --check-config: a profile's meters, an MQTT plug, a factor, InfluxDB" \
	both [ "$rc" -eq 0 ] -- sh -c 'grep -q "^modbus device incomer (tcp://192.0.2.10:502 unit 1, 31 fields)" "$1" &&
		grep -q "^outputs.influxdb\[0\]: name=\"site\"" "$1"' sh "$tmp/site.out"
# The example of footprintd.conf(5) (its EXAMPLE section) is valid too.
sed -n '/^\.SH EXAMPLE/,/^\.SH/p' "$top_srcdir/man/footprintd.conf.5" |
	awk '/^\.fi/ { exit } on { print } /^\.nf/ { on = 1 }' | sed -e 's/\\(dq/"/g' -e 's/\\-/-/g' -e "s|/var/lib/footprint|$tmp/man-state|" \
	-e "s|^modbus: {|modbus: {\n  profiles_dir = \"$top_srcdir/profiles\";|" > "$tmp/man.conf"
out=$("$FPD" -c "$tmp/man.conf" --check-config 2>&1); rc=$?
echo "$out" | sed 's/^/# man: /' | head -5
check "the EXAMPLE of footprintd.conf(5) passes --check-config" both [ "$rc" -eq 0 ] -- grep -q modbus "$tmp/man.conf"

# 2b. -v describes every output like the collectors, InfluxDB ones too,
#     and never prints a secret read from password_file or token_file.
printf 'pw-%s-secret\n' "$$" > "$tmp/pw"
printf 'tok-%s-secret\n' "$$" > "$tmp/tok"
cat > "$tmp/outs.conf" <<EOC
agent: { state_dir = "$tmp/state"; };
outputs: {
  file = ( { name = "lp"; path = "out.lp"; precision = "ms"; } );
  influxdb = ( { name = "db1"; url = "http://127.0.0.1:8086"; database = "energy";
                 username = "writer"; password_file = "$tmp/pw"; },
               { url = "https://influx.example:8086"; api = "v2"; org = "o"; bucket = "b";
                 token_file = "$tmp/tok"; } );
};
EOC
out=$("$FPD" -c "$tmp/outs.conf" --check-config -v 2>&1); rc=$?
echo "$out" > "$tmp/v.out"
echo "$out" | grep '^ *outputs\|^  ' | sed 's/^/# /'
check "--check-config -v accepts two InfluxDB outputs" [ "$rc" -eq 0 ]
check "-v describes the file output" \
	grep -q '^outputs.file\[0\]: name="lp" path="out.lp" precision=ms fsync=false$' <<<"$out"
check "-v describes a v1 InfluxDB output: url, database, password_file set" \
	grep -q '^outputs.influxdb\[0\]: name="db1" url="http://127.0.0.1:8086" api=v1 database="energy" username="writer" password_file=set$' <<<"$out"
check "-v describes a v2 InfluxDB output with its default name" \
	grep -q '^outputs.influxdb\[1\]: name="influxdb1" url="https://influx.example:8086" api=v2 org="o" bucket="b" token_file=set$' <<<"$out"
check "-v prints neither the password nor the token" \
	both grep -q "^outputs.influxdb" "$tmp/v.out" -- not grep -q "pw-$$-secret\|tok-$$-secret" "$tmp/v.out"

# 3. --test prints line protocol and writes no output.
cat > "$tmp/good.conf" <<EOC
agent: {
  site = "test site, A=1";
  interval = "200ms";
  round_interval = false;
  state_dir = "$tmp/state";
};
outputs: { file = ( { name = "lp"; path = "out.lp"; } ); };
EOC
out=$("$FPD" -c "$tmp/good.conf" --test 2>"$tmp/err"); rc=$?
check "--test exits 0" [ "$rc" -eq 0 ]
check "--test prints self-metrics with the escaped site tag" \
	grep -q '^footprintd,component=agent,host=[^ ]*,site=test\\ site\\,\\ A\\=1 gathers=1i' <<<"$out"
check "--test writes no output file" [ ! -e "$tmp/state/out.lp" ]

# 4. --once writes the outputs.
"$FPD" -c "$tmp/good.conf" --once 2>"$tmp/err"; rc=$?
check "--once exits 0 and writes the file output" both [ "$rc" -eq 0 ] -- [ -s "$tmp/state/out.lp" ]

# 5. Running: points flow; SIGHUP with a bad config keeps the old one;
#    SIGHUP with a good one reloads; SIGTERM flushes and exits 0.
rm -f "$tmp/state/out.lp"
"$FPD" -c "$tmp/good.conf" 2>"$tmp/run.err" &
pid=$!
check "points are written while running" wait_for 10 grep -q gathers=3i "$tmp/state/out.lp"
cp "$tmp/good.conf" "$tmp/good.bak"
echo 'agent: { bogus = 1; };' > "$tmp/good.conf"
kill -HUP "$pid"
check "a bad config on SIGHUP is refused" wait_for 10 grep -q "keeping the running one" "$tmp/run.err"
n1=$(grep -c . "$tmp/state/out.lp")
check "the old config keeps running after a refused reload" \
	wait_for 10 sh -c '[ "$(grep -c . "$1")" -gt "$2" ]' sh "$tmp/state/out.lp" "$n1"
sed 's/test site, A=1/reloaded/' "$tmp/good.bak" > "$tmp/good.conf"
kill -HUP "$pid"
check "a good config on SIGHUP is applied" wait_for 10 grep -q "site=reloaded" "$tmp/state/out.lp"
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
check "SIGTERM exits 0" [ "$rc" -eq 0 ]
check "no point was dropped" not grep -q "points could not be written\|dropped" "$tmp/run.err"
sed 's/^/# /' "$tmp/run.err"

# 7. The state folder's disk is full when the agent starts: it runs, and
# its indicators open their ledger once there is room again.
mkdir -p "$tmp/full"
if mount -t tmpfs -o size=512k tmpfs "$tmp/full" 2>/dev/null; then
	trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; umount "$tmp/full" 2>/dev/null; rm -rf "$tmp"' EXIT
	cat > "$tmp/full.conf" <<EOC
agent: { site = "full"; interval = "1s"; state_dir = "$tmp/full/state"; };
outputs: { file = ( { path = "$tmp/full.lp"; } ); };
EOC
	"$FPD" -c "$tmp/full.conf" 2>"$tmp/full1.err" & pid=$!   # makes the ledger
	wait_for 10 grep -q "component=indicators" "$tmp/full.lp"
	kill -TERM "$pid"; wait "$pid"; pid=
	dd if=/dev/zero of="$tmp/full/filler" bs=4k 2>/dev/null
	: > "$tmp/full.lp"
	"$FPD" -c "$tmp/full.conf" 2>"$tmp/full2.err" & pid=$!
	check "disk full at start: the agent runs and writes its self-metrics" \
		both wait_for 10 grep -q "component=agent" "$tmp/full.lp" -- kill -0 "$pid"
	check "disk full at start: the ledger's error is logged" \
		wait_for 10 grep -q "indicators: .*ledger" "$tmp/full2.err"
	check "disk full at start: the indicators say their ledger is not open" \
		wait_for 10 grep -q "component=indicators,.*ledger_open=false" "$tmp/full.lp"
	rm -f "$tmp/full/filler"
	check "room again: the ledger opens within 12 s" wait_for 12 grep -q "indicators: the ledger is open" "$tmp/full2.err"
	check "room again: the indicators run on their ledger" \
		wait_for 5 grep -q "component=indicators,.*ledger_open=true" "$tmp/full.lp"
	kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
	check "room again: SIGTERM exits 0" [ "$rc" -eq 0 ]
	sed 's/^/# /' "$tmp/full2.err"
	umount "$tmp/full"
else
	tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP disk full at start: cannot mount a tmpfs here (needs root)"
fi

# 8. An output that cannot write (/dev/full): --once exits 1 and says how
# many points were lost; a running agent in its longest backoff still
# stops within shutdown_timeout on SIGTERM.
cat > "$tmp/fullout.conf" <<EOC
agent: { site = "f"; interval = "200ms"; state_dir = "$tmp/fullstate"; shutdown_timeout = "1s"; };
outputs: { file = ( { name = "lp"; path = "/dev/full"; } ); };
EOC
"$FPD" -c "$tmp/fullout.conf" --once 2>"$tmp/fullonce.err"; rc=$?
check "--once exits 1 when its points could not be written" \
	both [ "$rc" -eq 1 ] -- grep -q -- "--once: [0-9]* points could not be written" "$tmp/fullonce.err"
"$FPD" -c "$tmp/fullout.conf" 2>"$tmp/fullrun.err" & pid=$!
sleep 14 # not a synchronisation: the time the write backoff takes to double
	 # from 100 ms to 6.4 s, then 12.8 s (the stop must be quick whatever it is)
t0=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
t1=$(date +%s%N)
echo "# stopped in $(( (t1 - t0) / 1000000 )) ms"
check "SIGTERM during a long write backoff: stopped within shutdown_timeout (1 s) + 1 s" \
	[ $(( (t1 - t0) / 1000000 )) -lt $(( 1000 + 1000 * ${FP_WAIT_SCALE:-1} )) ]

# 6. Bad command lines.
"$FPD" -c "$tmp/good.conf" --once --test-wait 2 >"$tmp/out" 2>&1; rc=$?
check "--test-wait without --test is refused (64)" both [ "$rc" -eq 64 ] -- grep -q "goes with --test" "$tmp/out"
"$FPD" --no-such-option >/dev/null 2>&1; rc=$?
check "an unknown option exits 64 (EX_USAGE)" [ "$rc" -eq 64 ]
"$FPD" -c "$tmp/missing.conf" --check-config >"$tmp/out" 2>&1; rc=$?
check "a missing config file: exit 78, FILE: cannot read: REASON" both [ "$rc" -eq 78 ] -- grep -qx "$tmp/missing.conf: cannot read: No such file or directory" "$tmp/out"
check "--version prints the version" "$FPD" --version

# 7. Help and exit statuses (#18): every option in --help, sysexits codes.
"$FPD" --help >"$tmp/help" 2>&1; rc=$?
missing=
for o in --config --check-config --test --test-wait --once --verbose --version --help; do
	grep -q -- "$o" "$tmp/help" || missing="$missing $o"
done
check "footprintd --help lists every option and the exit statuses${missing:+ (missing:$missing)}" \
	both [ "$rc" -eq 0 ] -- both [ -z "$missing" ] -- grep -q "64 usage" "$tmp/help"
"$FPD" -c "$tmp/good.conf" stray >"$tmp/out" 2>&1; rc=$?
check "a stray argument exits 64" both [ "$rc" -eq 64 ] -- grep -q "unexpected argument 'stray'" "$tmp/out"
printf 'agent: {\n  site = lab;\n};\n' > "$tmp/syntax.conf"
"$FPD" -c "$tmp/syntax.conf" --check-config >"$tmp/out" 2>&1; rc=$?
sed 's/^/# /' "$tmp/out"
check "a syntax error: exit 78, the line quoted and a hint" both [ "$rc" -eq 78 ] -- \
	grep -qx "$tmp/syntax.conf:2: syntax error near 'site = lab;': a string needs double quotes: name = \"value\";" "$tmp/out"
printf 'agent: { log_level = "warn"; state_dir = "%s"; };\n' "$tmp/state" > "$tmp/enum.conf"
"$FPD" -c "$tmp/enum.conf" --check-config >"$tmp/out" 2>&1; rc=$?
check "a bad enum value: exit 78 and a did-you-mean" both [ "$rc" -eq 78 ] -- \
	grep -q "agent.log_level: 'warn' is not one of: .* (did you mean 'warning'?)" "$tmp/out"
"$FPD" -c "$tmp/enum.conf" >"$tmp/out" 2>&1; rc=$?
check "the daemon with a bad config: exit 78, not started" both [ "$rc" -eq 78 ] -- grep -q "not started" "$tmp/out"

# 8. --test with devices that produce nothing: a refused port and a name
#    that does not resolve; exit 1, each named, the lookup failure said.
cat > "$tmp/dead.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state"; };
modbus: { devices = (
  { name = "refused"; url = "tcp://127.0.0.1:1"; registers = ( { field = "p"; address = 0; } ); },
  { name = "nohost"; url = "tcp://no-such-host.invalid:502"; registers = ( { field = "p"; address = 0; } ); }
); };
EOC
"$FPD" -c "$tmp/dead.conf" --test >"$tmp/out" 2>"$tmp/err"; rc=$?
sed 's/^/# /' "$tmp/err"
check "--test: silent devices make it exit 1, each named" \
	both [ "$rc" -eq 1 ] -- both grep -q "modbus/refused produced nothing" "$tmp/err" -- \
	grep -q "modbus/nohost produced nothing" "$tmp/err"
check "a refused connection names the device" grep -q "modbus\[refused\]: tcp://127.0.0.1:1: cannot connect: Connection refused" "$tmp/err"
check "an unknown host is a lookup failure, not 'Connection refused'" \
	both grep -q "modbus\[nohost\]: tcp://no-such-host.invalid:502: cannot resolve no-such-host.invalid: " "$tmp/err" -- \
	not grep -q "nohost.*Connection refused" "$tmp/err"

done_testing
