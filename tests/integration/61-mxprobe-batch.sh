#!/bin/bash
# mxprobe --batch: 1000 generated domains with --jobs 64.  The names are
# generated here, at test time, under the wildcard *.batch.mxtest.test of
# the bed's signed zone (tests/bed/zones/mxtest.test.zone), which routes
# them all to the bed's Postfix MX (mail.example.test): every domain gets
# its own MX lookup and MTA-STS/TLS-RPT lookups, while the SMTP probe of the
# shared MX host runs once and is reused.  Every domain must get a summary.
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
MF_TOP="${MF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}"
MF_BIN="${MF_BIN:-$MF_TOP/bin}"
MF_TMP="${MF_TMP:-$(mktemp -d)}"
MXPROBE="$MF_BIN/mxprobe"
[ -x "$MXPROBE" ] || { echo "FAIL: $MXPROBE not built"; exit 1; }
dig +short -p "$MF_RESOLVER_PORT" @127.0.0.1 SOA mxtest.test | grep -q . || {
	echo "SKIP: the bed has no mxtest.test zone"; exit 77; }
ARGS=(--resolver "127.0.0.1:$MF_RESOLVER_PORT" --port "$MF_MX_PORT"
	--tls-trust-file "$MF_CA" --timeout 20)

die() { printf 'FAIL: %s\n' "$*"; exit 1; }

for i in $(seq -w 1 1000); do echo "d$i.batch.mxtest.test"; done >"$MF_TMP/domains"
# a comment and blank lines are skipped
printf '# comment\n\n' >>"$MF_TMP/domains"

echo "== --batch FILE --jobs 64 --json (1000 domains)"
rc=0
SECONDS=0
timeout 240 "$MXPROBE" "${ARGS[@]}" --json --jobs 64 --batch "$MF_TMP/domains" \
	>"$MF_TMP/batch.json" 2>"$MF_TMP/batch.err" || rc=$?
echo "   took ${SECONDS}s"
[ "$rc" = 0 ] || die "exit $rc: $(head -5 "$MF_TMP/batch.err")"
python3 - "$MF_TMP/batch.json" <<'PY' || die "batch output check failed"
import json, sys
domains = {"d%04d.batch.mxtest.test" % i for i in range(1, 1001)}
seen, addrs = {}, 0
lines = open(sys.argv[1]).read().splitlines()
last = json.loads(lines.pop())             # the tool's summary comes last
assert last["type"] == "summary" and last["tool"] == "mxprobe", last
assert last["domains"] == 1000 and last["exit"] == 0, last
assert isinstance(last["elapsed_ms"], int), last
for n, line in enumerate(lines, 1):
    rec = json.loads(line)                 # every line is one JSON object
    if rec["type"] == "address":
        addrs += 1
        assert rec["mx"] == "mail.example.test", rec
        assert rec["reached"] and rec["tls"]["verified"], rec
        assert rec["domain"] not in seen, "address record after summary"
    else:
        assert rec["type"] == "domain", rec
        assert rec["domain"] not in seen, "two summaries for " + rec["domain"]
        seen[rec["domain"]] = rec
missing = domains - set(seen)
assert not missing, "no summary for %d domains, e.g. %s" % (len(missing), sorted(missing)[:3])
assert set(seen) == domains, "unexpected domains"
bad = [d for d, r in seen.items() if r["status"] != "ok" or r["route"] != "mx"]
assert not bad, "not ok: %s" % bad[:3]
assert addrs == 1000, "%d address records" % addrs
print("   1000 summaries, 1000 address records, all ok")
PY

echo "== --batch - (stdin), text, --jobs 64, a bad name among them"
rc=0
{ head -n 200 "$MF_TMP/domains"; echo nosuch.mxtest.test; } |
	timeout 120 "$MXPROBE" "${ARGS[@]}" --jobs 64 --batch - >"$MF_TMP/batch.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || die "exit $rc with an NXDOMAIN among them, want 2"
[ "$(grep -c '^  result: ' "$MF_TMP/batch.txt")" = 201 ] ||
	die "$(grep -c '^  result: ' "$MF_TMP/batch.txt") results for 201 domains"
grep -q '^nosuch.mxtest.test: does not exist (NXDOMAIN)' "$MF_TMP/batch.txt" ||
	die "no NXDOMAIN report"
echo "mxprobe batch: all checks passed"
