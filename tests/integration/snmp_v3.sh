#!/bin/bash
# The SNMP collector over SNMP v3 authPriv (SHA and AES, the USM of RFC
# 3414 and RFC 3826) against Debian's real snmpd on loopback: its own
# configuration (createUser, values set with `override`) and persistent
# directory in the test's temp dir, started here and stopped by PID.
# Every value read back exactly, over several polls of one session; a
# wrong auth or priv passphrase is a clear log line naming the device
# and no point; no passphrase ever appears in a log or in
# --check-config -v.
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
SNMPD=$(command -v snmpd || echo /usr/sbin/snmpd)
[ -x "$SNMPD" ] || skip_all "snmpd (Debian snmpd) not installed"
tmp=$(mktemp -d)
SNMPD_PID=
FPD_PID=
cleanup() {
	stop_pid "$FPD_PID"
	stop_pid "$SNMPD_PID"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/persist"

AUTH="auth-Secr3t-SHA"
PRIV="priv-Secr3t-AES"
WRONG="not-the-passphrase"
printf '%s\n' "$AUTH" > "$tmp/auth"
printf '%s\n' "$PRIV" > "$tmp/priv"
printf '%s\n' "$WRONG" > "$tmp/wrong-auth"
printf '%s\n' "$WRONG" > "$tmp/wrong-priv"
chmod 600 "$tmp/auth" "$tmp/priv" "$tmp/wrong-auth" "$tmp/wrong-priv"

# snmpd_start: snmpd on 127.0.0.1 (a free port, a few tries: UDP ports
# are not checked by free_port); -C: only this configuration.
snmpd_start() {
	local try
	for try in 1 2 3; do
		PORT=$(free_port) || return 1
		cat > "$tmp/snmpd.conf" <<EOC
[snmp] persistentDir $tmp/persist
agentaddress udp:127.0.0.1:$PORT
createUser fpuser SHA "$AUTH" AES "$PRIV"
createUser fpuser2 SHA "$AUTH" AES "$PRIV"
createUser fpuser3 SHA "$AUTH" AES "$PRIV"
rouser fpuser authpriv
rouser fpuser2 authpriv
rouser fpuser3 authpriv
sysName ups-v3-lab
# UPS-MIB (RFC 1628): upsEstimatedChargeRemaining (Gauge32 per the
# override's type), upsOutputPower per output line
override .1.3.6.1.2.1.33.1.2.4.0 unsigned 87
override .1.3.6.1.2.1.33.1.4.4.1.4.1 integer 1234
override .1.3.6.1.2.1.33.1.4.4.1.4.2 integer 4321
override .1.3.6.1.2.1.33.1.4.4.1.4.3 integer 2005
EOC
		MIBS= MIBDIRS="$tmp/nomibs" "$SNMPD" -f -Lf "$tmp/snmpd.log" -C -c "$tmp/snmpd.conf" \
			-M "$tmp/nomibs" -m '' -p "$tmp/snmpd.pid" >/dev/null 2>&1 &
		SNMPD_PID=$!
		if wait_for 20 snmpget -v3 -l authPriv -u fpuser -a SHA -A "$AUTH" -x AES -X "$PRIV" \
			-t 0.3 -r 0 127.0.0.1:$PORT 1.3.6.1.2.1.1.5.0; then
			return 0
		fi
		stop_pid "$SNMPD_PID"
		SNMPD_PID=
	done
	return 1
}
snmpd_start || { echo "# snmpd did not start"; sed 's/^/# /' "$tmp/snmpd.log"; }
check "snmpd answers v3 authPriv" [ -n "$SNMPD_PID" ]

dev() { # dev NAME AUTHFILE PRIVFILE [USER]
	cat <<EOC
    { name = "$1"; url = "udp://127.0.0.1:$PORT"; version = "3"; user = "${4:-fpuser}";
      auth_protocol = "SHA"; auth_password_file = "$2";
      priv_protocol = "AES"; priv_password_file = "$3"; role = "it"; timeout = "300ms"; retries = 0;
      objects = (
        { oid = "1.3.6.1.2.1.1.5.0"; type = "string"; field = "sys_name"; },
        { oid = "1.3.6.1.2.1.33.1.2.4.0"; type = "gauge"; field = "battery_charge_percent"; },
        { oid = "1.3.6.1.2.1.33.1.4.4.1.4"; index = "phase"; type = "number"; field = "power_w"; sum = "power_w"; }
      ); }
EOC
}
cat > "$tmp/t1.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state1"; };
snmp: { devices = (
$(dev ups-v3 "$tmp/auth" "$tmp/priv")
  ); };
