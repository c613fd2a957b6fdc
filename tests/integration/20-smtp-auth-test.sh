#!/bin/bash
# smtp-auth-test against the bed's real Postfix (+ Dovecot SASL), and the
# network-level failure modes on loopback: each check runs the tool with
# --json, parses it with python3, and checks the diagnosis code, the exit
# status, and that the password appears nowhere in the output.
#   modes: 1 AUTH only after STARTTLS, 2 implicit-TLS port in clear,
#   3 TLS on a plaintext port, 4 no STARTTLS, 6 name mismatch, 7 expired,
#   8 unknown CA, 9 TLS 1.0-only server (gnutls-serv), 10 bad password,
#   17 refused / timed out / DNS failure, the healthy bed (every offered
#   mechanism works), no user, --quit-after, MAIL/RCPT after AUTH.
# Modes only a scripted server can produce are in tests/fake/cases/
# smtp-auth-test-*.case.
set -u

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
: "${MF_BIN:?}"
TMP="${MF_TMP:-$(mktemp -d)}"
T="$MF_BIN/smtp-auth-test"
export HOME="$TMP/home"      # never read a real configuration
mkdir -p "$HOME"
unset MAILFLOW_PASSWORD MAILFLOW_CONFIG

FAILS=0
PIDS=()
WRAP=()         # a command prefix for check (the DNS check's namespace)
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; FAILS=$((FAILS + 1)); }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# check NAME EXIT CODE SECRET ARGS...: run the tool with --json, expect the
# exit status and the diagnosis code (CODE "-" = no error finding), and
# the secret nowhere in stdout/stderr.
check() {
	local name=$1 want_exit=$2 want_code=$3 secret=$4 rc
	shift 4
	step "$name"
	timeout 120 "${WRAP[@]}" "$T" --json "$@" >"$TMP/out.json" 2>"$TMP/err.txt"
	rc=$?
	if [ "$rc" != "$want_exit" ]; then
		fail "$name: exit $rc, expected $want_exit"
		sed 's/^/    /' "$TMP/err.txt" | head -5
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("    codes", d["codes"], d["verdict"])' \
			"$TMP/out.json" 2>/dev/null
	fi
	if ! python3 - "$TMP/out.json" "$want_code" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
want = sys.argv[2]
for k in ("stages", "capabilities", "tls", "auth", "findings", "codes",
          "exit", "elapsed_ms", "tool", "version", "verdict", "transcript"):
    assert k in d, "missing key " + k
errors = [f["code"] for f in d["findings"] if f["severity"] == "error"]
if want == "-":
    assert not errors, "unexpected errors %s" % errors
else:
    assert want in d["codes"], "expected %s, got %s" % (want, d["codes"])
for f in d["findings"]:
    assert f["message"] and f["why"] and f["fix"], f
PY
		fail "$name: JSON check"
	fi
	if [ -n "$secret" ] && grep -qF -- "$secret" "$TMP/out.json" "$TMP/err.txt"; then
		fail "$name: the secret appears in the output"
	fi
}

PASSEVAL="echo $MF_PASS"
TRUST=(--tls-trust-file "$MF_CA")
AUTH=(-u "$MF_USER" --passwordeval "$PASSEVAL")

# --- the healthy bed ------------------------------------------------------
check "healthy: STARTTLS, every offered mechanism works" 0 - "$MF_PASS" \
	"${TRUST[@]}" "${AUTH[@]}" "localhost:$MF_SUBMISSION_PORT"
python3 - "$TMP/out.json" <<'PY' || fail "healthy: mechanism results"
import json, sys
d = json.load(open(sys.argv[1]))
offered = d["capabilities"]["after_tls"]["auth"]
assert d["capabilities"]["before_tls"]["auth"] == [], "AUTH before TLS?"
assert d["capabilities"]["before_tls"]["starttls"] is True
mechs = {m["name"]: m for m in d["auth"]["mechanisms"]}
assert set(offered) == set(mechs), (offered, list(mechs))
for name, m in mechs.items():
    assert m["result"] == "ok" and m["code"] == 235, (name, m)
assert d["tls"]["ok"] and d["tls"]["verified"], d["tls"]
assert d["tls"]["chain"][0]["sans"], d["tls"]
assert [s["name"] for s in d["stages"]] == \
    ["connect", "banner", "ehlo", "starttls", "ehlo-tls", "auth"], d["stages"]
assert all(s["ok"] and s["ms"] >= 0 for s in d["stages"])
assert any("********" in l for l in d["transcript"]), "AUTH not redacted?"
PY

check "healthy: implicit TLS on the smtps port" 0 - "$MF_PASS" \
	--tls implicit "${TRUST[@]}" "${AUTH[@]}" --mech PLAIN \
	"localhost:$MF_SMTPS_PORT"

