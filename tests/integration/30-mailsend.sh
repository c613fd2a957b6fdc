#!/bin/bash
# mailsend against the real bed (Postfix submission + Dovecot): issue 3's
# acceptance list.  Needs the bed's environment (tests/run-integration.sh).
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
BIN="${MF_BIN:-$MF_TOP/bin}"
T="$(mktemp -d "${MF_TMP:-/tmp}/mailsend.XXXXXX")"
trap 'rm -rf "$T"' EXIT
MS="$BIN/mailsend"
[ -x "$MS" ] || { echo "no $MS"; exit 1; }

step() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }

export HOME="$T/home" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/xdg"
mkdir -p "$HOME"
unset MAILFLOW_CONFIG MAILFLOW_PASSWORD
cd "$T"

# One config file: the submission account (STARTTLS + AUTH), an implicit-TLS
# one, and the plaintext listener that offers no STARTTLS.
cat >cfg <<EOF
defaults
tls_trust_file $MF_CA
user $MF_USER
from $MF_ADDR
timeout 30

account sub
host localhost
port $MF_SUBMISSION_PORT

account smtps : sub
port $MF_SMTPS_PORT
tls implicit

account plain : sub
port $MF_SUBMISSION_PLAIN_PORT

account default : sub
EOF
chmod 600 cfg
PWFILE="$T/pw"
printf '%s\n' "$MF_PASS" >"$PWFILE"
ms() { "$MS" --config "$T/cfg" --passwordeval "cat $PWFILE" "$@"; }

