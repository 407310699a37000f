#!/bin/sh
# packaging/deps.sh (`make deps`): install the Debian packages kite's build, demo and tests
# need. Idempotent: does nothing (and prints nothing) when all are installed; runs
# `apt-get update` only when something is missing. Not root and something missing: one line
# naming the packages, exit 3. (wolfSSL's source package is fetched by packaging/wolfssl.sh.)
#
# Note on charon-systemd: its postinst enables strongswan.service and starts it when systemd
# is running (/run/systemd/system exists). On such a host, installing it leaves a charon in the
# root namespace with Debian's default configuration (no connections; it binds UDP 500/4500
# there). kite's tests never use it: they start their own charon-systemd instances inside
# network namespaces. Where /usr/sbin/policy-rc.d forbids starting services (containers) or
# systemd is not PID 1, nothing is started. This script reports a running strongswan.service
# and leaves it alone; stop it with `systemctl disable --now strongswan` if it is not wanted.
set -eu

PKGS="gcc make pkg-config libc6-dev dpkg-dev autoconf automake libtool
libnl-3-dev libnl-route-3-dev libnl-xfrm-3-dev libinih-dev libcmocka-dev
iproute2 iputils-ping iperf3 nftables tcpdump
strongswan-swanctl charon-systemd libcharon-extra-plugins libstrongswan-extra-plugins strongswan-pki
procps psmisc python3 curl"

say() { printf 'deps: %s\n' "$*" >&2; }

if ! command -v dpkg-query >/dev/null 2>&1; then
	say "dpkg-query not found: this script supports Debian (12) and derivatives only"
	exit 1
fi

# not_installed PKG...: the ones dpkg does not list as installed ("ii"), one dpkg-query call
not_installed() {
	# shellcheck disable=SC2016,SC2086
	ok=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null |
		awk '$1 == "ii" { sub(/:.*/, "", $2); printf "%s ", $2 }' || true)
	for p in "$@"; do
		case " $ok" in
		*" $p "*) ;;
		*) printf '%s ' "$p" ;;
		esac
	done
}

# shellcheck disable=SC2086
missing=$(not_installed $PKGS)
missing=${missing% }
[ -n "$missing" ] || exit 0

if [ "$(id -u)" != 0 ]; then
	say "missing packages: $missing; run 'make deps' as root"
	exit 3
fi

say "installing: $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

# verify, so a partial install does not pass silently
# shellcheck disable=SC2086
still=$(not_installed $missing)
if [ -n "$still" ]; then
	say "still missing after apt-get install: $still"
	exit 1
fi

case " $missing " in
*" charon-systemd "*)
	if [ -d /run/systemd/system ] && systemctl is-active --quiet strongswan.service 2>/dev/null; then
		say "note: strongswan.service (charon-systemd) now runs in the root namespace;" \
			"kite's tests do not use it ('systemctl disable --now strongswan' stops it)"
	fi
	;;
esac
say "all packages installed"
