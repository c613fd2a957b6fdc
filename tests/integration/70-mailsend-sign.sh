#!/bin/bash
# mailsend signs and encrypts (issue 17): every message here goes through
# the bed's Postfix into a Dovecot Maildir and is checked there by an
# independent implementation -- dkimpy and OpenDKIM for DKIM (the key
# records come from the bed's DNS), gpg for PGP/MIME, openssl and gpgsm
# for S/MIME.  Bad keys and recipients must fail with 65 or 78 and send
# and queue nothing.  Needs the bed's environment (tests/run-integration.sh).
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
BIN="${MF_BIN:-$MF_TOP/bin}"
T="$(mktemp -d "${MF_TMP:-/tmp}/sign.XXXXXX")"
export GNUPGHOME="$T/gnupg"
cleanup() {
	[ -d "$GNUPGHOME" ] && gpgconf --kill all >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
MS="$BIN/mailsend"
[ -x "$MS" ] || { echo "no $MS"; exit 1; }
# dkimpy lives in Debian's python, not in whatever python3 PATH finds.
PY=/usr/bin/python3

step() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }

export HOME="$T/home" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/xdg"
mkdir -p "$HOME"
unset MAILFLOW_CONFIG MAILFLOW_PASSWORD
cd "$T"

cat >cfg <<EOF
defaults
tls_trust_file $MF_CA
user $MF_USER
from $MF_ADDR
timeout 30

account sub
host localhost
port $MF_SUBMISSION_PORT

account dkim : sub
dkim_key $MF_DKIM_RSA_KEY
dkim_selector rsa

