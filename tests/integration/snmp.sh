#!/bin/bash
# The SNMP collector against snmpsim (Debian's SNMP agent simulator)
# serving recordings written from the public MIBs (tests/data/snmp: a UPS
# on UPS-MIB, an APC rPDU2 PDU, a router with 64-bit IF-MIB counters near
# their wrap, and a device that answers in 3 s): every value read back,
# a wrap and a reboot of the router that put no phantom traffic in the
# ledger, and a slow device that does not delay the others.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
FP="$top_builddir/footprint"
PROFILES="$top_srcdir/profiles/snmp"
DATA="$top_srcdir/tests/data/snmp"
command -v snmpsimd >/dev/null || skip_all "snmpsimd (Debian snmpsim) not installed"
tmp=$(mktemp -d)
SIM_PID=
SLOW_PID=
FPD_PID=
cleanup() {
	stop_pid "$FPD_PID"
	stop_pid "$SLOW_PID"
	stop_pid "$SIM_PID"
	[ -n "${FP_KEEP_TMP:-}" ] && cp -r "$tmp" /tmp/snmpkeep; rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/data" "$tmp/cache" "$tmp/slow" "$tmp/slowcache"
cp "$DATA"/ups.snmprec "$DATA"/pdu.snmprec "$tmp/data/"
cp "$DATA"/slow.snmprec "$tmp/slow/"
cp "$DATA/router-a.snmprec" "$tmp/data/router.snmprec"
# snmpsimd refuses to run as root: it drops to nobody, who reads the data.
user=()
if [ "$(id -u)" -eq 0 ]; then
	user=(--process-user=nobody --process-group=nogroup)
	chmod -R a+rwX "$tmp"
	chmod a+x "$tmp"
fi
PORT=$(free_port)

# sim_start: snmpsimd on 127.0.0.1:PORT (UDP), serving $tmp/data; each
# file is a community (ups, pdu, router); a fresh index cache each time
# (an index of the previous recording would answer from stale offsets).
sim_start() {
	ncache=$((${ncache:-0} + 1))
	mkdir -p "$tmp/cache$ncache"
	[ "$(id -u)" -eq 0 ] && chmod a+rwx "$tmp/cache$ncache"
	snmpsimd --data-dir="$tmp/data" --cache-dir="$tmp/cache$ncache" --force-index-rebuild \
		--agent-udpv4-endpoint=127.0.0.1:$PORT --logging-method=null "${user[@]}" \
		>>"$tmp/sim.err" 2>&1 &
	SIM_PID=$!
	wait_for 30 snmpget -v2c -c router -t 0.2 -r 0 127.0.0.1:$PORT 1.3.6.1.2.1.1.3.0
}
sim_start || { echo "# snmpsimd did not start"; cat "$tmp/sim.err"; }
# The slow device has its own snmpsimd: one simulator answers one request
# at a time, so its delay would hold the others' answers too.
SLOW_PORT=$(free_port)
snmpsimd --data-dir="$tmp/slow" --cache-dir="$tmp/slowcache" --force-index-rebuild \
	--agent-udpv4-endpoint=127.0.0.1:$SLOW_PORT --logging-method=null "${user[@]}" \
	>>"$tmp/slow.err" 2>&1 &
SLOW_PID=$!
echo "secret-pdu" > "$tmp/pdu.community"
echo "pdu" > "$tmp/pdu.community"

cat > "$tmp/t1.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state1"; };
snmp: { profiles_dir = "$PROFILES";
  devices = (
    { name = "ups-1"; url = "udp://127.0.0.1:$PORT"; community = "ups"; profile = "ups-mib"; role = "it"; },
    { name = "pdu-1"; url = "udp://127.0.0.1:$PORT"; community_file = "$tmp/pdu.community"; profile = "apc-rpdu2"; role = "it"; tags = { rack = "A3"; }; },
    { name = "rtr-1"; url = "udp://127.0.0.1:$PORT"; community = "router"; profile = "if-mib"; role = "data_volume"; }
  ); };
