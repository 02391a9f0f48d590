#!/bin/bash
# The SNMP collector against bad input: values of the wrong type and
# values the agent does not have (snmpsim serving wrongtype.snmprec), a
# table of 5000 rows (bounded by max_rows, read whole within its time
# when max_rows allows), and a hostile agent (snmpstub: garbage,
# truncated and overrunning messages, a response to another request,
# a 101-arc OID, noSuchObject/noSuchInstance/endOfMibView per value).
# Each costs only its own values, with a log line naming the device;
# the other devices go on; nothing wrong is written.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
STUB="$top_builddir/tests/integration/snmpstub"
DATA="$top_srcdir/tests/data/snmp"
command -v snmpsimd >/dev/null || skip_all "snmpsimd (Debian snmpsim) not installed"
tmp=$(mktemp -d)
SIM_PID=
HUGE_PID=
STUB_PID=
FPD_PID=
cleanup() {
	stop_pid "$FPD_PID"
	stop_pid "$STUB_PID"
	stop_pid "$HUGE_PID"
	stop_pid "$SIM_PID"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/data" "$tmp/cache" "$tmp/huge" "$tmp/hugecache"
cp "$DATA/wrongtype.snmprec" "$DATA/ups.snmprec" "$tmp/data/"
# 5000 rows of ifHCInOctets (Counter64), row N = N.
{
	echo "1.3.6.1.2.1.1.3.0|67|100000"
	for i in $(seq 1 5000); do echo "1.3.6.1.2.1.31.1.1.1.6.$i|70|$i"; done
} > "$tmp/huge/huge.snmprec"
user=()
if [ "$(id -u)" -eq 0 ]; then
	user=(--process-user=nobody --process-group=nogroup)
	chmod -R a+rwX "$tmp"
fi
sim() { # sim DATADIR CACHEDIR PORT COMMUNITY: starts snmpsimd, echoes its PID
	snmpsimd --data-dir="$1" --cache-dir="$2" --force-index-rebuild \
		--agent-udpv4-endpoint=127.0.0.1:$3 --logging-method=null "${user[@]}" \
		>>"$tmp/sim.err" 2>&1 &
	echo $!
}
PORT=$(free_port)
SIM_PID=$(sim "$tmp/data" "$tmp/cache" "$PORT")
HUGE_PORT=$(free_port)
HUGE_PID=$(sim "$tmp/huge" "$tmp/hugecache" "$HUGE_PORT")
STUB_PORT=$(free_port)
"$STUB" "$STUB_PORT" >"$tmp/stub.out" 2>&1 &
STUB_PID=$!
check "snmpsimd serves the recordings" \
	wait_for 30 snmpget -v2c -c ups -t 0.2 -r 0 127.0.0.1:$PORT 1.3.6.1.2.1.1.3.0
check "the second snmpsimd serves the huge table" \
	wait_for 30 snmpget -v2c -c huge -t 0.2 -r 0 127.0.0.1:$HUGE_PORT 1.3.6.1.2.1.1.3.0
check "the hostile stub is up" wait_for 10 grep -q ready "$tmp/stub.out"

# 1. A table of 5000 rows.
col='{ oid = "1.3.6.1.2.1.31.1.1.1.6"; index = "interface"; type = "counter"; field = "in_bytes"; sum = "data_bytes"; }'
cat > "$tmp/t1.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state1"; };
snmp: { devices = (
    { name = "huge-cut"; url = "udp://127.0.0.1:$HUGE_PORT"; community = "huge"; objects = ( $col ); },
    { name = "huge-all"; url = "udp://127.0.0.1:$HUGE_PORT"; community = "huge"; max_rows = 5000;
      max_repetitions = 100; timeout = "5s"; objects = ( $col ); }
  ); };
EOC
t0=$(date +%s%N)
"$FPD" -c "$tmp/t1.conf" --test >"$tmp/t1.out" 2>"$tmp/t1.err"
t1=$(date +%s%N)
echo "# both walks of 5000 rows took $(( (t1 - t0) / 1000000 )) ms"
grep -v '^meter' "$tmp/t1.out" "$tmp/t1.err" | sed 's/^/# /'
rows() { grep -c "^meter,channel=interface[0-9]*,device=$1,interface=" "$tmp/t1.out"; }
check "max_rows (default 1024) cuts a 5000-row column, with a log line naming the device" \
	both [ "$(rows huge-cut)" = 1024 ] -- \
	grep -q "snmp\[huge-cut\]: the column of line [0-9]* has more than max_rows = 1024 rows: the rest is ignored" "$tmp/t1.err"
