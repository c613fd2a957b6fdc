#!/bin/bash
# pop-fetch against Cyrus's pop3d, default options apart from the CA:
# - auth auto over STLS: every message of the INBOX (real-world corpus +
#   generated) in the Maildir, equal to Cyrus's copy (line endings
#   normalised); kept on the server; a second run fetches nothing.
# - each SASL mechanism Cyrus offers after STLS, and SCRAM-SHA-256-PLUS
#   on TLS 1.2 (tls-unique, the only channel binding Cyrus 3.6 knows).
# - --delete on the POP3S port: everything delivered, the INBOX empty.
set -eu

. "$MF_TOP/tests/interop/lib.sh"
export MAILFLOW_PASSWORD="$MF_PASS"
PF="$BIN/pop-fetch"
CORPUS=/usr/lib/python3.11/test/test_email/data

pf() { "$PF" -u "$MF_USER" --tls-trust-file "$MF_CA" "$@"; }

# maildir_vs_inbox MAILDIR: the Maildir holds exactly the INBOX's messages.
maildir_vs_inbox() {
	python3 - "$1" <<'PY'
import hashlib, imaplib, os, ssl, sys
def norm(b):
    b = b.replace(b"\r\n", b"\n")
    return b if b.endswith(b"\n") else b + b"\n"
local = []
for sub in ("new", "cur"):
    for n in os.listdir(os.path.join(sys.argv[1], sub)):
        local.append(hashlib.sha256(norm(open(os.path.join(sys.argv[1], sub, n), "rb").read())).hexdigest())
c = imaplib.IMAP4_SSL("localhost", int(os.environ["MF_CYRUS_IMAPS_PORT"]),
                      ssl_context=ssl.create_default_context(cafile=os.environ["MF_CA"]))
c.login(os.environ["MF_USER"], os.environ["MF_PASS"])
c.select("INBOX", readonly=True)
typ, data = c.fetch("1:*", "(BODY.PEEK[])")
server = [hashlib.sha256(norm(p[1])).hexdigest() for p in data if isinstance(p, tuple)]
c.logout()
if sorted(local) != sorted(server):
    print("Maildir %d messages, INBOX %d, %d differ" % (len(local), len(server), len(set(local) ^ set(server))))
    sys.exit(1)
print("%d messages equal" % len(local))
PY
}

step "fill the INBOX: the real-world corpus and generated messages"
python3 "$CY" empty INBOX
n=0
for f in "$CORPUS"/msg_0*.txt; do
	helper append-file INBOX "$f" || die "append $f"
	n=$((n + 1))
done
helper append INBOX 20 || die "append generated"
n=$((n + 20))
[ "$(python3 "$CY" total INBOX)" = "$n" ] || die "INBOX: not $n messages"

step "auth auto over STLS, keep: every message, equal to Cyrus's"
pf -s "localhost:$MF_CYRUS_POP3_PORT" -m "$T/keep" -v --json >keep.json 2>keep.err ||
	die "pop-fetch: exit $? $(grep -v '^[<>~-]' keep.err | tail -3)"
grep -q '^-> STLS' keep.err || die "STLS not used"
grep -q '^~> AUTH ' keep.err || die "no SASL AUTH with auth auto: $(grep '^~> ' keep.err | head -3)"
grep -qF "$MF_PASS" keep.err keep.json && die "the password appears in the transcript"
maildir_vs_inbox "$T/keep" || die "the Maildir differs from the INBOX"
[ "$(python3 "$CY" total INBOX)" = "$n" ] || die "keep: messages left the server"

step "second run: nothing new"
pf -s "localhost:$MF_CYRUS_POP3_PORT" -m "$T/keep" --json >again.json 2>again.err ||
	die "second run: exit $? $(tail -3 again.err)"
maildir_vs_inbox "$T/keep" >/dev/null || die "the second run changed the Maildir"

step "each SASL mechanism Cyrus offers after STLS"
# (Cyrus names SCRAM-SHA-256 twice.)
mechs="$(sed -n 's/^<~ SASL //p' keep.err | tr -d '\r' | head -n 1 | tr ' ' '\n' | sort -u)"
[ -n "$mechs" ] || die "no SASL line in CAPA after STLS: $(grep '^<~' keep.err | head)"
for m in $mechs; do
	case "$m" in
	SCRAM-SHA-1-PLUS)
		# mailflow binds only with SHA-256 (RFC 7677); it says so.
		set +e
		pf -s "localhost:$MF_CYRUS_POP3_PORT" --auth "$m" -m "$T/m-$m" >/dev/null 2>"m-$m.err"
		rc=$?
		set -e
		grep -q 'not supported' "m-$m.err" || die "$m: $(cat "m-$m.err")"
		echo "   $m: not supported by mailflow, said so (exit $rc)"
		continue
		;;
	*-PLUS) prio=(--tls-priority 'NORMAL:-VERS-TLS1.3') ;;  # tls-unique
	*) prio=() ;;
	esac
	pf -s "localhost:$MF_CYRUS_POP3_PORT" --auth "$m" "${prio[@]}" -m "$T/m-$m" -v \
		>/dev/null 2>"m-$m.err" || die "--auth $m: exit $? $(grep -v '^[<>~-]' "m-$m.err" | tail -3)"
	grep -q "^~> AUTH $m" "m-$m.err" || die "$m not used"
	echo "   $m: ok"
done

step "POP3S, auth auto, --delete: everything delivered, the INBOX empty"
# (a state of its own: with the first runs' state the messages count as
# delivered already and are only deleted)
pf -s "localhost:$MF_CYRUS_POP3S_PORT" --tls implicit --delete -m "$T/del" \
	--state "$T/del.state" --json \
	>del.json 2>del.err || die "--delete: exit $? $(tail -3 del.err)"
[ "$(find "$T/del/new" "$T/del/cur" -type f | wc -l)" = "$n" ] ||
	die "--delete: not $n messages delivered: $(cat del.json)"
[ "$(python3 "$CY" total INBOX)" = 0 ] || die "--delete: messages left on the server"

echo "30-cyrus-pop3: all passed"