EOC
out=$("$FPD" -c "$tmp/t1.conf" --check-config -v 2>&1); rc=$?
echo "$out" | grep '^snmp' | sed 's/^/# /'
check "--check-config -v prints the request plan" both [ "$rc" -eq 0 ] -- \
	grep -q "snmp device ups-1 (udp://127.0.0.1:$PORT, v2c, 16 objects): 1 GET PDU(s) for 8 OIDs, 1 GETBULK walk(s) of 8 columns" <<<"$out"
check "--check-config -v never prints a community" not grep -q "pdu\.community\|router\"" <<<"$(echo "$out" | grep -v community_file)"
"$FPD" -c "$tmp/t1.conf" --test >"$tmp/t1.out" 2>"$tmp/t1.err"
sed 's/^/# /' "$tmp/t1.err"
has() { grep -q -F -- "$1" "$tmp/t1.out" || { echo "# missing: $1"; return 1; }; }
check "UPS: scalars and the output power summed over the lines" \
	has "meter,device=ups-1,role=it,site=lab,source=snmp output_source=3,frequency_hz=50,battery_status=2,seconds_on_battery=0,battery_minutes_remaining=42,battery_charge_percent=100,battery_voltage_v=54.6,battery_temperature_c=24,power_w=4950,input_power_w=1950 "
check "UPS: one point per output line, tagged phase" \
	has "meter,device=ups-1,phase=L2,role=it,site=lab,source=snmp voltage_v=229,current_a=6.3,power_w=1420,load_percent=28 "
check "UPS: input and output fields of the same line on one point" \
	has "meter,device=ups-1,phase=L1,role=it,site=lab,source=snmp voltage_v=230,current_a=7.5,power_w=1700,load_percent=34,input_frequency_hz=50,input_voltage_v=231,input_current_a=8.7,input_power_w=1950 "
check "PDU: total power (hundredths of kW) and energy (tenths of kWh), community from a file" \
	has "meter,device=pdu-1,rack=A3,role=it,site=lab,source=snmp power_w=1230,energy_import_kwh=4567.8 "
check "PDU: per-outlet points tagged outlet and channel, without a role" \
	has "meter,channel=outlet2,device=pdu-1,outlet=2,rack=A3,site=lab,source=snmp current_a=3.1,power_w=712,energy_import_kwh=3544.4 "
check "router: Counter64 and strings per interface" \
	has 'meter,channel=interface2,device=rtr-1,interface=2,site=lab,source=snmp in_bytes=1000,out_bytes=3000,name="eth1" '
check "router: data_bytes is the sum of the octet counters" \
	has "meter,device=rtr-1,role=data_volume,site=lab,source=snmp data_bytes=1.8446744073709556e+19 "

# 2. The daemon: the router's counters wrap, then it reboots; a device
#    slower than its timeout polls alongside.
cat > "$tmp/t2.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state"; interval = "500ms"; };
outputs: { file = ( { path = "$tmp/t2.out"; } ); };
snmp: { profiles_dir = "$PROFILES";
  devices = (
    { name = "rtr-1"; url = "udp://127.0.0.1:$PORT"; community = "router"; profile = "if-mib"; role = "data_volume"; timeout = "300ms"; },
    { name = "ups-1"; url = "udp://127.0.0.1:$PORT"; community = "ups"; profile = "ups-mib"; role = "it"; timeout = "500ms"; },
    { name = "slow-1"; url = "udp://127.0.0.1:$SLOW_PORT"; community = "slow"; role = "other"; timeout = "300ms"; retries = 0;
      objects = ( { oid = "1.3.6.1.2.1.33.1.2.4.0"; type = "number"; field = "battery_charge_percent"; } ); }
  ); };
