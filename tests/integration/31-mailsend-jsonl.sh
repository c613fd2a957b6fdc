#!/bin/bash
# mailsend --jsonl against the real bed (Postfix submission with STARTTLS
# and AUTH, Dovecot delivery): lines with every field (to/cc/bcc lists,
# from, subject, text, html, attachments as paths and objects, headers,
# dsn), an invalid line, a misspelt key, a recipient the server refuses;
# one session for all of them; one result per line and the summary; the
# messages arrive as described.
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
BIN="${MF_BIN:-$MF_TOP/bin}"
T="$(mktemp -d "${MF_TMP:-/tmp}/jsonl.XXXXXX")"
trap 'rm -rf "$T"' EXIT
MS="$BIN/mailsend"
[ -x "$MS" ] || { echo "no $MS"; exit 1; }

die() { printf 'FAIL: %s\n' "$*"; exit 1; }

export HOME="$T/home" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/xdg"
mkdir -p "$HOME"
unset MAILFLOW_CONFIG MAILFLOW_PASSWORD
cd "$T"
printf '%s\n' "$MF_PASS" >pw
tok="jsonl-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
printf 'attached %s\n' "$tok" >notes.txt
printf '%%PDF-1.4\n%s\n' "$tok" >report.bin
SEND=("$MS" -s localhost -p "$MF_SUBMISSION_PORT" --tls-trust-file "$MF_CA"
	-u "$MF_USER" --passwordeval "cat $T/pw" -f "$MF_ADDR")

{
	printf '{"to":["%s"],"subject":"%s one","text":"plain %s"}\n' "$MF_ADDR" "$tok" "$tok"
	printf '{"to":["Bob <%s>"],"cc":"%s","bcc":["%s"],"from":"Alice Example <%s>",' \
		"$MF_ADDR2" "$MF_ADDR" "$MF_ADDR" "$MF_ADDR"
	printf '"subject":"%s zwei \\u00fc","text":"text %s","html":"<p>html %s</p>",' "$tok" "$tok" "$tok"
	printf '"attachments":["notes.txt",{"path":"report.bin","name":"report.pdf","type":"application/pdf"}],'
	printf '"headers":{"X-Jsonl-Token":"%s"},' "$tok"
	printf '"dsn":{"notify":["SUCCESS","FAILURE"],"ret":"hdrs","envid":"%s"}}\n' "$tok"
	printf 'not json at all\n'
	printf '\n'
	printf '{"to":["%s"],"subjet":"misspelt"}\n' "$MF_ADDR"
	printf '{"to":["%s","nobody@%s"],"subject":"%s partial","text":"partial"}\n' "$MF_ADDR" "$MF_DOMAIN" "$tok"
	printf '{"to":["nobody@%s"],"subject":"%s refused","text":"refused"}\n' "$MF_DOMAIN" "$tok"
	printf '{"to":["%s"],"attachments":["does-not-exist.txt"]}\n' "$MF_ADDR"
	printf '{"to":["%s"],"subject":"%s last","text":"last"}\n' "$MF_ADDR" "$tok"
} >in.jsonl

SCHEMA=(python3 "$MF_TOP/tests/jsonschema.py" "$MF_TOP/man/mailflow.schema.json")
echo "== the input lines against man/mailflow.schema.json's mailsend_jsonl_input"
# valid lines pass; the misspelt key (line 5) is refused by the schema too
sed -n '1p;2p;6p;7p;8p;9p' in.jsonl >in-valid.jsonl
"${SCHEMA[@]}" in-valid.jsonl --def mailsend_jsonl_input >schema-in.txt ||
	die "input lines do not match the schema: $(cat schema-in.txt)"
sed -n '5p' in.jsonl >in-typo.jsonl
! "${SCHEMA[@]}" in-typo.jsonl --def mailsend_jsonl_input >/dev/null ||
	die "the schema accepts a misspelt key"

echo "== mailsend --jsonl over the bed's submission port"
rc=0
"${SEND[@]}" -v --jsonl in.jsonl >out.jsonl 2>err.txt || rc=$?
# the first refused message decides the status: 550 is permanent (69)
[ "$rc" = 69 ] || die "exit $rc, want 69: $(tail -5 err.txt)"
[ "$(grep -c -- '[-~]> EHLO' err.txt)" = 2 ] ||
	die "not one session: $(grep -c -- '[-~]> EHLO' err.txt) EHLO commands"
[ "$(grep -c -- '-> STARTTLS' err.txt)" = 1 ] || die "more than one STARTTLS"

python3 - out.jsonl <<'PY' || die "results are wrong: $(cat out.jsonl)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
res = {r["line"]: r for r in recs if r["type"] == "result"}
assert recs[-1]["type"] == "summary", recs[-1]
assert [r["line"] for r in recs[:-1]] == [1, 2, 3, 5, 6, 7, 8, 9], "order/lines"
s = recs[-1]
assert (s["lines"], s["sent"], s["failed"], s["deferred"], s["queued"],
        s["invalid"]) == (8, 4, 4, 0, 0, 3), s