# wait_mail MAILDIR TOKEN [COUNT]: until COUNT messages holding TOKEN arrived.
wait_mail() {
	local n=0 i
	for i in $(seq 1 100); do
		n=$(grep -l -s -- "$2" "$1"/new/* "$1"/cur/* 2>/dev/null | wc -l)
		[ "$n" -ge "${3:-1}" ] && break
		sleep 0.2
	done
	[ "$n" -eq "${3:-1}" ] || die "expected ${3:-1} message(s) with $2 in $1, found $n"
	grep -l -s -- "$2" "$1"/new/* "$1"/cur/* | head -1
}

tok() { printf 'tok-%s-%s' "$1" "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"; }

# --- test files: a minimal valid PNG and PDF, an HTML part --------------------
python3 - <<'PY'
import struct, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\x00\x00\xff\x00\x00\x00\x00\xff\x00\xff\xff\xff"))
       + chunk(b"IEND", b""))
open("pic.png", "wb").write(png)
pdf = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 3 3]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
open("doc.pdf", "wb").write(pdf)
open("page.html", "w").write("<html><body><p>\u0645\u0631\u062d\u0628\u0627 <b>HTML</b></p></body></html>\n")
PY

cat >check.py <<'PY'
import email, sys
from email import policy
path, subject, token = sys.argv[1:4]
m = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
def fail(msg):
    print("FAIL:", msg); sys.exit(1)
if str(m["subject"]) != subject:
    fail("subject %r != %r" % (str(m["subject"]), subject))
if m.get_content_type() != "multipart/mixed":
    fail("top type " + m.get_content_type())
atts = {p.get_filename(): p for p in m.iter_attachments()}
for name, typ in (("pic.png", "image/png"), ("doc.pdf", "application/pdf")):
    p = atts.get(name) or fail("no attachment " + name + " in " + repr(list(atts)))
    if p.get_content_type() != typ:
        fail("%s is %s" % (name, p.get_content_type()))
    if p.get_payload(decode=True) != open(name, "rb").read():
        fail(name + " differs")
plain = m.get_body(("plain",)).get_content()
html = m.get_body(("html",)).get_content()
if token not in plain or "\u0645\u0631\u062d\u0628\u0627" not in plain:
    fail("plain body: %r" % plain)
if "<b>HTML</b>" not in html:
    fail("html body: %r" % html)
alt = [p for p in m.walk() if p.get_content_type() == "multipart/alternative"]
if not alt:
    fail("no multipart/alternative")
print("parsed ok:", m["subject"])
PY

SUBJ='مرحبا بالعالم'
for acct in sub smtps; do
	step "Arabic subject, text + HTML + PNG + PDF, account $acct"
	t=$(tok "$acct")
	ms -a "$acct" -v --subject "$SUBJ" --body "$t
مرحبا — body" --html @page.html --attach pic.png --attach doc.pdf \
		"$MF_ADDR" 2>"$acct.tr" || die "mailsend ($acct) failed: $(tail -5 "$acct.tr")"
	if [ "$acct" = sub ]; then
		grep -q '^-> STARTTLS' sub.tr || die "no STARTTLS in the transcript"
	else
		grep -q '^-> ' smtps.tr && die "cleartext line on the implicit-TLS port"
	fi
	grep -q '^~> AUTH ' "$acct.tr" || die "no AUTH inside TLS"
	grep -q "$MF_PASS" "$acct.tr" && die "password in the transcript"
	f=$(wait_mail "$MF_MAILDIR" "$t")
	python3 check.py "$f" "$SUBJ" "$t" || die "python email check ($acct)"
done

step "a 3 MB attachment, byte-identical, over BDAT and over DATA"
head -c 3000000 /dev/urandom >big.bin
for mode in --no-pipelining --no-chunking; do
	t=$(tok big)
	ms "$mode" --subject "big $t" --body "$t" --attach big.bin "$MF_ADDR" ||
		die "big message ($mode) failed"
	f=$(wait_mail "$MF_MAILDIR" "$t")
	python3 - "$f" <<'PY' || die "big attachment changed ($mode)"
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
(p,) = list(m.iter_attachments())
sys.exit(0 if p.get_payload(decode=True) == open("big.bin", "rb").read() else 1)
PY
done

step "each SASL mechanism authenticates"
for mech in PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256; do
	t=$(tok "$mech")
	ms --auth "$mech" -v --subject "$mech" --body "$t" "$MF_ADDR" 2>mech.tr ||
		die "$mech failed: $(tail -5 mech.tr)"
	grep -q "^~> AUTH $mech" mech.tr || die "$mech not used: $(grep AUTH mech.tr)"
	wait_mail "$MF_MAILDIR" "$t" >/dev/null
done

step "TLS session resumed from the per-account cache (0600)"
grep -q '^=== TLS started: .*(resumed)' mech.tr || die "no resumption: $(grep 'TLS started' mech.tr)"
# The file is named by a hash of everything that keys the session (host,
# port, SNI, trust, client certificate): every one of them must be 0600.
set -- "$XDG_STATE_HOME"/mailflow/tls-session-*
[ -e "$1" ] || die "no TLS session file in $XDG_STATE_HOME/mailflow"
for sf in "$@"; do
	[ "$(stat -c %a "$sf")" = 600 ] || die "session file mode $(stat -c %a "$sf"): $sf"
done

step "--show-secrets shows the AUTH payload, -v alone does not"
ms --auth PLAIN -v --show-secrets --subject s --body x "$MF_ADDR" 2>sec.tr || die "send failed"
grep -q "^~> AUTH PLAIN $(printf '\0%s\0%s' "$MF_USER" "$MF_PASS" | base64 -w0)\$" sec.tr ||
	die "--show-secrets: $(grep AUTH sec.tr)"
ms --auth PLAIN -v --subject s --body x "$MF_ADDR" 2>nosec.tr || die "send failed"
grep -q '^~> AUTH PLAIN \*\*\*\*\*\*\*\*$' nosec.tr || die "not redacted: $(grep AUTH nosec.tr)"

step "wrong password -> 77"
printf 'not-the-password\n' >"$T/badpw"
rc=0
"$MS" --config cfg --passwordeval "cat $T/badpw" --subject x --body y \
	"$MF_ADDR" 2>bad.err || rc=$?
[ "$rc" -eq 77 ] || die "wrong password gave $rc: $(cat bad.err)"

step "MAIL/RCPT/DATA pipelined in one write (and MAIL/RCPT/BDAT by default)"
t=$(tok pipe)
ms -v --no-chunking --subject pipe --body "$t" "$MF_ADDR" "$MF_ADDR2" 2>pipe.tr ||
	die "pipelined send failed"
grep -q '^=== pipelined in one write: MAIL RCPT RCPT DATA ' pipe.tr ||
	die "no single write of MAIL RCPT RCPT DATA: $(grep -E '^(~>|===)' pipe.tr)"
# The replies come after the whole group was written.
awk '/^=== pipelined in one write: MAIL/{w=NR} /^<~ 250 2.1.0/{r=NR} END{exit !(w && r && w < r)}' pipe.tr ||
	die "MAIL's reply read before the group was written"
ms -v --subject bdat --body "$t" "$MF_ADDR" 2>bdat.tr || die "BDAT send failed"
grep -q '^=== pipelined in one write: MAIL RCPT BDAT ' bdat.tr || die "no BDAT group"
wait_mail "$MF_MAILDIR" "$t" 2 >/dev/null

step "a single send: 6 round trips (tests/turns.sh), QUIT's reply not awaited"
# greeting, EHLO, STARTTLS, the TLS handshake, EHLO, then AUTH PLAIN with
# its initial response and MAIL+RCPT+BDAT LAST in one write (RFC 4954 §4);
# QUIT sent, not awaited
t=$(tok turns)
ms -v --auth PLAIN --subject turns --body "$t" "$MF_ADDR" 2>turns.tr ||
	die "send failed: $(tail -3 turns.tr)"
n=$(bash "$MF_TOP/tests/turns.sh" turns.tr)
[ "$n" = 6 ] || die "single send: $n round trips, want 6: $(bash "$MF_TOP/tests/turns.sh" turns.tr -l)"
grep -q '^=== pipelined in one write: AUTH MAIL RCPT BDAT ' turns.tr ||
	die "AUTH PLAIN not pipelined with the transaction: $(grep -E '^(~>|===)' turns.tr)"
grep -q '^~> QUIT' turns.tr || die "no QUIT sent"
grep -q '^<~ 221' turns.tr && die "QUIT's reply was awaited"
wait_mail "$MF_MAILDIR" "$t" >/dev/null

step "cron-style: printf ... | mailsend -t -i, and through a sendmail link"
t=$(tok cron)
printf 'To: %s\nSubject: cron\n\nbody %s\n' "$MF_ADDR2" "$t" |
	MAILFLOW_CONFIG="$T/cfg" MAILFLOW_PASSWORD="$MF_PASS" "$MS" -t -i ||
	die "mailsend -t -i failed"
wait_mail "$MF_MAILDIR2" "$t" >/dev/null
ln -s "$MS" "$T/sendmail"
t=$(tok sendmail)
printf 'To: %s\nBcc: %s\nSubject: cron via sendmail\n\nbody %s\n' "$MF_ADDR2" \
	"$MF_ADDR" "$t" | MAILFLOW_CONFIG="$T/cfg" MAILFLOW_PASSWORD="$MF_PASS" \
	"$T/sendmail" -t -oi || die "sendmail -t -oi failed"
f=$(wait_mail "$MF_MAILDIR2" "$t")
grep -qi '^Bcc:' "$f" && die "Bcc not stripped"
wait_mail "$MF_MAILDIR" "$t" >/dev/null   # the Bcc recipient got it
t=$(tok sendmail-args)
printf 'Subject: args\n\nbody %s\n.\nnot sent\n' "$t" |
	MAILFLOW_CONFIG="$T/cfg" MAILFLOW_PASSWORD="$MF_PASS" "$T/sendmail" "$MF_ADDR2" ||
	die "sendmail RCPT failed"
f=$(wait_mail "$MF_MAILDIR2" "$t")
grep -q 'not sent' "$f" && die "sendmail without -i did not stop at the lone dot"

step "SMTP smuggling inputs arrive intact (DATA and BDAT)"
for mode in --no-chunking --subject; do
	t=$(tok smug)
	printf 'Subject: smuggle\nTo: %s\n\n%s\na\n.\nb\r\n.\r\nc\rd\n..e\nMAIL FROM:<x@y>\nlast' \
		"$MF_ADDR" "$t" >smug.eml
	if [ "$mode" = --no-chunking ]; then
		ms --no-chunking --message smug.eml "$MF_ADDR" || die "smuggling send failed"
	else
		ms --message smug.eml "$MF_ADDR" || die "smuggling send (BDAT) failed"
	fi
	f=$(wait_mail "$MF_MAILDIR" "$t")
	python3 - "$f" "$t" <<'PY' || die "smuggling body changed ($mode)"
import sys
raw = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
body = raw.split(b"\n\n", 1)[1]
want = sys.argv[2].encode() + b"\na\n.\nb\n.\nc\nd\n..e\nMAIL FROM:<x@y>\nlast\n"
if body != want:
    print("got", body, "want", want); sys.exit(1)
PY
done

step "header injection refused with 64"
for args in $'--subject=x\r\nBcc: y' $'--to=a@b\nBcc: c@d' \
	$'--header=X-A: 1\r\nBcc: e@f' $'--from=a@b\rX: y' $'--bcc=a@b\nX: y' \
	$'--attach=pic.png;name=a\nb'; do
	rc=0
	ms --body x "$args" "$MF_ADDR" 2>inj.err || rc=$?
	[ "$rc" -eq 64 ] || die "injection '$args' gave $rc: $(cat inj.err)"
done

step "no STARTTLS offered: stop before AUTH with 69"
rc=0
ms -a plain -v --subject x --body y "$MF_ADDR" 2>plain.tr || rc=$?
[ "$rc" -eq 69 ] || die "plain listener gave $rc"
grep -q 'does not offer STARTTLS; refusing to send credentials in clear' plain.tr ||
	die "message: $(tail -2 plain.tr)"
grep -q '^-> AUTH' plain.tr && die "AUTH was sent in clear"

step "--dry-run prints envelope and message, sends nothing"
ms --dry-run --subject dry --body text --bcc "$MF_ADDR2" "$MF_ADDR" >dry.out ||
	die "dry run failed"
grep -q "^RCPT TO:<$MF_ADDR2>" dry.out || die "dry run: no Bcc recipient"
grep -qi '^Bcc:' dry.out && die "dry run: Bcc in the header"
grep -q '^MIME-Version: 1.0' dry.out || die "dry run: no MIME-Version"

step "--queue on a connection failure, --flush-queue delivers exactly once"
t=$(tok queue)
ms -s 127.0.0.1 -p 1 --queue --subject queued --body "$t" "$MF_ADDR" 2>q.err ||
	die "--queue did not exit 0: $(cat q.err)"
grep -q 'queued as' q.err || die "no 'queued as': $(cat q.err)"
ms --list-queue | grep -q " new " || die "--list-queue shows nothing"
# A flusher killed after claiming: its claim must come back, not be lost.
qd="$XDG_STATE_HOME/mailflow/queue"
f=$(ls "$qd/new")
mv "$qd/new/$f" "$qd/sending/$f@999999"
ms --flush-queue >flush.out || die "flush failed: $(cat flush.out)"
grep -q 'sent: 250' flush.out || die "flush: $(cat flush.out)"
ms --flush-queue >flush2.out || die "second flush failed"
[ -s flush2.out ] && die "second flush sent again: $(cat flush2.out)"
wait_mail "$MF_MAILDIR" "$t" 1 >/dev/null
sleep 1
wait_mail "$MF_MAILDIR" "$t" 1 >/dev/null

step "a flush killed while the server stalls: the next flush delivers once"
t=$(tok killed)
ms -s 127.0.0.1 -p 1 --queue --subject killed --body "$t" "$MF_ADDR" 2>/dev/null ||
	die "--queue failed"
python3 - "$T/stall.port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(20)
try:
    c, _ = s.accept(); time.sleep(15)
except Exception:
    pass
PY
stall_pid=$!
for i in $(seq 50); do [ -s "$T/stall.port" ] && break; sleep 0.1; done
"$MS" --config "$T/cfg" --passwordeval "cat $PWFILE" -s 127.0.0.1 \
	-p "$(cat "$T/stall.port")" --flush-queue >/dev/null 2>&1 &
flush_pid=$!
for i in $(seq 50); do ls "$qd/sending" | grep -q @ && break; sleep 0.1; done
kill -9 "$flush_pid"; wait "$flush_pid" 2>/dev/null || true
kill "$stall_pid" 2>/dev/null; wait "$stall_pid" 2>/dev/null || true
ls "$qd/sending" | grep -q "@$flush_pid\$" || die "no claim of the killed flusher in sending/"
ms --flush-queue >flush3.out || die "flush after kill failed: $(cat flush3.out)"
[ "$(grep -c 'sent: 250' flush3.out)" -eq 1 ] || die "flush after kill: $(cat flush3.out)"
[ -z "$(ls -A "$qd/sending")$(ls -A "$qd/new")" ] || die "queue not empty after the flush"
wait_mail "$MF_MAILDIR" "$t" 1 >/dev/null

step "--batch of 200 messages over one connection"
mkdir -p batch
t=$(tok batch)
for i in $(seq -w 1 200); do
	printf 'To: %s\nSubject: batch %s\n\n%s n%s\n' "$MF_ADDR2" "$i" "$t" "$i" >"batch/m$i"
done
ms -v --batch batch >batch.out 2>batch.tr || die "batch failed: $(grep -v sent batch.out | head)"
[ "$(grep -c ': sent: 250' batch.out)" -eq 200 ] || die "batch: $(grep -vc sent batch.out) not sent"
[ "$(grep -c '^=== connected to' batch.tr)" -eq 1 ] || die "batch used more than one connection"
[ "$(grep -c '^~> EHLO' batch.tr)" -eq 1 ] || die "more than one EHLO inside TLS"
wait_mail "$MF_MAILDIR2" "$t" 200 >/dev/null

step "--batch over a Maildir (new/ and cur/)"
mkdir -p md/new md/cur md/tmp
t=$(tok mdbatch)
printf 'To: %s\nSubject: md1\n\n%s\n' "$MF_ADDR2" "$t" >md/new/1.x
printf 'To: %s\nSubject: md2\n\n%s\n' "$MF_ADDR2" "$t" >'md/cur/2.x:2,S'
ms --batch md >mdb.out || die "maildir batch failed"
wait_mail "$MF_MAILDIR2" "$t" 2 >/dev/null

CORPUS=/usr/lib/python3.11/test/test_email/data
if ls "$CORPUS"/msg_*.txt >/dev/null 2>&1; then
	step "real-world corpus (CPython's test_email messages) arrives with bodies intact"
	mkdir -p corpus
	cp "$CORPUS"/msg_*.txt corpus/
	n=$(ls corpus | wc -l)
	ms --batch corpus "$MF_ADDR2" >corpus.out || die "corpus batch: $(grep -v 'sent: 250' corpus.out | head -3)"
	[ "$(grep -c ': sent: 250' corpus.out)" -eq "$n" ] || die "corpus: not all sent"
	python3 - "$MF_MAILDIR2" corpus <<'PY' || die "corpus bodies changed"
import glob, os, re, sys, time
def norm(b):
    return b.replace(b"\r\n", b"\n").replace(b"\r", b"\n").rstrip(b"\n")
def body(b, strip_from):
    b = b.replace(b"\r\n", b"\n")
    if strip_from and b.startswith(b"From "):
        b = b.split(b"\n", 1)[1]
    if not re.match(rb"[!-9;-~]+:", b):
        return norm(b)                # no header at all
    return norm(b.split(b"\n\n", 1)[1]) if b"\n\n" in b else b""
want = {}
for f in glob.glob(sys.argv[2] + "/*"):
    want[os.path.basename(f)] = body(open(f, "rb").read(), True)
for _ in range(50):
    got = set()
    for f in glob.glob(sys.argv[1] + "/new/*") + glob.glob(sys.argv[1] + "/cur/*"):
        got.add(body(open(f, "rb").read(), False))
    missing = [k for k, v in want.items() if v not in got]
    if not missing:
        sys.exit(0)
    time.sleep(0.2)
print("changed or missing:", sorted(missing)); sys.exit(1)
PY
fi

echo "30-mailsend: all passed"
