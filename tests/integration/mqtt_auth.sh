#!/bin/bash
# The MQTT collector and a broker that wants a password, and one that
# speaks TLS with a certificate from a CA made by this test (openssl):
# the right credentials and CA work, wrong ones are refused (logged,
# counted) without stopping the agent.
. "${top_srcdir:-.}/tests/integration/lib.sh"
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQ" ] || skip_all "mosquitto not installed (Debian package mosquitto)"
FPD="$top_builddir/footprintd"
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${FP_KEEP_TMP:-}" ] && trap "cp -r $tmp /tmp/akeep; cleanup" EXIT

# The CA, and a server certificate for 127.0.0.1.
if ! (cd "$tmp" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=fp mqtt CA" &&
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" &&
	printf 'subjectAltName=IP:127.0.0.1\n' > ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext
   ) >"$tmp/openssl.log" 2>&1; then
	echo "1..1"; echo "not ok 1 - openssl makes the test certificates"; sed 's/^/# /' "$tmp/openssl.log"; exit 1
fi
# mosquitto started as root drops to its own user: let it read the files.
chmod 755 "$tmp"
chmod 644 "$tmp"/*.key "$tmp"/*.pem
PPORT=$(free_port) TPORT=$(free_port)
printf 'fp-user:s3cret-pw\n' > "$tmp/passwd.plain"
cp "$tmp/passwd.plain" "$tmp/passwd"
mosquitto_passwd -U "$tmp/passwd" >/dev/null 2>&1
chmod 644 "$tmp/passwd"
cat > "$tmp/mosquitto.conf" <<EOC
per_listener_settings true
listener $PPORT 127.0.0.1
allow_anonymous false
password_file $tmp/passwd
listener $TPORT 127.0.0.1
allow_anonymous true
cafile $tmp/ca.pem
certfile $tmp/srv.pem
keyfile $tmp/srv.key
EOC
"$MOSQ" -c "$tmp/mosquitto.conf" >"$tmp/mosq.log" 2>&1 &
pids+=($!)
wait_for 10 mosquitto_sub -h 127.0.0.1 -p "$PPORT" -u fp-user -P s3cret-pw -t probe -W 1 -C 1 -E ||
	{ echo "# mosquitto did not start"; sed 's/^/# /' "$tmp/mosq.log"; }

printf 's3cret-pw\n' > "$tmp/pw.right"
printf 'wrong\n' > "$tmp/pw.wrong"
# run NAME BROKER-SETTINGS TOPIC PUBLISH-ARGS...: the agent with one
# subscription; publishes one value; leaves the output in $tmp/NAME.lp.
run() {
	local name=$1 settings=$2; shift 2
	cat > "$tmp/$name.conf" <<EOC
agent: { site = "lab"; state_dir = "$tmp/$name"; interval = "1s"; round_interval = false; };
outputs: { file = ( { name = "lp"; path = "out.lp"; } ); };
mqtt: { brokers = ( { name = "b"; $settings reconnect_min = "1s"; reconnect_max = "1s";
  subscriptions = ( { topic = "water/+/m3"; format = "value"; field = "water_m3"; template = "water/{device}/m3"; } ); } ); };
EOC
	"$FPD" -c "$tmp/$name.conf" 2>"$tmp/$name.err" &
	local fpd=$!
	sleep 1.5
	"$@" -t "water/$name/m3" -m 42 -q 1 2>/dev/null
	sleep 1.5
	kill -TERM "$fpd"; wait "$fpd"
}
pubpw() { mosquitto_pub -h 127.0.0.1 -p "$PPORT" -u fp-user -P s3cret-pw "$@"; }
pubtls() { mosquitto_pub -h 127.0.0.1 -p "$TPORT" --cafile "$tmp/ca.pem" "$@"; }

run pwok "url = \"mqtt://127.0.0.1:$PPORT\"; username = \"fp-user\"; password_file = \"$tmp/pw.right\";" pubpw
check "password: the right one from password_file connects and receives" \
	grep -q '^meter,device=pwok,.* water_m3=42 ' "$tmp/pwok/out.lp"
check "password: it never appears in the log" not grep -q s3cret "$tmp/pwok.err"
run pwbad "url = \"mqtt://127.0.0.1:$PPORT\"; username = \"fp-user\"; password_file = \"$tmp/pw.wrong\";" pubpw
check "password: a wrong one is refused and logged, the agent keeps running" \
	both grep -q "connection refused" "$tmp/pwbad.err" -- grep -q 'component=mqtt/b,.*connected=false' "$tmp/pwbad/out.lp"
run tlsok "url = \"mqtts://127.0.0.1:$TPORT\"; ca_file = \"$tmp/ca.pem\";" pubtls
check "TLS: with ca_file the broker is trusted and messages arrive" \
	grep -q '^meter,device=tlsok,.* water_m3=42 ' "$tmp/tlsok/out.lp"
run tlsbad "url = \"mqtts://127.0.0.1:$TPORT\";" pubtls
check "TLS: an unknown CA is refused (no message, not connected)" \
	both not grep -q '^meter,device=tlsbad' "$tmp/tlsbad/out.lp" -- grep -q 'component=mqtt/b,.*connected=false' "$tmp/tlsbad/out.lp"
sed 's/^/# /' "$tmp/tlsbad.err" | head -3

done_testing
