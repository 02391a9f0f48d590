#!/bin/bash
# A fleet (#17): two site agents (a and b) -> vmagent -> VictoriaMetrics
# storage nodes, everything Debian's victoria-metrics on loopback.  Each
# agent has a file output (every point it makes) and two InfluxDB outputs
# with engine = "victoriametrics", each to the /write (line protocol) of
# one vmagent:
#   replicated: vmagent "rep" remote-writes everything to nodes r1 and r2;
#   sharded:    vmagent "shard" remote-writes to nodes s1 and s2, with a
#               -remoteWrite.urlRelabelConfig per URL keeping site a on s1
#               and site b on s2.
# Meter readings (MQTT, their own timestamps) flow all the time: a burst
# of back-filled past hours at the start (whose windows are final at once)
# and one reading per meter and half second.  r1 and s1 are stopped for
# FP_OUTAGE_S seconds (default 60) and started again on the same data and
# port.  Once vmagent's queues are empty, every meter reading of each
# agent's file output (exact count and values) and every window row the
# agent sent (its first final write) is on both replicas and on its shard
# (and not on the other one): nothing lost, nothing twice.  What the
# agent sent: its file output for the readings; for the window rows, a
# reference node written directly by a third output.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v jq >/dev/null 2>&1 || { echo "1..1"; echo "not ok 1 - jq is installed (Debian package jq)"; exit 1; }
[ -x "${VICTORIA_METRICS:-/usr/bin/victoria-metrics}" ] && [ -x "${VMAGENT:-/usr/bin/vmagent}" ] ||
	skip_all "victoria-metrics not installed (Debian package victoria-metrics)"
FPD="$top_builddir/footprintd"
OUTAGE=${FP_OUTAGE_S:-60}
tmp=$(mktemp -d)
chmod 755 "$tmp"
MPID=

