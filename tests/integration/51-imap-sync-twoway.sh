#!/bin/bash
# imap-sync --two-way against the bed's Dovecot: flags both ways, the
# per-flag conflict rule, a local new message uploaded with its UID,
# --expunge both ways, no expunge by default, UIDVALIDITY reset without
# loss or duplicates, the lock, --dry-run.
set -u
H="$MF_TOP/tests/integration/50-imap-sync-helper.py"
P="T51r$$"
M="$MF_TMP/m"
D="$M/.$P/cur"
export HOME="$MF_TMP/home" MAILFLOW_PASSWORD="$MF_PASS"
mkdir -p "$HOME"
trap '[ -n "${KEEP:-}" ] || python3 "$H" delete "$P" >/dev/null 2>&1' EXIT
fail() { echo "FAIL: $*"; exit 1; }
IS() { "$MF_BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" \
	-s "localhost:$MF_IMAP_PORT" -m "$M" --state "$MF_TMP/st" --folder "$P*" -q "$@"; }
# the file of UID $1 as "new/NAME" (unseen, no info) or "cur/NAME:2,FLAGS"
file_of() { (cd "$M/.$P" && { ls new | sed 's|^|new/|'; ls cur | sed 's|^|cur/|'; } |
	grep -E ",U=$1(:2,|\$)" | head -1); }
