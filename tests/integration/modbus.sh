#!/bin/bash
# The Modbus collector against the project's simulator (tests/sim/fpsim)
# over loopback TCP and over a pseudo-terminal pair (RTU): profiles (the
# shipped ones and the fixture CSVs), a cross-check with mbpoll (a client
# nobody here wrote), a dead unit on a shared connection, late replies,
# busy and illegal-address exceptions.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
SIM="$top_builddir/tests/sim/fpsim"
PROFILES="$top_srcdir/profiles"
DATA="$top_srcdir/tests/data/meters"
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do { kill -TERM "$p"; wait "$p"; } 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${FP_KEEP_TMP:-}" ] && trap "cp -r $tmp /tmp/mkeep; cleanup" EXIT

# sim NAME ARGS...: starts fpsim on a free port; sets PORT.
sim() {
	local name=$1; shift
	rm -f "$tmp/$name.port"
	"$SIM" --tcp 127.0.0.1:0 --port-file "$tmp/$name.port" --profiles-dir "$PROFILES" "$@" \
		2>"$tmp/$name.sim.err" &
	pids+=($!)
	wait_for 10 test -s "$tmp/$name.port" || { echo "# fpsim did not start"; cat "$tmp/$name.sim.err"; }
	PORT=$(cat "$tmp/$name.port")
}
# field FILE DEVICE FIELD [PHASE]: the value of FIELD in the last meter point of DEVICE.
field() {
	if [ -n "${4:-}" ]; then
		grep "^meter,device=$2,phase=$4," "$1"
	else
		grep "^meter,device=$2," "$1" | grep -v ',phase='
	fi | tail -1 | grep -o " .*" | grep -o "[ ,]$3=[^, ]*" | head -1 | sed 's/.*=//; s/i$//'
}
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= t) }'; }

# 1. --test against three meters on one connection: a shipped profile, a
#    fixture CSV used as a user profile, and a unit that never answers.
sim t1 --unit 1:eastron-sdm630 --unit 2:"$DATA/eastron-sdm120.csv",power=300 --unit 3:eastron-sdm120,dead
cat > "$tmp/t1.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state"; };
modbus: { profiles_dir = "$PROFILES";
  devices = (
    { name = "pdu-a"; url = "tcp://127.0.0.1:$PORT"; unit_id = 1; profile = "eastron-sdm630"; role = "it"; tags = { rack = "A3"; }; },
    { name = "plug-b"; url = "tcp://127.0.0.1:$PORT"; unit_id = 2; profile = "$DATA/eastron-sdm120.csv"; },
    { name = "dead-c"; url = "tcp://127.0.0.1:$PORT"; unit_id = 3; profile = "eastron-sdm120"; timeout = "300ms"; }
  ); };
EOC
out=$("$FPD" -c "$tmp/t1.conf" --check-config -v 2>&1); rc=$?
echo "$out" | grep modbus | sed 's/^/# /'
check "--check-config -v prints the request plan" both [ "$rc" -eq 0 ] -- \
	grep -q "modbus device pdu-a (tcp://127.0.0.1:$PORT unit 1, 31 fields): 7 requests touching 62 registers" <<<"$out"
"$FPD" -c "$tmp/t1.conf" --test >"$tmp/t1.out" 2>"$tmp/t1.err"; rc=$?
sed 's/^/# /' "$tmp/t1.err"
check "--test: a device that produced nothing makes it exit 1, named" \
	both [ "$rc" -eq 1 ] -- both grep -q "footprintd: --test: modbus/dead-c produced nothing" "$tmp/t1.err" -- \
	not grep -q "modbus/pdu-a produced nothing" "$tmp/t1.err"
n_meter=$(grep -c '^meter,' "$tmp/t1.out")
check "--test: the self-metrics count the points printed before them ($n_meter)" \
	both [ "$n_meter" -gt 0 ] -- grep -q "^footprintd,component=agent,.*points_gathered=${n_meter}i" "$tmp/t1.out"
check "per-phase and total points with schema fields and tags" \
	grep -q '^meter,device=pdu-a,phase=L2,rack=A3,role=it,site=lab,source=modbus voltage_v=' "$tmp/t1.out"
