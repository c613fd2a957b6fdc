#!/bin/bash
# lib/tls.c against the bed's real servers: verified IMAPS (TLS 1.3, chain,
# channel binding), IP-SAN matching, a wrong CA, pinning, the expired /
# wrong-name / unknown-CA Postfix listeners through STARTTLS (the messages
# must name the reason and the certificate's names and dates), STARTTLS on
# submission followed by AUTH, implicit TLS against a plain-text port, and
# session resumption.  The checks live in a Criterion binary
# (tests/unit/test_tls_bed.c) so they can drive the library directly; its
# tests skip themselves without a bed, so here a skip would be a failure.
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
TOP="${MF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}"
BUILD="${MF_BUILD:-$TOP/build}"
BIN="$BUILD/tests/test_tls_bed"

if [ ! -x "$BIN" ]; then
	make -C "$TOP" --no-print-directory "${BIN#"$TOP"/}" >/dev/null ||
		{ echo "FAIL: cannot build $BIN"; exit 1; }
fi

# Dovecot hands out TLS 1.3 tickets it can take back only when one
# imap-login process serves many connections (service_count = 0, which the
# bed sets); with one process per connection each has its own ticket key.
export MF_TLS_TEST_IMAPS_RESUME=1

out="${MF_TMP:-/tmp}/test_tls_bed.out"
rc=0
timeout 240 "$BIN" --verbose >"$out" 2>&1 || rc=$?
grep -v '^\[RUN \]\|^\[PASS\]' "$out" || true
[ "$rc" -eq 0 ] || { echo "FAIL: test_tls_bed exited $rc"; exit 1; }
# With the bed up, nothing may skip: resumption on IMAPS and SMTPS included.
if grep -q '^\[SKIP\]' "$out"; then
	echo "FAIL: tests were skipped although the bed is up"
	exit 1
fi
grep -q 'Synthesis: Tested: [1-9]' "$out" || { echo "FAIL: nothing ran"; exit 1; }
exit 0
