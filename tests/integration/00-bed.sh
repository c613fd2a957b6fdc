#!/bin/bash
# Prove the test bed is real before anything else relies on it: TLS verified
# against the bed CA, IMAP/POP3/SMTP behave as documented, mail submitted
# with AUTH lands in a Maildir, nothing leaves the machine, DNS and DNSSEC
# answer.  Needs only the bed (tests/bed/bed.sh), gnutls-cli, dig and python3.
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
if [ -n "${MF_TMP:-}" ]; then
	TMP="$MF_TMP"
else
	TMP="$(mktemp -d)"
	trap 'rm -rf "$TMP"' EXIT
fi

step() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }

# --- IMAPS with gnutls-cli, certificate checked against MF_CA --------------
step "IMAPS handshake verified against MF_CA, LOGIN"
# gnutls-cli stops at stdin EOF: pace the commands until the server closes.
{
	sleep 0.5
	printf 'a LOGIN %s %s\r\n' "$MF_USER" "$MF_PASS"
	sleep 0.5
	printf 'b LOGOUT\r\n'
	sleep 1
} | timeout 20 gnutls-cli --x509cafile "$MF_CA" -p "$MF_IMAPS_PORT" localhost \
	>"$TMP/imaps.out" 2>&1 || die "gnutls-cli to IMAPS failed: $(tail -5 "$TMP/imaps.out")"
grep -q '^a OK' "$TMP/imaps.out" || die "no 'a OK' for LOGIN: $(tail -5 "$TMP/imaps.out")"

step "IMAPS with the wrong CA is rejected (verification is really on)"
if printf 'a LOGOUT\r\n' | timeout 20 gnutls-cli --x509cafile "$MF_UNKNOWN_CA" \
	-p "$MF_IMAPS_PORT" localhost >"$TMP/imaps-bad.out" 2>&1; then
	die "gnutls-cli accepted the bed certificate with an unrelated CA"
fi

# --- protocol checks in Python ---------------------------------------------
step "POP3, SMTP submission/MX, bad-certificate listeners, delivery"
python3 - <<'PY'
import email.utils, glob, os, poplib, smtplib, socket, ssl, sys, time, uuid

env = os.environ
HOST = "127.0.0.1"

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

def ctx():
    return ssl.create_default_context(cafile=env["MF_CA"])

def step(msg):
    print("==", msg, flush=True)