check "the total point carries power_w and energy_import_kwh" \
	both near "$(field "$tmp/t1.out" pdu-a power_w)" 2000 200 -- near "$(field "$tmp/t1.out" pdu-a energy_import_kwh)" 12346 1
check "voltage within the simulator's range" near "$(field "$tmp/t1.out" pdu-a voltage_v L1)" 230 3
check "a fixture CSV works as a user profile (its own field names)" near "$(field "$tmp/t1.out" plug-b power)" 300 30
check "the dead unit gives no point and a timeout is counted" \
	both not grep -q '^meter,device=dead-c' "$tmp/t1.out" -- grep -q 'component=modbus/dead-c.*errors_timeout=1i' "$tmp/t1.out"

# 2. Cross-check with mbpoll on a frozen simulator: the same registers, the same values.
sim t2 --frozen --unit 1:eastron-sdm630
cat > "$tmp/t2.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state"; };
modbus: { profiles_dir = "$PROFILES";
  devices = ( { name = "pdu-a"; url = "tcp://127.0.0.1:$PORT"; profile = "eastron-sdm630"; } ); };
EOC
"$FPD" -c "$tmp/t2.conf" --test >"$tmp/t2.out" 2>&1
mb() { mbpoll -m tcp -a 1 -r "$1" -c 1 -t 3:float -B -1 -p "$PORT" 127.0.0.1 2>/dev/null | awk -F'\t' '/^\[/ { print $2 }'; }
check "mbpoll and footprintd agree: voltage L1 (30001)" near "$(mb 1)" "$(field "$tmp/t2.out" pdu-a voltage_v L1)" 0.001
check "mbpoll and footprintd agree: total power (30053)" near "$(mb 53)" "$(field "$tmp/t2.out" pdu-a power_w)" 0.001
check "mbpoll and footprintd agree: import energy (30073)" near "$(mb 73)" "$(field "$tmp/t2.out" pdu-a energy_import_kwh)" 0.001
check "mbpoll and footprintd agree: frequency (30071)" near "$(mb 71)" "$(field "$tmp/t2.out" pdu-a frequency_hz)" 0.001

# 3. Running: a dead unit on the shared connection never delays the others;
#    a late reply is never taken as the answer to the next request; busy
#    is retried; an illegal address splits the request, then drops the field.
sim t3 --frozen --unit 1:eastron-sdm630 --unit 3:eastron-sdm120,dead --unit 4:eastron-sdm120,delay=700,power=777 \
	--unit 5:eastron-sdm120,busy=2 --unit 6:eastron-sdm120
cat > "$tmp/t3.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state3"; interval = "1s"; round_interval = false; self_metrics = true; };
outputs: { file = ( { name = "lp"; path = "out.lp"; } ); };
modbus: { profiles_dir = "$PROFILES";
  devices = (
    { name = "good"; url = "tcp://127.0.0.1:$PORT"; unit_id = 1; profile = "eastron-sdm630"; },
    { name = "dead"; url = "tcp://127.0.0.1:$PORT"; unit_id = 3; profile = "eastron-sdm120"; timeout = "200ms"; },
    { name = "late"; url = "tcp://127.0.0.1:$PORT"; unit_id = 4; profile = "eastron-sdm120"; timeout = "300ms"; },
    { name = "busy"; url = "tcp://127.0.0.1:$PORT"; unit_id = 5; profile = "eastron-sdm120"; },
    { name = "holes"; url = "tcp://127.0.0.1:$PORT"; unit_id = 6; max_gap = 20; table = "input"; order = "ABCD";
      registers = (
        { field = "voltage_v"; address = 0; type = "float32"; },
        { field = "power_w"; address = 12; type = "float32"; },
        { field = "missing"; address = 500; type = "float32"; }
      ); }
  ); };
EOC
"$FPD" -c "$tmp/t3.conf" 2>"$tmp/t3.err" &
fpd=$!; pids+=($fpd)
lp="$tmp/state3/out.lp"
# runs until the good unit was read 6 times and the late one timed out
t3_ran() { [ "$(grep -c '^meter,device=good,role=' "$lp")" -ge 6 ] &&
	grep -q "component=modbus/late,.*errors_timeout=[1-9]" "$lp"; }
