#!/bin/bash
# Run the interop tests (tests/interop/[0-9]*.sh) against servers other
# than the bed's Dovecot and Postfix: Exim and Cyrus IMAP/POP3/LMTP, started
# by tests/interop/setup.sh from a private root in a temporary directory.
#
#   tests/interop/run.sh [FILTER]        (make interop [INTEROP=FILTER])
#
# The tests run through tests/run-integration.sh (FILTER, per-test timeout
# of 300 s, exit 0 = pass, 77 = skip, output only for failures, MF_TMP),
# with the servers' MF_* variables (setup.sh's header lists them).  The
# servers are stopped and their directory removed at the end, also on
# failure or Ctrl-C.  Without root every test is skipped.
set -eu

TOP="$(cd "$(dirname "$0")/../.." && pwd)"
export MF_TEST_DIR="$TOP/tests/interop" MF_LAYER=interop
if [ "$(id -u)" -ne 0 ]; then
	exec bash "$TOP/tests/run-integration.sh" "$@"
fi

DIR=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$DIR" ]; then
		bash "$TOP/tests/interop/setup.sh" down "$DIR" || true
		rm -rf "$DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "interop: interrupted" >&2; exit 130' INT TERM

start=$SECONDS
DIR="$(mktemp -d "${TMPDIR:-/tmp}/mailflow-interop.XXXXXX")"
if ! timeout -k 10 600 bash "$TOP/tests/interop/setup.sh" up "$DIR"; then
	echo "interop: the servers did not come up" >&2
	exit 1
fi
rc=0
MF_BED_ENV="$DIR/env" bash "$TOP/tests/run-integration.sh" "$@" || rc=$?
echo "interop: done in $((SECONDS - start)) s"
exit "$rc"
