#!/bin/bash
# Install the Debian packages mailflow needs, for every make target.
#
#   tests/deps.sh all     everything: build, tests, the bed, the peers (make
#                         check, demo, env-up, bench)
#   tests/deps.sh build   only what "make" needs to build (the -dev packages,
#                         the compiler, pkg-config)
#
# PACKAGES below is the one package list of the project.  Idempotent: when
# everything is installed it prints nothing and exits 0.  Needs root only when
# something is missing; MF_NO_DEPS=1 skips it (package builds, hand-made
# environments).
set -eu

[ -z "${MF_NO_DEPS:-}" ] || exit 0
PACKAGES="
build-essential pkg-config libgnutls28-dev libmagic-dev libcriterion-dev mandoc groff
gnutls-bin clang libclang-rt-14-dev
dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix
nsd unbound ldnsutils bind9-dnsutils
python3 swaks libnet-ssleay-perl msmtp mpop isync libpython3.11-testsuite
gsasl valgrind procps iproute2 util-linux debootstrap parallel
debhelper lintian bash-completion zsh fish
libgpgme-dev gnupg gpgsm openssl python3-dkim opendkim-tools
"

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