def wait_for(pred, what, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return
        time.sleep(0.2)
    fail("timed out waiting for " + what)

def maildir_has(maildir, token):
    for f in glob.glob(os.path.join(maildir, "new", "*")) + glob.glob(os.path.join(maildir, "cur", "*")):
        try:
            if token in open(f, "rb").read():
                return True
        except OSError:
            pass
    return False

def message(frm, to, token):
    return ("From: %s\r\nTo: %s\r\nSubject: bed test %s\r\nDate: %s\r\nMessage-ID: <%s@mailflow.test>\r\n\r\n"
            "token %s\r\n" % (frm, to, token, email.utils.formatdate(), token, token))

# POP3: STLS offered before TLS, login after it; APOP timestamp in greeting.
step("POP3 STLS")
p = poplib.POP3(HOST, int(env["MF_POP3_PORT"]), timeout=10)
if "STLS" not in p.capa():
    fail("POP3 CAPA lacks STLS: %r" % p.capa())
if b"<" not in p.getwelcome():
    fail("POP3 greeting has no APOP timestamp: %r" % p.getwelcome())
p.stls(context=ctx())
p.user(env["MF_USER"]); p.pass_(env["MF_PASS"])
p.quit()
step("POP3 APOP")
p = poplib.POP3(HOST, int(env["MF_POP3_PORT"]), timeout=10)
p.apop(env["MF_USER"], env["MF_PASS"])
p.quit()
step("POP3S")
p = poplib.POP3_SSL(HOST, int(env["MF_POP3S_PORT"]), context=ctx(), timeout=10)
p.user(env["MF_USER2"]); p.pass_(env["MF_PASS2"])
p.quit()

# Submission: STARTTLS and no AUTH before TLS, AUTH after; deliver to alice.
step("submission: STARTTLS, AUTH only after TLS, delivery to Maildir")
s = smtplib.SMTP(HOST, int(env["MF_SUBMISSION_PORT"]), timeout=10)
s.ehlo("client.example.test")
if not s.has_extn("starttls"):
    fail("submission EHLO lacks STARTTLS")
if s.has_extn("auth"):
    fail("submission offers AUTH before TLS")
for ext in ("pipelining", "size", "8bitmime", "dsn", "smtputf8", "chunking"):
    if not s.has_extn(ext):
        fail("submission EHLO lacks " + ext.upper())
s.starttls(context=ctx())
s.ehlo("client.example.test")
if not s.has_extn("auth"):
    fail("submission offers no AUTH after STARTTLS")
for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"):
    if mech not in s.esmtp_features["auth"].split():
        fail("AUTH lacks %s: %s" % (mech, s.esmtp_features["auth"]))
s.login(env["MF_USER"], env["MF_PASS"])
token1 = uuid.uuid4().hex
s.sendmail(env["MF_ADDR"], [env["MF_ADDR"]], message(env["MF_ADDR"], env["MF_ADDR"], token1))
# Another domain, even for an authenticated user: Postfix resolves it to the
# error transport and so refuses it at RCPT; nothing is ever relayed.
try:
    s.sendmail(env["MF_ADDR"], ["someone@example.org"], message(env["MF_ADDR"], "someone@example.org", "x"))
    fail("submission accepted mail for example.org")
except smtplib.SMTPRecipientsRefused as e:
    code, text = e.recipients["someone@example.org"]
    if code != 550 or b"outbound mail is disabled" not in text:
        fail("unexpected refusal for example.org: %r" % ((code, text),))
s.quit()
wait_for(lambda: maildir_has(env["MF_MAILDIR"], token1.encode()), "submitted mail in " + env["MF_MAILDIR"])

step("submission refuses unauthenticated mail")
s = smtplib.SMTP(HOST, int(env["MF_SUBMISSION_PORT"]), timeout=10)
s.starttls(context=ctx())
try:
    s.sendmail(env["MF_ADDR"], [env["MF_ADDR2"]], message(env["MF_ADDR"], env["MF_ADDR2"], "x"))
    fail("submission accepted mail without AUTH")
except smtplib.SMTPRecipientsRefused:
    pass
s.quit()

step("smtps (implicit TLS) with AUTH")
s = smtplib.SMTP_SSL(HOST, int(env["MF_SMTPS_PORT"]), context=ctx(), timeout=10)
s.login(env["MF_USER2"], env["MF_PASS2"])
s.quit()

step("submission-plain: AUTH in the clear, no STARTTLS")
s = smtplib.SMTP(HOST, int(env["MF_SUBMISSION_PLAIN_PORT"]), timeout=10)
s.ehlo("client.example.test")
if s.has_extn("starttls"):
    fail("submission-plain offers STARTTLS")
if not s.has_extn("auth"):
    fail("submission-plain offers no AUTH")
s.login(env["MF_USER"], env["MF_PASS"])
s.quit()

# MX: mail for example.test without AUTH; relaying refused.
step("MX: accepts mail for example.test, refuses relaying")
s = smtplib.SMTP(HOST, int(env["MF_MX_PORT"]), timeout=10)
s.ehlo("mx.example.org")
if not s.has_extn("starttls") or s.has_extn("auth"):
    fail("MX EHLO should offer STARTTLS and no AUTH: %r" % s.esmtp_features)
token2 = uuid.uuid4().hex
s.sendmail("sender@example.org", [env["MF_ADDR2"]], message("sender@example.org", env["MF_ADDR2"], token2))
try:
    s.sendmail("sender@example.org", ["victim@example.net"], message("sender@example.org", "victim@example.net", "x"))
    fail("MX relayed to example.net")
except smtplib.SMTPRecipientsRefused:
    pass
try:
    s.sendmail("sender@example.org", ["nobody@example.test"], message("sender@example.org", "nobody@example.test", "x"))
    fail("MX accepted an unknown user")
except smtplib.SMTPRecipientsRefused:
    pass
s.quit()
wait_for(lambda: maildir_has(env["MF_MAILDIR2"], token2.encode()), "MX mail in " + env["MF_MAILDIR2"])

# Nothing addressed to another domain was ever queued for delivery.
log = os.path.join(env["MF_LOG_DIR"], "postfix.log")
for line in open(log):
    if ("to=<someone@example.org>" in line or "to=<victim@example.net>" in line) and "status=" in line:
        fail("mail to another domain was queued: " + line)

# Bad certificates: verification must fail, for the reason the port is for.
def starttls_error(port):
    s = smtplib.SMTP(HOST, port, timeout=10)
    try:
        s.starttls(context=ctx())
    except ssl.SSLCertVerificationError as e:
        return e.verify_message
    finally:
        s.close()
    fail("port %d: certificate was accepted" % port)

step("bad-certificate listeners fail verification")
# (The unknown-CA port sends its self-signed root along with the leaf.)
for var, want in (("MF_SMTP_EXPIRED_PORT", ("expired",)),
                  ("MF_SMTP_WRONGNAME_PORT", ("mismatch",)),
                  ("MF_SMTP_UNKNOWNCA_PORT", ("self-signed certificate in certificate chain", "local issuer"))):
    msg = starttls_error(int(env[var]))
    if not any(w in msg for w in want):
        fail("%s: expected one of %r in verify error, got '%s'" % (var, want, msg))
print("python checks done")
PY

# --- DNS -----------------------------------------------------------------
step "NSD: MX of example.test"
mx="$(dig +time=2 +tries=2 +short -p "$MF_DNS_PORT" @127.0.0.1 MX example.test)"
[ "$mx" = "10 mail.example.test." ] || die "MX via NSD: '$mx'"

step "Unbound: signed example.test answers with AD"
dig +time=2 +tries=2 -p "$MF_RESOLVER_PORT" @127.0.0.1 +dnssec MX example.test >"$TMP/dig-ad.out" ||
	die "dig via resolver failed"
grep -q 'flags:.* ad[ ;]' "$TMP/dig-ad.out" || die "no AD flag: $(cat "$TMP/dig-ad.out")"
grep -q 'RRSIG' "$TMP/dig-ad.out" || die "no RRSIG in answer"

step "Unbound refuses names outside the test zones"
dig +time=2 +tries=1 -p "$MF_RESOLVER_PORT" @127.0.0.1 A www.example.com >"$TMP/dig-out.out" || true
grep -q 'status: REFUSED' "$TMP/dig-out.out" || die "outside name not refused: $(cat "$TMP/dig-out.out")"

echo "bed ok"
