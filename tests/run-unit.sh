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
	# Criterion forks a process per test; -j2 matches the machine's cores.
	if timeout 600 "$t" -j2 >"$log" 2>&1; then status=ok; else status=FAIL; fi
	syn=$(grep -a 'Synthesis:' "$log" | tail -n 1)
	tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$syn")
	pass=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn")
	fail=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
	crash=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn")
	skip=$(sed -n 's/.*Skipped: \([0-9]*\).*/\1/p' <<<"$syn")
	if [ -z "$syn" ]; then
		status=FAIL
		broken=$((broken + 1))
	fi
	passed=$((passed + ${pass:-0}))
	failed=$((failed + ${fail:-0} + ${crash:-0}))
	skipped=$((skipped + ${skip:-0}))
	printf '%-4s %-28s %s\n' "$status" "$name" "${syn#*Synthesis: }"
	if [ "$status" != ok ]; then
		grep -av '^\[----\]   \|^\[====\]' "$log" | tail -n 40
	fi
	: "${tested:=0}"
done
failed=$((failed + broken))
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