t0=$(date +%s%N)
wait_for 60 t3_ran
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -TERM "$fpd"; wait "$fpd"
sed 's/^/# /' "$tmp/t3.err" | head -20
n_good=$(grep -c '^meter,device=good,role=' "$lp")
check "the good unit kept its 1 s schedule beside a dead one ($n_good polls in $ms ms)" \
	[ "$n_good" -ge 6 -a $(( n_good * 1000 )) -ge $(( (ms - 1500) * 7 / 10 )) ]
check "the good unit's values are always its own (never the late unit's)" \
	not grep -q '^meter,device=good,role=.*power_w=777' "$lp"
check "no late reply was ever taken: every good total power is 2000" \
	[ "$(grep '^meter,device=good,role=' "$lp" | grep -c 'power_w=2000,')" -eq "$n_good" ]
last() { grep "component=modbus/$1," "$lp" | tail -1 | grep -o "[ ,]$2=[0-9]*i" | sed 's/.*=//; s/i//'; }
check "the dead unit backs off (fewer polls than the good one)" [ "$(last dead polls)" -lt "$(last good polls)" ]
check "the late unit's timeouts are counted" [ "$(last late errors_timeout)" -ge 1 ]
check "busy (exception 6) is retried within the poll" \
	both [ "$(last busy errors_exception)" -eq 2 ] -- grep -q '^meter,device=busy,role=' "$lp"
check "an illegal address splits the request, then drops only that field" \
	both [ "$(last holes fields_disabled)" -eq 1 ] -- grep -q '^meter,device=holes,role=.*voltage_v=230,power_w=2000' "$lp"
check "the dropped field is logged" grep -q "field 'missing' dropped" "$tmp/t3.err"

# 3b. A unit that drops the connection now and then, one that answers
#     garbage now and then: the agent reconnects or resynchronises, counts
#     the errors, keeps polling, and never writes a wrong value.
sim flaky --frozen --unit 1:eastron-sdm120,disconnect=7
PF=$PORT
sim noisy --frozen --unit 1:eastron-sdm120,garbage=7
PN=$PORT
cat > "$tmp/t3b.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state3b"; interval = "1s"; };
outputs: { file = ( { path = "out.lp"; } ); };
modbus: { profiles_dir = "$PROFILES"; devices = (
  { name = "flaky"; url = "tcp://127.0.0.1:$PF"; unit_id = 1; profile = "eastron-sdm120"; timeout = "300ms"; },
  { name = "noisy"; url = "tcp://127.0.0.1:$PN"; unit_id = 1; profile = "eastron-sdm120"; timeout = "300ms"; }
); };
EOC
"$FPD" -c "$tmp/t3b.conf" 2>"$tmp/t3b.err" &
fpd=$!; pids+=($fpd)
lp="$tmp/state3b/out.lp"
# runs until both were read 3 times and their faults were counted
t3b_ran() { [ "$(grep -c '^meter,device=flaky,.* .*power_w=' "$lp")" -ge 3 ] &&
	[ "$(grep -c '^meter,device=noisy,.* .*power_w=' "$lp")" -ge 3 ] &&
	grep -q "component=modbus/flaky,.*errors_connect=[1-9]" "$lp" &&
	grep -q "component=modbus/noisy,.*errors_\(other\|timeout\)=[1-9]" "$lp"; }
wait_for 60 t3b_ran
kill -TERM "$fpd"; wait "$fpd"
nf=$(grep -c '^meter,device=flaky,.* .*power_w=' "$lp"); nn=$(grep -c '^meter,device=noisy,.* .*power_w=' "$lp")
echo "# flaky read $nf times, noisy $nn times with power; errors: flaky connect $(last flaky errors_connect), noisy other $(last noisy errors_other)"
check "a unit that drops the connection: reconnected, still read, the drops counted" \
	both [ "$nf" -ge 3 ] -- [ "$(last flaky errors_connect)" -ge 1 ]