check "a cut column writes no sum (it would be too small)" \
	not grep -q "^meter,device=huge-cut,.*data_bytes" "$tmp/t1.out"
check "with max_rows = 5000 every row is read, and the exact sum" \
	both [ "$(rows huge-all)" = 5000 ] -- grep -q "^meter,device=huge-all,role=other,site=lab,source=snmp data_bytes=12502500 " "$tmp/t1.out"
check "the last row is exact" grep -q "^meter,channel=interface5000,device=huge-all,interface=5000,site=lab,source=snmp in_bytes=5000 " "$tmp/t1.out"
pdus() { grep "^footprintd,component=snmp/huge-all," "$tmp/t1.out" | grep -o "requests=[0-9]*" | cut -d= -f2; }
check "the 5000-row walk took at most 100 GETBULK PDUs (max_repetitions 100, capped by the message size)" \
	[ "$(pdus)" -le 100 ]
check "a column of exactly max_rows rows is whole: nothing logged for it" \
	not grep -q "snmp\[huge-all\]" "$tmp/t1.err"

# 2. The daemon: good devices next to bad ones.
stubdev() { # stubdev NAME [OBJECTS]
	echo "{ name = \"$1\"; url = \"udp://127.0.0.1:$STUB_PORT\"; community = \"$1\"; timeout = \"200ms\"; retries = 0;
	  objects = ( ${2:-{ oid = \"1.3.6.1.4.1.99999.1.1.0\"; type = \"gauge\"; field = \"v\"; \}} ); },"
}
vals=""
for n in 1 2 3 4 5 6; do
	vals="$vals{ oid = \"1.3.6.1.4.1.99999.1.$n.0\"; type = \"gauge\"; field = \"value_$n\"; },"
done
cat > "$tmp/t2.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state2"; interval = "500ms"; };
outputs: { file = ( { path = "$tmp/t2.out"; } ); };
snmp: { devices = (
    { name = "ups-1"; url = "udp://127.0.0.1:$PORT"; community = "ups"; role = "it";
      objects = ( { oid = "1.3.6.1.2.1.33.1.2.4.0"; type = "gauge"; field = "battery_charge_percent"; } ); },
    { name = "wrongtype"; url = "udp://127.0.0.1:$PORT"; community = "wrongtype"; role = "it";
      objects = (
        { oid = "1.3.6.1.2.1.33.1.2.3.0"; type = "number"; field = "battery_minutes_remaining"; },
        { oid = "1.3.6.1.2.1.33.1.2.4.0"; type = "gauge"; field = "battery_charge_percent"; },
        { oid = "1.3.6.1.2.1.33.1.2.5.0"; type = "number"; field = "battery_voltage_v"; scale = 0.1; },
        { oid = "1.3.6.1.2.1.33.1.2.7.0"; type = "number"; field = "battery_temperature_c"; },
        { oid = "1.3.6.1.2.1.33.1.4.4.1.4"; index = "phase"; type = "number"; field = "power_w"; sum = "power_w"; }
      ); },
    $(stubdev values "${vals%,}")
    $(stubdev garbage)
    $(stubdev truncated)
    $(stubdev badlen)
    $(stubdev wrongid)
    $(stubdev hugeoid)
    { name = "ups-2"; url = "udp://127.0.0.1:$PORT"; community = "ups"; role = "it";
      objects = ( { oid = "1.3.6.1.2.1.33.1.2.3.0"; type = "gauge"; field = "battery_minutes_remaining"; } ); }
  ); };
EOC
"$FPD" -c "$tmp/t2.conf" --check-config >"$tmp/cc.out" 2>&1 || sed 's/^/# /' "$tmp/cc.out"
"$FPD" -c "$tmp/t2.conf" 2>"$tmp/t2.err" &
FPD_PID=$!
npts() { grep -c "^meter,device=$1," "$tmp/t2.out" 2>/dev/null; }
ge() { [ "$("$@" | tail -1)" -ge "${GE:-1}" ] 2>/dev/null; }
many() { GE=6 ge npts "$1"; }
check "the good devices are polled on and on next to the hostile ones" \
	both wait_for 40 many ups-1 -- wait_for 40 many ups-2
check "the other devices' self-metrics are written" \
	wait_for 20 grep -q "^footprintd,component=snmp/hugeoid," "$tmp/t2.out"
check "the daemon is still running" kill -0 "$FPD_PID"
stop_pid "$FPD_PID"; FPD_PID=
grep 'snmp\[' "$tmp/t2.err" | sed 's/^<[0-9]>//' | sort | uniq -c | sed 's/^/# /'
logged() { grep -q -F -- "$1" "$tmp/t2.err" || { echo "# not logged: $1"; return 1; }; }
check "good devices: every point exact" \
	both [ "$(grep '^meter,device=ups-1,' "$tmp/t2.out" | grep -vc ' battery_charge_percent=100 ')" = 0 ] -- \
	[ "$(grep '^meter,device=ups-2,' "$tmp/t2.out" | grep -vc ' battery_minutes_remaining=42 ')" = 0 ]
check "wrong types: only the right values written" \
	both [ "$(grep '^meter,device=wrongtype,role' "$tmp/t2.out" | grep -vc ' battery_minutes_remaining=42 ')" = 0 ] -- \
	[ "$(npts wrongtype)" -ge 1 ]
check "wrong types: an OCTET STRING for a gauge and a Counter32 for a number are logged" \
	both logged "snmp[wrongtype]: 1.3.6.1.2.1.33.1.2.4.0: wrong type: an OCTET STRING (value dropped)" -- \
	logged "snmp[wrongtype]: 1.3.6.1.2.1.33.1.2.5.0: wrong type: a Counter32 (value dropped)"
check "a value the agent does not have is logged" \
	grep -q "snmp\[wrongtype\]: 1.3.6.1.2.1.33.1.2.7.0: noSuch\(Object\|Instance\) (value dropped)" "$tmp/t2.err"
check "a wrong-typed row: the other rows are written, no row and no sum from it" \
	both grep -q "^meter,device=wrongtype,phase=L3,role=it,site=lab,source=snmp power_w=1200 " "$tmp/t2.out" -- \
	not grep -q -e "^meter,device=wrongtype,phase=L2" -e "^meter,device=wrongtype,role=.*power_w" "$tmp/t2.out"
check "per value: noSuchObject, noSuchInstance, endOfMibView, wrong types, each logged" \
	both logged "snmp[values]: 1.3.6.1.4.1.99999.1.2.0: noSuchObject (value dropped)" -- \
	both logged "snmp[values]: 1.3.6.1.4.1.99999.1.3.0: noSuchInstance (value dropped)" -- \
	both logged "snmp[values]: 1.3.6.1.4.1.99999.1.4.0: endOfMibView (value dropped)" -- \
	both logged "snmp[values]: 1.3.6.1.4.1.99999.1.5.0: wrong type: an OCTET STRING (value dropped)" -- \
	logged "snmp[values]: 1.3.6.1.4.1.99999.1.6.0: wrong type: an IpAddress (value dropped)"
check "per value: the one good value of the PDU is written, alone" \
	both [ "$(npts values)" -ge 1 ] -- \
	[ "$(grep '^meter,device=values,' "$tmp/t2.out" | grep -vc 'source=snmp value_1=42 ')" = 0 ]
for m in garbage truncated badlen wrongid; do
	check "$m answers: logged as no answer, naming the device, no point" \
		both logged "snmp[$m]: no answer from udp://127.0.0.1:$STUB_PORT within 200 ms" -- \
		[ "$(npts $m)" = 0 ]
done
check "an OID of 101 arcs: dropped, not cut to one that could pass for another" \
	both grep -q "snmp\[hugeoid\]: 1\.3\.1\.1\.[.1]*: an OID of more than 64 arcs (value dropped)" "$tmp/t2.err" -- \
	[ "$(npts hugeoid)" = 0 ]
check "the hostile devices' failures are counted" \
	grep -q "^footprintd,component=snmp/garbage,.*errors_timeout=[1-9]" "$tmp/t2.out"
done_testing