EOC
out=$("$FPD" -c "$tmp/t1.conf" --check-config -v 2>&1); rc=$?
echo "$out" | grep '^snmp' | sed 's/^/# /'
check "--check-config -v accepts v3 authPriv and prints its plan" both [ "$rc" -eq 0 ] -- \
	grep -q "snmp device ups-v3 (udp://127.0.0.1:$PORT, v3, 3 objects)" <<<"$out"
check "--check-config -v prints no passphrase" not grep -q -e "$AUTH" -e "$PRIV" <<<"$out"

"$FPD" -c "$tmp/t1.conf" --test >"$tmp/t1.out" 2>"$tmp/t1.err"; rc=$?
sed 's/^/# /' "$tmp/t1.err" "$tmp/t1.out"
has() { grep -q -F -- "$1" "$tmp/t1.out" || { echo "# missing: $1"; return 1; }; }
check "--test over v3 authPriv succeeds" [ "$rc" -eq 0 ]
check "v3 authPriv: scalars read exactly (string, Gauge32) and the lines' sum" \
	has 'meter,device=ups-v3,role=it,site=lab,source=snmp sys_name="ups-v3-lab",battery_charge_percent=87,power_w=7560 '
check "v3 authPriv: the table walked over GETBULK, one point per line" \
	has "meter,device=ups-v3,phase=L3,role=it,site=lab,source=snmp power_w=2005 "

# 2. The daemon: one good device and two with a wrong passphrase.
cat > "$tmp/t2.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/state2"; interval = "500ms"; };
outputs: { file = ( { path = "$tmp/t2.out"; } ); };
snmp: { devices = (
$(dev ups-v3 "$tmp/auth" "$tmp/priv"),
$(dev bad-auth "$tmp/wrong-auth" "$tmp/priv" fpuser2),
$(dev bad-priv "$tmp/auth" "$tmp/wrong-priv" fpuser3)
  ); };
EOC
out=$("$FPD" -c "$tmp/t2.conf" --check-config -v 2>&1)
check "--check-config -v prints no passphrase, right or wrong" \
	not grep -q -e "$AUTH" -e "$PRIV" -e "$WRONG" <<<"$out"
"$FPD" -c "$tmp/t2.conf" 2>"$tmp/t2.err" &
FPD_PID=$!
npts() { grep -c "^meter,device=$1,role" "$tmp/t2.out" 2>/dev/null; }
ge() { [ "$("$@" | tail -1)" -ge "${GE:-1}" ] 2>/dev/null; }
six() { GE=6 ge npts ups-v3; }
check "the good device is polled again and again on its v3 session" wait_for 40 six
check "a wrong auth passphrase: a log line naming the device" \
	wait_for 20 grep -q "snmp\[bad-auth\]: .*[Aa]uthentication" "$tmp/t2.err"
check "a wrong priv passphrase: a log line naming the device and the likely cause" \
	wait_for 20 grep -q "snmp\[bad-priv\]: .*priv_password" "$tmp/t2.err"
check "no point from a device with a wrong passphrase" \
	not grep -q "^meter,device=bad-" "$tmp/t2.out"
check "the self-metrics count the failed polls" \
	wait_for 20 grep -q "^footprintd,component=snmp/bad-auth,.*poll_errors=[1-9]" "$tmp/t2.out"
# The passphrase corrected and the configuration reloaded: the new
# session gets the new keys (net-snmp would reuse the user it built for
# the first session of the same engine and user, with the wrong keys).
printf '%s\n' "$PRIV" > "$tmp/wrong-priv"
printf '%s\n' "$AUTH" > "$tmp/wrong-auth"
kill -HUP "$FPD_PID"
check "after a reload with the right passphrases both devices answer" \
	both wait_for 30 ge npts bad-priv -- wait_for 30 ge npts bad-auth
stop_pid "$FPD_PID"; FPD_PID=
grep 'snmp\[' "$tmp/t2.err" | sort | uniq -c | head -n 20 | sed 's/^/# /'
check "the good device's every point is exact" \
	[ "$(grep "^meter,device=ups-v3,role" "$tmp/t2.out" | grep -vc 'sys_name="ups-v3-lab",battery_charge_percent=87,power_w=7560 ')" = 0 ]
check "no passphrase in the log or the output" \
	not grep -q -e "$AUTH" -e "$PRIV" -e "$WRONG" "$tmp/t2.err" "$tmp/t2.out" "$tmp/t1.err"
check "the daemon's log has only its own lines (no net-snmp noise)" \
	not grep -v -e '^<[0-7]>[a-z]*\(\[[^]]*\]\)\?: ' "$tmp/t2.err"
done_testing