for n in (1, 2, 6, 9):
    r = res[n]
    assert r["status"] == "sent", r
    assert r["reply"]["code"] == 250 and r["message_id"].startswith("<"), r
    assert r["error"] is None, r
assert [x["address"] for x in res[2]["recipients"]] == ["bob@example.test",
    "alice@example.test"], res[2]        # cc and bcc are the same address
for n, what in ((3, "offset"), (5, 'unknown key "subjet"'),
                (8, "does-not-exist.txt")):
    r = res[n]
    assert r["status"] == "failed" and r.get("invalid") is True, r
    assert r["error"].startswith("line %d: " % n) and what in r["error"], r
part = {x["address"]: x["code"] for x in res[6]["recipients"]}
assert part == {"alice@example.test": 250, "nobody@example.test": 550}, part
r = res[7]
assert r["status"] == "failed" and r.get("invalid") is None, r
assert r["recipients"][0]["code"] == 550 and r["reply"]["code"] == 550, r
print("   8 results in order, summary right")
PY
"${SCHEMA[@]}" out.jsonl mailsend >schema-out.txt ||
	die "result lines or summary do not match the schema: $(cat schema-out.txt)"
grep -q '"tool":"mailsend"' out.jsonl && grep -q '"exit":69,' out.jsonl ||
	die "the summary lacks tool or exit: $(tail -1 out.jsonl)"

echo "== the messages arrived as described"
wait_for() { # DIR TOKEN COUNT
	local i n=0
	for i in $(seq 1 100); do
		n=$(grep -l -s -- "$2" "$1"/new/* "$1"/cur/* 2>/dev/null | wc -l)
		[ "$n" -ge "$3" ] && break
		sleep 0.2
	done
	[ "$n" -eq "$3" ] || die "$3 message(s) with $2 wanted in $1, found $n"
}
wait_for "$MF_MAILDIR" "Subject: $tok" 3    # one, partial, last
# zwei once (cc and bcc are one envelope recipient), and the success DSN
# (NOTIFY=SUCCESS, RET=HDRS: its headers come back) to the sender
wait_for "$MF_MAILDIR" "X-Jsonl-Token: $tok" 2
grep -l -s -- "X-Jsonl-Token: $tok" "$MF_MAILDIR"/new/* "$MF_MAILDIR"/cur/* |
	xargs grep -l 'report-type=delivery-status' | grep -q . ||
	die "no delivery status notification for the dsn line"
wait_for "$MF_MAILDIR2" "X-Jsonl-Token: $tok" 1
f=$(grep -l -s -- "X-Jsonl-Token: $tok" "$MF_MAILDIR2"/new/* "$MF_MAILDIR2"/cur/* | head -1)
grep -q '^From: Alice Example <alice@example.test>' "$f" || die "From: not kept"
grep -q '^To: Bob <bob@example.test>' "$f" || die "To: not kept"
grep -q '^Cc: alice@example.test' "$f" || die "Cc: missing"
! grep -qi '^Bcc:' "$f" || die "Bcc: in the message"
grep -q '^Subject: =?UTF-8?' "$f" || die "the subject is not encoded"
grep -q 'multipart/alternative' "$f" || die "no text+html alternative"
grep -q 'filename="report.pdf"' "$f" || die "attachment name not used"
grep -q 'Content-Type: application/pdf' "$f" || die "attachment type not used"
grep -q 'filename="notes.txt"' "$f" || die "path attachment missing"
grep -q "ENVID=$tok" err.txt || die "DSN ENVID not sent"
grep -q 'NOTIFY=SUCCESS,FAILURE' err.txt || die "DSN NOTIFY not sent"
grep -qi 'RET=HDRS' err.txt || die "DSN RET not sent"

echo "== --jsonl - reads standard input; a missing file is 65, mixing is 64"
printf '{"to":["%s"],"subject":"%s stdin","text":"x"}\n' "$MF_ADDR" "$tok" |
	"${SEND[@]}" --jsonl - >stdin.jsonl || die "stdin run: exit $?"
grep -q '"lines":1,"sent":1,.*"exit":0,' stdin.jsonl || die "stdin: $(cat stdin.jsonl)"
"${SCHEMA[@]}" stdin.jsonl mailsend >schema-stdin.txt || die "stdin: $(cat schema-stdin.txt)"
rc=0
"${SEND[@]}" --jsonl "$T/nonexistent" 2>/dev/null || rc=$?
[ "$rc" = 65 ] || die "missing file: exit $rc, want 65"
rc=0
"${SEND[@]}" --jsonl in.jsonl bob@example.test 2>/dev/null || rc=$?
[ "$rc" = 64 ] || die "--jsonl with a recipient: exit $rc, want 64"
echo "mailsend --jsonl: all checks passed"
