#!/bin/bash
# smtp-auth-test --discover against the bed: the example.test zone
# (tests/bed/zones) publishes RFC 6186 SRV records pointing at the bed's
# Postfix and Dovecot ports (_imap._tcp with a "." target: not offered),
# an autoconfig document is served here over HTTPS with a bed-CA
# certificate (reusing tests/mxprobe/httpsd.py; only under the .well-known
# path, so the autoconfig.example.test URL answers 404 first), and the
# guesses on 465/587/25 are refused on loopback.  Checked: the tried list
# and its order, the outcomes, the configuration block (fed back to
# mailsend, which sends with it), --json against man/mailflow.schema.json,
# exit statuses 0 / 77 / 69, and the password nowhere in the output.
set -u

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
: "${MF_BIN:?}"
MF_TOP="${MF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}"
T="${MF_TMP:-$(mktemp -d)}"
SAT="$MF_BIN/smtp-auth-test"
export HOME="$T/home"      # never read a real configuration
mkdir -p "$HOME" "$T/www/.well-known/autoconfig/mail"
unset MAILFLOW_PASSWORD MAILFLOW_CONFIG
cd "$T" || exit 1

FAILS=0
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; FAILS=$((FAILS + 1)); }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }

dig +short -p "$MF_RESOLVER_PORT" @127.0.0.1 SRV _submission._tcp.example.test | grep -q . ||
	{ echo "SKIP: the bed's example.test zone has no SRV records"; exit 77; }

# A bed-CA certificate for the two autoconfig hosts.
c="$MF_BED_DIR/certs"
certtool --generate-privkey --key-type=ecdsa --outfile ac-key.pem >/dev/null 2>&1
printf '%s\n' "serial = $(od -An -N4 -tu4 /dev/urandom | tr -d ' ')" \
	'cn = "autoconfig.example.test"' 'dns_name = "autoconfig.example.test"' \
	'dns_name = "example.test"' 'tls_www_server' 'signing_key' \
	'expiration_days = 30' >ac.tmpl
certtool --generate-certificate --load-privkey ac-key.pem \
	--load-ca-certificate "$c/ca.pem" --load-ca-privkey "$c/ca-key.pem" \
	--template ac.tmpl --outfile ac.crt >/dev/null 2>&1 || die "certtool"
cat ac.crt "$c/ca.pem" >ac.pem

cat >www/.well-known/autoconfig/mail/config-v1.1.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <displayName>Example &amp; test</displayName>
    <incomingServer type="imap">
      <hostname>mail.%EMAILDOMAIN%</hostname>
      <port>$MF_IMAPS_PORT</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>mail.example.test</hostname>
      <port>$MF_SUBMISSION_PORT</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
EOF

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.21",0)); print(s.getsockname()[1])')
python3 "$MF_TOP/tests/mxprobe/httpsd.py" --ready httpsd.ready 127.0.0.21 "$port" \
	ac.pem ac-key.pem www </dev/null >httpsd.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do [ -s httpsd.ready ] && break; sleep 0.1; done
[ -s httpsd.ready ] || die "httpsd did not start: $(tail -3 httpsd.log)"
export SMTP_AUTH_TEST_HTTPS_PORT="$port"

ARGS=(--resolver "127.0.0.1:$MF_RESOLVER_PORT" --tls-trust-file "$MF_CA" --timeout 10)
printf '%s\n' "$MF_PASS" >pw
printf 'wrong-%s\n' "$MF_PASS" >badpw

# run NAME EXIT ARGS...: text to NAME.txt, --json to NAME.json; both exits.
run() {
	local name=$1 want=$2 rc
	shift 2
	step "$name: $*"
	rc=0
	timeout 150 "$SAT" "${ARGS[@]}" "$@" >"$name.txt" 2>"$name.err" || rc=$?
	[ "$rc" = "$want" ] || fail "$name: text run exited $rc, want $want: $(head -c 1500 "$name.txt" "$name.err")"
	rc=0
	timeout 150 "$SAT" "${ARGS[@]}" --json "$@" >"$name.json" 2>"$name.jerr" || rc=$?
	[ "$rc" = "$want" ] || fail "$name: --json run exited $rc, want $want"
	python3 "$MF_TOP/tests/jsonschema.py" "$MF_TOP/man/mailflow.schema.json" \
		"$name.json" smtp-auth-test || fail "$name: --json does not match the schema"
	if grep -q -- "$MF_PASS" "$name.txt" "$name.err" "$name.json" "$name.jerr"; then
		fail "$name: the password appears in the output"
	fi
}
# text NAME REGEX
text() { grep -Eq -- "$2" "$1.txt" || fail "$1: text lacks /$2/"; }