sflags() { python3 "$H" flags "$P" | grep "UID $1 " ; }
rename_flags() { f=$(file_of "$1"); b=${f#*/}; mv "$M/.$P/$f" "$D/${b%%:2,*}:2,$2"; }

python3 "$H" populate "$P" 60 >/dev/null || fail populate
IS --two-way || fail "first two-way sync"
python3 "$H" compare "$M" maildir++ "$P" >/dev/null || fail "first sync differs"

# pick messages by their server flags: 1 and 2 have none, 3 is \Seen ...
uids=$(python3 "$H" flags "$P" | sed -n 's/.*UID \([0-9]*\) FLAGS ().*/\1/p' | head -6)
set -- $uids
[ $# -ge 6 ] || fail "not enough unflagged messages"
u_local=$1 u_server=$2 u_conf=$3 u_del_local=$4 u_del_server=$5 u_keep=$6

rename_flags "$u_local" F                                # local change
python3 "$H" store "$P" "$u_server" +FLAGS '(\Answered)' # server change
rename_flags "$u_conf" S                                 # both sides,
python3 "$H" store "$P" "$u_conf" +FLAGS '(\Flagged)'    # other flags
IS --two-way || fail "flag sync"
sflags "$u_local" | grep -q 'Flagged' || fail "local flag did not reach the server"
file_of "$u_server" | grep -q ':2,R$' || fail "server flag did not reach the Maildir"
file_of "$u_conf" | grep -q ':2,FS$' || fail "merge: local $(file_of "$u_conf")"
sflags "$u_conf" | grep -q 'Seen' && sflags "$u_conf" | grep -q 'Flagged' ||
	fail "merge: server $(sflags "$u_conf")"
# same flag removed locally and set again on the server: the change wins
rename_flags "$u_conf" F
IS --two-way || fail "flag removal sync"
sflags "$u_conf" | grep -q 'Seen' && fail "local flag removal not sent"
python3 "$H" compare "$M" maildir++ "$P" >/dev/null || fail "differs after flag sync"

# a message dropped into the local folder is uploaded and gets its UID
printf 'From: local@example.test\nSubject: written offline\nMessage-ID: <offline.%s@example.test>\n\nhello from the Maildir\n' $$ \
	>"$M/.$P/new/1700000000.offline.host"
IS --two-way || fail "upload sync"
# unseen by the MUA: it stays in new/, only named with its UID
ls "$M/.$P/new" | grep -q '^1700000000.offline.host,U=[0-9]*$' || fail "uploaded file not renamed with its UID: $(ls "$M/.$P/new" "$D" | grep offline)"
python3 "$H" compare "$M" maildir++ "$P" >/dev/null || fail "differs after upload"
IS --two-way || fail "sync after upload"
python3 "$H" compare "$M" maildir++ "$P" >/dev/null || fail "upload duplicated"

# a file copied by another program keeps the ",U=" of its original: the
# copy is a message of its own, not a second name for the first
orig=$(file_of "$u_server")
cp "$M/.$P/$orig" "$D/1700000003.copy.host,U=$u_server:2,R"
IS || fail "pull with a duplicate U= number"
[ -f "$D/1700000003.copy.host,U=$u_server:2,R" ] || fail "pull touched the copy"
[ -f "$M/.$P/$orig" ] || fail "pull touched the original"
IS --two-way || fail "two-way with a duplicate U= number"
ls "$D" | grep -q "^1700000003.copy.host,U=[0-9]*:2,R$" || fail "copy not uploaded"
ls "$D" | grep -q "^1700000003.copy.host,U=$u_server:2,R$" && fail "copy kept the taken UID"
python3 "$H" compare "$M" maildir++ "$P" >/dev/null || fail "differs after uploading the copy"

# an upload interrupted after the APPEND (file marked ",A=", server has
# the message): found on the server, not uploaded a second time
f="$D/1700000002.crashed.host,A=1:2,S"
printf 'From: local@example.test\nSubject: crashed upload\nMessage-ID: <crashed.%s@example.test>\n\nonce only\n' $$ >"$f"
python3 "$H" append-file "$P" "$f" || fail "append-file"
IS --two-way --json >"$MF_TMP/crashed.json" || fail "sync after an interrupted upload"
grep -q '"folder":"'"$P"'",[^}]*"adopted":1,[^}]*"uploaded":0' "$MF_TMP/crashed.json" ||
	fail "interrupted upload: $(head -c 600 "$MF_TMP/crashed.json")"
ls "$D" | grep -q '^1700000002.crashed.host,U=[0-9]*:2,S$' || fail "interrupted upload not renamed: $(ls "$D" | grep crashed)"
python3 "$H" compare "$M" maildir++ "$P" >/dev/null || fail "interrupted upload duplicated"

# deletions: none by default, both ways with --expunge
rm "$M/.$P/$(file_of "$u_del_local")"
python3 "$H" expunge "$P" "$u_del_server"
IS --two-way || fail "sync without expunge"
sflags "$u_del_local" | grep -q . || fail "local deletion expunged without --expunge"
[ -n "$(file_of "$u_del_server")" ] || fail "server deletion applied without --expunge"
rm "$M/.$P/$(file_of "$u_keep")"
IS --two-way --expunge || fail "expunge sync"
sflags "$u_keep" | grep -q . && fail "local deletion did not reach the server"
[ -z "$(file_of "$u_del_server")" ] || fail "server deletion not applied with --expunge"
n_local=$(find "$D" "$M/.$P/new" -type f | wc -l) n_server=$(python3 "$H" flags "$P" | grep -c UID)
# u_del_local, deleted before --expunge was given, goes now too
sflags "$u_del_local" | grep -q . && fail "earlier local deletion not sent with --expunge"
[ "$n_server" = "$n_local" ] || fail "counts after expunge: local $n_local server $n_server"

# UIDVALIDITY reset: same messages, new UIDs; a local-only message survives
SUB="$M/.$P.sub/cur"
printf 'Subject: local only\n\nkeep me\n' >"$SUB/1700000001.localonly.host:2,S"
python3 "$H" recreate "$P.sub" >/dev/null || fail "recreate"
"$MF_BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" -s "localhost:$MF_IMAP_PORT" \
	-m "$M" --state "$MF_TMP/st" --folder "$P.sub" --json >"$MF_TMP/reset.json" 2>"$MF_TMP/reset.err" ||
	fail "sync after UIDVALIDITY reset: $(cat "$MF_TMP/reset.err")"
grep -q '"uidvalidity_reset":true' "$MF_TMP/reset.json" || fail "reset not seen: $(cat "$MF_TMP/reset.json")"
grep -q '"fetched":0' "$MF_TMP/reset.json" || fail "reset re-downloaded: $(cat "$MF_TMP/reset.json")"
[ -f "$SUB/1700000001.localonly.host:2,S" ] || fail "local-only message lost"
rm "$SUB/1700000001.localonly.host:2,S"
python3 "$H" compare "$M" maildir++ "$P.sub" >/dev/null || fail "differs after UIDVALIDITY reset"
IS || fail "pull after reset"
python3 "$H" compare "$M" maildir++ "$P.sub" >/dev/null || fail "duplicates after reset"
$MF_DOVEADM mailbox update -u "$MF_USER" --uid-validity 12345 "$P.sub.deep" ||
	fail "doveadm mailbox update"
IS --json >"$MF_TMP/reset2.json" || fail "sync after uid-validity update"
grep -q '"uidvalidity_reset":true,"fetched":0' "$MF_TMP/reset2.json" ||
	fail "uid-validity update: $(cat "$MF_TMP/reset2.json")"
python3 "$H" compare "$M" maildir++ "$P.sub.deep" >/dev/null || fail "differs after uid-validity update"

# --dry-run changes nothing
python3 "$H" append "$P.sub" 2 || fail "append"
before=$(find "$M" -type f | wc -l)
IS --dry-run --json >"$MF_TMP/dry.json" || fail "dry run"
grep -q '"folder":"'"$P"'.sub","path":"[^"]*","dry_run":true,"uidvalidity_reset":false,"fetched":2' \
	"$MF_TMP/dry.json" && grep -q '"exit":0,' "$MF_TMP/dry.json" ||
	fail "dry run report: $(cat "$MF_TMP/dry.json")"
[ "$(find "$M" -type f | wc -l)" = "$before" ] || fail "dry run wrote files"

# two runs at once: the second exits with a clear message
# The holder says when it has the lock (no guessing with a sleep).
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(20)' "$M/.mailflow.lock" "$MF_TMP/locked" &
lockpid=$!
for _ in $(seq 1 200); do [ -e "$MF_TMP/locked" ] && break; sleep 0.05; done
[ -e "$MF_TMP/locked" ] || fail "the lock holder did not take the lock"
out=$(IS 2>&1); rc=$?
kill "$lockpid" 2>/dev/null; wait "$lockpid" 2>/dev/null
[ $rc = 75 ] || fail "locked Maildir: exit $rc, want 75"
echo "$out" | grep -q 'another process' || fail "lock message: $out"
IS || fail "sync after the lock was released"
python3 "$H" compare "$M" maildir++ "$P.sub" >/dev/null || fail "final state differs"
echo ok
