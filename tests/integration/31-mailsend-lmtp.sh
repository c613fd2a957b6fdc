#!/bin/bash
# mailsend --protocol lmtp against the bed's Dovecot LMTP (RFC 2033): over
# its unix socket (-s unix:/path, and the config keys host/protocol) and
# over TCP; every recipient reported on its own; the exit status is the
# worst recipient's.  Needs the bed's environment (tests/run-integration.sh).
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
BIN="${MF_BIN:-$MF_TOP/bin}"
T="$(mktemp -d "${MF_TMP:-/tmp}/mailsend-lmtp.XXXXXX")"
trap 'rm -rf "$T"' EXIT
MS="$BIN/mailsend"
[ -x "$MS" ] || { echo "no $MS"; exit 1; }

step() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }

export HOME="$T/home" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/xdg"
mkdir -p "$HOME"
unset MAILFLOW_CONFIG MAILFLOW_PASSWORD
cd "$T"
SOCK="$MF_BED_DIR/dovecot/run/lmtp"
[ -S "$SOCK" ] || die "no LMTP socket at $SOCK"

# wait_mail MAILDIR TOKEN: the file holding TOKEN (LMTP delivers before it
# answers, so it is there at once).
has_mail() {
	grep -l -s -- "$2" "$1"/new/* "$1"/cur/* 2>/dev/null | head -1
}
tok() { printf 'tok-%s-%s' "$1" "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"; }

step "unix socket, two recipients, -v: each recipient's own 250"
t=$(tok unix)
"$MS" --protocol lmtp -s "unix:$SOCK" -v -f sender@example.org \
    --subject "$t" --body "$t" "$MF_ADDR" "$MF_ADDR2" >out 2>err ||
	die "LMTP over the socket: exit $? $(tail -3 err)"
grep -q "^-> LHLO " err || die "no LHLO: $(head -5 err)"
grep -q "^-> EHLO\|^-> HELO" err && die "EHLO/HELO sent to an LMTP server"
[ "$(grep -c '> delivered: 250' out)" -eq 2 ] ||
	die "want two per-recipient 250 lines: $(cat out)"
[ -n "$(has_mail "$MF_MAILDIR" "$t")" ] || die "$MF_ADDR got nothing"
[ -n "$(has_mail "$MF_MAILDIR2" "$t")" ] || die "$MF_ADDR2 got nothing"

step "config keys: host unix:/path and protocol lmtp"
cat >cfg <<EOF
account local
host unix:$SOCK
protocol lmtp
from sender@example.org
EOF
t=$(tok cfg)
"$MS" --config cfg -a local --subject "$t" --body "$t" "$MF_ADDR" 2>err ||
	die "LMTP from the config: exit $? $(tail -3 err)"
[ -n "$(has_mail "$MF_MAILDIR" "$t")" ] || die "config: nothing delivered"
printf 'account bad\nprotocol esmtp\n' >bad.cfg
set +e
"$MS" --config bad.cfg -a bad --subject x --body x "$MF_ADDR" 2>err
rc=$?
set -e
[ "$rc" -eq 78 ] && grep -q "protocol" err || die "bad protocol key: exit $rc $(cat err)"

step "TCP, one unknown recipient: the other delivered, exit from the worst (69)"
t=$(tok tcp)
set +e
"$MS" --protocol lmtp -s 127.0.0.1 -p "$MF_LMTP_PORT" --tls none \
    -f sender@example.org --subject "$t" --body "$t" \
    "$MF_ADDR" "nobody-$t@$MF_DOMAIN" >out 2>err
rc=$?
set -e
[ "$rc" -eq 69 ] || die "want 69, got $rc: $(cat err)"
grep -q "<nobody-$t@$MF_DOMAIN> refused: 550" err || die "no per-recipient refusal: $(cat err)"
[ -n "$(has_mail "$MF_MAILDIR" "$t")" ] || die "the known recipient got nothing"

step "--json, one good and one unknown recipient: each with its own reply, exit 69"
t=$(tok json)
set +e
"$MS" --json --protocol lmtp -s "unix:$SOCK" -f sender@example.org \
    --subject "$t" --body "$t" "$MF_ADDR" "nobody-$t@$MF_DOMAIN" >out.json 2>err
rc=$?
set -e
[ "$rc" -eq 69 ] || die "--json: want 69, got $rc: $(cat err)"
python3 "$MF_TOP/tests/jsonschema.py" "$MF_TOP/man/mailflow.schema.json" \
    out.json mailsend || die "--json output not valid: $(cat out.json)"
python3 - out.json "$MF_ADDR" "nobody-$t@$MF_DOMAIN" <<'PY' || die "per-recipient JSON: $(cat out.json)"
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
m = s["results"][0]
assert s["exit"] == 69 and m["exit"] == 69, (s["exit"], m["exit"])
r = {x["recipient"]: x for x in m["recipients"]}
good, bad = r[sys.argv[2]], r[sys.argv[3]]
assert (good["result"], good["stage"], good["code"]) == ("delivered", "data", 250), good
assert good["enhanced"].startswith("2."), good
assert (bad["result"], bad["stage"], bad["code"]) == ("refused", "rcpt", 550), bad
assert bad["enhanced"] == "5.1.1", bad
PY
grep -q "delivered" out.json && ! grep -q "^<" out.json ||
	die "--json: human lines on stdout: $(cat out.json)"
[ -n "$(has_mail "$MF_MAILDIR" "$t")" ] || die "--json: the known recipient got nothing"

step "a bad --protocol is a usage error"
set +e
"$MS" --protocol esmtp -s "unix:$SOCK" -f a@b --subject x --body x "$MF_ADDR" 2>err
rc=$?
set -e
[ "$rc" -eq 64 ] || die "want 64, got $rc"

echo "31-mailsend-lmtp: all passed"