# jcheck NAME PYTHON-EXPR...: each expression over d (the JSON) is true.
jcheck() {
	local name=$1
	shift
	python3 - "$name.json" "$@" <<'PY' || fail "$name: JSON checks failed"
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
ok = True
for expr in sys.argv[2:]:
    try:
        good = eval(expr, {"d": d})
    except Exception as ex:
        good = False
        print("  error in", expr, ex)
    if not good:
        print("  not true:", expr)
        ok = False
sys.exit(0 if ok else 1)
PY
}

D=example.test
SUBS="mail.$D:$MF_SMTPS_PORT"
SUB="mail.$D:$MF_SUBMISSION_PORT"

# --- no credentials: the first working path is the SRV implicit-TLS one ---
run nocreds 0 --discover "alice@$D"
text nocreds "^ 1 srv +_submissions\._tcp\.$D: found - mail\.$D:$MF_SMTPS_PORT"
text nocreds "^ 2 srv +_submission\._tcp\.$D: found - mail\.$D:$MF_SUBMISSION_PORT"
text nocreds "^ 4 srv +_imap\._tcp\.$D: not-offered"
text nocreds "^ 6 srv +_pop3\._tcp\.$D: none"
text nocreds "^ 7 autoconfig https://autoconfig\.$D/mail/config-v1\.1\.xml: error - .*HTTP status 404"
text nocreds "^ 8 autoconfig https://$D/\.well-known/autoconfig/mail/config-v1\.1\.xml: found - 2 servers"
text nocreds "^ 9 mx +$D MX: found - mail\.$D"
text nocreds "^10 smtp +$SUBS implicit \(srv\): ok"
text nocreds "^11 smtp +$SUB starttls \(srv\): ok"
text nocreds "smtp\.$D:465 implicit \(guess\): refused"
text nocreds "smtp\.$D:587 starttls \(guess\): refused"
text nocreds "smtp\.$D:25 starttls \(guess\): refused"
text nocreds "^verdict: submission works: $SUBS"
jcheck nocreds 'd["tool"] == "smtp-auth-test" and d["exit"] == 0' \
	'd["domain"] == "example.test" and d["address"] == "alice@example.test"' \
	'[s["kind"] for s in d["tried"]][:9] == ["srv"]*6 + ["autoconfig"]*2 + ["mx"]' \
	'[s["step"] for s in d["tried"]] == list(range(1, len(d["tried"]) + 1))' \
	'all(s["outcome"] == "refused" for s in d["tried"] if s["kind"] == "smtp" and s["host"] == "smtp.example.test")' \
	'len({(s["host"], s["port"]) for s in d["tried"] if s["kind"] == "smtp"}) == len([s for s in d["tried"] if s["kind"] == "smtp"])' \
	'[a["protocol"] for a in d["accounts"]] == ["submission", "imap", "pop3"]' \
	'd["accounts"][0]["port"] == '"$MF_SMTPS_PORT"' and d["accounts"][0]["tls"] == "implicit" and d["accounts"][0]["tested"]' \
	'd["accounts"][0]["user"] == "alice"' \
	'd["accounts"][1]["port"] == '"$MF_IMAPS_PORT"' and d["accounts"][2]["port"] == '"$MF_POP3S_PORT" \
	'd["config"].startswith("account example.test\n")'

# --- with credentials: every offered mechanism through lib/diag.c ---
run creds 0 --discover "alice@$D" -u "$MF_USER" --passwordeval "cat $T/pw"
text creds "^10 smtp +$SUBS implicit \(srv\): ok"
jcheck creds 'd["exit"] == 0' \
	'd["tried"][9]["mechanism"] is not None' \
	'd["accounts"][0]["auth"] == d["tried"][9]["mechanism"]' \
	'd["accounts"][0]["auth"] == "SCRAM-SHA-256"' \
	'd["accounts"][0]["user"] == "'"$MF_USER"'"'