check "a unit that answers garbage: still read, the bad replies counted" \
	both [ "$nn" -ge 3 ] -- [ "$(( $(last noisy errors_other) + $(last noisy errors_timeout) ))" -ge 1 ]
check "no wrong value from either (every power_w is 2000)" \
	[ "$(grep -E '^meter,device=(flaky|noisy),' "$lp" | grep 'power_w=' | grep -vcE '[ ,]power_w=2000[, ]')" -eq 0 ]
# 3b'. A unit slower than its interval (each reply 1.3 s late, 1 s
#      interval): the slots it cannot keep are counted (polls_skipped) and
#      logged, rate-limited; it is still read.
sim slowsim --frozen --unit 1:eastron-sdm120,delay=1300
cat > "$tmp/t3s.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state3s"; interval = "1s"; };
outputs: { file = ( { path = "out.lp"; } ); };
modbus: { profiles_dir = "$PROFILES"; devices = (
  { name = "slow"; url = "tcp://127.0.0.1:$PORT"; unit_id = 1; profile = "eastron-sdm120"; timeout = "3s"; }
); };
EOC
"$FPD" -c "$tmp/t3s.conf" 2>"$tmp/t3s.err" &
fpd=$!; pids+=($fpd)
check "a unit slower than its interval: the skipped polls are counted (polls_skipped)" \
	wait_for 60 grep -q "component=modbus/slow,.*polls_skipped=[1-9]" "$tmp/state3s/out.lp"
kill -TERM "$fpd"; wait "$fpd"
check "... and logged, with the interval" grep -q "modbus\[slow\]: [0-9]* poll(s) skipped: .*interval 1000 ms" "$tmp/t3s.err"
check "... and the unit is still read" grep -q "^meter,device=slow," "$tmp/state3s/out.lp"
# 3c. A vendor map used as is (#19): it lists a register the device does
#     not serve (exception 2), here beside the first field, so that both
#     are read in one request.  --test and --once write every other field
#     in the same poll; a merged read that fails is split into its
#     contiguous runs (counted by the simulator), not read field by field.
sed 's/^\(  { field = "voltage_v".*\)$/\1\n  { field = "voltage_thd"; address = 2; type = "float32"; },/' \
	"$PROFILES/eastron-sdm120.conf" >"$tmp/vendor.conf"
sim vm --frozen --count-file "$tmp/vm.count" --unit 1:"$tmp/vendor.conf",hole=2 --unit 2:eastron-sdm120
cat > "$tmp/vm.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/statevm"; };
outputs: { file = ( { path = "out.lp"; } ); };
modbus: { profiles_dir = "$PROFILES"; devices = (
  { name = "vendor"; url = "tcp://127.0.0.1:$PORT"; unit_id = 1; profile = "$tmp/vendor.conf"; },
  { name = "gapped"; url = "tcp://127.0.0.1:$PORT"; unit_id = 2; profile = "eastron-sdm120"; max_gap = 80; }
); };
EOC
"$FPD" -c "$tmp/vm.conf" --test >"$tmp/vm.out" 2>"$tmp/vm.err"; rc=$?
sed 's/^/# /' "$tmp/vm.err"
check "--test: an unserved register costs only its field, in the same poll" \
	both [ "$rc" -eq 0 ] -- both near "$(field "$tmp/vm.out" vendor power_w)" 2000 0.001 -- \
	both near "$(field "$tmp/vm.out" vendor energy_import_kwh)" 12346 0.001 -- \
	both near "$(field "$tmp/vm.out" vendor voltage_v)" 230 0.001 -- \
	not grep -q '^meter,device=vendor,.*voltage_thd=' "$tmp/vm.out"
check "--test: the dropped field is logged and counted" \
	both grep -q "input 2: Illegal data address; field 'voltage_thd' dropped" "$tmp/vm.err" -- \
	grep -q 'component=modbus/vendor,.*fields_disabled=1i' "$tmp/vm.out"
kill -USR1 "${pids[-1]}"
wait_for 10 grep -q '^2 ' "$tmp/vm.count"
check "a failed merged read is split into its 7 runs: 8 requests, not 1 + 11 field by field" \
	both grep -qx '2 8' "$tmp/vm.count" -- near "$(field "$tmp/vm.out" gapped frequency_hz)" 50 0.001
