#!/bin/bash
# The line-protocol encoder against a real influxd on loopback: every
# special character and UTF-8 text comes back byte-identical.
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v "${INFLUXD:-influxd}" >/dev/null 2>&1 || skip_all "influxd not installed (Debian package influxdb)"
test_begin
influx_up "$tmp/influx"
"$top_builddir/tests/integration/influx_roundtrip" "$INFLUX_URL"
