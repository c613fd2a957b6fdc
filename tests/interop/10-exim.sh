#!/bin/bash
# smtp-auth-test and mailsend against Exim 4.96 (tests/interop/setup.sh),
# with default options apart from the CA and the credentials:
# - smtp-auth-test on the STARTTLS port: every mechanism Exim offers after
#   TLS works, Exim is named, CHUNKING seen; on the TLS-on-connect port too;
#   without TLS the finding names Exim's knob (auth_advertise_hosts).
# - mailsend with each offered mechanism and with auth auto, over STARTTLS
#   and over implicit TLS: delivered byte for byte (Exim adds trace headers
#   only), BDAT used, Exim's two-line reply to BDAT LAST printed as one
#   line; DATA with --no-chunking; a refused recipient exits 69.
set -eu

. "$MF_TOP/tests/interop/lib.sh"

TRUST=(--tls-trust-file "$MF_CA")
AUTH=(-u "$MF_USER" --passwordeval "echo $MF_PASS")
SAT="$BIN/smtp-auth-test"
MS="$BIN/mailsend"
BOX="$MF_EXIM_MAIL/$MF_USER2/Maildir"

# delivered TOKEN: the file in bob's Maildir holding TOKEN.  Exim answers
# the last chunk before its delivery process writes the file: wait (10 s).
delivered() {
	local f _
	for _ in $(seq 1 100); do
		f="$(grep -l -s -- "$1" "$BOX"/new/* 2>/dev/null | head -n 1)" || true
		[ -z "$f" ] || { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

step "smtp-auth-test, STARTTLS port, default options: every offered mechanism works"
"$SAT" --json "${TRUST[@]}" "${AUTH[@]}" "localhost:$MF_EXIM_PORT" >sat.json 2>sat.err ||
	die "smtp-auth-test: exit $? $(tail -3 sat.err)"
python3 - sat.json <<'PY' || die "smtp-auth-test report: $(head -c 600 sat.json)"
import json, sys
d = json.load(open(sys.argv[1]))
caps = d["capabilities"]
assert caps["before_tls"]["auth"] == [], "AUTH offered before TLS"
offered = caps["after_tls"]["auth"]
assert set(offered) == {"PLAIN", "LOGIN", "CRAM-MD5"}, offered
assert caps["after_tls"]["chunking"], "CHUNKING not seen"
mechs = {m["name"]: m for m in d["auth"]["mechanisms"]}
assert set(mechs) == set(offered), (list(mechs), offered)
for name, m in mechs.items():
    assert m["result"] == "ok" and m["code"] == 235, (name, m)
assert d["tls_mode"] == "starttls" and d["tls"]["verified"], d["tls"]
assert d["exit"] == 0 and not d["codes"], d["codes"]
open("mechs", "w").write(" ".join(offered) + "\n")
PY
"$SAT" "${TRUST[@]}" "${AUTH[@]}" "localhost:$MF_EXIM_PORT" >sat.txt 2>&1 || die "human report: exit $?"
grep -q '^  server: *Exim' sat.txt || die "Exim not named: $(grep -i server sat.txt)"
grep -qF "$MF_PASS" sat.txt sat.json && die "the password appears in the output"

step "smtp-auth-test, TLS-on-connect port (tls_on_connect_ports)"
"$SAT" --json --tls implicit "${TRUST[@]}" "${AUTH[@]}" "localhost:$MF_EXIM_SMTPS_PORT" \
	>sat-tls.json 2>sat.err || die "implicit TLS: exit $? $(tail -3 sat.err)"
python3 - sat-tls.json <<'PY' || die "implicit TLS report"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tls_mode"] == "implicit" and d["tls"]["verified"], d["tls"]
assert all(m["result"] == "ok" for m in d["auth"]["mechanisms"]), d["auth"]
assert len(d["auth"]["mechanisms"]) == 3, d["auth"]
PY

step "smtp-auth-test --tls none: AUTH_NEEDS_STARTTLS with Exim's knob"
set +e
"$SAT" --json --tls none "${AUTH[@]}" "localhost:$MF_EXIM_PORT" >sat-none.json 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 69 ] || die "--tls none: exit $rc, want 69"
python3 - sat-none.json <<'PY' || die "AUTH_NEEDS_STARTTLS finding"
import json, sys
d = json.load(open(sys.argv[1]))
f = [f for f in d["findings"] if f["code"] == "AUTH_NEEDS_STARTTLS"]
assert f, d["codes"]
assert "auth_advertise_hosts" in f[0]["fix"], f[0]["fix"]
assert "smtpd_tls_auth_only" not in f[0]["fix"], f[0]["fix"]
PY

# send NAME ARGS...: mailsend to bob, -v; the token goes into the body.
send() {
	local name="$1" t
	shift
	t="$(tok "$name")"
	echo "$t" >"$name.tok"
	"$MS" -v "${TRUST[@]}" "${AUTH[@]}" -f "$MF_ADDR" --subject "$name $t" \
		--body "$t" "$@" "$MF_ADDR2" >"$name.out" 2>"$name.err" ||
		die "mailsend $name: exit $? $(grep -v '^[<>~-]' "$name.err" | tail -3)"
	grep -qF "$MF_PASS" "$name.out" "$name.err" && die "$name: the password appears in the transcript"
	delivered "$t" >"$name.file" || die "$name: nothing delivered to $BOX"
}

# one_reply NAME: the BDAT LAST reply (two lines from Exim) as one line.
one_reply() {
	local line
	line="$(grep '^message: sent: ' "$1.err" "$1.out" | head -n 1)"
	[ -n "$line" ] || die "$1: no 'sent:' line: $(tail -3 "$1.err")"
	case "$line" in *'  '*) die "$1: double space in '$line'" ;; esac
	echo "$line" | grep -q 'byte chunk, total [0-9]*; OK id=' || die "$1: reply not joined: $line"
	grep -q '^OK id=' "$1.out" "$1.err" && die "$1: stray continuation line"
	return 0
}