"$FPD" -c "$tmp/vm.conf" --once 2>"$tmp/vm1.err"; rc=$?
check "--once: the meter's point is written despite the unserved register" \
	both [ "$rc" -eq 0 ] -- grep -q '^meter,device=vendor,role=other,site=lab,source=modbus voltage_v=230,.*power_w=2000,' "$tmp/statevm/out.lp"

# 3d. The same map as a daemon (#19, #20 item 6): the first poll writes
#     its point; the dropped field is retried after 1, 2, 4 ... polls
#     (logged once), and written again once the device serves it (the
#     simulator's hole closed by SIGUSR2).
sim vd --frozen --unit 1:"$tmp/vendor.conf",hole=2
simpid=${pids[-1]}
cat > "$tmp/vd.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/statevd"; interval = "1s"; round_interval = false; };
outputs: { file = ( { path = "out.lp"; } ); };
modbus: { profiles_dir = "$PROFILES"; devices = (
  { name = "vendor"; url = "tcp://127.0.0.1:$PORT"; unit_id = 1; profile = "$tmp/vendor.conf"; }
); };
EOC
"$FPD" -c "$tmp/vd.conf" 2>"$tmp/vd.err" &
fpd=$!; pids+=($fpd)
lp="$tmp/statevd/out.lp"
wait_for 40 grep -qE 'component=modbus/vendor,.* polls=([5-9]|[1-9][0-9])i' "$lp"
check "daemon: the dropped field is logged once while its retries fail" \
	[ "$(grep -c "field 'voltage_thd' dropped" "$tmp/vd.err")" -eq 1 ]
kill -USR2 "$simpid"
wait_for 40 grep -q '^meter,device=vendor,.*voltage_thd=' "$lp"
kill -TERM "$fpd"; wait "$fpd"
sed 's/^/# /' "$tmp/vd.err" | head -8
# every poll before a self-metric wrote a point (before: the first two did not)
seen=$(awk '/^footprintd,component=modbus\/vendor,/ { match($0, /polls=[0-9]+i/); p = substr($0, RSTART + 6, RLENGTH - 7); t = $NF }
	END { print p, t }' "$lp")
npts=$(awk -v t="${seen#* }" '/^meter,device=vendor,/ && $NF < t { n++ } END { print n + 0 }' "$lp")
echo "# polls ${seen% *} by the last self-metric; $npts meter points before it"
check "daemon: the first poll writes its point (one point per poll, no poll without one)" \
	both [ "$npts" -ge "$(( ${seen% *} - 1 ))" -a "${seen% *}" -ge 5 ] -- \
	grep -q ' polls=[0-9]*i,poll_errors=0i' <<<"$(grep '^footprintd,component=modbus/vendor,' "$lp" | tail -1)"
check "daemon: the field is read again once served, and its recovery logged" \
	both grep -q '^meter,device=vendor,.*voltage_thd=' "$lp" -- \
	grep -q "input 2: field 'voltage_thd' is served again" "$tmp/vd.err"

# 3e. A gateway that answers for another unit (#20 item 9): the reply is
#     rejected and counted, never written as this unit's values.
sim wu --frozen --unit 1:eastron-sdm120,unit_as=5,power=555
cat > "$tmp/wu.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/statewu"; };
modbus: { profiles_dir = "$PROFILES"; devices = (
  { name = "gw"; url = "tcp://127.0.0.1:$PORT"; unit_id = 1; profile = "eastron-sdm120"; }
); };
EOC
"$FPD" -c "$tmp/wu.conf" --test >"$tmp/wu.out" 2>"$tmp/wu.err"
sed 's/^/# /' "$tmp/wu.err"
check "TCP: a reply from the wrong unit is rejected, counted and logged" \
	both not grep -q '^meter,device=gw,' "$tmp/wu.out" -- \
	both grep -q 'component=modbus/gw,.*errors_unit_id=1i' "$tmp/wu.out" -- \
	grep -q 'the reply came from unit 5; rejected' "$tmp/wu.err"

