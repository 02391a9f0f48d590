#!/bin/bash
# systemd integration: the notify protocol (READY, STATUS, WATCHDOG at the
# configured rate, RELOADING on SIGHUP, STOPPING on SIGTERM) against a
# datagram socket owned by this test, and the installed unit checked by
# systemd-analyze (verify, and an offline security exposure of at most 2.0).
. "${top_srcdir:-.}/tests/integration/lib.sh"
FPD="$top_builddir/footprintd"
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

if grep -q 'define HAVE_SYSTEMD 1' "$top_builddir/config.h" && command -v socat >/dev/null 2>&1; then
	sock="$tmp/notify.sock"
	socat -u UNIX-RECVFROM:"$sock",fork STDOUT >"$tmp/notify.log" 2>/dev/null &
	pids+=($!)
	wait_for 10 test -S "$sock"
	cat > "$tmp/fp.conf" <<EOC
agent: { site = "sd"; state_dir = "$tmp/state"; interval = "1s"; };
EOC
	NOTIFY_SOCKET="$sock" WATCHDOG_USEC=1000000 "$FPD" -c "$tmp/fp.conf" 2>"$tmp/err" &
	fpd=$!; pids+=($fpd)
	wait_for 10 grep -q 'READY=1' "$tmp/notify.log"
	sleep 3
	kill -HUP "$fpd"
	# the reload is done when READY=1 follows RELOADING=1 (slower under ASan)
	wait_for 20 sh -c "tr '\n' ' ' < '$tmp/notify.log' | grep -q 'RELOADING=1.*READY=1'"
	kill -TERM "$fpd"; wait "$fpd"
	sleep 0.3
	log=$(tr '\n' ' ' < "$tmp/notify.log")
	echo "# notify: $(echo "$log" | cut -c1-300)"
	check "READY=1 after start-up" grep -q 'READY=1' <<<"$log"
	check "STATUS= lines with a summary" grep -q 'STATUS=0 device polls (0 failed), 0 MQTT messages, 0 SNMP polls (0 failed), [0-9]* points gathered, [0-9]* written, 0 in spools' <<<"$log"
	n=$(grep -o 'WATCHDOG=1' "$tmp/notify.log" | wc -l)
	check "WATCHDOG=1 about every 0.5 s for WatchdogSec=1s ($n pings in ~3.5 s)" both [ "$n" -ge 5 ] -- [ "$n" -le 10 ]
	check "RELOADING=1 then READY=1 on SIGHUP" grep -q 'RELOADING=1.*READY=1' <<<"$log"
	check "STOPPING=1 on SIGTERM" grep -q 'STOPPING=1' <<<"$log"
else
	for t in READY STATUS WATCHDOG RELOADING STOPPING; do
		tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $t: built without libsystemd or no socat"
	done
fi

# The unit, installed into a DESTDIR with the other files.
dest="$tmp/dest"
make -C "$top_builddir" install DESTDIR="$dest" >"$tmp/install.log" 2>&1
check "make install DESTDIR=... succeeds" [ $? -eq 0 ]
unit=$(find "$dest" -name footprintd.service | head -1)
for f in sbin/footprintd bin/footprint share/man/man8/footprintd.8 share/man/man5/footprintd.conf.5 \
	share/man/man1/footprint.1 share/footprint/profiles/eastron-sdm630.conf; do
	check "installed: $f" test -n "$(find "$dest" -path "*/$f" | head -1)"
done
check "installed: the example config in \$(sysconfdir)/footprint/" test -n "$(find "$dest" -path '*/etc/footprint/footprintd.conf')"
check "installed: the unit" test -n "$unit"
if [ -n "$unit" ] && command -v systemd-analyze >/dev/null 2>&1; then
	sbin=$(dirname "$(find "$dest" -path '*/sbin/footprintd')")
	prefix_sbin=$(grep -o '^ExecStart=[^ ]*' "$unit" | sed 's/ExecStart=//; s|/footprintd$||')
	# verify needs the binaries where the unit says: point it at the DESTDIR copy.
	sed "s|$prefix_sbin/footprintd|$sbin/footprintd|g" "$unit" > "$tmp/footprintd.service"
	man=$(dirname "$(dirname "$(find "$dest" -name footprintd.8)")")
	out=$(MANPATH="$man" systemd-analyze verify "$tmp/footprintd.service" 2>&1); rc=$?
	echo "$out" | sed 's/^/# /' | head -5
	check "systemd-analyze verify: no complaint" both [ "$rc" -eq 0 ] -- [ -z "$out" ]
	sec=$(systemd-analyze security --offline=true "$tmp/footprintd.service" 2>&1 | grep -o 'Overall exposure level for footprintd.service: [0-9.]*' | grep -o '[0-9.]*$')
	echo "# systemd-analyze security exposure: $sec"
	check "systemd-analyze security: exposure $sec is at most 2.0" awk -v s="${sec:-99}" 'BEGIN { exit !(s <= 2.0) }'
else
	not_ok "systemd-analyze is not available"
fi
make -C "$top_builddir" uninstall DESTDIR="$dest" >/dev/null 2>&1
check "make uninstall leaves no file behind" test -z "$(find "$dest" -type f | head -1)"
done_testing