check "no user: reports up to AUTH" 0 NO_USER "" "${TRUST[@]}" \
	"localhost:$MF_SUBMISSION_PORT"

check "MAIL/RCPT after AUTH" 0 - "$MF_PASS" "${TRUST[@]}" "${AUTH[@]}" \
	--mech PLAIN --from "$MF_ADDR" --to "$MF_ADDR2" \
	"localhost:$MF_SUBMISSION_PORT"
python3 - "$TMP/out.json" <<'PY' || fail "MAIL/RCPT stages"
import json, sys
d = json.load(open(sys.argv[1]))
st = {s["name"]: s for s in d["stages"]}
assert st["mail"]["ok"] and st["rcpt"]["ok"], st
PY

check "--quit-after ehlo stops before STARTTLS" 0 - "" "${TRUST[@]}" \
	--quit-after ehlo "localhost:$MF_SUBMISSION_PORT"
python3 - "$TMP/out.json" <<'PY' || fail "--quit-after ehlo"
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["name"] for s in d["stages"]] == ["connect", "banner", "ehlo"], d["stages"]
PY

# --- failure modes the real Postfix produces -------------------------------
check "mode 1: AUTH only after STARTTLS (--tls none)" 69 AUTH_NEEDS_STARTTLS \
	"$MF_PASS" --tls none "${AUTH[@]}" "localhost:$MF_SUBMISSION_PORT"

check "mode 2: implicit-TLS port spoken to in clear" 69 IMPLICIT_TLS_PORT \
	"$MF_PASS" --tls starttls --timeout 3 "${TRUST[@]}" "${AUTH[@]}" \
	"localhost:$MF_SMTPS_PORT"

check "mode 3: implicit TLS on a plaintext port" 69 PLAINTEXT_PORT_TLS \
	"$MF_PASS" --tls implicit "${TRUST[@]}" "${AUTH[@]}" \
	"localhost:$MF_SUBMISSION_PORT"

check "mode 4: no STARTTLS offered, credentials withheld" 69 NO_STARTTLS \
	"$MF_PASS" "${TRUST[@]}" "${AUTH[@]}" "localhost:$MF_SUBMISSION_PLAIN_PORT"
python3 - "$TMP/out.json" "$MF_PASS" <<'PY' || fail "mode 4: credentials sent?"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["auth"]["withheld"] is True
assert not any("AUTH" in l for l in d["transcript"] if l.startswith("->")), d["transcript"]
PY

check "mode 20 (bed): --tls none on the cleartext port: AUTH in clear" 0 \
	PLAINTEXT_SESSION "$MF_PASS" --tls none "${AUTH[@]}" --mech PLAIN \
	"localhost:$MF_SUBMISSION_PLAIN_PORT"

check "mode 6: certificate name mismatch" 69 CERT_NAME_MISMATCH "$MF_PASS" \
	"${TRUST[@]}" "${AUTH[@]}" "localhost:$MF_SMTP_WRONGNAME_PORT"
python3 - "$TMP/out.json" <<'PY' || fail "mode 6: names listed"
import json, sys
d = json.load(open(sys.argv[1]))
f = [f for f in d["findings"] if f["code"] == "CERT_NAME_MISMATCH"][0]
assert "localhost" in f["message"] and "DNS:" in f["message"], f["message"]
PY

check "mode 7: expired certificate" 69 CERT_EXPIRED "$MF_PASS" \
	"${TRUST[@]}" "${AUTH[@]}" "localhost:$MF_SMTP_EXPIRED_PORT"

check "mode 8: unknown CA" 69 CERT_UNTRUSTED "$MF_PASS" \
	"${TRUST[@]}" "${AUTH[@]}" "localhost:$MF_SMTP_UNKNOWNCA_PORT"
python3 - "$TMP/out.json" <<'PY' || fail "mode 8: chain printed"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["tls"]["chain"]) >= 1 and d["tls"]["unknown_ca"], d["tls"]
PY

# Mode 15 on a real Postfix needs a listener with reject_sender_login_mismatch
# (bed variable MF_SUBMISSION_SENDERLOGIN_PORT); the scripted server covers
# it otherwise (tests/fake/cases/smtp-auth-test-sender-not-authorized.case).
if [ -n "${MF_SUBMISSION_SENDERLOGIN_PORT:-}" ]; then
	check "mode 15: MAIL FROM someone else's address" 77 SENDER_NOT_AUTHORIZED \
		"$MF_PASS" "${TRUST[@]}" "${AUTH[@]}" --mech PLAIN \
		--from "$MF_ADDR2" --to "$MF_ADDR2" \
		"localhost:$MF_SUBMISSION_SENDERLOGIN_PORT"
	check "mode 15: own address accepted" 0 - "$MF_PASS" "${TRUST[@]}" \
		"${AUTH[@]}" --mech PLAIN --from "$MF_ADDR" --to "$MF_ADDR2" \
		"localhost:$MF_SUBMISSION_SENDERLOGIN_PORT"