# 4. RTU over a pseudo-terminal pair (socat).
if command -v socat >/dev/null 2>&1; then
	socat pty,raw,echo=0,link="$tmp/ttyA" pty,raw,echo=0,link="$tmp/ttyB" 2>/dev/null &
	pids+=($!)
	wait_for 10 test -e "$tmp/ttyB"
	rm -f "$tmp/rtu1.ready"; "$SIM" --rtu "$tmp/ttyA:19200" --port-file "$tmp/rtu1.ready" --profiles-dir "$PROFILES" --frozen --unit 7:eastron-sdm120 2>"$tmp/rtu.err" &
	pids+=($!)
	wait_for 10 test -s "$tmp/rtu1.ready"   # the simulator has the line open
	cat > "$tmp/rtu.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/staterq"; };
modbus: { profiles_dir = "$PROFILES";
  devices = ( { name = "rtu-meter"; url = "rtu:$tmp/ttyB?baud=19200&parity=N&data=8&stop=1"; unit_id = 7;
                profile = "eastron-sdm120"; timeout = "1s"; } ); };
EOC
	"$FPD" -c "$tmp/rtu.conf" --test >"$tmp/rtu.out" 2>&1
	sed 's/^/# /' "$tmp/rtu.out" | grep -v '^# footprintd' | head -5
	check "RTU: the meter is read over a serial line" near "$(field "$tmp/rtu.out" rtu-meter power_w)" 2000 0.001
	kill -TERM "${pids[-1]}" 2>/dev/null; wait "${pids[-1]}" 2>/dev/null
	# An RS485 bus: three units on one line, one of them dead; the two
	# others keep their 1 s schedule and their own values.
	rm -f "$tmp/rtu2.ready"; "$SIM" --rtu "$tmp/ttyA:19200" --port-file "$tmp/rtu2.ready" --profiles-dir "$PROFILES" --frozen --unit 7:eastron-sdm120,power=700 \
		--unit 8:eastron-sdm630,power=8000 --unit 9:eastron-sdm120,dead 2>"$tmp/bus.err" &
	pids+=($!)
	wait_for 10 test -s "$tmp/rtu2.ready"   # the simulator has the line open
	cat > "$tmp/bus.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/statebus"; interval = "1s"; };
outputs: { file = ( { path = "out.lp"; } ); };
modbus: { profiles_dir = "$PROFILES";
  devices = (
    { name = "bus-7"; url = "rtu:$tmp/ttyB?baud=19200"; unit_id = 7; profile = "eastron-sdm120"; timeout = "300ms"; },
    { name = "bus-8"; url = "rtu:$tmp/ttyB?baud=19200"; unit_id = 8; profile = "eastron-sdm630"; timeout = "300ms"; },
    { name = "bus-9"; url = "rtu:$tmp/ttyB?baud=19200"; unit_id = 9; profile = "eastron-sdm120"; timeout = "300ms"; }
  ); };