read -r -a MECHS <mechs
for m in "${MECHS[@]}" auto; do
	step "mailsend --auth $m over STARTTLS"
	send "mech-$m" -s "localhost:$MF_EXIM_PORT" --auth "$m"
	grep -q '^-> STARTTLS' "mech-$m.err" || die "$m: STARTTLS not used"
	case "$m" in
	auto) grep -q '^~> AUTH ' "mech-$m.err" || die "auto: no AUTH" ;;
	*) grep -q "^~> AUTH $m" "mech-$m.err" || die "$m: not used: $(grep '^~> AUTH' "mech-$m.err")" ;;
	esac
	grep -q '^~> BDAT [0-9]* LAST' "mech-$m.err" || die "$m: CHUNKING not used"
	grep -q "A=$(case $m in CRAM-MD5) echo cram ;; PLAIN) echo plain ;; LOGIN) echo login ;; *) echo '[a-z]*' ;; esac):$MF_USER" \
		"$MF_EXIM_LOG" || die "$m: Exim logged no A=...:$MF_USER"
	one_reply "mech-$m"
done

step "the delivered message is the one sent (Exim prepends trace headers only)"
python3 - "$(cat mech-auto.file)" mech-auto.tok <<'PY' || die "delivered message differs"
import sys
got = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
tok = open(sys.argv[2]).read().strip().encode()
head, body = got.split(b"\n\n", 1)
assert body.strip() == tok, body[:200]
names = [l.split(b":")[0].lower() for l in head.split(b"\n") if l and l[:1] not in b" \t"]
for h in (b"from", b"to", b"subject", b"date", b"message-id"):
    assert names.count(h) == 1, (h, names)
PY

step "mailsend, TLS on connect, auth auto"
send implicit -s "localhost:$MF_EXIM_SMTPS_PORT" --tls implicit
grep -q '^-> STARTTLS' implicit.err && die "STARTTLS on the TLS port"
one_reply implicit

step "mailsend --no-chunking: DATA"
send data -s "localhost:$MF_EXIM_PORT" --no-chunking
grep -q '^~> DATA' data.err || die "--no-chunking: no DATA"
grep -q '^~> BDAT' data.err && die "--no-chunking: BDAT sent"

step "a recipient Exim refuses: exit 69, nothing sent"
set +e
"$MS" "${TRUST[@]}" "${AUTH[@]}" -s "localhost:$MF_EXIM_PORT" -f "$MF_ADDR" \
	--subject x --body x someone@example.org >refused.out 2>refused.err
rc=$?
set -e
[ "$rc" -eq 69 ] || die "refused recipient: exit $rc, want 69: $(cat refused.err)"
grep -q '550' refused.err || die "no 550 shown: $(cat refused.err)"

step "wrong password: exit 77"
set +e
"$MS" "${TRUST[@]}" -u "$MF_USER" --passwordeval "echo wrong" -s "localhost:$MF_EXIM_PORT" \
	-f "$MF_ADDR" --subject x --body x "$MF_ADDR2" >/dev/null 2>wrong.err
rc=$?
set -e
[ "$rc" -eq 77 ] || die "wrong password: exit $rc, want 77: $(cat wrong.err)"

echo "10-exim: all passed"
