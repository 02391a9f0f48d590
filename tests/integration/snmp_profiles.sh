#!/bin/bash
# The SNMP profiles of the rack PDU families and of ENTITY-SENSOR-MIB
# against snmpsim serving recordings written from their public MIBs
# (tests/data/snmp): Raritan PDU2-MIB (sensor tables indexed by sensor
# type, each value with its sensor's decimal digits), Server Technology
# Sentry4-MIB (input cords and outlets) and RFC 3433 (per-row scale and
# precision).  Every value read back exactly.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
PROFILES=$(cd "$top_srcdir/profiles/snmp" && pwd)
DATA="$top_srcdir/tests/data/snmp"
command -v snmpsimd >/dev/null || skip_all "snmpsimd (Debian snmpsim) not installed"
tmp=$(mktemp -d)
SIM_PID=
cleanup() {
	stop_pid "$SIM_PID"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/data" "$tmp/cache"
cp "$DATA/raritan.snmprec" "$DATA/sentry4.snmprec" "$DATA/entity.snmprec" "$tmp/data/"
user=()
if [ "$(id -u)" -eq 0 ]; then
	user=(--process-user=nobody --process-group=nogroup)
	chmod -R a+rwX "$tmp"
fi
PORT=$(free_port)
snmpsimd --data-dir="$tmp/data" --cache-dir="$tmp/cache" --force-index-rebuild \
	--agent-udpv4-endpoint=127.0.0.1:$PORT --logging-method=null "${user[@]}" \
	>"$tmp/sim.err" 2>&1 &
SIM_PID=$!
check "snmpsimd serves the recordings" \
	wait_for 30 snmpget -v2c -c raritan -t 0.2 -r 0 127.0.0.1:$PORT 1.3.6.1.2.1.1.3.0

cat > "$tmp/t.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state"; };
snmp: { profiles_dir = "$PROFILES";
  devices = (
    { name = "rar-1"; url = "udp://127.0.0.1:$PORT"; community = "raritan"; profile = "raritan-pdu2"; role = "it"; },
    { name = "st4-1"; url = "udp://127.0.0.1:$PORT"; community = "sentry4"; profile = "sentry4"; role = "it"; },
    { name = "ent-1"; url = "udp://127.0.0.1:$PORT"; community = "entity"; profile = "entity-sensor"; }
  ); };
EOC
out=$("$FPD" -c "$tmp/t.conf" --check-config -v 2>&1); rc=$?
echo "$out" | grep -A12 '^snmp device rar-1' | sed 's/^/# /'
check "--check-config -v: the plan shows the rows by sensor type and their decimal digits" \
	both [ "$rc" -eq 0 ] -- grep -q "GETBULK 1.3.6.1.4.1.13742.6.5.4.3.1.4 -> power_w (number, scale 1) per outlet (rows ending .5), / 10^1.3.6.1.4.1.13742.6.3.5.4.1.7" <<<"$out"
check "--check-config -v: the per-row scale and precision of ENTITY-SENSOR-MIB" \
	grep -q "GETBULK 1.3.6.1.2.1.99.1.1.1.4 -> value (integer, scale 1) per sensor, / 10^1.3.6.1.2.1.99.1.1.1.3, x SI prefix 1.3.6.1.2.1.99.1.1.1.2" <<<"$out"
"$FPD" -c "$tmp/t.conf" --test >"$tmp/t.out" 2>"$tmp/t.err"; rc=$?
sed 's/^/# /' "$tmp/t.err"
grep '^meter' "$tmp/t.out" | sed 's/ [0-9]*$//; s/^/# /'
has() { grep -q -F -- "$1 " "$tmp/t.out" || { echo "# missing: $1"; return 1; }; }
check "--test reads all three devices" [ "$rc" -eq 0 ]
check "Raritan: the inlets' sums are the PDU's power and energy" \
	has "meter,device=rar-1,role=it,site=lab,source=snmp power_w=1987,energy_import_kwh=7654.321"
check "Raritan: the inlet row, only its activePower and activeEnergy sensors" \
	has "meter,channel=inlet1.1,device=rar-1,inlet=1.1,site=lab,source=snmp power_w=1987,energy_import_kwh=7654.321"
