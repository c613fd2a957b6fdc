#!/bin/bash
# imap-sync --folder-names: modified UTF-7 on disk as Dovecot, Courier and
# mbsync keep it (.P.Entw&APw-rfe), UTF-8 by default; the encoding is
# recorded in the Maildir and switching it on an existing Maildir is refused
# (exit 78) instead of making a second copy of every folder.
set -u
H="$MF_TOP/tests/integration/50-imap-sync-helper.py"
P="T56f$$"
export HOME="$MF_TMP/home" MAILFLOW_PASSWORD="$MF_PASS"
mkdir -p "$HOME"
fail() { echo "FAIL: $*"; python3 "$H" delete "$P" >/dev/null 2>&1; exit 1; }
IS() { "$MF_BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" \
	-s localhost --port "$MF_IMAPS_PORT" --tls implicit --folder "$P*" "$@"; }
trap 'python3 "$H" delete "$P" >/dev/null 2>&1' EXIT

python3 "$H" populate "$P" 10 >/dev/null || fail "populate"

# modified UTF-7 names, as Dovecot's own Maildir++ spells them
IS --folder-names mutf7 -m "$MF_TMP/m7" --state "$MF_TMP/st7" -q ||
	fail "mutf7 sync"
[ -d "$MF_TMP/m7/.$P.Entw&APw-rfe/cur" ] || fail "no .$P.Entw&APw-rfe: $(ls -a "$MF_TMP/m7")"
[ -d "$MF_TMP/m7/.$P.sub.deep/cur" ] || fail "nested folder missing"
ls -a "$MF_TMP/m7" | LC_ALL=C grep -q '[^ -~]' && fail "non-ASCII name on disk in mutf7 mode"
[ "$(cat "$MF_TMP/m7/.mailflow-folder-names")" = mutf7 ] || fail "encoding not recorded"

# switching that Maildir to UTF-8 is refused clearly, nothing created
IS -m "$MF_TMP/m7" --state "$MF_TMP/st7" >"$MF_TMP/out" 2>&1
rc=$?
[ $rc = 78 ] || fail "switch to utf8: exit $rc, want 78: $(cat "$MF_TMP/out")"
grep -q "keeps its folder names as mutf7" "$MF_TMP/out" || fail "unclear refusal: $(cat "$MF_TMP/out")"
[ -d "$MF_TMP/m7/.$P.Entwürfe" ] && fail "a UTF-8 copy was made"

# the default (UTF-8), then the config key asks for mutf7: refused too
IS -m "$MF_TMP/m8" --state "$MF_TMP/st8" -q || fail "utf8 sync"
[ -d "$MF_TMP/m8/.$P.Entwürfe/cur" ] || fail "no UTF-8 folder"
printf 'defaults\nfolder_names mutf7\n' >"$MF_TMP/cfg"
IS --config "$MF_TMP/cfg" -m "$MF_TMP/m8" --state "$MF_TMP/st8" >"$MF_TMP/out" 2>&1
rc=$?
[ $rc = 78 ] || fail "config switch to mutf7: exit $rc: $(cat "$MF_TMP/out")"
[ -d "$MF_TMP/m8/.$P.Entw&APw-rfe" ] && fail "a mUTF-7 copy was made"

# a Maildir without the record (an older mailflow's) is judged by its names
rm "$MF_TMP/m8/.mailflow-folder-names"
IS --folder-names mutf7 -m "$MF_TMP/m8" --state "$MF_TMP/st8" >"$MF_TMP/out" 2>&1
rc=$?
[ $rc = 78 ] || fail "unrecorded UTF-8 Maildir taken as mutf7: exit $rc"
IS --folder-names utf8 -m "$MF_TMP/m8" --state "$MF_TMP/st8" -q || fail "utf8 again"
echo "56-imap-sync-folder-names: all passed"