EOC
	"$FPD" -c "$tmp/bus.conf" 2>"$tmp/bus.fpd.err" &
	fpd=$!; pids+=($fpd)
	blp="$tmp/statebus/out.lp"
	bus_ran() { [ "$(grep -c '^meter,device=bus-7,role=' "$blp")" -ge 6 ] &&
		[ "$(grep -c '^meter,device=bus-8,role=' "$blp")" -ge 6 ]; }
	t0=$(date +%s%N)
	wait_for 60 bus_ran
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	kill -TERM "$fpd"; wait "$fpd"
	n7=$(grep -c '^meter,device=bus-7,role=' "$blp"); n8=$(grep -c '^meter,device=bus-8,role=' "$blp")
	echo "# RTU bus: unit 7 read $n7 times, unit 8 $n8 times in $ms ms"
	check "RTU bus: both live units keep their 1 s schedule beside a dead one" \
		[ "$n7" -ge 6 -a "$n8" -ge 6 -a $(( n7 * 1000 )) -ge $(( (ms - 1500) * 7 / 10 )) ]
	check "RTU bus: each unit's readings are its own" \
		both near "$(field "$blp" bus-7 power_w)" 700 0.001 -- near "$(field "$blp" bus-8 power_w)" 8000 0.001
	check "RTU bus: the dead unit is not read" not grep -q '^meter,device=bus-9,' "$blp"
	kill -TERM "${pids[-2]}" 2>/dev/null; wait "${pids[-2]}" 2>/dev/null
	# A reply from another unit on the line: rejected and counted.
	rm -f "$tmp/rtu3.ready"; "$SIM" --rtu "$tmp/ttyA:19200" --port-file "$tmp/rtu3.ready" --profiles-dir "$PROFILES" --frozen --unit 7:eastron-sdm120,unit_as=8 \
		2>"$tmp/rtuwu.err" &
	pids+=($!)
	wait_for 10 test -s "$tmp/rtu3.ready"   # the simulator has the line open
	"$FPD" -c "$tmp/rtu.conf" --test >"$tmp/rtuwu.out" 2>"$tmp/rtuwu.fpd.err"
	sed 's/^/# /' "$tmp/rtuwu.fpd.err"
	check "RTU: a reply from the wrong unit is rejected and counted" \
		both not grep -q '^meter,device=rtu-meter,' "$tmp/rtuwu.out" -- \
		grep -q 'component=modbus/rtu-meter,.*errors_unit_id=1i' "$tmp/rtuwu.out"
else
	not_ok "RTU: socat is not installed"
fi

# 5. SunSpec discovery: a meter 203 at 40000, an inverter 103 behind a
#    common model of the older length 65 at 50000, a float inverter 113 at
#    0; each chain also has a model nobody decodes.
sim ss --frozen --unit 1:sunspec-meter,power=2000 --unit 2:sunspec-inverter,base=50000,common65,power=3000 \
	--unit 3:sunspec-inverter-float,base=0,power=1500
cat > "$tmp/ss.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/statess"; };
modbus: { devices = (
  { name = "ss-meter"; url = "tcp://127.0.0.1:$PORT"; unit_id = 1; profile = "sunspec"; role = "facility"; },
  { name = "ss-inv"; url = "tcp://127.0.0.1:$PORT"; unit_id = 2; profile = "sunspec"; role = "renewable_onsite"; },
  { name = "ss-invf"; url = "tcp://127.0.0.1:$PORT"; unit_id = 3; profile = "sunspec"; }
); };
EOC
out=$("$FPD" -c "$tmp/ss.conf" --check-config -v 2>&1)
check "--check-config -v: a SunSpec device is planned at its first poll" \
	grep -q "modbus device ss-meter (tcp://127.0.0.1:$PORT unit 1): SunSpec" <<<"$out"
"$FPD" -c "$tmp/ss.conf" --test >"$tmp/ss.out" 2>"$tmp/ss.err"
sed 's/^/# /' "$tmp/ss.err" | grep -i sunspec
check "SunSpec: found at 40000, 50000 and 0" both grep -q "ss-meter\]: unit 1: SunSpec at 40000: 3 models" "$tmp/ss.err" -- \
	both grep -q "ss-inv\]: unit 2: SunSpec at 50000: 3 models" "$tmp/ss.err" -- \
	grep -q "ss-invf\]: unit 3: SunSpec at 0: 3 models" "$tmp/ss.err"
check "SunSpec: the unknown model is skipped with a log line" grep -q "models skipped (not decoded): 120 (L 26 at 40177)" "$tmp/ss.err"
check "SunSpec meter 203: power, energy, PF with their scale factors" \
	both near "$(field "$tmp/ss.out" ss-meter power_w)" 2000 0.001 -- \
	both near "$(field "$tmp/ss.out" ss-meter energy_import_kwh)" 12346 0.001 -- \
	both near "$(field "$tmp/ss.out" ss-meter power_factor)" 0.97 1e-12 -- \
	near "$(field "$tmp/ss.out" ss-meter voltage_v L2)" 230 0.001
check "SunSpec meter: not-implemented points give no field" not grep -q '^meter,device=ss-meter,.*reactive_power_var' "$tmp/ss.out"
check "SunSpec inverter 103 (common L 65): power, production, state" \
	both near "$(field "$tmp/ss.out" ss-inv power_w)" 3000 0.001 -- \
	both near "$(field "$tmp/ss.out" ss-inv energy_export_kwh)" 12347 0.001 -- \
	grep -q '^meter,device=ss-inv,role=renewable_onsite,.*state=4i' "$tmp/ss.out"
