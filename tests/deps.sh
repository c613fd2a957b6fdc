#!/bin/bash
# Install the Debian packages mailflow needs, for every make target.
#
#   tests/deps.sh all     everything: build, tests, the bed, the peers (make
#                         check, demo, env-up, bench)
#   tests/deps.sh build   only what "make" needs to build (the -dev packages,
#                         the compiler, pkg-config)
#   tests/deps.sh interop everything, plus the .debs of the interop layer's
#                         servers (tests/interop) downloaded, not installed,
#                         into $MF_INTEROP_CACHE (/var/cache/mailflow-interop)
#
# PACKAGES below is the one package list of the project.  Idempotent: when
# everything is installed it prints nothing and exits 0.  Needs root only when
# something is missing; MF_NO_DEPS=1 skips it (package builds, hand-made
# environments).
set -eu

[ -z "${MF_NO_DEPS:-}" ] || exit 0
PACKAGES="
build-essential pkg-config libgnutls28-dev libmagic-dev libidn2-dev libcriterion-dev mandoc groff
gnutls-bin clang libclang-rt-14-dev
dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix
nsd unbound ldnsutils bind9-dnsutils
python3 swaks libnet-ssleay-perl msmtp mpop isync libpython3.11-testsuite
gsasl valgrind strace procps iproute2 util-linux debootstrap parallel faketime
libsasl2-modules libsasl2-modules-db
debhelper lintian bash-completion zsh fish
libgpgme-dev libssl-dev gnupg gpgsm openssl python3-dkim opendkim-tools
"

# The interop layer's servers (tests/interop): installing them would remove
# Dovecot (cyrus-imapd) or Postfix (exim4), so their .debs and those of their
# libraries that are not installed here are only downloaded, and
# tests/interop/setup.sh unpacks them into a private root.
INTEROP_PACKAGES="exim4-daemon-light exim4-base cyrus-imapd cyrus-pop3d cyrus-common sasl2-bin"
INTEROP_CACHE="${MF_INTEROP_CACHE:-/var/cache/mailflow-interop}"

# interop_download: the .debs in INTEROP_CACHE, once; the file "complete"
# names them when every download succeeded.
interop_download() {
	local pkgs tmp
	if [ -f "$INTEROP_CACHE/complete" ] &&
		[ "$(head -n 1 "$INTEROP_CACHE/complete")" = "$INTEROP_PACKAGES" ]; then
		return 0
	fi
	# What an install would add (libraries not on this machine included);
	# "Remv" lines (Dovecot, Postfix) are exactly what must not happen.
	# A machine whose package lists are empty or stale knows no candidate:
	# update them once (root only) and ask again.
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	if ! apt-get install -s --no-install-recommends $INTEROP_PACKAGES >/dev/null 2>&1 &&
		[ "$(id -u)" -eq 0 ]; then
		apt-get update >/dev/null || true
	fi
	# shellcheck disable=SC2086
	pkgs="$(apt-get install -s --no-install-recommends $INTEROP_PACKAGES 2>/dev/null |
		awk '$1 == "Inst" { print $2 }' | tr '\n' ' ')"
	for p in $INTEROP_PACKAGES; do
		case " $pkgs " in *" $p "*) ;; *) pkgs="$pkgs $p" ;; esac
	done
	mkdir -p "$INTEROP_CACHE"
	tmp="$(mktemp -d "$INTEROP_CACHE/download.XXXXXX")"
	echo "deps: downloading into $INTEROP_CACHE:$pkgs"
	# shellcheck disable=SC2086
	if ! (cd "$tmp" && apt-get download $pkgs >download.log 2>&1); then
		tail -n 5 "$tmp/download.log" >&2
		rm -rf "$tmp"
		echo "deps: apt-get download failed (apt-get update first?)" >&2
		return 1
	fi
	rm -f "$INTEROP_CACHE"/*.deb "$tmp/download.log"
	mv "$tmp"/*.deb "$INTEROP_CACHE"/
	rmdir "$tmp"
	printf '%s\n%s\n' "$INTEROP_PACKAGES" "$pkgs" >"$INTEROP_CACHE/complete"
}

# build: the packages a build needs, picked from the one list.
want=$PACKAGES
if [ "${1:-all}" = build ]; then
	want=""
	for pkg in $PACKAGES; do
		case "$pkg" in
		*-dev | build-essential | pkg-config) want="$want $pkg" ;;
		esac
	done
fi

missing=""
for pkg in $want; do
	status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
	if [ "$status" != "install ok installed" ]; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	[ "${1:-all}" != interop ] || interop_download
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing; install them as root (apt-get install$missing) or run this as root" >&2
	exit 1
fi
echo "deps: missing packages:$missing"

# postfix asks a debconf question on install; answer it in advance so the
# install never blocks. "No configuration" leaves /etc/postfix alone: the test
# bed runs its own instance from a temporary directory anyway.
if echo "$missing" | grep -qw postfix; then
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y --no-install-recommends $missing
echo "deps: installed:$missing"
[ "${1:-all}" != interop ] || interop_download