check "Raritan: an outlet with 3 decimal digits of current" \
	has "meter,channel=outlet1.1,device=rar-1,outlet=1.1,site=lab,source=snmp current_a=1.25,power_w=287,energy_import_kwh=123.456"
check "Raritan: an outlet whose sensors have 2 and 1 decimal digits" \
	has "meter,channel=outlet1.2,device=rar-1,outlet=1.2,site=lab,source=snmp current_a=5,power_w=123.4,energy_import_kwh=5"
check "Sentry4: the cords' sums are the PDU's power and energy" \
	has "meter,device=st4-1,role=it,site=lab,source=snmp power_w=2905,energy_import_kwh=22222"
check "Sentry4: an input cord (tenths of kWh)" \
	has "meter,channel=cord1.1,cord=1.1,device=st4-1,site=lab,source=snmp power_w=1520,energy_import_kwh=12345.6"
check "Sentry4: an outlet (hundredths of A, W, Wh)" \
	has "meter,channel=outlet1.2.1,device=st4-1,outlet=1.2.1,site=lab,source=snmp current_a=1.53,power_w=348,energy_import_kwh=1234.567"
check "Sentry4: an idle outlet reads 0" \
	has "meter,channel=outlet1.1.2,device=st4-1,outlet=1.1.2,site=lab,source=snmp current_a=0,power_w=0,energy_import_kwh=0"
check "ENTITY-SENSOR: units(9), precision 0" \
	has 'meter,channel=sensor1,device=ent-1,sensor=1,site=lab,source=snmp value=1500,sensor_type=6,units="W"'
check "ENTITY-SENSOR: precision 1" \
	has 'meter,channel=sensor2,device=ent-1,sensor=2,site=lab,source=snmp value=230.4,sensor_type=3,units="V"'
check "ENTITY-SENSOR: milli(8)" \
	has 'meter,channel=sensor3,device=ent-1,sensor=3,site=lab,source=snmp value=6.52,sensor_type=5,units="A"'
check "ENTITY-SENSOR: kilo(10) with precision 2" \
	has 'meter,channel=sensor4,device=ent-1,sensor=4,site=lab,source=snmp value=12340,sensor_type=6,units="W"'
check "ENTITY-SENSOR: a row without its precision writes no value" \
	has 'meter,channel=sensor5,device=ent-1,sensor=5,site=lab,source=snmp sensor_type=6,units="W"'
check "no helper column is written as a field" not grep -q "(digits)\|(si_prefix)" "$tmp/t.out"

# Mistakes in a profile: FILE:LINE: key: reason.
cat > "$tmp/bad.conf" <<'EOC'
description = "bad";
objects = (
  { oid = "1.3.6.1.4.1.99.1"; type = "number"; field = "a"; index_suffix = "5"; },
  { oid = "1.3.6.1.4.1.99.2"; index = "row"; type = "string"; field = "b"; digits = "1.3.6.1.4.1.99.3"; },
  { oid = "1.3.6.1.4.1.99.4"; index = "row"; type = "number"; field = "c"; si_prefix = "x.y"; }
);
EOC
cat > "$tmp/b.conf" <<EOC
snmp: { devices = ( { name = "b"; url = "udp://127.0.0.1:$PORT"; community = "x"; profile = "$tmp/bad.conf"; } ); };
EOC
"$FPD" -c "$tmp/b.conf" --check-config >"$tmp/b.out" 2>&1; rc=$?
sed 's/^/# /' "$tmp/b.out"
check "profile mistakes: exit 78, each as FILE:LINE" \
	both [ "$rc" -eq 78 ] -- \
	both grep -q "bad.conf:3: objects\[0\].index_suffix: only a table column (with index) has one" "$tmp/b.out" -- \
	both grep -q "bad.conf:4: objects\[1\].digits: a string has no per-row scale" "$tmp/b.out" -- \
	grep -q "bad.conf:5: objects\[2\].si_prefix: 'x.y' is not a numeric OID" "$tmp/b.out"
done_testing
