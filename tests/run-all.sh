#!/usr/bin/env bash
# make check's runner: every test layer, then one closing line.
# Usage: tests/run-all.sh BUILD_DIR BIN_DIR
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
export MF_BIN="$top/${2:-bin}"
export MF_BUILD="$top/$build"
cd "$top"
tp=0 tf=0 ts=0 rc=0 why=""
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# Run one layer; add its "N passed, N failed[, N skipped]" closing line.
layer() {
	local name=$1 line p f s r; shift
	echo "==== $name"
	"$@" 2>&1 | tee "$logdir/$name"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	# Each runner's own closing line: "NAME: N passed, N failed[, N skipped]".
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$logdir/$name" | tail -n 1)
	p=$(sed -E 's/^[a-z]+: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	# A layer that skips says why in parentheses after its counts.
	r=$(sed -nE 's/.* skipped \((.*)\)$/\1/p' <<<"$line")
	[ -z "$r" ] || why="${why:+$why; }$name: $r"
	if [ -z "$line" ]; then echo "$name: no result line"; rc=1; f=1; fi
	tp=$((tp + ${p:-0})); tf=$((tf + ${f:-0})); ts=$((ts + ${s:-0}))
}

start=$(date +%s)
layer build bash tests/check-build.sh
layer layers /usr/bin/python3 tests/check-layers.py "$top"
layer unit bash tests/run-unit.sh "$build"
layer man bash tests/lint-man.sh
layer completions bash tests/check-completions.sh
layer fuzz bash tests/fuzz/run.sh --replay
layer fake bash tests/fake/run-cases.sh
layer integration bash tests/run-integration.sh
echo "==== done in $(( $(date +%s) - start )) s"
[ "$tf" -eq 0 ] || rc=1
echo "check: $tp passed, $tf failed, $ts skipped${why:+ ($why)}"
exit $rc
