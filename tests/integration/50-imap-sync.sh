#!/bin/bash
# imap-sync against the bed's Dovecot: STARTTLS and IMAPS, LOGIN / PLAIN /
# SCRAM-SHA-256, 2,000 messages in nested and non-ASCII folders pulled
# byte-identical with the right flags, both layouts, a no-change resync that
# fetches no bodies, and the same messages as mbsync.
set -u
H="$MF_TOP/tests/integration/50-imap-sync-helper.py"
P="T50r$$"
export HOME="$MF_TMP/home" MAILFLOW_PASSWORD="$MF_PASS"
mkdir -p "$HOME"
fail() { echo "FAIL: $*"; python3 "$H" delete "$P" >/dev/null 2>&1; exit 1; }
IS() { "$MF_BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" "$@"; }
now() { date +%s.%N; }
trap 'python3 "$H" delete "$P" >/dev/null 2>&1' EXIT

# --- connection and authentication variants (nothing to sync: fast) ---
for v in "-s localhost:$MF_IMAP_PORT" "-s localhost -p $MF_IMAPS_PORT --tls implicit"; do
	for auth in login PLAIN SCRAM-SHA-256 auto; do
		# shellcheck disable=SC2086
		out=$(IS $v --auth $auth --folder "NOPE$P" -m "$MF_TMP/auth" \
			--state "$MF_TMP/auth-state" -v 2>&1) || fail "$v --auth $auth: $out"
		case $auth in
		login) want='> A[0-9]* LOGIN "alice" \*\*\*\*\*\*\*\*' ;;
		auto) want='AUTHENTICATE SCRAM-SHA-256' ;;
		*) want="AUTHENTICATE $auth" ;;
		esac
		echo "$out" | grep -q "$want" || fail "$v --auth $auth: no '$want'"
		echo "$out" | grep -q "$MF_PASS" && fail "password in transcript"
	done
done
echo "$out" | grep -q '^~> ' || fail "no TLS transcript markers"
IS -s "localhost:$MF_IMAP_PORT" --folder "NOPE$P" -m "$MF_TMP/auth" -v 2>&1 |
	grep -q '^-> A1 STARTTLS' || fail "STARTTLS not used on the plain port (or not first: the greeting's capabilities need no CAPABILITY)"
MAILFLOW_PASSWORD=wrong IS -s "localhost:$MF_IMAP_PORT" -m "$MF_TMP/auth" \
	--state "$MF_TMP/auth-state" >/dev/null 2>&1
rc=$?; [ $rc = 77 ] || fail "wrong password: exit $rc, want 77"
"$MF_BIN/imap-sync" -u "$MF_USER" -s "localhost:$MF_IMAP_PORT" -m "$MF_TMP/auth" \
	--state "$MF_TMP/auth-state" >/dev/null 2>&1
rc=$?; [ $rc = 69 ] || fail "untrusted certificate: exit $rc, want 69"
IS --bogus >/dev/null 2>&1; rc=$?; [ $rc = 64 ] || fail "bad option: exit $rc"

# --- 2,000 messages ---
python3 "$H" populate "$P" 2000 || fail "populate"
t0=$(now)
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$P*" \
	-m "$MF_TMP/m" --state "$MF_TMP/st" --json >"$MF_TMP/first.json" ||
	fail "first sync: $(cat "$MF_TMP/first.json")"
t1=$(now)
grep -q '"fetched":2000' "$MF_TMP/first.json" || fail "first sync count: $(cat "$MF_TMP/first.json")"
python3 "$H" compare "$MF_TMP/m" maildir++ "$P" || fail "Maildir differs from the server"
[ -d "$MF_TMP/m/.$P.Entwürfe/cur" ] && [ -d "$MF_TMP/m/.$P.مسودات/cur" ] &&
	[ -d "$MF_TMP/m/.$P.sub.deep/cur" ] || fail "folder names not mapped to UTF-8"

IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$P*" \
	--exclude "$P.sub*" -m "$MF_TMP/m" --state "$MF_TMP/st" --dry-run --json \
	>"$MF_TMP/exclude.json" || fail "--exclude"
[ "$(grep -o '"folder"' "$MF_TMP/exclude.json" | wc -l)" = 3 ] &&
	! grep -q "\"$P.sub" "$MF_TMP/exclude.json" || fail "--exclude: $(cat "$MF_TMP/exclude.json")"
t2=$(now)
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$P*" \
	-m "$MF_TMP/m" --state "$MF_TMP/st" --json -v >"$MF_TMP/second.json" \
	2>"$MF_TMP/second.tx" || fail "second sync"
t3=$(now)
grep -q '"fetched":0' "$MF_TMP/second.json" || fail "second sync fetched bodies"
n=$(grep -c 'BODY\[\]' "$MF_TMP/second.tx")
[ "$n" = 0 ] || fail "second sync: $n BODY[] lines in the transcript"
grep -q 'QRESYNC' "$MF_TMP/second.tx" || fail "QRESYNC not used"
python3 "$H" compare "$MF_TMP/m" maildir++ "$P" >/dev/null || fail "differs after resync"
# A no-change resync of one folder takes 2 round trips (tests/turns.sh):
# the TLS handshake; then AUTHENTICATE PLAIN with SASL-IR, ENABLE, LIST and
# SELECT (QRESYNC) in one write, before the greeting is read: the earlier
# runs recorded what Dovecot's greeting and login announce (STATE/
# capabilities), and both say it again.  LOGOUT is not awaited.
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --auth PLAIN --folder "$P" \
	-m "$MF_TMP/m" --state "$MF_TMP/st" -v >/dev/null 2>"$MF_TMP/one.tx" ||
	fail "one-folder resync: $(tail -3 "$MF_TMP/one.tx")"
n=$(bash "$MF_TOP/tests/turns.sh" "$MF_TMP/one.tx")
[ "$n" = 2 ] || fail "one-folder resync: $n round trips, want 2: $(bash "$MF_TOP/tests/turns.sh" "$MF_TMP/one.tx" -l)"
grep -q '^<~ A[0-9]* OK Logout' "$MF_TMP/one.tx" && fail "LOGOUT's reply was awaited"

# LIST-STATUS (RFC 5819): a resync of the five unchanged folders gets
# their STATUS with LIST, selects none of them and takes the same 2 round
# trips; then a flag change, an expunge and a new message, each in another
# folder, are all seen (HIGHESTMODSEQ or UIDNEXT moved: selected again).
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --auth PLAIN --folder "$P*" \
	-m "$MF_TMP/m" --state "$MF_TMP/st" -v >/dev/null 2>"$MF_TMP/all.tx" ||
	fail "five-folder resync: $(tail -3 "$MF_TMP/all.tx")"
grep -q 'STATUS (UIDNEXT UIDVALIDITY HIGHESTMODSEQ))' "$MF_TMP/all.tx" || fail "LIST-STATUS not used"
n=$(grep -c 'SELECT "' "$MF_TMP/all.tx")
[ "$n" = 0 ] || fail "five unchanged folders: $n SELECTs, want 0"
n=$(bash "$MF_TOP/tests/turns.sh" "$MF_TMP/all.tx")
[ "$n" = 2 ] || fail "five-folder resync: $n round trips, want 2: $(bash "$MF_TOP/tests/turns.sh" "$MF_TMP/all.tx" -l)"
python3 "$H" store "$P.sub" 1:3 +FLAGS '(\Flagged)' || fail "store"
python3 "$H" expunge "$P.sub.deep" 1 || fail "expunge"
python3 "$H" append "$P.Entwürfe" 1 || fail "append"
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$P*" \
	-m "$MF_TMP/m" --state "$MF_TMP/st" --expunge -v >/dev/null 2>"$MF_TMP/chg.tx" ||
	fail "resync after changes: $(tail -3 "$MF_TMP/chg.tx")"