account default : sub
EOF
chmod 600 cfg
printf '%s\n' "$MF_PASS" >pw
ms() { "$MS" --config "$T/cfg" --passwordeval "cat $T/pw" "$@"; }

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
# no_mail MAILDIR TOKEN: nothing holding TOKEN arrives within a second.
no_mail() {
	sleep 1
	! grep -q -s -- "$2" "$1"/new/* "$1"/cur/* || die "a message with $2 arrived"
}
tok() { printf 'tok-%s-%s' "$1" "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"; }
queue_empty() {
	[ -z "$(ls -A "$XDG_STATE_HOME/mailflow/queue/new" 2>/dev/null)" ] ||
		die "$1: something was queued"
}

# dkim_verify FILE: dkimpy verifies every DKIM-Signature of the delivered
# message, asking the bed's NSD for the key records.
cat >dkimv.py <<'PY'
import sys, dkim, dns.message, dns.query, dns.rdatatype
port = int(sys.argv[2])
def dnsfunc(name, timeout=5):
    q = dns.message.make_query(name.decode(), dns.rdatatype.TXT)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)
    for rrset in r.answer:
        for rd in rrset:
            return b"".join(rd.strings)
    return None
msg = open(sys.argv[1], "rb").read()
n = msg.count(b"\nDKIM-Signature:") + msg.startswith(b"DKIM-Signature:")
d = dkim.DKIM(msg)
ok = all(d.verify(idx=i, dnsfunc=dnsfunc) for i in range(n)) and n > 0
print("dkimpy: %d signature(s), %s" % (n, "pass" if ok else "FAIL"))
sys.exit(0 if ok else 1)
PY
dkim_verify() { "$PY" dkimv.py "$1" "$MF_DNS_PORT" || die "dkimpy rejects $1"; }

# opendkim_verify FILE: OpenDKIM's verifier asks the system resolver on port
# 53; run it in private network and mount namespaces where a small server
# on 127.0.0.1:53 answers with the records the bed's NSD serves.
cat >dnsd.py <<'PY'
import socket, sys, dns.message, dns.rcode, dns.rdatatype, dns.rrset
recs = {}
for a in sys.argv[1:]:
    name, txt = a.split("=", 1)
    recs[name.lower().rstrip(".")] = txt
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
s.settimeout(20)
open("dnsd.ready", "w").close()
try:
    while True:
        data, peer = s.recvfrom(4096)
        q = dns.message.from_wire(data)
        r = dns.message.make_response(q)
        qq = q.question[0]
        name = qq.name.to_text().lower().rstrip(".")
        if qq.rdtype == dns.rdatatype.TXT and name in recs:
            r.answer.append(dns.rrset.from_text(qq.name, 300, "IN", "TXT", recs[name]))
        else:
            r.set_rcode(dns.rcode.NXDOMAIN)
        s.sendto(r.to_wire(), peer)
except socket.timeout:
    pass
PY
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:1\n' >resolv.conf
opendkim_verify() {
	local rsa ed
	command -v opendkim-testmsg >/dev/null || { echo "(no opendkim-testmsg)"; return 0; }
	rsa=$(dig +short -p "$MF_DNS_PORT" @127.0.0.1 TXT rsa._domainkey.example.test)
	ed=$(dig +short -p "$MF_DNS_PORT" @127.0.0.1 TXT ed25519._domainkey.example.test)
	[ -n "$rsa" ] && [ -n "$ed" ] || die "the bed's DNS has no DKIM key records"
	rm -f dnsd.ready
	timeout 30 unshare -mn sh -c '
		ip link set lo up && mount --bind "$1" /etc/resolv.conf || exit 99
		'"$PY"' dnsd.py "rsa._domainkey.example.test=$2" \
			"ed25519._domainkey.example.test=$3" & d=$!
		for i in 1 2 3 4 5 6 7 8 9 10; do [ -e dnsd.ready ] && break; sleep 0.2; done
		opendkim-testmsg <"$4"; rc=$?
		kill $d; exit $rc' sh "$T/resolv.conf" "$rsa" "$ed" "$1" >odkim.out 2>&1 ||
		die "opendkim-testmsg rejects $1: $(cat odkim.out)"
	echo "opendkim-testmsg: pass"
}

# ---------------------------------------------------------------------------
step "DKIM rsa-sha256 (account keys), composed UTF-8 message, -v names the key"
t=$(tok dkim-rsa)
ms -a dkim -v --subject "Grüße $t" --body "Hällo wörld, $t
tab	and trailing   
" "$MF_ADDR2" 2>v.err || die "send failed: $(cat v.err)"
grep -q "DKIM: signed with rsa-sha256 key $MF_DKIM_RSA_KEY (d=example.test, s=rsa)" v.err ||
	die "-v does not say what was signed: $(grep -v '^[<>=]' v.err)"
f=$(wait_mail "$MF_MAILDIR2" "$t")
LC_ALL=C grep -q '[^[:print:][:space:]]' "$f" && die "8-bit bytes in the signed message"
dkim_verify "$f"
opendkim_verify "$f"

step "DKIM ed25519-sha256, --message with a raw 8-bit body (made 7-bit before signing)"
t=$(tok dkim-ed)
printf 'From: %s\nTo: %s\nSubject: ed %s\n\nRaw UTF-8: \303\244\303\266\303\274 %s\n' \
	"$MF_ADDR" "$MF_ADDR2" "$t" "$t" >raw.eml
ms --dkim-key "$MF_DKIM_ED25519_KEY" --dkim-selector ed25519 -v --message raw.eml 2>v.err ||
	die "send failed: $(cat v.err)"
grep -q 'ed25519-sha256' v.err || die "-v: $(cat v.err)"
grep -q 're-encoded' v.err || die "-v does not say the body was re-encoded"
f=$(wait_mail "$MF_MAILDIR2" "$t")
grep -q '^Content-Transfer-Encoding: quoted-printable' "$f" || die "body not made 7-bit"
dkim_verify "$f"
opendkim_verify "$f"

step "DKIM with --dkim-headers, from stdin"
t=$(tok dkim-stdin)
printf 'From: %s\nTo: %s\nSubject: stdin %s\nX-Extra: yes\n\nbody %s\n' \
	"$MF_ADDR" "$MF_ADDR2" "$t" "$t" |
	ms -a dkim --dkim-headers from,subject,x-extra "$MF_ADDR2" || die "stdin send failed"
f=$(wait_mail "$MF_MAILDIR2" "$t")
grep -q 'h=from:subject:x-extra;' "$f" || die "h= is not the given list"
dkim_verify "$f"

step "DKIM through a sendmail link with -t"
ln -s "$MS" sendmail
t=$(tok dkim-sendmail)
printf 'To: %s\nSubject: sendmail %s\n\nbody %s\n' "$MF_ADDR2" "$t" "$t" |
	"$T/sendmail" --config "$T/cfg" --passwordeval "cat $T/pw" -a dkim -t -oi ||
	die "sendmail -t failed"
f=$(wait_mail "$MF_MAILDIR2" "$t")
dkim_verify "$f"

step "DKIM over --batch: each message signed"
mkdir batch
t=$(tok dkim-batch)
for i in 1 2 3; do
	printf 'From: %s\nTo: %s\nSubject: batch %s\n\n%s n%s \303\251\n' "$MF_ADDR" \
		"$MF_ADDR2" "$i" "$t" "$i" >"batch/m$i"
done
ms -a dkim --batch batch >batch.out || die "batch failed: $(cat batch.out)"
wait_mail "$MF_MAILDIR2" "$t" 3 >/dev/null
for f in $(grep -l -- "$t" "$MF_MAILDIR2"/new/* "$MF_MAILDIR2"/cur/* 2>/dev/null); do
	dkim_verify "$f"
done

step "DKIM and the queue: signed once at submission, not again on flush"
t=$(tok dkim-queue)
ms -a dkim -s 127.0.0.1 -p 1 --queue --subject "queued $t" --body "$t" "$MF_ADDR2" 2>q.err ||
	die "--queue failed: $(cat q.err)"
[ "$(cat "$XDG_STATE_HOME"/mailflow/queue/new/* | grep -c '^DKIM-Signature:')" -eq 1 ] ||
	die "the queued message is not signed exactly once"
ms -a dkim --flush-queue >flush.out || die "flush failed: $(cat flush.out)"
f=$(wait_mail "$MF_MAILDIR2" "$t")
[ "$(grep -c '^DKIM-Signature:' "$f")" -eq 1 ] || die "signed again on flush"
dkim_verify "$f"

step "--dry-run shows the signed message"
ms -a dkim --dry-run --subject dry --body dry "$MF_ADDR2" >dry.out || die "dry run failed"
grep -q '^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=rsa;' dry.out ||
	die "dry run shows no signature: $(head -5 dry.out)"

step "DKIM domain not the From domain: a warning, still sent and valid"
t=$(tok dkim-align)
printf 'From: other@elsewhere.test\nSubject: align %s\n\n%s\n' "$t" "$t" >align.eml
ms -a dkim --dkim-domain example.test -f "$MF_ADDR" --message align.eml "$MF_ADDR2" 2>w.err ||
	die "send failed: $(cat w.err)"
grep -q 'warning: DKIM domain example.test does not match the From domain elsewhere.test' w.err ||
	die "no alignment warning: $(cat w.err)"
f=$(wait_mail "$MF_MAILDIR2" "$t")
dkim_verify "$f"

step "DKIM bad input: missing, unreadable and non-key files, no selector -> 78, nothing sent or queued"
t=$(tok dkim-bad)
printf 'not a key\n' >notakey.pem
cp "$MF_DKIM_RSA_KEY" unreadable.pem
chmod 000 unreadable.pem
for args in "--dkim-key $T/missing.pem --dkim-selector rsa" \
	"--dkim-key $T/notakey.pem --dkim-selector rsa" \
	"--dkim-key $MF_DKIM_RSA_KEY"; do
	rc=0
	# shellcheck disable=SC2086 # the options are words
	ms $args -s 127.0.0.1 -p 1 --queue --subject "bad $t" --body "$t" "$MF_ADDR2" 2>bad.err || rc=$?
	[ "$rc" -eq 78 ] || die "$args: exit $rc, want 78: $(cat bad.err)"
	grep -q 'DKIM\|dkim' bad.err || die "$args: unclear error: $(cat bad.err)"
	queue_empty "$args"
done
if [ "$(id -u)" -ne 0 ]; then
	rc=0
	ms --dkim-key "$T/unreadable.pem" --dkim-selector rsa --subject x --body x "$MF_ADDR2" 2>bad.err || rc=$?
	[ "$rc" -eq 78 ] || die "unreadable key: exit $rc"
fi
ms --dkim-key "$T/missing.pem" --dkim-selector rsa --subject "bad $t" --body "$t" "$MF_ADDR2" 2>/dev/null &&
	die "sent with a missing key"
no_mail "$MF_MAILDIR2" "$t"

# ---------------------------------------------------------------------------
# PGP/MIME: a temporary GnuPG home with keys for both users.
mkdir -m 700 "$GNUPGHOME"
gpg -q --batch --passphrase '' --quick-gen-key "Alice <$MF_ADDR>" ed25519 sign,cert never 2>/dev/null
fpr=$(gpg --list-keys --with-colons "<$MF_ADDR>" | awk -F: '/^fpr/ { print $10; exit }')
gpg -q --batch --passphrase '' --quick-add-key "$fpr" cv25519 encr never 2>/dev/null
gpg -q --batch --passphrase '' --quick-gen-key "Bob <$MF_ADDR2>" default default never 2>/dev/null

# parts.py FILE OUTDIR: the parts of the delivered multipart/signed or
# multipart/encrypted message, byte for byte and with CRLF line ends
# (RFC 3156 §5: what was signed is the canonical form), as OUTDIR/part1,
# OUTDIR/part2.
cat >parts.py <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
head, _, body = raw.partition(b"\r\n\r\n")
unfolded = re.sub(rb"\r\n[ \t]+", b" ", head)
b = re.search(rb'boundary="?([^";\r\n]+)"?', unfolded).group(1)
delim = b"\r\n--" + b
body = b"\r\n" + body
chunks = body.split(delim)
parts = [c[2:] for c in chunks[1:] if not c.startswith(b"--")]
for i, p in enumerate(parts, 1):
    open("%s/part%d" % (sys.argv[2], i), "wb").write(p)
print("%d parts" % len(parts))
PY

step "PGP/MIME signature (and DKIM over it), gpg --verify on the canonical part"
t=$(tok pgp-sign)
ms -a dkim --pgp-sign -v --subject "pgp $t" --body "Signed UTF-8: äöü $t" "$MF_ADDR2" 2>v.err ||
	die "send failed: $(cat v.err)"
grep -q "OpenPGP: signed with .* $fpr" v.err || die "-v does not name the key: $(cat v.err)"
f=$(wait_mail "$MF_MAILDIR2" "$t")
grep -q 'multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha' "$f" ||
	die "not multipart/signed"
LC_ALL=C grep -q '[^[:print:][:space:]]' "$f" && die "8-bit bytes in the signed message"
mkdir -p p1 && "$PY" parts.py "$f" p1 >/dev/null
gpg --batch --verify p1/part2 p1/part1 2>gv.err || die "gpg --verify fails: $(cat gv.err)"
grep -q "Good signature from \"Alice" gv.err || die "gpg: $(cat gv.err)"
dkim_verify "$f"

step "PGP: gpg, and the gpg-agent it leaves running, never see MAILFLOW_PASSWORD"
# The password comes from the environment here; a fresh agent is started
# by mailsend's own signing run and must not carry it (issue 14, item 7).
gpgconf --kill gpg-agent
t=$(tok pgp-env)
MAILFLOW_PASSWORD="$MF_PASS" "$MS" --config "$T/cfg" --pgp-sign --subject "env $t" \
	--body "$t" "$MF_ADDR2" 2>env.err || die "send failed: $(cat env.err)"
wait_mail "$MF_MAILDIR2" "$t" >/dev/null
agents=$(pgrep -f "gpg-agent --homedir $GNUPGHOME" || true)
[ -n "$agents" ] || die "the signing run started no gpg-agent"
for p in $agents; do
	tr '\0' '\n' <"/proc/$p/environ" | grep -q '^MAILFLOW_PASSWORD=' &&
		die "gpg-agent $p has MAILFLOW_PASSWORD in its environment"
done

step "PGP/MIME encrypted and signed, gpg --decrypt opens it"
t=$(tok pgp-enc)
subj=$(tok pgp-subject)
ms --pgp-sign --pgp-encrypt -v --subject "enc $subj" --body "secret $t" "$MF_ADDR2" 2>v.err ||
	die "send failed: $(cat v.err)"
grep -q 'OpenPGP: encrypted to 1 recipient' v.err || die "-v: $(cat v.err)"
f=$(wait_mail "$MF_MAILDIR2" "$subj")
grep -q "$t" "$f" && die "the plaintext is in the delivered message"
grep -q 'multipart/encrypted; protocol="application/pgp-encrypted"' "$f" || die "not multipart/encrypted"
mkdir -p p2 && "$PY" parts.py "$f" p2 >/dev/null
grep -q '^Version: 1' p2/part1 || die "no PGP/MIME version part"
gpg --batch --decrypt p2/part2 >dec.out 2>gd.err || die "gpg --decrypt fails: $(cat gd.err)"
grep -q "secret $t" dec.out || die "decrypted text lacks the body"
grep -q "Good signature from \"Alice" gd.err || die "no inner signature: $(cat gd.err)"

step "PGP: a recipient without a key -> 65 naming it; a missing signing key -> 78; nothing sent or queued"
t=$(tok pgp-bad)
rc=0
ms --pgp-encrypt -s 127.0.0.1 -p 1 --queue --subject "bad $t" --body "$t" "$MF_ADDR2" \
	nokey@example.test 2>bad.err || rc=$?
[ "$rc" -eq 65 ] || die "recipient without key: exit $rc: $(cat bad.err)"
grep -q 'no usable public key for nokey@example.test' bad.err || die "unclear: $(cat bad.err)"
queue_empty "pgp recipient without key"
rc=0
ms --pgp-sign --pgp-key 'nobody@nowhere.test' --subject "bad $t" --body "$t" "$MF_ADDR2" 2>bad.err || rc=$?
[ "$rc" -eq 78 ] || die "missing signing key: exit $rc: $(cat bad.err)"
grep -q 'no usable secret key for nobody@nowhere.test' bad.err || die "unclear: $(cat bad.err)"
no_mail "$MF_MAILDIR2" "$t"

# ---------------------------------------------------------------------------
step "S/MIME signature with the chain, DKIM over it: openssl smime/cms -verify, gpgsm --verify"
t=$(tok smime)
ms -a dkim --smime-sign --smime-cert "$MF_SMIME_CERT1" --smime-key "$MF_SMIME_KEY1" -v \
	--subject "smime $t" --body "Signiert: äöü $t" "$MF_ADDR2" 2>v.err || die "send failed: $(cat v.err)"
grep -q "S/MIME: signed with the certificate $MF_SMIME_CERT1 (CN=$MF_ADDR)" v.err || die "-v: $(cat v.err)"
f=$(wait_mail "$MF_MAILDIR2" "$t")
grep -q 'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256' "$f" ||
	die "not multipart/signed"
LC_ALL=C grep -q '[^[:print:][:space:]]' "$f" && die "8-bit bytes in the signed message"
openssl smime -verify -in "$f" -CAfile "$MF_CA" -out sm.out 2>sv.err || die "openssl smime: $(cat sv.err)"
grep -q "$t" sm.out || die "openssl smime -verify did not give the content"
openssl cms -verify -in "$f" -CAfile "$MF_CA" -out /dev/null 2>sv.err || die "openssl cms: $(cat sv.err)"
# The chain travels in the signature: the CA certificate is in it.
mkdir -p p3 && "$PY" parts.py "$f" p3 >/dev/null
sed '1,/^\r$/d' p3/part2 | tr -d '\r' | base64 -d >sig.der || die "signature part is not base64"
[ "$(openssl pkcs7 -inform DER -in sig.der -print_certs | grep -c '^subject')" -ge 2 ] ||
	die "the chain is not in the signature"
gpgsm --batch -q --import "$MF_CA" 2>/dev/null
# gpg-agent keeps the list of trusted roots: trust the bed's CA, reload.
gpgsm --with-colons --list-keys 2>/dev/null | awk -F: '/^fpr/ { print $10 " S relax" }' >"$GNUPGHOME/trustlist.txt"
[ -s "$GNUPGHOME/trustlist.txt" ] || die "gpgsm did not import the CA"
gpg-connect-agent reloadagent /bye >/dev/null 2>&1
gpgsm --batch --disable-crl-checks --verify sig.der p3/part1 2>gs.err ||
	die "gpgsm --verify fails: $(cat gs.err)"
grep -q 'Good signature' gs.err || die "gpgsm: $(cat gs.err)"
dkim_verify "$f"

step "S/MIME bad input: expired, no emailProtection, not the sender's, no key -> 78; nothing sent or queued"
t=$(tok smime-bad)
for args in "$MF_SMIME_CERT_EXPIRED $MF_SMIME_KEY_EXPIRED expired" \
	"$MF_CLIENT_CERT $MF_CLIENT_KEY emailProtection" \
	"$MF_SMIME_CERT2 $MF_SMIME_KEY2 not.for.the.sender" \
	"$MF_SMIME_CERT1 $T/missing-key.pem missing-key" \
	"$MF_SMIME_CERT1 $MF_SMIME_KEY2 does.not.belong"; do
	set -- $args
	rc=0
	ms --smime-sign --smime-cert "$1" --smime-key "$2" -s 127.0.0.1 -p 1 --queue \
		--subject "bad $t" --body "$t" "$MF_ADDR2" 2>bad.err || rc=$?
	[ "$rc" -eq 78 ] || die "$3: exit $rc, want 78: $(cat bad.err)"
	grep -q "$(echo "$3" | tr . ' ')" bad.err || die "$3: unclear error: $(cat bad.err)"
	queue_empty "S/MIME $3"
done
no_mail "$MF_MAILDIR2" "$t"

# ---------------------------------------------------------------------------
# S/MIME encryption.  user2's certificate is the bed's; an expired one and
# one for TLS clients only (no emailProtection) are made here for user2's key.
mkcert() { # NAME TEMPLATE-LINES...: NAME.pem, self-signed with user2's key
	local n=$1
	shift
	printf '%s\n' "$@" >"$n.tmpl"
	certtool --generate-self-signed --load-privkey "$MF_SMIME_KEY2" \
		--template "$n.tmpl" --outfile "$n.pem" >"$n.log" 2>&1 ||
		die "certtool: $(cat "$n.log")"
}
mkcert expired2 "cn = $MF_ADDR2" "email = $MF_ADDR2" email_protection_key encryption_key \
	'activation_date = "2020-01-01 00:00:00"' 'expiration_date = "2021-01-01 00:00:00"'
# certtool writes no rfc822Name with a TLS-only key purpose: the address
# goes into the subject's emailAddress, which S/MIME matches too.
mkcert tls2 "cn = $MF_ADDR2" "dn_oid = 1.2.840.113549.1.9.1 $MF_ADDR2" tls_www_client \
	encryption_key 'expiration_days = 30'
# body_der FILE OUT: the base64 body of a one-part message, decoded.
body_der() { awk 'f { print } /^\r?$/ { f = 1 }' "$1" | tr -d '\r' | base64 -d >"$2"; }
# gpgsm gets both users' keys (PKCS#12 with the ciphers gpgsm 2.2 reads).
for u in 1 2; do
	eval "c=\$MF_SMIME_CERT$u k=\$MF_SMIME_KEY$u"
	openssl pkcs12 -export -in "$c" -inkey "$k" -passout pass:test -keypbe PBE-SHA1-3DES \
		-certpbe PBE-SHA1-3DES -macalg sha1 -out "u$u.p12" || die "openssl pkcs12"
	echo test | gpgsm --batch --pinentry-mode loopback --passphrase-fd 0 --import "u$u.p12" \
		>p12.log 2>&1 || die "gpgsm --import: $(cat p12.log)"
done

step "S/MIME encrypted to the recipient and the sender: openssl smime/cms -decrypt, gpgsm --decrypt"
t=$(tok smime-enc)
subj=$(tok smime-enc-subject)
ms --smime-encrypt "$MF_SMIME_CERT2" --smime-cert "$MF_SMIME_CERT1" -v --subject "enc $subj" \
	--body "Geheim: äöü $t" "$MF_ADDR2" 2>v.err || die "send failed: $(cat v.err)"
grep -q -F "S/MIME: encrypted (AES-256-CBC) to $MF_ADDR2 ($MF_SMIME_CERT2), the sender ($MF_SMIME_CERT1)" v.err ||
	die "-v does not say to whom: $(cat v.err)"
f=$(wait_mail "$MF_MAILDIR2" "$subj")
grep -q "$t" "$f" && die "the plaintext is in the delivered message"
grep -q '^Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"' "$f" ||
	die "not application/pkcs7-mime enveloped-data"
LC_ALL=C grep -q '[^[:print:][:space:]]' "$f" && die "8-bit bytes in the encrypted message"
openssl smime -decrypt -in "$f" -recip "$MF_SMIME_CERT2" -inkey "$MF_SMIME_KEY2" -out dec2.out 2>sd.err ||
	die "openssl smime -decrypt (recipient): $(cat sd.err)"
grep -q "$t" dec2.out || die "decrypted text lacks the body"
grep -q '^Content-Transfer-Encoding: quoted-printable' dec2.out || die "the UTF-8 body was not made 7-bit"
openssl cms -decrypt -in "$f" -recip "$MF_SMIME_CERT1" -inkey "$MF_SMIME_KEY1" -out dec1.out 2>sd.err ||
	die "openssl cms -decrypt (the sender's copy): $(cat sd.err)"
cmp -s dec1.out dec2.out || die "the sender's copy differs"
openssl cms -cmsout -print -in "$f" | grep -q 'aes-256-cbc' || die "not AES-256-CBC"
body_der "$f" enc.der
echo test | gpgsm --batch --pinentry-mode loopback --passphrase-fd 0 --decrypt enc.der >gsd.out 2>gsd.err ||
	die "gpgsm --decrypt fails: $(cat gsd.err)"
tr -d '\r' <gsd.out >gsd.lf
tr -d '\r' <dec2.out | cmp -s - gsd.lf || die "gpgsm decrypts something else: $(cat gsd.out)"

step "S/MIME signed then encrypted (RFC 8551 §3.7), Bcc from smime_recipient_certs, DKIM over it"
mkdir -p store && cp "$MF_SMIME_CERT1" store/user1.pem && cp "$MF_SMIME_KEY1" store/user1-key.pem
printf '\naccount smime : dkim\nsmime_cert %s\nsmime_key %s\nsmime_recipient_certs %s\n' \
	"$MF_SMIME_CERT1" "$MF_SMIME_KEY1" "$T/store" >>cfg
t=$(tok smime-signenc)
subj=$(tok smime-signenc-subject)
ms -a smime --smime-sign --smime-encrypt "$MF_SMIME_CERT2" -v --subject "signenc $subj" \
	--body "Signed and sealed: äöü $t" --to "$MF_ADDR2" --bcc "$MF_ADDR" 2>v.err ||
	die "send failed: $(cat v.err)"
grep -q -F "S/MIME: signed with the certificate $MF_SMIME_CERT1" v.err || die "-v: $(cat v.err)"
grep -q -F "S/MIME: encrypted (AES-256-CBC) to $MF_ADDR2 ($MF_SMIME_CERT2), $MF_ADDR ($T/store/user1.pem)" v.err ||
	die "-v: $(cat v.err)"
for u in 2 1; do
	if [ "$u" = 1 ]; then md=$MF_MAILDIR; else md=$MF_MAILDIR2; fi
	eval "c=\$MF_SMIME_CERT$u k=\$MF_SMIME_KEY$u"
	f=$(wait_mail "$md" "$subj")
	grep -q "$t" "$f" && die "the plaintext is in the delivered message"
	grep -q -i '^bcc:' "$f" && die "the Bcc header field was delivered"
	openssl smime -decrypt -in "$f" -recip "$c" -inkey "$k" -out "inner$u.eml" 2>sd.err ||
		die "openssl smime -decrypt (user$u): $(cat sd.err)"
	grep -q '^Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256' \
		"inner$u.eml" || die "not signed inside: $(head -3 "inner$u.eml")"
	openssl smime -verify -in "inner$u.eml" -CAfile "$MF_CA" -out "ver$u.out" 2>sv.err ||
		die "openssl smime -verify of the decrypted message: $(cat sv.err)"
	grep -q "$t" "ver$u.out" || die "the verified content lacks the body"
	dkim_verify "$f"
done

step "S/MIME encryption and the queue: encrypted once at submission, sent as is on flush"
t=$(tok smime-queue)
subj=$(tok smime-queue-subject)
ms --smime-encrypt "$MF_SMIME_CERT2" -s 127.0.0.1 -p 1 --queue --subject "queued $subj" \
	--body "$t" "$MF_ADDR2" 2>q.err || die "--queue failed: $(cat q.err)"
grep -q -s "$t" "$XDG_STATE_HOME"/mailflow/queue/new/* && die "the queue holds the plaintext"
grep -q -s 'smime-type=enveloped-data' "$XDG_STATE_HOME"/mailflow/queue/new/* ||
	die "not queued encrypted"
ms --flush-queue >flush.out || die "flush failed: $(cat flush.out)"
f=$(wait_mail "$MF_MAILDIR2" "$subj")
openssl cms -decrypt -in "$f" -recip "$MF_SMIME_CERT2" -inkey "$MF_SMIME_KEY2" -out q.out 2>sd.err ||
	die "the flushed message does not decrypt: $(cat sd.err)"
grep -q "$t" q.out || die "the flushed message lacks the body"

step "--dry-run shows the encrypted message"
ms --smime-encrypt "$MF_SMIME_CERT2" --dry-run --subject dry --body "dry $t" "$MF_ADDR2" >dry.out ||
	die "dry run failed"
grep -q '^Content-Type: application/pkcs7-mime; smime-type=enveloped-data' dry.out ||
	die "dry run shows no encrypted message: $(head -12 dry.out)"
grep -q "dry $t" dry.out && die "dry run shows the plaintext"

step "S/MIME encryption bad input: no, expired or non-e-mail certificate -> 65; bad files -> 78; nothing sent or queued"
t=$(tok smime-enc-bad)
printf 'not a certificate\n' >notacert.pem
# want|certificate|second recipient|what the error must say (a grep -E)
while IFS='|' read -r want cert rcpt says; do
	for mode in queue send; do
		rc=0
		if [ "$mode" = queue ]; then
			ms --smime-encrypt "$cert" -s 127.0.0.1 -p 1 --queue --subject "bad $t" \
				--body "$t" "$MF_ADDR2" "$rcpt" 2>bad.err || rc=$?
		else
			ms --smime-encrypt "$cert" --subject "bad $t" --body "$t" "$MF_ADDR2" \
				"$rcpt" 2>bad.err || rc=$?
		fi
		[ "$rc" -eq "$want" ] || die "$cert $rcpt ($mode): exit $rc, want $want: $(cat bad.err)"
		grep -q -E -- "$says" bad.err || die "$cert $rcpt: unclear error: $(cat bad.err)"
	done
	queue_empty "S/MIME encryption with $cert to $rcpt"
done <<EOF
65|$MF_SMIME_CERT2|nocert@example.test|no certificate for the recipient nocert@example.test
65|$T/expired2.pem|$MF_ADDR2|cannot encrypt to $MF_ADDR2: the certificate in $T/expired2.pem .* has expired
65|$T/tls2.pem|$MF_ADDR2|cannot encrypt to $MF_ADDR2: the certificate in $T/tls2.pem .* lacks emailProtection
78|$T/missing.pem|$MF_ADDR2|certificate $T/missing.pem: No such file
78|$T/notacert.pem|$MF_ADDR2|certificate $T/notacert.pem: no PEM certificate
EOF
# The sender's own certificate, added so the sent copy can be read, must
# be usable too: it is configuration.
rc=0
ms --smime-encrypt "$MF_SMIME_CERT2" --smime-cert "$MF_SMIME_CERT_EXPIRED" --subject "bad $t" \
	--body "$t" "$MF_ADDR2" 2>bad.err || rc=$?
[ "$rc" -eq 78 ] && grep -q 'has expired (the sender' bad.err ||
	die "the sender's expired certificate: exit $rc: $(cat bad.err)"
no_mail "$MF_MAILDIR2" "$t"

echo "sign: ok"
