#!/usr/bin/env bash
# Run every Criterion unit test binary in BUILD/tests and sum the results.
# Usage: tests/run-unit.sh BUILD_DIR
set -u
build=${1:-build}
passed=0 failed=0 skipped=0 broken=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	# test_*_bed need the real servers: tests/integration/10-tls.sh runs them.
	case "$name" in *_bed) continue ;; esac
	# Criterion forks a process per test; -j2 matches the machine's cores.
	# --verbose: Criterion's synthesis does not count skips; its [SKIP] lines do.
	if timeout 600 "$t" -j2 --verbose >"$log" 2>&1; then status=ok; else status=FAIL; fi
	syn=$(grep -a 'Synthesis:' "$log" | tail -n 1)
	tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$syn")
	pass=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn")
	fail=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
	crash=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn")
	skip=$(grep -ac '^\[SKIP\]' "$log")
	why=$(grep -am 1 '^\[SKIP\]' "$log" | sed 's/^\[SKIP\] [^ ]* //')
	if [ -z "$syn" ]; then
		status=FAIL
		broken=$((broken + 1))
	elif [ "${tested:-0}" -eq 0 ] && [ "$status" = ok ]; then
		# A binary that ran nothing passes nothing: skipped, with the reason.
		if [ "$skip" -gt 0 ]; then
			status=skip
			syn="$syn ($skip skipped: $why)"
		else
			status=FAIL
			broken=$((broken + 1))
			syn="$syn (no test ran)"
		fi
	elif [ "$skip" -gt 0 ]; then
		syn="$syn ($skip skipped: $why)"
	fi
	passed=$((passed + ${pass:-0}))
	failed=$((failed + ${fail:-0} + ${crash:-0}))
	skipped=$((skipped + ${skip:-0}))
	printf '%-4s %-28s %s\n' "$status" "$name" "${syn#*Synthesis: }"
	if [ "$status" = FAIL ]; then
		grep -av '^\[----\]   \|^\[====\]' "$log" | tail -n 40
	fi
done
failed=$((failed + broken))
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
