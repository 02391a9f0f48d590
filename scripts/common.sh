# common.sh - shared by scripts/demo and scripts/test (sourced).
# Installs missing Debian packages and builds the tree in ./build.

FP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FP_BUILD="$FP_TOP/build"

# Debian 12 packages.  FP_BUILD_PACKAGES build footprintd and footprint;
# FP_DEMO_PACKAGES are what scripts/demo runs (the build, a mosquitto
# broker and its clients, snmpsim and the SNMP clients); FP_PACKAGES add
# the whole test toolchain (scripts/test: InfluxDB, VictoriaMetrics,
# Chromium, clang, valgrind, collectd, the Debian packaging tools...).
FP_BUILD_PACKAGES="build-essential autoconf automake pkg-config
 libconfig-dev libcurl4-openssl-dev libmodbus-dev libmosquitto-dev libsnmp-dev zlib1g-dev
 libsqlite3-dev libjson-c-dev libsystemd-dev"
FP_DEMO_PACKAGES="$FP_BUILD_PACKAGES mosquitto mosquitto-clients snmpsim snmp"
FP_PACKAGES="$FP_DEMO_PACKAGES curl ca-certificates check influxdb valgrind openssl
 mbpoll socat clang libclang-rt-14-dev debhelper dpkg-dev fakeroot
 jq sqlite3 chromium collectd-core clang-format victoria-metrics poppler-utils
 snmpd"

fp_say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

fp_install_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	fp_say "installing Debian packages: ${missing[*]}"
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "error: run as root or install: ${missing[*]}" >&2
			return 1
		}
		sudo=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	# No system service is started by the install (mosquitto, influxdb,
	# collectd-core and victoria-metrics ship one): invoke-rc.d and
	# deb-systemd-invoke ask /usr/sbin/policy-rc.d, and 101 means "not
	# now".  The demo and the tests start their own servers on loopback
	# ports with their own configs.  An existing policy-rc.d is kept.
	local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# written by footprint scripts/common.sh during apt-get install\nexit 101\n' |
			$sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && own_policy=1
	fi
	$sudo apt-get update -qq &&
		$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=1
	[ "$own_policy" -eq 1 ] && $sudo rm -f "$policy"
	return "$rc"
}

# fp_build [configure flags...]: configure once (again when configure.ac
# or a flag changed), then make.
fp_build() {
	local flags="--enable-werror $*"
	cd "$FP_TOP" || return 1
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
		fp_say "autogen"
		./autogen.sh >/dev/null || return 1
	fi
	mkdir -p "$FP_BUILD"
	cd "$FP_BUILD" || return 1
	if [ ! -f Makefile ] || [ "$(cat .fp-flags 2>/dev/null)" != "$flags" ] ||
	   [ ../configure -nt Makefile ]; then
		fp_say "configure $flags"
		../configure $flags -q || return 1
		echo "$flags" > .fp-flags
	fi
	fp_say "make"
	make -j"$(nproc)" >/dev/null || make || return 1
}
