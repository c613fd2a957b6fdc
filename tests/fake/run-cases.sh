#!/bin/bash
# run-cases.sh - run mailflow's fake-server test cases (test layer 2).
#
#   tests/fake/run-cases.sh [FILTER]          run cases/*.case whose name contains FILTER
#   tests/fake/run-cases.sh --make-certs DIR  only generate the test certificates into DIR
#
# One line per case (ok / FAIL / skip), then "fake: N passed, N failed, N skipped".
# Exit 1 if any case failed.  The case format is described in tests/fake/README.
# Set KEEP=1 to keep the scratch directory (printed at the end) for inspection.

set -u
shopt -u patsub_replacement 2>/dev/null   # '&' in a substituted path stays '&'

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# The tools under test: bin/, or another build (make check SANITIZE=1).
BIN=${MF_BIN:-$TOP/bin}
SERVER="$HERE/fakeserver.py"
GRACE=5             # seconds the server may take to finish after the client

die() { echo "run-cases: $*" >&2; exit 2; }

# ---------------------------------------------------------------- certificates

# cert_template FILE CN [ca] [expired]: a certtool template for one certificate.
cert_template() {
	local file=$1 cn=$2 kind=${3:-leaf} dates=${4:-}
	{
		echo "cn = \"$cn\""
		echo "serial = $RANDOM$RANDOM"
		if [ "$kind" = ca ]; then
			echo "ca"
			echo "cert_signing_key"
		else
			echo "dns_name = \"$cn\""
			[ "$cn" = localhost ] && echo 'ip_address = "127.0.0.1"'
			echo "tls_www_server"
			echo "signing_key"
			echo "encryption_key"
		fi
		if [ "$dates" = expired ]; then
			echo 'activation_date = "2020-01-01 00:00:00"'
			echo 'expiration_date = "2020-01-31 00:00:00"'
		else
			echo "expiration_days = 30"
		fi
	} >"$file"
}

# make_cert DIR NAME CN KIND SIGNER [expired]: key + certificate NAME.{key,pem};
# SIGNER is the name of a CA in DIR, or "self" for a self-signed certificate.
make_cert() {
	local dir=$1 name=$2 cn=$3 kind=$4 signer=$5 dates=${6:-}
	cert_template "$dir/$name.tmpl" "$cn" "$kind" "$dates"
	certtool --generate-privkey --key-type=ecdsa --outfile "$dir/$name.key" \
		>/dev/null 2>&1 || return 1
	if [ "$signer" = self ]; then
		certtool --generate-self-signed --load-privkey "$dir/$name.key" \
			--template "$dir/$name.tmpl" --outfile "$dir/$name.pem" >/dev/null 2>&1
	else
		certtool --generate-certificate --load-privkey "$dir/$name.key" \
			--load-ca-certificate "$dir/$signer.pem" \
			--load-ca-privkey "$dir/$signer.key" \
			--template "$dir/$name.tmpl" --outfile "$dir/$name.pem" >/dev/null 2>&1
	fi
}