n=$(grep -c 'SELECT "' "$MF_TMP/chg.tx")
[ "$n" = 3 ] || fail "three changed folders: $n SELECTs, want 3: $(grep 'SELECT "' "$MF_TMP/chg.tx")"
python3 "$H" compare "$MF_TMP/m" maildir++ "$P" >/dev/null || fail "differs after the changes"

# --- a pull after changes reads only the entries they touch (the rest of
# the state stays on disk: memory grows with the changes, not the folder).
# Flags changed on the server, an expunge, two new messages, and a local
# flag change on a message the server did not touch: the local change
# stays, the expunge is recorded for a later --expunge, and the state comes
# out whole, as a two-way --expunge run that reads everything then shows.
f="$P.Entwürfe"
python3 "$H" store "$f" 2:4 +FLAGS '(\Answered)' || fail "store"
python3 "$H" store "$f" 5 +FLAGS '(\Draft)' || fail "store"
python3 "$H" expunge "$f" 6 || fail "expunge"
python3 "$H" append "$f" 2 || fail "append"
cp -r "$MF_TMP/st" "$MF_TMP/st.pre"
# the local change: \Flagged on the first message from UID 10 on without it
victim=$(python3 - "$MF_TMP/m/.$f" <<'PY'
import os, re, sys
d = sys.argv[1]
files = []
for sub in ("cur", "new"):
    for fn in os.listdir(os.path.join(d, sub)):
        u = int(re.search(r",U=(\d+)", fn).group(1))
        files.append((u, sub, fn))
for u, sub, fn in sorted(files):
    base, _, letters = fn.partition(":2,")
    if u >= 10 and "F" not in letters:
        nl = "".join(sorted(set(letters + "F")))
        os.rename(os.path.join(d, sub, fn), os.path.join(d, "cur", base + ":2," + nl))
        print(u)
        break
PY
)
[ -n "$victim" ] || fail "no message for the local flag change"
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$f" \
	-m "$MF_TMP/m" --state "$MF_TMP/st" --json >"$MF_TMP/delta.json" ||
	fail "pull after changes: $(cat "$MF_TMP/delta.json")"
grep -q '"fetched":2,' "$MF_TMP/delta.json" || fail "pull after changes: $(cat "$MF_TMP/delta.json")"
python3 - "$MF_TMP/m/.$f" "$MF_TMP/st.pre" "$MF_TMP/st" "$victim" <<'PY' || fail "the state after the pull"
import glob, os, re, sys
d, pre, post, victim = sys.argv[1:]
victim = int(victim)
files = {}
for sub in ("cur", "new"):
    for fn in os.listdir(os.path.join(d, sub)):
        m = re.search(r",U=(\d+)", fn)
        files[int(m.group(1))] = fn
def entries(path):
    return {int(l.split()[1]): l.split() for l in open(path) if l.startswith("+ ")}
key = [p for p in glob.glob(post + "/*.state") if files[victim].split(":2,")[0] in open(p).read()]
assert len(key) == 1, key
before = entries(os.path.join(pre, os.path.basename(key[0])))
after = entries(key[0])
assert sorted(after) == sorted(files), (len(after), len(files))
assert after[6][2] == "1", after[6]                     # expunged remotely, kept
for u in (2, 3, 4):
    assert "R" in after[u][3], after[u]
assert "D" in after[5][3], after[5]
assert "F" in files[victim].split(":2,")[1] and "F" not in after[victim][3], (files[victim], after[victim])
for u in before:
    if u not in (2, 3, 4, 5, 6):
        assert after[u] == before[u], (before[u], after[u])
print("entries", len(after))
PY
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$f" \
	-m "$MF_TMP/m" --state "$MF_TMP/st" --two-way --expunge --json >"$MF_TMP/delta2.json" ||
	fail "two-way after the pull: $(cat "$MF_TMP/delta2.json")"