else
	echo "FAIL: the bed has no sender-login listener (MF_SUBMISSION_SENDERLOGIN_PORT)"
	exit 1
fi

# Last of the bed checks: Dovecot delays later failures from this address.
check "mode 10: wrong password" 77 AUTH_BAD_CREDENTIALS "wrong-$MF_PASS" \
	"${TRUST[@]}" -u "$MF_USER" --passwordeval "echo wrong-$MF_PASS" \
	--mech PLAIN "localhost:$MF_SUBMISSION_PORT"

# --- mode 9: a server that only speaks TLS 1.0 ------------------------------
if command -v gnutls-serv >/dev/null; then
	P9=$(free_port)
	gnutls-serv --priority "NORMAL:-VERS-ALL:+VERS-TLS1.0" \
		--x509certfile "$MF_CERT_OK" --x509keyfile "$MF_KEY_OK" -p "$P9" \
		</dev/null >"$TMP/gnutls-serv.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$P9") 2>/dev/null && break
		sleep 0.1
	done
	check "mode 9: TLS 1.0-only server, client requires 1.2" 69 \
		TLS_VERSION_MISMATCH "$MF_PASS" --tls implicit --tls-min-version 1.2 \
		--timeout 5 "${TRUST[@]}" "${AUTH[@]}" "localhost:$P9"
else
	fail "gnutls-serv missing (package gnutls-bin)"
fi

# --- mode 17: refused, timed out, DNS failure -------------------------------
P17=$(free_port)
check "mode 17: connection refused" 75 CONN_REFUSED "$MF_PASS" \
	"${AUTH[@]}" --timeout 3 "127.0.0.1:$P17"

# A listener with a full backlog: SYNs are dropped, connect() times out.
python3 - "$TMP/blackhole.port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.5)
open(sys.argv[1] + ".tmp", "w").write(str(port))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(30)
PY
PIDS+=($!)
for _ in $(seq 50); do [ -s "$TMP/blackhole.port" ] && break; sleep 0.1; done
check "mode 17: connection timed out" 75 CONN_TIMEOUT "$MF_PASS" \
	"${AUTH[@]}" --timeout 2 "127.0.0.1:$(cat "$TMP/blackhole.port")"

# The machine's resolver is not on loopback and must not be asked: run the
# tool in a mount namespace whose resolv.conf names 127.0.0.1, where no DNS
# server listens, so the lookup fails at once and locally.
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$TMP/resolv.conf"
WRAP=(unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
	"$TMP/resolv.conf")
if "${WRAP[@]}" true 2>/dev/null; then
	check "mode 17: DNS failure" 69 DNS_FAILURE "$MF_PASS" \
		"${AUTH[@]}" --timeout 3 "no-such-host.invalid:587"
else
	step "mode 17: DNS failure: skipped (no mount namespace; never ask the real resolver)"
fi
WRAP=()

# --- human output and -q ----------------------------------------------------
step "human report and -q"
"$T" "${TRUST[@]}" "${AUTH[@]}" --mech PLAIN "localhost:$MF_SUBMISSION_PORT" \
	>"$TMP/human.txt" 2>&1 || fail "human report: exit $?"
for want in '<- 220 ' '-> STARTTLS' '~> AUTH PLAIN ********' 'CAPABILITIES' \
	'DIAGNOSIS' 'VERDICT: OK'; do
	grep -qF -- "$want" "$TMP/human.txt" || fail "human report lacks '$want'"
done
grep -qF -- "$MF_PASS" "$TMP/human.txt" && fail "human report shows the password"
"$T" -q --tls none "${AUTH[@]}" "localhost:$MF_SUBMISSION_PORT" \
	>"$TMP/q.txt" 2>&1
[ $? = 69 ] || fail "-q: exit status"
[ "$(wc -l <"$TMP/q.txt")" = 1 ] && grep -q '^FAIL AUTH_NEEDS_STARTTLS' "$TMP/q.txt" ||
	fail "-q: $(cat "$TMP/q.txt")"

step "usage errors exit 64"
"$T" --quit-after nowhere localhost >/dev/null 2>&1
[ $? = 64 ] || fail "--quit-after nowhere: not 64"
"$T" --no-such-option localhost >/dev/null 2>&1
[ $? = 64 ] || fail "--no-such-option: not 64"
"$T" >/dev/null 2>&1
[ $? = 78 ] || fail "no host: not 78 (no server given anywhere)"

if [ "$FAILS" -gt 0 ]; then
	echo "smtp-auth-test: $FAILS check(s) failed"
	exit 1
fi
echo "smtp-auth-test: all checks passed"