# make_certs DIR: ca.pem (the test CA, %CA) and the six server certificates
# the scripts name: ok, expired, wrongname, unknownca, selfsigned, mx.
make_certs() {
	local dir=$1
	command -v certtool >/dev/null || die "certtool not found (apt install gnutls-bin)"
	if ! { mkdir -p "$dir" &&
		make_cert "$dir" ca "mailflow test CA" ca self &&
		make_cert "$dir" otherca "mailflow unknown CA" ca self &&
		make_cert "$dir" ok localhost leaf ca &&
		make_cert "$dir" expired localhost leaf ca expired &&
		make_cert "$dir" wrongname wrong.invalid leaf ca &&
		make_cert "$dir" unknownca localhost leaf otherca &&
		make_cert "$dir" selfsigned localhost leaf self &&
		make_cert "$dir" mx mx.fake.test leaf ca; }; then
		die "certificate generation failed in $dir"
	fi
	rm -f "$dir"/*.tmpl
}

# ---------------------------------------------------------------- one case

# Per-case state, reset by run_case.
CASE='' NAME='' T='' SEC='' FAILMSG=''

fail() { FAILMSG+="$*"$'\n'; }

# section NAME: print a section of the current case (empty if absent).
section() { [ -f "$SEC/$1" ] && cat "$SEC/$1"; }

# check_requires: 0 if every binary named in "requires" exists.  NAME means
# %BIN/NAME; tool:NAME means NAME on the PATH (for self tests and helpers).
check_requires() {
	local word
	for word in $(section requires); do
		case $word in
		tool:*) command -v "${word#tool:}" >/dev/null || return 1 ;;
		*) [ -x "$BIN/$word" ] || return 1 ;;
		esac
	done
}

# start_server: run fakeserver.py on the case in the background, set SPID
# and PORT; it stops by itself at its own deadline.
start_server() {
	SPID='' PORT=''
	[ -s "$SEC/server" ] || return 0
	python3 "$SERVER" --script "$CASE" --certs "$CERTS" --timeout "$TIMEOUT" \
		--port-file "$T/port" --transcript "$T/transcript" \
		--captured "$T/captured" --log "$T/server.log" \
		>/dev/null 2>"$T/server.err" &
	SPID=$!
	local i
	for ((i = 0; i < 100; i++)); do     # the port file appears atomically
		[ -s "$T/port" ] && { PORT=$(<"$T/port"); return 0; }
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	fail "fake server did not start"
	return 1
}

# stop_server: wait for the server to finish by itself, else end it.
# Sets SRC to its exit status.
stop_server() {
	SRC=0
	[ -n "$SPID" ] || return 0
	local i
	for ((i = 0; i < GRACE * 10; i++)); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$SPID" 2>/dev/null && kill -TERM "$SPID" 2>/dev/null
	wait "$SPID"
	SRC=$?
}

# client_script: the client section with the placeholders substituted.
client_script() {
	local s
	s=$(section client)
	s=${s//"%PORT"/"$PORT"}
	s=${s//"%HOST"/"127.0.0.1"}
	s=${s//"%BIN"/"$BIN"}
	s=${s//"%TOP"/"$TOP"}
	s=${s//"%TMP"/"$T"}
	s=${s//"%CA"/"$CERTS/ca.pem"}
	printf '%s\n' "$s"
}

# run_client: run the snippet in its own process group under timeout(1)
# (which signals the whole group), then kill whatever it left behind.
run_client() {
	client_script >"$T/client.sh"
	mkdir -p "$T/home"
	(cd "$T" && HOME="$T/home" exec timeout -k 2 "$TIMEOUT" bash "$T/client.sh" \
		</dev/null >"$T/stdout" 2>"$T/stderr") &
	local cpid=$!
	wait "$cpid"
	CRC=$?
	kill -KILL -- "-$cpid" 2>/dev/null    # timeout(1) led group $cpid
	[ "$CRC" = 124 ] && fail "client timed out after $TIMEOUT s"
	return 0
}

# check_output: every non-empty line of section $1 must occur in file $2.
check_output() {
	local line
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		grep -qF -- "$line" "$2" || fail "$1: missing \"$line\""
	done < <(section "$1")
}

check_not_output() {
	local line
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		grep -qF -- "$line" "$T/stdout" "$T/stderr" &&
			fail "not-output: \"$line\" appears in the client's output"
	done < <(section not-output)
}

# check_lines NAME FILE: the recorded lines must match the section in full.
check_lines() {
	[ -f "$SEC/$1" ] || return 0
	python3 "$SERVER" --match "$SEC/$1" "$2" >"$T/$1.diff" ||
		fail "$1 mismatch:"$'\n'"$(sed 's/^/    /' "$T/$1.diff")"
}

check_results() {
	local want
	want=$(section exit | tr -d '[:space:]')
	want=${want:-0}
	[ "$CRC" = "$want" ] || fail "client exit status $CRC, expected $want"
	check_output stdout "$T/stdout"
	check_output stderr "$T/stderr"
	check_not_output
	check_lines transcript "$T/transcript"
	check_lines captured "$T/captured"
}

show_failure() {
	printf '%s' "$FAILMSG" | sed 's/^/     /'
	local f
	for f in stdout stderr; do
		[ -s "$T/$f" ] || continue
		echo "     --- client $f:"
		tail -n 20 "$T/$f" | sed 's/^/     | /'
	done
	if [ -s "$T/server.log" ]; then
		echo "     --- server log (last 25 lines):"
		tail -n 25 "$T/server.log" | cut -c1-200 | sed 's/^/     | /'
	fi
}

# run_case FILE: prints one result line; returns 0 ok, 1 fail, 77 skip.
run_case() {
	CASE=$1 NAME=$(basename "$1" .case) FAILMSG=
	T="$RUNTMP/$NAME" SEC="$RUNTMP/$NAME/sections"
	mkdir -p "$SEC"
	if ! python3 "$SERVER" --split-case "$CASE" "$SEC" 2>"$T/split.err"; then
		echo "FAIL $NAME"
		sed 's/^/     /' "$T/split.err"
		return 1
	fi
	if ! check_requires; then
		echo "skip $NAME"
		return 77
	fi
	TIMEOUT=$(section timeout | tr -d '[:space:]')
	TIMEOUT=${TIMEOUT:-30}
	CRC=0 SRC=0 SPID=''
	if start_server; then
		run_client
	fi
	stop_server
	[ "$SRC" = 0 ] || fail "server: $(cat "$T/server.err")"
	# the list in README is what a reader trusts: no case may be missing
	grep -qx "  $NAME" "$HERE/README" ||
		fail "not listed under 'The cases' in tests/fake/README"
	[ -n "$FAILMSG" ] || check_results
	if [ -n "$FAILMSG" ]; then
		echo "FAIL $NAME"
		show_failure
		return 1
	fi
	echo "ok   $NAME"
}

# ---------------------------------------------------------------- main

if [ "${1:-}" = --make-certs ]; then
	[ $# = 2 ] || die "usage: $0 --make-certs DIR"
	make_certs "$2"
	exit 0
fi

FILTER=${1:-}
command -v python3 >/dev/null || die "python3 not found"
RUNTMP=$(mktemp -d "${TMPDIR:-/tmp}/mailflow-fake.XXXXXX") || die "mktemp failed"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$RUNTMP"' EXIT
CERTS="$RUNTMP/certs"
make_certs "$CERTS"

passed=0 failed=0 skipped=0
for c in "$HERE"/cases/*.case; do
	[ -e "$c" ] || continue
	name=$(basename "$c" .case)
	[[ $name == *$FILTER* ]] || continue
	run_case "$c"
	case $? in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
done
[ "${KEEP:-0}" = 1 ] && echo "scratch directory kept: $RUNTMP"
echo "fake: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
