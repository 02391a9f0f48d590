#!/bin/bash
# footprintd's command line: --check-config, --test, --once, signals.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# 1. A typo, a wrong type and an unknown key: three FILE:LINE errors, exit 1.
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
check "--check-config exits 1 on a bad config" [ "$rc" -eq 1 ]
check "three errors reported" [ "$(echo "$out" | grep -c "^$tmp/bad.conf:[0-9]*: ")" -eq 3 ]
check "the typo names its line and suggests the key" \
	grep -q "^$tmp/bad.conf:3: agent.intervall: unknown key (did you mean 'interval'?)" <<<"$out"
check "the wrong type names its line" grep -q "^$tmp/bad.conf:4: agent.site: expected a string" <<<"$out"
check "the unknown key names its line" grep -q "^$tmp/bad.conf:5: agent.colour: unknown key" <<<"$out"

# 2. The example config is valid.
out=$("$FPD" -c "$top_srcdir/examples/footprintd.conf" --check-config 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
check "examples/footprintd.conf passes --check-config" [ "$rc" -eq 0 ]

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
sleep 0.6
check "the old config keeps running after a refused reload" \
	[ "$(grep -c . "$tmp/state/out.lp")" -gt "$n1" ]
sed 's/test site, A=1/reloaded/' "$tmp/good.bak" > "$tmp/good.conf"
kill -HUP "$pid"
check "a good config on SIGHUP is applied" wait_for 10 grep -q "site=reloaded" "$tmp/state/out.lp"
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
check "SIGTERM exits 0" [ "$rc" -eq 0 ]
check "no point was dropped" not grep -q "points could not be written\|dropped" "$tmp/run.err"
sed 's/^/# /' "$tmp/run.err"

# 6. Bad command lines.
"$FPD" --no-such-option >/dev/null 2>&1; rc=$?
check "an unknown option exits 1" [ "$rc" -eq 1 ]
"$FPD" -c "$tmp/missing.conf" --check-config >"$tmp/out" 2>&1; rc=$?
check "a missing config file is reported with its name" both [ "$rc" -eq 1 ] -- grep -q "^$tmp/missing.conf:0: cannot read" "$tmp/out"
check "--version prints the version" "$FPD" --version

done_testing