cleanup() {
	local p

	for p in "$PUB_PID" "$FPID_a" "$FPID_b"; do [ -n "$p" ] && { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done
	for p in "$R1_PID" "$R2_PID" "$S1_PID" "$S2_PID" "$REF_PID" "$REP_PID" "$SHARD_PID"; do stop_pid "$p"; done
	broker_down
	rm -rf "$tmp"
}
PUB_PID='' FPID_a='' FPID_b='' R1_PID='' R2_PID='' S1_PID='' S2_PID='' REF_PID='' REP_PID='' SHARD_PID=''
trap cleanup EXIT
[ -n "${FP_KEEP_TMP:-}" ] && trap 'rm -rf "$FP_KEEP_TMP"; cp -r "$tmp" "$FP_KEEP_TMP"; cleanup' EXIT
export TZ=UTC

# node NAME: a storage node; sets NAME_URL, NAME_PID, NAME_PORT.
node() {
	vm_start "$tmp/$1" -search.latencyOffset=1s || return 1
	printf -v "${1^^}_URL" %s "$VM_URL"
	printf -v "${1^^}_PID" %s "$VM_PID"
	printf -v "${1^^}_PORT" %s "$VM_PORT"
}
for n in r1 r2 s1 s2 ref; do
	node "$n" || { echo "1..1"; echo "not ok 1 - victoria-metrics node $n starts"; exit 1; }
done
ok "5 storage nodes start ($R1_URL $R2_URL $S1_URL $S2_URL, reference $REF_URL)"
keep() { printf -- '- action: keep\n  source_labels: [site]\n  regex: %s\n' "$1"; }
keep a > "$tmp/keep-a.yml"
keep b > "$tmp/keep-b.yml"
if vmagent_start "$tmp/rep" "$R1_URL/api/v1/write" "$R2_URL/api/v1/write"; then
	REP_URL=$VMAGENT_URL REP_PID=$VMAGENT_PID
	ok "vmagent rep (replication to r1 and r2) starts ($REP_URL)"
else
	not_ok "vmagent rep starts"; done_testing; exit
fi
if vmagent_start "$tmp/shard" "$S1_URL/api/v1/write" "$S2_URL/api/v1/write" -- \
	-remoteWrite.urlRelabelConfig="$tmp/keep-a.yml" -remoteWrite.urlRelabelConfig="$tmp/keep-b.yml"; then
	SHARD_URL=$VMAGENT_URL SHARD_PID=$VMAGENT_PID
	ok "vmagent shard (site a to s1, b to s2) starts ($SHARD_URL)"
else
	not_ok "vmagent shard starts"; done_testing; exit
fi
broker_up "$tmp/mosq" || exit 1

# ---- the agents ----
start_agent() {
	local site=$1 d="$tmp/$1" pid
	mkdir -p "$d"
	cat > "$d/f.conf" <<EOC
agent: { site = "$site"; interval = "1s"; state_dir = "$d/state"; timezone = "UTC";
  shutdown_timeout = "120s"; };
outputs: { file = ( { path = "$d/out.lp"; } );
  influxdb = (
    { name = "rep"; url = "$REP_URL"; database = "site"; engine = "victoriametrics";
      retention = "400d"; flush_interval = "200ms"; retry_max = "2s"; },
    { name = "shard"; url = "$SHARD_URL"; database = "site"; engine = "victoriametrics";
      retention = "400d"; flush_interval = "200ms"; retry_max = "2s"; },
    { name = "ref"; url = "$REF_URL"; database = "site"; engine = "victoriametrics";
      retention = "400d"; flush_interval = "200ms"; retry_max = "2s"; } ); };
mqtt: { brokers = ( { name = "b"; url = "mqtt://127.0.0.1:$MPORT"; client_id = "fp-fleet-$site";
  subscriptions = (
    { topic = "$site/utility"; format = "json"; role = "facility"; template = "$site/{device}"; qos = 1;
      fields = ( { path = "kwh"; field = "energy_import_kwh"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "$site/ups"; format = "json"; role = "it"; template = "$site/{device}"; qos = 1;
      fields = ( { path = "kwh"; field = "energy_import_kwh"; } ); time_path = "ts"; time_format = "epoch_ms"; },
    { topic = "$site/probe"; format = "json"; fields = ( { path = "x"; field = "x"; } ); }
  ); } ); };
indicators: { interval = "1s"; settle = "2s"; };
EOC
	fpd_start "$d/f.conf" "$d/fpd.err" "$site" "$d/out.lp" && pid=ok
	printf -v "FPID_$site" %s "$FPD_STARTED"
	[ -n "$pid" ] || { sed "s/^/# $site: /" "$d/fpd.err" | tail -5; return 1; }
}
check "site a: the agent starts and subscribes" start_agent a
check "site b: the agent starts and subscribes" start_agent b
[ -n "$FPID_a" ] && [ -n "$FPID_b" ] && alive "$FPID_a" && alive "$FPID_b" || { done_testing; exit; }

# The readings: cumulative kWh (utility 720 kW, ups 576 kW; site b twice
# that) at T (ms): a burst over hours H-4h..H-2h (one a minute), then
# live.  The publisher appends each message it published to its log.
H=$(( $(date +%s) / 3600 * 3600 ))
T0=$(( H - 4 * 3600 ))
msg() { # SITE METER T_MS
	awk -v s="$1" -v m="$2" -v t="$3" -v t0="$T0" 'BEGIN { k = (s == "b" ? 2 : 1) * (t / 1000 - t0)
		printf "{\"ts\":%s,\"kwh\":%.4f}\n", t, m == "utility" ? 1000 + 0.2 * k : 500 + 0.16 * k }'
}
for s in a b; do
	for m in utility ups; do
		for t in $(seq "$T0" 60 $(( H - 2 * 3600 ))); do msg "$s" "$m" "${t}000"; done |
			tee -a "$tmp/pub.$s" | mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "$s/$m" -l
	done
done
publisher() { # until $tmp/stop exists
	while [ ! -e "$tmp/stop" ]; do
		t=$(date +%s%3N)
		for s in a b; do
			for m in utility ups; do
				msg "$s" "$m" "$t" | mosquitto_pub -h 127.0.0.1 -p "$MPORT" -q 1 -t "$s/$m" -l &&
					msg "$s" "$m" "$t" >> "$tmp/pub.$s"
			done
		done
		sleep 0.5
	done
}
publisher &
PUB_PID=$!
nb=$(wc -l < "$tmp/pub.a")
published() { cat "$tmp/pub.a" "$tmp/pub.b" | wc -l; }
echo "# back-filled $nb readings a site; live readings flow"

# ---- the outage of r1 and s1 ----
live() { [ "$(wc -l < "$tmp/pub.b")" -ge $(( nb + 4 )) ]; }
# drained: both vmagents hold nothing their nodes did not acknowledge.
# Not their queues' bytes alone (vmagent_remotewrite_pending_data_bytes):
# a block a worker took from the queue is no longer counted there while
# it is retried, and after an outage a retry comes up to a minute after
# the node is back (vmagent_unsent in lib.sh).
drained() { vmagent_delivered "$REP_URL" && vmagent_delivered "$SHARD_URL"; }
wait_for 30 live
# The outage starts once what vmagent had for the nodes is on them and
# flushed: what a node acknowledged in its last second before a stop is
# its own durability (see lib.sh's vm_stop), not what is tested here; the
# readings and rows of the outage are.  Live readings keep coming into
# vmagent's buffer meanwhile: those are the outage's.
sent() { [[ "$(vmagent_unsent "$1")" == *" queued=0 in_flight=0 "* ]]; }
wait_for 60 both sent "$REP_URL" -- sent "$SHARD_URL"
vm_flush "$R1_URL"; vm_flush "$S1_URL"
t_stop=$(date +%s)
VM_PID=$R1_PID; vm_stop; R1_PID=
VM_PID=$S1_PID; vm_stop; S1_PID=
echo "# r1 and s1 stopped for $OUTAGE s (SIGTERM; their stops took $(( $(date +%s) - t_stop )) s)"
queued() { [ "$(vmagent_pending "$1")" -gt 0 ]; }
check "the outage is seen: both vmagents hold data for the stopped nodes" \
	both wait_for "$OUTAGE" queued "$REP_URL" -- wait_for "$OUTAGE" queued "$SHARD_URL"
sleep "$OUTAGE"   # the outage itself, not a synchronisation
restart() { # NAME: the node again, same data and port
	local port_var="${1^^}_PORT"
	vm_start "$tmp/$1" --port "${!port_var}" -search.latencyOffset=1s || return 1
	printf -v "${1^^}_PID" %s "$VM_PID"
}
t_start=$(date +%s)
check "r1 starts again on its data and port" restart r1
check "s1 starts again on its data and port" restart s1
# a few seconds of readings with every node up, then no more
n0=$(published)
more() { [ "$(published)" -ge $(( n0 + 20 )) ]; }
wait_for 30 more
touch "$tmp/stop"; wait "$PUB_PID"; PUB_PID=
N=$(published)
echo "# $N readings published in all"

# Each agent has counted every reading and has no window left to write;
# then SIGTERM: its outputs send what they hold before it exits (within
# agent.shutdown_timeout) and it says so when something stays in a
# spool.  Not a self-metric line showing the outputs idle: each second
# brings new points (running rows and totals, self-metrics), so a
# snapshot sees an output idle only if those were delivered before it,
# and on a loaded machine, with the indicators' writes drifting to just
# before the self-metrics tick, none may for a minute.
check "site a: every reading counted and no window left to write" \
	wait_for 60 lp_settled "$tmp/a/out.lp" "$(wc -l < "$tmp/pub.a")"
check "site b: the same" wait_for 60 lp_settled "$tmp/b/out.lp" "$(wc -l < "$tmp/pub.b")"
for s in a b; do
	pid_var="FPID_$s"
	kill -TERM "${!pid_var}"; wait "${!pid_var}"; rc=$?
	printf -v "FPID_$s" %s ""
	check "site $s: the agent stops cleanly on SIGTERM" [ "$rc" -eq 0 ]
	check "site $s: its 3 InfluxDB outputs sent everything before it stopped (nothing left in a spool)" \
		not grep -q "points stay in the spool" "$tmp/$s/fpd.err"
	grep -v "^<6>" "$tmp/$s/fpd.err" | sed "s/^/# $s: /" | head -5
done

# ---- what the agents sent ----
meters_lp() { # SITE: "device ts_ms value" of its meter points
	awk -v site="$1" 'index($1, "meter,") == 1 && index($1 ",", ",site=" site ",") {
		n = split($1, t, ","); dev = ""
		for (i = 2; i <= n; i++) if (index(t[i], "device=") == 1) dev = substr(t[i], 8)
		m = split($2, f, ",")
		for (i = 1; i <= m; i++) if (index(f[i], "energy_import_kwh=") == 1)
			printf "%s %s %.10g\n", dev, substr($3, 1, length($3) - 6), substr(f[i], 19)
	}' "$tmp/$1/out.lp" | sort
}
meters_vm() { # SITE URL
	vm_export "meter_energy_import_kwh{site=\"$1\"}" "$2" | jq -r '.metric.device as $d |
		range(0; .values | length) as $i | "\($d) \(.timestamps[$i]) \(.values[$i])"' |
		awk '{ printf "%s %s %.10g\n", $1, $2, $3 }' | sort
}
# The window rows an agent sent: what the reference node "ref" got
# straight from a third output of the same kind (never stopped, no
# vmagent).  Which write of a row is sent is vm.sh's matter: here, a
# burst of back-filled readings can reach a window's first (final) write
# in part, the rest is then a correction, not sent.
for s in a b; do
	meters_lp "$s" > "$tmp/$s/meters.txt"
	vm_flush "$REF_URL"
	vm_rows "{__name__=~\"(energy|efficiency)_.+\",site=\"$s\",window=\"1h\"}" "$REF_URL" > "$tmp/$s/final.txt"
	lp_rows "$tmp/$s/out.lp" "$s" final > "$tmp/$s/lp_final.txt"
	awk 'FILENAME == ARGV[1] { r[$1 " " $2 " " $3] = 1; next } ($1 " " $2 " " $3) in r' \
		"$tmp/$s/final.txt" "$tmp/$s/lp_final.txt" > "$tmp/$s/lp_sent.txt"
	check "site $s: each sample of a window row on the reference node is the agent's first final write of it" \
		rows_equal "$tmp/$s/lp_sent.txt" "$tmp/$s/final.txt"
done
echo "# site a: $(wc -l < "$tmp/a/meters.txt") meter readings, $(cut -d' ' -f1,2 "$tmp/a/final.txt" | sort -u | wc -l) hour rows sent; site b: $(wc -l < "$tmp/b/meters.txt"), $(cut -d' ' -f1,2 "$tmp/b/final.txt" | sort -u | wc -l)"
check "the file outputs hold every reading published ($N)" \
	[ $(( $(wc -l < "$tmp/a/meters.txt") + $(wc -l < "$tmp/b/meters.txt") )) -eq "$N" ]
check "the reference node has final hour rows of both sites" both [ -s "$tmp/a/final.txt" ] -- [ -s "$tmp/b/final.txt" ]

# ---- on the nodes, once vmagent's queues are empty ----
on_node() { # SITE URL: its meter readings and window rows there equal the agent's
	vm_flush "$2" || return 1
	meters_vm "$1" "$2" | cmp -s - "$tmp/$1/meters.txt" || return 1
	vm_rows "{__name__=~\"(energy|efficiency)_.+\",site=\"$1\",window=\"1h\"}" "$2" > "$tmp/rows.txt"
	rows_equal "$tmp/$1/final.txt" "$tmp/rows.txt" >/dev/null
}
all_there() {
	on_node a "$R1_URL" && on_node b "$R1_URL" && on_node a "$R2_URL" && on_node b "$R2_URL" &&
		on_node a "$S1_URL" && on_node b "$S2_URL"
}
unsent() { echo "# vmagent rep: $(vmagent_unsent "$REP_URL"); shard: $(vmagent_unsent "$SHARD_URL")"; }
unsent
check "vmagent delivered everything (no row buffered, no block queued or in flight)" wait_for 150 drained
unsent
no_drop() { [[ "$(vmagent_unsent "$1")" == *" dropped=0" ]]; }
check "vmagent skipped no block (a node's 400 or 409)" both no_drop "$REP_URL" -- no_drop "$SHARD_URL"
# Delivered and flushed, it is all there at once; the wait covers a
# vmagent whose metrics do not show a block retried (a minute's backoff).
wait_for 90 all_there
for n in r1:a r1:b r2:a r2:b s1:a s2:b; do
	node=${n%:*} s=${n#*:} url_var="${node^^}_URL"
	vm_flush "${!url_var}"
	meters_vm "$s" "${!url_var}" > "$tmp/$node-$s.meters"
	lost=$(comm -23 "$tmp/$s/meters.txt" "$tmp/$node-$s.meters" | wc -l)
	extra=$(comm -13 "$tmp/$s/meters.txt" "$tmp/$node-$s.meters" | wc -l)
	check "$node: the $(wc -l < "$tmp/$s/meters.txt") meter readings of site $s, exactly ($(wc -l < "$tmp/$node-$s.meters") there, $lost lost, $extra other)" \
		cmp -s "$tmp/$s/meters.txt" "$tmp/$node-$s.meters" ||
		{ comm -23 "$tmp/$s/meters.txt" "$tmp/$node-$s.meters" | head -5 | sed "s/^/#   lost: /"
		  echo "#   stopped at ${t_stop}000, restarted at ${t_start}000; $node's log:"
		  grep -v -e "^$" "$tmp/$node/vm.log" | tail -8 | sed 's/^/#   /'
		  va=rep; [ "${node#s}" != "$node" ] && va=shard
		  echo "#   vmagent $va's log:"; tail -4 "$tmp/$va/vmagent.log" | cut -c1-300 | sed 's/^/#   /'; }
	vm_rows "{__name__=~\"(energy|efficiency)_.+\",site=\"$s\",window=\"1h\"}" "${!url_var}" > "$tmp/$node-$s.rows"
	check "$node: the final hour rows of site $s ($(cut -d' ' -f1,2 "$tmp/$s/final.txt" | sort -u | wc -l)), each once, as on the reference node" \
		rows_equal "$tmp/$s/final.txt" "$tmp/$node-$s.rows"
done
check "s1 holds nothing of site b, s2 nothing of site a (sharded)" \
	both [ -z "$(vm_export '{site="b"}' "$S1_URL")" ] -- [ -z "$(vm_export '{site="a"}' "$S2_URL")" ]
done_testing
