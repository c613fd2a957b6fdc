#!/bin/bash
# mailflow-config import of an mbsyncrc end to end: an mbsyncrc pointed at
# the bed (IMAPAccount with PassCmd and SSLType IMAPS, IMAPStore,
# MaildirStore, Channel with Patterns) is converted, and imap-sync run
# with the result (--config, the Channel's name as account) fetches a
# message sent for the test.  (70-cron does the same for an msmtprc with
# mailsend and an mpoprc with pop-fetch.)
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
BIN="${MF_BIN:-$MF_TOP/bin}"
T="$(mktemp -d "${MF_TMP:-/tmp}/cfgimport.XXXXXX")"
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"

step() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }

H="$T/home"
mkdir -p "$H"
printf '%s\n' "$MF_PASS" >"$T/pw"
cat >"$H/.mbsyncrc" <<RC
# defaults for every channel
Sync Pull
Create Near

IMAPAccount bed
Host $MF_TLS_HOST
Port $MF_IMAPS_PORT
User $MF_USER
PassCmd "+cat $T/pw"
SSLType IMAPS
CertificateFile $MF_CA

IMAPStore bed-remote
Account bed

MaildirStore bed-local
Path $T/mail/
Inbox $T/mail/INBOX
SubFolders Verbatim

Channel bedmail
Far :bed-remote:
Near :bed-local:
Patterns INBOX
SyncState *
RC

step "convert the mbsyncrc"
"$BIN/mailflow-config" import "$H/.mbsyncrc" >"$T/config" 2>"$T/import.err" ||
	die "import failed: $(cat "$T/import.err")"
for l in "account bedmail" "host $MF_TLS_HOST" "port $MF_IMAPS_PORT" "user $MF_USER" \
    "passwordeval cat $T/pw" "tls implicit" "tls_trust_file $MF_CA" "maildir $T/mail"; do
	grep -qxF "$l" "$T/config" || die "no line '$l' in: $(cat "$T/config")"
done
grep -q "not converted: Patterns INBOX (no configuration key: run imap-sync --folder 'INBOX')" \
	"$T/config" || die "Patterns not explained: $(cat "$T/config")"
grep -q "mbsyncrc:24: Patterns: not converted" "$T/import.err" || die "no warning: $(cat "$T/import.err")"
grep -q "$MF_PASS" "$T/config" "$T/import.err" && die "the password leaked"

step "autodetection gives the same file"
"$BIN/mailflow-config" import --from mbsync - <"$H/.mbsyncrc" 2>/dev/null |
	tail -n +3 | cmp -s - <(tail -n +3 "$T/config") || die "--from mbsync differs"

step "imap-sync with the converted file fetches a new message"
tok="tok-import-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
: >"$T/empty"
echo "$tok" | HOME="$H" "$BIN/mailsend" --config "$T/empty" -s localhost \
	-p "$MF_SUBMISSION_PORT" --tls-trust-file "$MF_CA" -u "$MF_USER" \
	--passwordeval "cat $T/pw" -f "$MF_ADDR" --subject "import $tok" "$MF_ADDR" ||
	die "could not send the test message"
found=0
for i in $(seq 1 50); do
	HOME="$H" "$BIN/imap-sync" --config "$T/config" -a bedmail --folder INBOX -q \
		2>"$T/sync.err" || die "imap-sync with the converted file: $(cat "$T/sync.err")"
	if grep -q -r -- "$tok" "$T/mail"; then found=1; break; fi
	sleep 0.2
done
[ "$found" = 1 ] || die "imap-sync did not fetch $tok: $(find "$T/mail" | head)"
echo "71-mailflow-config: ok"
