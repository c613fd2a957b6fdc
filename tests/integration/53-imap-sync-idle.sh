#!/bin/bash
# imap-sync --idle: a message delivered while it waits appears in the
# Maildir within seconds; SIGTERM ends it cleanly.
set -u
H="$MF_TOP/tests/integration/50-imap-sync-helper.py"
P="T53r$$"
M="$MF_TMP/m"
export HOME="$MF_TMP/home" MAILFLOW_PASSWORD="$MF_PASS"
mkdir -p "$HOME"
pid=""
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null
	[ -n "${KEEP:-}" ] || python3 "$H" delete "$P" >/dev/null 2>&1
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$MF_TMP/idle.log" ] && cat "$MF_TMP/idle.log"; exit 1; }
count() { find "$M/.$P/cur" "$M/.$P/new" -type f 2>/dev/null | wc -l; }

python3 "$H" populate "$P" 50 >/dev/null || fail populate
timeout 60 "$MF_BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" \
	-s "localhost:$MF_IMAP_PORT" -m "$M" --state "$MF_TMP/st" --folder "$P" \
	--idle >"$MF_TMP/idle.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	grep -q "^$P: " "$MF_TMP/idle.log" && break
	sleep 0.2
done
grep -q "^$P: " "$MF_TMP/idle.log" || fail "first sync did not finish"
before=$(count)
sleep 1
printf 'From: idle@example.test\nSubject: while idling\nMessage-ID: <idle.%s@example.test>\n\npush me\n' $$ |
	$MF_DOVEADM save -u "$MF_USER" -m "$P" || fail "doveadm save"
start=$(date +%s.%N)
for _ in $(seq 1 50); do
	[ "$(count)" -gt "$before" ] && break
	sleep 0.2
done
[ "$(count)" -gt "$before" ] || fail "the delivered message did not appear within 10 s"
printf 'idle: message appeared after %.2f s\n' "$(awk "BEGIN { print $(date +%s.%N) - $start }")"
# unseen: in new/ (MUAs count it as new mail)
grep -rq 'push me' "$M/.$P/new" || fail "wrong message, or not in new/"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" = 0 ] || fail "imap-sync --idle exit $rc after SIGTERM"
# only $P was synced; its subfolders are not compared
python3 "$H" compare "$M" maildir++ "$P" | grep "^DIFF $P:" && fail "folder differs from the server"
echo ok