# The configuration block, as printed, works with mailsend.  mailsend asks
# the system resolver, which is not on loopback: run it in a mount
# namespace whose hosts file names the bed.
step "mailsend --config with the discovered block"
sed -n '/^# mailflow configuration/,$p' creds.txt >disc.cfg
grep -q "^port $MF_SMTPS_PORT\$" disc.cfg || fail "config block lacks the port: $(cat disc.cfg)"
chmod 600 disc.cfg
printf '127.0.0.1 localhost\n127.0.0.1 mail.example.test\n' >hosts
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >resolv.conf
tok="discover-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
timeout 60 unshare -m sh -c 'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
	"$T/hosts" "$T/resolv.conf" "$MF_BIN/mailsend" --config disc.cfg -a example.test \
	--tls-trust-file "$MF_CA" --passwordeval "cat $T/pw" --from "$MF_ADDR" \
	--subject "discovered" --body "$tok" "$MF_ADDR" >send.out 2>&1 ||
	fail "mailsend with the discovered block failed: $(tail -5 send.out)"
n=0
for i in $(seq 1 100); do
	n=$(grep -l -s -- "$tok" "$MF_MAILDIR"/new/* "$MF_MAILDIR"/cur/* 2>/dev/null | wc -l)
	[ "$n" -ge 1 ] && break
	sleep 0.2
done
[ "$n" = 1 ] || fail "the message sent with the discovered block did not arrive ($n)"

# --- a wrong password everywhere: 77 ---
run badpw 77 --discover "alice@$D" -u "$MF_USER" --passwordeval "cat $T/badpw"
text badpw "^10 smtp +$SUBS implicit \(srv\): auth-failed"
jcheck badpw 'd["exit"] == 77 and d["accounts"][0]["protocol"] != "submission"'

# --- nothing there: 69 ---
run nothing 69 --discover nosuch.example.test
jcheck nothing 'd["exit"] == 69 and d["address"] is None' \
	'all(s["outcome"] in ("none", "no-address") for s in d["tried"])' \
	'not d["accounts"] and d["config"] == ""'

# --- an IDN (issue 12): looked up as A-labels (the mxplain.test zone has
# xn--bcher-kva.mxplain.test with an MX and no submission service), shown
# in both forms; the guesses on the MX host are refused on loopback ---
I=xn--bcher-kva.mxplain.test
run idn 69 --discover "alice@bücher.mxplain.test"
text idn "^discovering alice@bücher\.mxplain\.test \(domain bücher\.mxplain\.test \($I\)\)"
text idn "^ *[0-9]+ mx +$I MX: found - mx\.$I"
text idn "mx\.bücher\.mxplain\.test \(mx\.$I\):587 starttls \(guess\): refused"
jcheck idn 'd["domain"] == "'$I'" and d["domain_unicode"] == "bücher.mxplain.test"' \
	'd["address"] == "alice@'$I'"' \
	'any(s.get("host") == "mx.'$I'" and s.get("host_unicode") == "mx.bücher.mxplain.test" for s in d["tried"])' \
	'all("host_unicode" not in s for s in d["tried"] if s.get("host", "").find("xn--") < 0)'

# --- no DNS server answers: every lookup is an error, nothing is tried
# on the network, 69, and quickly ---
step "dead resolver"
rc=0
start=$(date +%s)
timeout 150 "$SAT" --resolver 127.0.0.1:1 --tls-trust-file "$MF_CA" --json \
	--discover "alice@$D" >dead.json 2>dead.err || rc=$?
[ "$rc" = 69 ] || fail "dead resolver: exit $rc, want 69"
[ $(($(date +%s) - start)) -lt 60 ] || fail "dead resolver: took $(($(date +%s) - start)) s"
jcheck dead 'all(s["outcome"] in ("error", "no-address") for s in d["tried"])' \
	'not d["accounts"]'

# --- usage ---
step "usage errors"
rc=0; "$SAT" --discover "alice@$D" mail.example.test >/dev/null 2>&1 || rc=$?
[ "$rc" = 64 ] || fail "--discover with HOST: exit $rc, want 64"
rc=0; "$SAT" "${ARGS[@]}" --discover 'a b@' >/dev/null 2>&1 || rc=$?
[ "$rc" = 64 ] || fail "--discover with a bad address: exit $rc, want 64"

[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all --discover checks passed"