EOC
"$FPD" -c "$tmp/t2.conf" 2>"$tmp/t2.err" &
FPD_PID=$!
npts() { grep -c "^meter,device=$1,$2" "$tmp/t2.out" 2>/dev/null; }
ge() { [ "$("$@" | tail -1)" -ge "${GE:-1}" ] 2>/dev/null; }
check "the router is read before its counters wrap" wait_for 30 ge npts rtr-1 role
t0=$(date +%s%N)
GE=$(( $(npts ups-1 role) + 8 )) wait_for 30 ge npts ups-1 role
t1=$(date +%s%N)
echo "# 8 UPS polls took $(( (t1 - t0) / 1000000 )) ms while slow-1 answers in 3 s"
check "a device slower than its timeout does not delay the others (8 polls of 500 ms in < 6 s)" \
	[ $(( (t1 - t0) / 1000000 )) -lt 6000 ]
check "the slow device's timeouts are logged" grep -q "snmp\[slow-1\]: no answer from udp://127.0.0.1:$SLOW_PORT within 300 ms" "$tmp/t2.err"
check "the slow device wrote no point" [ "$(npts slow-1 '' || true)" = 0 ]

# The wrap: ifHCInOctets.1 from 2^64-616 to 500 (+1116), ifHCInOctets.2
# +5000000, ifHCOutOctets +1000000 each; sysUpTime goes on. The simulator
# is stopped before its recording changes: a running one answers from the
# offsets it indexed, which a rewritten file no longer matches.
stop_pid "$SIM_PID"
sed -e 's/^1.3.6.1.2.1.1.3.0|67|500000/1.3.6.1.2.1.1.3.0|67|560000/' \
	-e 's/^1.3.6.1.2.1.31.1.1.1.6.1|70|.*/1.3.6.1.2.1.31.1.1.1.6.1|70|500/' \
	-e 's/^1.3.6.1.2.1.31.1.1.1.6.2|70|.*/1.3.6.1.2.1.31.1.1.1.6.2|70|5001000/' \
	-e 's/^1.3.6.1.2.1.31.1.1.1.10.1|70|.*/1.3.6.1.2.1.31.1.1.1.10.1|70|1002000/' \
	-e 's/^1.3.6.1.2.1.31.1.1.1.10.2|70|.*/1.3.6.1.2.1.31.1.1.1.10.2|70|1003000/' \
	"$DATA/router-a.snmprec" > "$tmp/data/router.snmprec"
sim_start
metric_of() { grep "^footprintd,component=snmp/rtr-1," "$tmp/t2.out" | tail -1 | grep -o "$1=[0-9]*" | cut -d= -f2; }
check "the wrap is counted as a wrap" wait_for 30 ge metric_of counter_wraps
# The reboot: sysUpTime back to 1 s, every counter small again.
stop_pid "$SIM_PID"
printf '%s\n' '1.3.6.1.2.1.1.3.0|67|100' '1.3.6.1.2.1.31.1.1.1.1.1|4|eth0' '1.3.6.1.2.1.31.1.1.1.1.2|4|eth1' \
	'1.3.6.1.2.1.31.1.1.1.6.1|70|70' '1.3.6.1.2.1.31.1.1.1.6.2|70|80' \
	'1.3.6.1.2.1.31.1.1.1.10.1|70|90' '1.3.6.1.2.1.31.1.1.1.10.2|70|95' > "$tmp/data/router.snmprec"
sim_start
check "the reboot is seen (sysUpTime went back)" wait_for 30 ge metric_of reboots
GE=$(( $(npts rtr-1 role) + 2 )) wait_for 30 ge npts rtr-1 role
stop_pid "$FPD_PID"; FPD_PID=
check "no counter reset counted as a wrap" [ "$(metric_of counter_resets)" = 0 ]

today=$(date -u +%F)
from=$(date -u -d yesterday +%F)
"$FP" report --state "$tmp/state" --from "$from" --to "$today" --format json >"$tmp/r.json" 2>"$tmp/r.err"
dv=$(jq -r '.total.energy.data_volume.value // empty' "$tmp/r.json")
echo "# ledger data volume: $dv bit (expected 8 x 7001116 = 56008928, within the float step near 2^64)"
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= t) }'; }
check "the ledger's data volume is the traffic across the wrap: no phantom 2^64, nothing from the reboot" \
	near "$dv" 56008928 65536
done_testing
