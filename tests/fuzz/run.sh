#!/bin/bash
# tests/fuzz/run.sh - builds the libFuzzer targets (clang, ASan+UBSan) into
# build-fuzz/ and runs them.
#   run.sh [--seconds N] [--tap]
#     every target replays its seed corpus (tests/fuzz/corpus/<target>),
#     then fuzzes for N seconds (default 5) in a scratch corpus;
#     --tap prints one TAP line per target (for scripts/test).
# The fuzz targets cover every parser that reads the network or a file:
# line protocol, MQTT payloads, Modbus responses, spool records, config
# files and CSV register maps.
set -u
seconds=5 tap=0
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--tap) tap=1; shift ;;
	*) echo "usage: tests/fuzz/run.sh [--seconds N] [--tap]" >&2; exit 2 ;;
	esac
done
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/build-fuzz"
mkdir -p "$out/obj"
[ -f "$top/build/config.h" ] || { echo "run.sh: configure the tree first (scripts/test does)" >&2; exit 1; }
pkgs="libconfig libcurl libmodbus libmosquitto json-c zlib sqlite3 netsnmp"
cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -std=c11 -D_GNU_SOURCE
 -DSYSCONFDIR=\"/etc\" -DLOCALSTATEDIR=\"/var\" -DDATADIR=\"/usr/share\"
 -I$top/build -iquote $top/agent -iquote $top/outputs -iquote $top/indicators -iquote $top/collectors/modbus -iquote $top/collectors/mqtt -iquote $top/collectors/snmp
 $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) $(pkg-config --libs libsystemd 2>/dev/null) -lm -pthread"
objs=()
# an object is rebuilt when its source or any header is newer (a struct
# that changed in a header must not meet objects built with the old one)
newest_h=$(ls -t "$top"/agent/*.h "$top"/outputs/*.h "$top"/indicators/*.h "$top"/collectors/*/*.h \
	"$top/build/config.h" | head -1)
for src in "$top"/agent/*.c "$top"/outputs/*.c "$top"/indicators/*.c "$top"/collectors/*/*.c; do
	case $(basename "$src") in main.c) continue ;; esac
	o="$out/obj/$(basename "$src" .c).o"
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
		clang $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$o" || exit 1
	fi
	objs+=("$o")
done
targets=(lineproto mqtt modbus spool config assets snmp)
for t in "${targets[@]}"; do
	clang $cflags -fsanitize=fuzzer "$top/tests/fuzz/fuzz_$t.c" "${objs[@]}" $libs -o "$out/fuzz_$t" || exit 1
done
n=0 failed=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	work="$out/corpus-$t"
	rm -rf "$work"; mkdir -p "$work"
	cp "$top/tests/fuzz/corpus/$t"/* "$work/" 2>/dev/null
	log="$out/fuzz_$t.log"
	(cd "$out" && LSAN_OPTIONS=suppressions=$top/tests/fuzz/lsan.supp ASAN_OPTIONS=detect_leaks=1 "./fuzz_$t" -runs=0 "$top/tests/fuzz/corpus/$t" >"$log" 2>&1 &&
	 LSAN_OPTIONS=suppressions=$top/tests/fuzz/lsan.supp ASAN_OPTIONS=detect_leaks=1 "./fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		"$work" >>"$log" 2>&1)
	rc=$?
	execs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*')
	if [ "$rc" -eq 0 ]; then
		msg="fuzz_$t: corpus replayed, ${seconds}s of fuzzing, ${execs:-?} executions, 0 crashes"
		[ "$tap" -eq 1 ] && echo "ok $n - $msg" || echo "$msg"
	else
		failed=$((failed + 1))
		msg="fuzz_$t: FAILED (see $log)"
		[ "$tap" -eq 1 ] && echo "not ok $n - $msg" || echo "$msg"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5 | sed 's/^/# /'
	fi
done
[ "$tap" -eq 1 ] && echo "1..$n"
[ "$failed" -eq 0 ]
