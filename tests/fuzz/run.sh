#!/bin/bash
# run.sh - build and run the libFuzzer harnesses of tests/fuzz/.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]   fuzz each target SECONDS (30)
#   tests/fuzz/run.sh --replay [TARGET...]    run the committed corpus and
#                                             crash-regression files once
#   FUZZ_RUNS=N tests/fuzz/run.sh [TARGET...] fuzz each target for N
#                                             executions instead of a time
#                                             (FUZZ_MAX_SECONDS caps it)
# FUZZ_TIMEOUT (10) is the seconds one input may take: raise it on a
# loaded machine, where a starved process hits it with harmless inputs.
#
# Builds lib/*.c and tests/fuzz/fuzz_*.c with clang, libFuzzer, ASan and
# UBSan (UB aborts) into build-fuzz/.  New corpus entries go to
# build-fuzz/corpus/NAME (the committed seeds in tests/fuzz/corpus/NAME are
# only read); a crash is written to build-fuzz/artifacts/NAME/.  One target
# at a time, one worker.  Exit 0 when every target passed.
# The last line is "fuzz: N passed, N failed".
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
CC=${FUZZ_CC:-clang}
out=${FUZZ_OUT:-build-fuzz}
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
CFLAGS="-g -O1 $SAN -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags gnutls libmagic 2>/dev/null)"
LIBS="$(pkg-config --libs gnutls libmagic gpgme libcrypto libidn2 2>/dev/null || echo -lgnutls -lmagic -lgpgme -lcrypto -lidn2) -lresolv -lm"

replay=0
secs=30
if [ "${1:-}" = "--replay" ]; then
	replay=1
	shift
elif [ -n "${1:-}" ] && [ "${1#[0-9]}" != "$1" ]; then
	secs=$1
	shift
fi

if ! command -v "$CC" >/dev/null; then
	echo "run.sh: $CC not found" >&2
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# Longest input per target: a few times what a real peer line or record
# needs, small enough to keep executions fast.
maxlen() {
	case $1 in
	dns) echo 4096 ;;
	imap|pop3|lineio|smtp) echo 8192 ;;
	config|mime|mtasts) echo 4096 ;;
	autoconfig) echo 16384 ;;
	maildir|utf7|rfc2047) echo 512 ;;
	*) echo 2048 ;;
	esac
}

mkdir -p "$out/lib" "$out/corpus" "$out/artifacts"

# ---- build the library the same way ----
fail_build=0
objs=()
for src in lib/*.c; do
	obj=$out/lib/$(basename "${src%.c}").o
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ lib -nt "$obj" ] ||
	   [ -n "$(find lib -name '*.h' -newer "$obj" -print -quit)" ]; then
		if ! $CC $CFLAGS -c -o "$obj" "$src" 2>"$obj.log"; then
			echo "run.sh: cannot compile $src:" >&2
			head -20 "$obj.log" >&2
			rm -f "$obj"
			fail_build=1
			continue
		fi
	fi
	objs+=("$obj")
done
rm -f "$out/libmailflow.a.$$"
ar rcs "$out/libmailflow.a.$$" "${objs[@]}" || exit 1
mv -f "$out/libmailflow.a.$$" "$out/libmailflow.a"

# ---- targets ----
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		n=$(basename "${f%.c}")
		targets+=("${n#fuzz_}")
	done
fi

pass=0
failn=0
total_execs=0
for t in "${targets[@]}"; do
	src=tests/fuzz/fuzz_$t.c
	bin=$out/fuzz_$t
	if [ ! -f "$src" ]; then
		echo "FAIL $t: no $src"
		failn=$((failn + 1))
		continue
	fi
	if ! $CC $CFLAGS -o "$bin" "$src" "$out/libmailflow.a" $LIBS \
	    2>"$out/fuzz_$t.build.log"; then
		echo "FAIL $t: build (see $out/fuzz_$t.build.log)"
		head -20 "$out/fuzz_$t.build.log"
		failn=$((failn + 1))
		continue
	fi
	seeds=tests/fuzz/corpus/$t
	mkdir -p "$seeds" "$out/corpus/$t" "$out/artifacts/$t"
	log=$out/fuzz_$t.log
	if [ $replay = 1 ]; then
		# Every seed and regression file once (a file list, so that
		# crash-* files are run too; libFuzzer skips nothing).
		files=("$seeds"/*)
		[ -e "${files[0]}" ] || files=()
		env -u MF_FUZZ_KNOWN "$bin" -runs=0 -rss_limit_mb=2048 -timeout=10 \
		    -artifact_prefix="$out/artifacts/$t/" \
		    "${files[@]}" >"$log" 2>&1
		rc=$?
	else
		# Seeds but not the regression files, so that a known,
		# reported crash does not stop the search for new ones.
		for f in "$seeds"/*; do
			case $(basename "$f") in
			crash-*|leak-*|timeout-*|oom-*) ;;
			*) [ -f "$f" ] && cp -n "$f" "$out/corpus/$t/" ;;
			esac
		done
		if [ -n "${FUZZ_RUNS:-}" ]; then
			limit="-runs=$FUZZ_RUNS"
			[ -z "${FUZZ_MAX_SECONDS:-}" ] ||
			    limit="$limit -max_total_time=$FUZZ_MAX_SECONDS"
		else
			limit="-max_total_time=$secs"
		fi
		# shellcheck disable=SC2086
		"$bin" $limit -max_len="$(maxlen "$t")" \
		    -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
		    -print_final_stats=1 \
		    -artifact_prefix="$out/artifacts/$t/" \
		    "$out/corpus/$t" >"$log" 2>&1
		rc=$?
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$execs" ] || execs=$(grep -c '^Executed ' "$log")
	total_execs=$((total_execs + execs))
	if [ $rc = 0 ]; then
		echo "ok   $t ($execs runs)"
		pass=$((pass + 1))
	else
		echo "FAIL $t (exit $rc, log $log):"
		grep -m1 -A25 'ERROR: \|runtime error\|contract violated\|deadly signal' "$log" | head -40
		grep 'Test unit written to' "$log"
		[ $replay = 0 ] || grep '^Running: ' "$log" | tail -1
		failn=$((failn + 1))
	fi
done
[ $fail_build = 0 ] || echo "note: some lib/*.c did not compile (see above)"
echo "total executions: $total_execs"
echo "fuzz: $pass passed, $failn failed"
[ $failn = 0 ]