check "SunSpec inverter: the cabinet temperature sentinel gives no field" not grep -q 'device=ss-inv,.*temperature_c' "$tmp/ss.out"
check "SunSpec float inverter 113 at base 0" near "$(field "$tmp/ss.out" ss-invf power_w)" 1500 0.001
check "SunSpec common model: manufacturer, model and serial" \
	grep -q '^meter,device=ss-meter,role=facility,site=lab,source=modbus manufacturer="fpsim",model="Meter 203",serial="FP0001"' "$tmp/ss.out"
# mbpoll, a client nobody here wrote, reads the marker and the meter's W
# register (model 203 at 40070, W at +18, W_SF at +22).
if command -v mbpoll >/dev/null 2>&1; then
	mb=$(mbpoll -m tcp -p "$PORT" -a 1 -0 -r 40000 -c 2 -1 127.0.0.1 2>&1 | grep -o '^\[4000[01]\]:[[:space:]]*[0-9-]*' | awk '{ print $2 }' | tr '\n' ' ')
	w=$(mbpoll -m tcp -p "$PORT" -a 1 -0 -r 40088 -c 1 -t 4 -1 127.0.0.1 2>&1 | grep -o '^\[40088\]:[[:space:]]*[0-9-]*' | awk '{ print $2 }')
	check "mbpoll sees the SunS marker (21365 28243) and W x 10^W_SF = power_w" \
		both [ "$mb" = "21365 28243 " ] -- near "$((w * 10))" "$(field "$tmp/ss.out" ss-meter power_w)" 0.001
else
	not_ok "mbpoll is not installed"
fi

# 6. Config errors name the file and line.
cat > "$tmp/bad.conf" <<EOC
modbus: {
  devices = (
    { name = "x"; url = "udp://1.2.3.4"; profile = "no-such-profile"; },
    { name = "y"; url = "tcp://127.0.0.1:502";
      registers = ( { field = "a"; address = 0; type = "float32"; },
                    { field = "b"; address = 1; type = "uint16"; },
                    { field = "c"; address = 2; type = "float33"; order = "ADBC"; } ); }
  ); };
EOC
"$FPD" -c "$tmp/bad.conf" --check-config >"$tmp/bad.out" 2>&1; rc=$?
sed 's/^/# /' "$tmp/bad.out"
check "bad modbus config: exit 78 (EX_CONFIG)" [ "$rc" -eq 78 ]
check "a bad enum value gets a did-you-mean" \
	grep -q "^$tmp/bad.conf:7: modbus.devices\[y\].registers\[2\].type: 'float33' is not one of: .* (did you mean 'float32'?)" "$tmp/bad.out"
check "bad url named with its line" grep -q "^$tmp/bad.conf:3: modbus.devices\[x\].url: 'udp://1.2.3.4' must start with tcp:// or rtu:" "$tmp/bad.out"
check "unknown profile named" grep -q "^$tmp/bad.conf:3: .*'no-such-profile' not found" "$tmp/bad.out"
check "bad type and order named" both grep -q "^$tmp/bad.conf:7: .*type: 'float33' is not one of" "$tmp/bad.out" -- grep -q "order: 'ADBC' is not one of" "$tmp/bad.out"
cat > "$tmp/overlap.conf" <<EOC
modbus: {
  devices = (
    { name = "y"; url = "tcp://127.0.0.1:502";
      registers = ( { field = "a"; address = 0; type = "float32"; },
                    { field = "b"; address = 1; type = "uint16"; } ); }
  ); };
EOC
"$FPD" -c "$tmp/overlap.conf" --check-config >"$tmp/overlap.out" 2>&1
sed 's/^/# /' "$tmp/overlap.out"
check "overlapping registers named with both lines" grep -q "^$tmp/overlap.conf:4: .*'a' (line 4) and 'b' (line 5) overlap" "$tmp/overlap.out"

done_testing
