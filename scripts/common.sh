# common.sh - shared by scripts/demo and scripts/test (sourced).
# Installs missing Debian packages and builds the tree in ./build.

FP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FP_BUILD="$FP_TOP/build"

# Debian 12 packages the build and the tests need.
FP_PACKAGES="build-essential autoconf automake pkg-config curl ca-certificates
 libconfig-dev libcurl4-openssl-dev libmodbus-dev libmosquitto-dev zlib1g-dev
 libsqlite3-dev libjson-c-dev libsystemd-dev check influxdb valgrind openssl mbpoll socat
 mosquitto mosquitto-clients clang libclang-rt-14-dev debhelper dpkg-dev fakeroot
 jq sqlite3 chromium collectd-core clang-format victoria-metrics poppler-utils"

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
	$sudo apt-get update -qq || return 1
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" || return 1
	# The influxdb package starts a system service where systemd runs
	# (collectd-core too); the tests start their own server on a loopback
	# port instead, and the benchmarks collectd with their own config;
	# victoria-metrics too (vm.sh and fleet.sh start victoria-metrics and
	# vmagent on loopback ports; the package's systemd unit is not used).
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