grep -q '"uploaded":0' "$MF_TMP/delta2.json" && grep -q '"deleted_local":1' "$MF_TMP/delta2.json" &&
	grep -q '"flags_remote":1' "$MF_TMP/delta2.json" ||
	fail "two-way after the pull: $(cat "$MF_TMP/delta2.json")"
python3 "$H" compare "$MF_TMP/m" maildir++ "$P" >/dev/null || fail "differs after the pull of changes"

# --- state lost: rebuilt from the ",U=" names without fetching a body ---
mv "$MF_TMP/st" "$MF_TMP/st.lost"
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$P*" \
	-m "$MF_TMP/m" --state "$MF_TMP/st" --json >"$MF_TMP/rebuild.json" || fail "rebuild"
grep -q '"fetched":[1-9]' "$MF_TMP/rebuild.json" && fail "rebuild fetched bodies"
grep -q '"adopted":[1-9]' "$MF_TMP/rebuild.json" || fail "rebuild adopted nothing"
python3 "$H" compare "$MF_TMP/m" maildir++ "$P" >/dev/null || fail "differs after rebuilding the state"

# --- fs layout, over STARTTLS ---
IS -s "localhost:$MF_IMAP_PORT" --layout fs --folder "$P*" -m "$MF_TMP/fs" \
	--state "$MF_TMP/stfs" -q || fail "fs layout sync"
[ -d "$MF_TMP/fs/$P/sub/deep/cur" ] && [ -d "$MF_TMP/fs/$P/Entwürfe/cur" ] || fail "fs layout dirs"
python3 "$H" compare "$MF_TMP/fs" fs "$P" >/dev/null || fail "fs layout differs from the server"

# --- folders in parallel ---
t7=$(now)
IS -s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$P*" --jobs 4 \
	-m "$MF_TMP/j" --state "$MF_TMP/stj" --json >"$MF_TMP/jobs.json" || fail "--jobs 4"
t8=$(now)
[ "$(grep -o '"folder"' "$MF_TMP/jobs.json" | wc -l)" = 5 ] || fail "--jobs report: $(cat "$MF_TMP/jobs.json")"
python3 "$H" compare "$MF_TMP/j" maildir++ "$P" >/dev/null || fail "--jobs 4 differs from the server"

# --- the same messages as mbsync ---
if command -v mbsync >/dev/null; then
	mkdir -p "$MF_TMP/mb"
	cat >"$MF_TMP/mbsyncrc" <<RC
IMAPAccount t
Host localhost
Port $MF_IMAPS_PORT
User $MF_USER
Pass $MF_PASS
SSLType IMAPS
CertificateFile $MF_CA

IMAPStore t-remote
Account t

MaildirStore t-local
Inbox $MF_TMP/mb
SubFolders Maildir++

Channel t
Far :t-remote:
Near :t-local:
Patterns $P*
Create Near
Sync Pull
SyncState *
RC
	t4=$(now)
	mbsync -c "$MF_TMP/mbsyncrc" -q t 2>/dev/null || fail "mbsync failed"
	t5=$(now)
	mbsync -c "$MF_TMP/mbsyncrc" -q t 2>/dev/null
	t6=$(now)
	python3 "$H" mbsync-compare "$MF_TMP/m" "$MF_TMP/mb" "$P" || fail "differs from mbsync"
	printf 'timing: mbsync first %.2f s, resync %.2f s\n' \
		"$(awk "BEGIN { print $t5 - $t4 }")" "$(awk "BEGIN { print $t6 - $t5 }")"
else
	echo "mbsync not installed: comparison skipped"
fi
printf 'timing: imap-sync first %.2f s (2000 messages), with --jobs 4 %.2f s, resync %.2f s\n' \
	"$(awk "BEGIN { print $t1 - $t0 }")" "$(awk "BEGIN { print $t8 - $t7 }")" "$(awk "BEGIN { print $t3 - $t2 }")"
echo "ok"
