#!/bin/bash
# The Debian package: dpkg-buildpackage -us -uc -b on a copy of the source
# tree, then its contents (dpkg -c), and an install and purge with dpkg
# into this machine when run as root (systemd is not running in test
# sandboxes, so deb-systemd-invoke leaves the service unstarted there).
. "${top_srcdir:-.}/tests/integration/lib.sh"
command -v dpkg-buildpackage >/dev/null 2>&1 && command -v dh >/dev/null 2>&1 ||
	skip_all "dpkg-dev and debhelper are not installed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
# A clean copy: the files of the source tree, without build output.
(cd "$top_srcdir" && tar --exclude='./build*' --exclude='./demo-state' --exclude='./.git' \
	--exclude='*.o' --exclude='*.a' -cf - .) | (cd "$tmp/src" && tar xf -)
(cd "$tmp/src" && rm -f config.status config.log Makefile && \
	DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1)
rc=$?
tail -5 "$tmp/build.log" | sed 's/^/# /'
deb=$(ls "$tmp"/footprint_*.deb 2>/dev/null | head -1)
check "dpkg-buildpackage -us -uc -b builds a .deb" both [ "$rc" -eq 0 ] -- test -n "$deb"
if [ -n "$deb" ]; then
	dpkg -c "$deb" > "$tmp/contents"
	for f in ./usr/sbin/footprintd ./usr/bin/footprint ./lib/systemd/system/footprintd.service \
		./etc/footprint/footprintd.conf ./usr/share/footprint/profiles/eastron-sdm630.conf \
		./usr/share/footprint/examples/site.conf \
		./usr/share/man/man8/footprintd.8.gz ./usr/share/man/man5/footprintd.conf.5.gz \
		./usr/share/footprint/dashboards/footprint-site-energy.json \
		./usr/share/footprint/dashboards/footprint-fleet-prometheus.json \
		./usr/share/footprint/grafana/provisioning/datasources/footprint.yaml \
		./usr/share/footprint/grafana/provisioning/datasources/footprint-vm.yaml \
		./usr/share/doc/footprint/README.md; do
		check "dpkg -c lists $f" grep -q " $f\$" "$tmp/contents"
	done
	# every docs/*.md is installed (docs/local.mk), uncompressed beside the README
	for f in "$top_srcdir"/docs/*.md; do
		f=./usr/share/doc/footprint/docs/$(basename "$f")
		check "dpkg -c lists $f" grep -q " $f\$" "$tmp/contents"
	done
	check "the packaged Grafana dashboard provider points at /usr/share/footprint/dashboards" \
		sh -c "dpkg-deb --fsys-tarfile '$deb' | tar -xOf - ./usr/share/footprint/grafana/provisioning/dashboards/footprint.yaml | grep -q '^ *path: /usr/share/footprint/dashboards$'"
	check "the unit runs /usr/sbin/footprintd with /etc/footprint/footprintd.conf" \
		sh -c "dpkg-deb --fsys-tarfile '$deb' | tar -xOf - ./lib/systemd/system/footprintd.service | grep -q '^ExecStart=/usr/sbin/footprintd -c /etc/footprint/footprintd.conf$'"
	check "the package enables the unit (dh_installsystemd snippets)" \
		sh -c "dpkg-deb -e '$deb' '$tmp/ctl' && grep -q 'deb-systemd-helper' '$tmp/ctl/postinst'"
	# dpkg ARGS: again while another dpkg (apt, unattended-upgrades)
	# holds its lock, for up to 10 minutes
	dpkg_waiting() {
		local t=0 out
		while :; do
			out=$(dpkg "$@" 2>&1) && { printf '%s\n' "$out"; return 0; }
			case $out in *"dpkg frontend lock"*|*"dpkg status database is locked"*) ;;
			*) printf '%s\n' "$out"; return 1 ;; esac
			[ "$t" -ge 600 ] && { printf '%s\n' "$out"; return 1; }
			echo "# dpkg is locked by another process: waiting" >&2
			sleep 2; t=$((t + 2)) # polls the lock; bounded
		done
	}
	if [ "$(id -u)" -eq 0 ] && [ -z "${FP_NO_DPKG_INSTALL:-}" ] && ! dpkg -s footprint >/dev/null 2>&1; then
		dpkg_waiting -i "$deb" >"$tmp/install.log" 2>&1; rc=$?
		check "dpkg -i installs it" both [ "$rc" -eq 0 ] -- test -x /usr/sbin/footprintd
		check "the installed agent accepts the installed config" /usr/sbin/footprintd -c /etc/footprint/footprintd.conf --check-config
		dpkg_waiting --purge footprint >"$tmp/purge.log" 2>&1; rc=$?
		check "dpkg --purge removes it and its config" \
			both [ "$rc" -eq 0 ] -- sh -c '! test -e /usr/sbin/footprintd && ! test -e /etc/footprint/footprintd.conf'
	fi
fi
done_testing
