#!/bin/bash
# imap-sync --idle without NOTIFY (RFC 5465), against a private Dovecot that
# offers it (--no-notify turns it off): the defaults are exactly 4 IDLE
# connections and a STATUS poll every 300 s; with --idle-connections 1
# --poll-interval 2 a message delivered to each folder (IDLE or polled)
# and a flag set on the server in each (in a polled one only
# HIGHESTMODSEQ shows it, RFC 7162) reach the Maildir within seconds.
set -u
pid=""
on_exit() {
	[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null
	[ -z "$pid" ] || wait "$pid" 2>/dev/null
}
# shellcheck source=tests/soak/private.sh
. "$MF_TOP/tests/soak/private.sh"
python3 "$S/activity.py" populate W 5 2 || fail populate
export MAILFLOW_PASSWORD="$SOAK_PASS" HOME="$MF_TMP"
M="$MF_TMP/m"
IS() {
	exec "$MF_BIN/imap-sync" -u soak -s localhost -p "$SOAK_IMAPS_PORT" --tls implicit \
		--tls-trust-file "$SOAK_CA" --folder 'W*' -m "$M" --state "$MF_TMP/st" \
		--idle --no-notify "$@"
}
stop() {
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	pid=""
	[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
}

# --- the defaults: 4 IDLE connections, the fifth folder polled every 300 s
IS >"$MF_TMP/idle.log" 2>&1 &
pid=$!
wait_for 'watching' 60 || fail "not watching"
grep -q 'watching 4 folders with IDLE, polling 1 every 300 s' "$MF_TMP/idle.log" ||
	fail "defaults: want 'watching 4 folders with IDLE, polling 1 every 300 s'"
stop

# --- one IDLE connection, the other four polled every 2 s (one of them
# is the mailbox left selected on the main connection, where STATUS does
# not see news: RFC 3501 6.3.10)
IS --idle-connections 1 --poll-interval 2 >"$MF_TMP/idle.log" 2>&1 &
pid=$!
wait_for 'watching' 60 || fail "not watching"
grep -q 'watching 1 folder with IDLE, polling 4 every 2 s' "$MF_TMP/idle.log" ||
	fail "want 'watching 1 folder with IDLE, polling 4 every 2 s'"
# Each change twice: the first sync of a polled folder leaves it selected
# on the main connection, so the second is news of the selected mailbox.
news() {   # FOLDER N
	printf 'From: w@example.test\nSubject: news\n\nnews %s for %s\n' "$2" "$1" |
		DA save -u soak -m "$1" || fail "doveadm save"
	for _ in $(seq 1 50); do grep -rqs "news $2 for $1" "$M/.$1/new" && return 0; sleep 0.2; done
	fail "message $2 delivered to $1 did not arrive (in new/) in 10 s"
}
flag() {   # FOLDER UID: \Flagged set on the server; in a polled folder only
	# HIGHESTMODSEQ shows it
	DA flags add -u soak '\Flagged' mailbox "$1" uid "$2" || fail "doveadm flags"
	for _ in $(seq 1 50); do
		[ "$(find "$M/.$1/cur" -name '*:2,*F*' | wc -l)" -ge "$2" ] && return 0
		sleep 0.2
	done
	fail "\\Flagged set on $1 uid $2 did not arrive in 10 s"
}
t0=$(date +%s)
for f in WA WB WC WD WE; do news "$f" 1; news "$f" 2; done
echo "10 new messages, each within seconds ($(($(date +%s) - t0)) s in all)"
t0=$(date +%s)
for f in WA WB WC WD WE; do flag "$f" 1; flag "$f" 2; done
echo "10 flags, each within seconds ($(($(date +%s) - t0)) s in all)"
stop
MF_CA="$SOAK_CA" MF_IMAPS_PORT="$SOAK_IMAPS_PORT" MF_USER=soak MF_PASS="$SOAK_PASS" \
	python3 "$MF_TOP/tests/integration/50-imap-sync-helper.py" compare "$M" maildir++ W ||
	fail "the Maildir differs from the server"
echo ok
