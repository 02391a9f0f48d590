#!/bin/bash
# The line-protocol encoder against a real influxd on loopback: every
# special character and UTF-8 text comes back byte-identical.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v "${INFLUXD:-influxd}" >/dev/null 2>&1 || skip_all "influxd not installed (Debian package influxdb)"
tmp=$(mktemp -d)
trap 'influx_stop; rm -rf "$tmp"' EXIT
influx_start "$tmp/influx" || { echo "1..1"; echo "not ok 1 - influxd starts"; exit 1; }
"$top_builddir/tests/integration/influx_roundtrip" "$INFLUX_URL"
