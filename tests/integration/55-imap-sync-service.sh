#!/bin/bash
# imap-sync --idle as a service, against a private Dovecot offering NOTIFY
# (RFC 5465): every folder watched over one connection; in two-way mode a
# local flag change and a new local message reach the server within
# seconds (inotify); a second instance is refused by the lock; SIGUSR1
# syncs at once, SIGHUP re-reads the configuration, SIGTERM exits 0;
# --logfile gets the service's events; refused credentials and an
# untrusted certificate stop it with 77 and 69 instead of retrying.
set -u
pid="" prp=""
on_exit() {
	[ -z "$prp" ] || kill -TERM "$prp" 2>/dev/null
	[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null
	[ -z "$pid" ] || wait "$pid" 2>/dev/null
}
# shellcheck source=tests/soak/private.sh
. "$MF_TOP/tests/soak/private.sh"
python3 "$S/activity.py" populate Svc 3 5 || fail populate
export MAILFLOW_PASSWORD="$SOAK_PASS" HOME="$MF_TMP"
M="$MF_TMP/m"
# (exec: in the background $! is then imap-sync itself, for the signals)
IS() {
	exec "$MF_BIN/imap-sync" -u soak -s localhost -p "$SOAK_IMAPS_PORT" --tls implicit \
		--folder 'Svc*' -m "$M" --state "$MF_TMP/st" "$@"
}
server_flags() {   # FOLDER: the flags of every message
	python3 - "$1" <<'PY'
import imaplib, os, ssl, sys
ctx = ssl.create_default_context(cafile=os.environ["SOAK_CA"])
c = imaplib.IMAP4_SSL("localhost", int(os.environ["SOAK_IMAPS_PORT"]), ssl_context=ctx)
c.login(os.environ["SOAK_USER"], os.environ["SOAK_PASS"])
c.select(sys.argv[1], readonly=True)
typ, data = c.fetch("1:*", "(FLAGS)")
for d in data:
    print(d.decode())
PY
}

# --- refused credentials and certificate: no retry loop ---
MAILFLOW_PASSWORD=wrong timeout 20 "$MF_BIN/imap-sync" -u soak -s localhost \
	-p "$SOAK_IMAPS_PORT" --tls implicit --tls-trust-file "$SOAK_CA" -m "$M" \
	--state "$MF_TMP/st" --idle >/dev/null 2>&1
rc=$?; [ "$rc" = 77 ] || fail "wrong password with --idle: exit $rc, want 77"
timeout 20 "$MF_BIN/imap-sync" -u soak -s localhost -p "$SOAK_IMAPS_PORT" \
	--tls implicit -m "$M" --state "$MF_TMP/st" --idle >/dev/null 2>&1
rc=$?; [ "$rc" = 69 ] || fail "untrusted certificate with --idle: exit $rc, want 69"

# --- SIGTERM in the middle of a first sync over a slow link: the message
# being fetched is finished and kept, exit 0, the next run fetches the rest
python3 "$S/activity.py" populate Big 1 60 || fail "populate Big"
python3 "$S/proxy.py" "$SOAK_PROXY_PORT" "$SOAK_IMAPS_PORT" "$MF_TMP/proxy.pid" 150000 &
prp=$!
for _ in $(seq 1 100); do [ -s "$MF_TMP/proxy.pid" ] && break; sleep 0.1; done
big() {
	exec "$MF_BIN/imap-sync" -u soak -s localhost -p "$SOAK_PROXY_PORT" --tls implicit \
		--tls-trust-file "$SOAK_CA" --folder BigA -m "$MF_TMP/big" --state "$MF_TMP/bigst" "$@"
}
big --idle >"$MF_TMP/big.log" 2>&1 &
bp=$!
# (bodies land in tmp/ and move to new/ -- unseen -- or cur/ at each
# group commit)
for _ in $(seq 1 300); do
	[ "$(find "$MF_TMP/big/.BigA/tmp" "$MF_TMP/big/.BigA/new" "$MF_TMP/big/.BigA/cur" -type f 2>/dev/null | wc -l)" -ge 3 ] && break
	sleep 0.1
done
kill -TERM "$bp"
t0=$(date +%s)
wait "$bp"
rc=$?
[ "$rc" = 0 ] || fail "SIGTERM during a fetch: exit $rc: $(cat "$MF_TMP/big.log")"
[ $(($(date +%s) - t0)) -le 5 ] || fail "SIGTERM during a fetch took more than 5 s"
have=$(find "$MF_TMP/big/.BigA/new" "$MF_TMP/big/.BigA/cur" -type f | wc -l)
[ "$have" -ge 3 ] && [ "$have" -lt 60 ] || fail "SIGTERM during a fetch: $have of 60 messages"
[ -z "$(ls -A "$MF_TMP/big/.BigA/tmp")" ] || fail "files left in tmp/"
kill -TERM "$prp"
wait "$prp"
prp=""
(big -p "$SOAK_IMAPS_PORT" --json >"$MF_TMP/big2.json" 2>&1) || fail "resync: $(cat "$MF_TMP/big2.json")"
grep -q "\"fetched\":$((60 - have))[,}]" "$MF_TMP/big2.json" ||
	fail "after $have kept, the next run: $(cat "$MF_TMP/big2.json")"
MF_CA="$SOAK_CA" MF_IMAPS_PORT="$SOAK_IMAPS_PORT" MF_USER=soak MF_PASS="$SOAK_PASS" \
	python3 "$MF_TOP/tests/integration/50-imap-sync-helper.py" compare "$MF_TMP/big" maildir++ Big ||
	fail "BigA differs from the server after the stop"
echo "SIGTERM during a fetch: $have of 60 kept, the rest fetched next time"

# --- the service ---
IS --tls-trust-file "$SOAK_CA" --idle --two-way --expunge \
	--logfile "$MF_TMP/svc.log" >"$MF_TMP/idle.log" 2>&1 &
pid=$!
wait_for 'watching 3 folders with NOTIFY' 20 || fail "no 'watching 3 folders with NOTIFY'"

(IS --tls-trust-file "$SOAK_CA" --idle >"$MF_TMP/second.log" 2>&1)
rc=$?
[ "$rc" = 75 ] && grep -q 'another process is using the Maildir' "$MF_TMP/second.log" ||
	fail "second instance: exit $rc: $(cat "$MF_TMP/second.log")"

# server -> local, folder without a connection of its own (NOTIFY STATUS)
printf 'From: n@example.test\nSubject: notified\n\nnotify me\n' | DA save -u soak -m SvcC ||
	fail "doveadm save"
for _ in $(seq 1 50); do grep -rqs 'notify me' "$M/.SvcC/new" && break; sleep 0.2; done
grep -rqs 'notify me' "$M/.SvcC/new" || fail "a message delivered to SvcC did not arrive (in new/) in 10 s"

# local -> server: a flag set by a MUA's rename from new/ to cur/
# (inotify, debounced)
f=$(find "$M/.SvcB/new" -type f | head -n 1)
[ -n "$f" ] || fail "no unseen message in SvcB/new"
mv "$f" "$M/.SvcB/cur/$(basename "$f"):2,F"
t0=$(date +%s)
for _ in $(seq 1 50); do [[ $(server_flags SvcB) == *Flagged* ]] && break; sleep 0.2; done
[[ $(server_flags SvcB) == *Flagged* ]] || fail "a local flag did not reach the server in 10 s"
echo "local flag on the server after $(($(date +%s) - t0)) s"
# a new local message in new/ is uploaded
printf 'From: l@example.test\nSubject: local\n\nwritten here\n' >"$M/.SvcA/tmp/local1"
mv "$M/.SvcA/tmp/local1" "$M/.SvcA/new/local1"
for _ in $(seq 1 50); do [ "$(DA search -u soak mailbox SvcA all | wc -l)" = 6 ] && break; sleep 0.2; done
[ "$(DA search -u soak mailbox SvcA all | wc -l)" = 6 ] || fail "a local message was not uploaded in 10 s"

kill -USR1 "$pid"
wait_for 'synchronising every folder now' || fail "SIGUSR1: no sync"
kill -HUP "$pid"
wait_for 're-reading the configuration' || fail "SIGHUP: no re-read"
# The re-read ends with a full sync: up to 60 s on a loaded machine or a
# sanitized build.
for _ in $(seq 1 300); do
	[ "$(grep -c 'watching 3 folders' "$MF_TMP/idle.log")" -ge 2 ] && break
	sleep 0.2
done
[ "$(grep -c 'watching 3 folders' "$MF_TMP/idle.log")" -ge 2 ] || fail "SIGHUP: not watching again"
grep -q "event='watching 3 folders with NOTIFY'" "$MF_TMP/svc.log" || fail "no event line in --logfile"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
MF_CA="$SOAK_CA" MF_IMAPS_PORT="$SOAK_IMAPS_PORT" MF_USER=soak MF_PASS="$SOAK_PASS" \
	python3 "$MF_TOP/tests/integration/50-imap-sync-helper.py" compare "$M" maildir++ Svc ||
	fail "the Maildir differs from the server"
echo ok
