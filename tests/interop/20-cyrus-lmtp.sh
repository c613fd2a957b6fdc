#!/bin/bash
# mailsend --protocol lmtp against Cyrus's lmtpd (RFC 2033), over its unix
# socket with default options and over TCP (lmtpd -a: pre-authorised, no
# STARTTLS on offer, and mailsend sends nothing in clear without --tls none):
# every recipient gets its own reply, the message lands in each INBOX
# (checked over IMAP), an unknown recipient is refused on its own and the
# exit status is the worst recipient's (69).
set -eu

. "$MF_TOP/tests/interop/lib.sh"
MS="$BIN/mailsend"

# in_inbox USER PASS TOKEN: how many of USER's INBOX messages hold TOKEN
in_inbox() { IT_USER="$1" IT_PASS="$2" python3 "$CY" count INBOX "$3"; }

step "unix socket, two recipients: each recipient's own 250"
t=$(tok unix)
"$MS" --protocol lmtp -s "unix:$MF_CYRUS_LMTP_SOCKET" -v -f sender@example.org \
	--subject "$t" --body "$t" "$MF_ADDR" "$MF_ADDR2" >out 2>err ||
	die "LMTP over the socket: exit $? $(grep -v '^[<>~-]' err | tail -3)"
grep -q '^-> LHLO ' err || die "no LHLO: $(head -5 err)"
[ "$(grep -c '> delivered: 250' out)" -eq 2 ] || die "want two per-recipient 250 lines: $(cat out)"
[ "$(in_inbox "$MF_USER" "$MF_PASS" "$t")" = 1 ] || die "$MF_ADDR's INBOX lacks the message"
[ "$(in_inbox "$MF_USER2" "$MF_PASS2" "$t")" = 1 ] || die "$MF_ADDR2's INBOX lacks the message"

step "TCP, --tls none, one unknown recipient: exit 69, the other delivered"
t=$(tok tcp)
set +e
"$MS" --protocol lmtp -s "localhost:$MF_CYRUS_LMTP_PORT" --tls none -v \
	-f sender@example.org --subject "$t" --body "$t" \
	"$MF_ADDR" "nobody-$t@example.test" >out 2>err
rc=$?
set -e
[ "$rc" -eq 69 ] || die "want 69, got $rc: $(grep -v '^[<>~-]' err | tail -5)"
grep -q '^-> LHLO ' err || die "no LHLO over TCP"
grep -q "<nobody-$t@example.test> refused: 550" err || die "no per-recipient refusal: $(grep -v '^[<>~-]' err)"
[ "$(in_inbox "$MF_USER" "$MF_PASS" "$t")" = 1 ] || die "the known recipient got nothing"

step "a ready message from a file, both recipients over TCP"
t=$(tok file)
printf 'From: <sender@example.org>\nTo: <%s>\nSubject: %s\nMessage-ID: <%s@example.org>\n\n%s\n.leading dot\n' \
	"$MF_ADDR" "$t" "$t" "$t" >msg
"$MS" --protocol lmtp -s "localhost:$MF_CYRUS_LMTP_PORT" --tls none \
	-f sender@example.org --message msg "$MF_ADDR" "$MF_ADDR2" >out 2>err ||
	die "--message: exit $? $(cat err)"
[ "$(in_inbox "$MF_USER2" "$MF_PASS2" "$t")" = 1 ] || die "--message: not delivered"

echo "20-cyrus-lmtp: all passed"
