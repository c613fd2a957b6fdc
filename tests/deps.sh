#!/bin/bash
# Install the Debian packages mailflow needs to build and to run its test bed.
# Idempotent: when everything is already installed it prints nothing and exits 0.
# Needs root only when something is missing.
set -eu

PACKAGES="
build-essential pkg-config libgnutls28-dev libmagic-dev libcriterion-dev mandoc
gnutls-bin clang libclang-rt-14-dev
dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix
nsd unbound ldnsutils bind9-dnsutils
python3 swaks msmtp mpop isync libpython3.11-testsuite gsasl valgrind
procps iproute2 util-linux
"

missing=""
for pkg in $PACKAGES; do
	status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
	if [ "$status" != "install ok installed" ]; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

echo "deps: missing packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root; install them with: sudo $0" >&2
	exit 1
fi

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
