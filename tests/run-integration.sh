#!/bin/bash
# Run the integration tests (tests/integration/*.sh) against a real-server
# test bed.
#
#   tests/run-integration.sh [FILTER]
#
# FILTER selects tests by name (file name without .sh): a glob such as
# '1*' or '*imap*', or a plain word matched anywhere in the name.
# With MF_BED_ENV=/path/to/env naming a running bed (bed.sh up), that bed is
# used; otherwise a fresh bed is brought up in a temporary directory and torn
# down at the end, also on failure or Ctrl-C.
#
# MF_TEST_DIR and MF_LAYER (default tests/integration, "integration") let
# another layer run its own tests the same way (tests/interop/run.sh).
#
# Each test runs as "bash FILE" from the repository top with the bed's
# MF_* variables plus MF_TOP, MF_BIN and a scratch directory MF_TMP, under
# "timeout 300".  Exit 0 = pass, 77 = skip, anything else = fail.  Output is
# shown only for failures.
set -eu

TOP="$(cd "$(dirname "$0")/.." && pwd)"
TEST_DIR="${MF_TEST_DIR:-$TOP/tests/integration}"
LAYER="${MF_LAYER:-integration}"
FILTER="${1:-}"
case "$FILTER" in
*'*'* | *'?'* | *'['*) ;;
'') FILTER='*' ;;
*) FILTER="*$FILTER*" ;;
esac

BED_DIR=""      # set when this script owns the bed
RUN_DIR=""      # per-run scratch: test logs and MF_TMP dirs
TEST_PGID=""    # process group of the running test (timeout's pid)

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# timeout(1) leads a process group of its own: end what the test left.
	if [ -n "$TEST_PGID" ]; then
		kill -TERM -- "-$TEST_PGID" 2>/dev/null || true
	fi
	if [ -n "$BED_DIR" ]; then
		bash "$TOP/tests/bed/bed.sh" down "$BED_DIR" || true
		rm -rf "$BED_DIR"
	fi
	[ -z "$RUN_DIR" ] || rm -rf "$RUN_DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "$LAYER: interrupted" >&2; exit 130' INT TERM

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mailflow-it.XXXXXX")"
# Daemons of the bed (uid 5000, postfix ...) may need to read test files.
chmod 755 "$RUN_DIR"

# tests matching FILTER, one name per line
selected() {
	local file name
	for file in "$TEST_DIR"/[0-9]*.sh; do
		[ -e "$file" ] || continue
		name="$(basename "$file" .sh)"
		# shellcheck disable=SC2254 # FILTER is a pattern on purpose
		case "$name" in $FILTER) echo "$name" ;; esac
	done
}

# Without root there is no bed (Dovecot and Postfix switch users): every
# test is skipped, counted, and the closing line says why.
if [ "$(id -u)" -ne 0 ] && [ -z "${MF_BED_ENV:-}" ]; then
	n=0
	for name in $(selected); do echo "skip $name"; n=$((n + 1)); done
	echo "$LAYER: 0 passed, 0 failed, $n skipped (the test bed needs root)"
	exit 0
fi

if [ -n "${MF_BED_ENV:-}" ] && [ -f "$MF_BED_ENV" ]; then
	echo "$LAYER: using running bed $MF_BED_ENV"
	# shellcheck disable=SC1090
	. "$MF_BED_ENV"
else
	BED_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mailflow-bed.XXXXXX")"
	if ! bash "$TOP/tests/bed/bed.sh" up "$BED_DIR"; then
		echo "integration: the test bed did not come up" >&2
		exit 1
	fi
	# shellcheck disable=SC1091
	. "$BED_DIR/env"
fi

export MF_TOP="$TOP"
# The caller may point at another build (make check SANITIZE=1: build-san/bin).
export MF_BIN="${MF_BIN:-$TOP/bin}"

passed=0 failed=0 skipped=0
for file in "$TEST_DIR"/[0-9]*.sh; do
	[ -e "$file" ] || continue
	name="$(basename "$file" .sh)"
	# shellcheck disable=SC2254 # FILTER is a pattern on purpose
	case "$name" in $FILTER) ;; *) continue ;; esac

	export MF_TMP="$RUN_DIR/$name"
	mkdir -p "$MF_TMP"
	chmod 755 "$MF_TMP"
	log="$RUN_DIR/$name.log"

	rc=0
	# BASH_ENV: a test that "set -e" ends says which command ended it.
	(cd "$TOP" && BASH_ENV="$TOP/tests/integration/lib/errtrap.sh" \
		exec timeout -k 10 300 bash "$file") </dev/null >"$log" 2>&1 &
	TEST_PGID=$!
	wait "$TEST_PGID" || rc=$?
	kill -TERM -- "-$TEST_PGID" 2>/dev/null || true
	TEST_PGID=""

	case "$rc" in
	0)
		echo "ok   $name"
		passed=$((passed + 1))
		;;
	77)
		echo "skip $name"
		# The last line usually says why.
		tail -n 1 "$log" | sed 's/^/     /'
		skipped=$((skipped + 1))
		;;
	*)
		[ "$rc" -ne 124 ] || echo "     (timed out after 300 s)" >>"$log"
		echo "FAIL $name (exit $rc)"
		sed 's/^/     | /' "$log"
		failed=$((failed + 1))
		;;
	esac
done

if [ $((passed + failed + skipped)) -eq 0 ] && [ "$FILTER" != '*' ]; then
	echo "$LAYER: no test matches '$FILTER'" >&2
	exit 1
fi
echo "$LAYER: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
