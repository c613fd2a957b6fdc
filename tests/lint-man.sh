#!/usr/bin/env bash
# Every man page must be clean under mandoc -Tlint (warnings count).
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
for m in man/*.[1-8]; do
	[ -f "$m" ] || continue
	out=$(mandoc -Tlint -W warning "$m" 2>&1)
	if [ -z "$out" ]; then
		passed=$((passed + 1)); echo "ok   $m"
	else
		failed=$((failed + 1)); echo "FAIL $m"; echo "$out" | head -20
	fi
done
echo "man: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
