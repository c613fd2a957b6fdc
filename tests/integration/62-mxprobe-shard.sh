#!/bin/bash
# mxprobe --shard K/N: 200 domains of the bed (the wildcard
# *.batch.mxtest.test routes each to the bed's Postfix MX) split into 4
# shards must give back the whole list, each domain exactly once, and each
# domain in the shard its stable hash names - run directly, again on a
# shuffled list, through GNU parallel on one "host" (--shard), through
# parallel --pipe, through parallel over two ssh "hosts" (a stand-in ssh
# that runs the command here), and through the shard script of the
# Kubernetes Indexed Job manifest in contrib/kubernetes.
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
MF_TOP="${MF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}"
MF_BIN="${MF_BIN:-$MF_TOP/bin}"
MF_TMP="${MF_TMP:-$(mktemp -d)}"
MXPROBE="$MF_BIN/mxprobe"
[ -x "$MXPROBE" ] || { echo "FAIL: $MXPROBE not built"; exit 1; }
command -v parallel >/dev/null || { echo "SKIP: GNU parallel not installed (tests/deps.sh)"; exit 77; }
dig +short -p "$MF_RESOLVER_PORT" @127.0.0.1 SOA mxtest.test | grep -q . || {
	echo "SKIP: the bed has no mxtest.test zone"; exit 77; }
ARGS=(--resolver "127.0.0.1:$MF_RESOLVER_PORT" --port "$MF_MX_PORT"
	--tls-trust-file "$MF_CA" --timeout 20 --jobs 16)
T="$MF_TMP"

die() { printf 'FAIL: %s\n' "$*"; exit 1; }

for i in $(seq -w 1 200); do echo "s$i.batch.mxtest.test"; done >"$T/domains"

# check.py LIST JSONL [SHARD N]: every domain of LIST has exactly one
# summary in JSONL and nothing else is there; with SHARD N, JSONL holds
# exactly the domains whose 64-bit FNV-1a hash mod N is SHARD.
cat >"$T/check.py" <<'PY'
import json, sys
def fnv(s):
    h = 14695981039346656037
    for c in s.lower().rstrip(".").encode():
        h = ((h ^ c) * 1099511628211) % 2**64
    return h
want = {l.strip() for l in open(sys.argv[1]) if l.strip()}
if len(sys.argv) > 3:
    k, n = int(sys.argv[3]), int(sys.argv[4])
    want = {d for d in want if fnv(d) % n == k}
seen = []
for line in open(sys.argv[2]):
    rec = json.loads(line)
    if rec["type"] == "domain":
        assert rec["status"] == "ok", rec
        seen.append(rec["domain"])
dup = {d for d in seen if seen.count(d) > 1}
assert not dup, "twice: %s" % sorted(dup)[:3]
assert set(seen) == want, "missing %s, extra %s" % (
    sorted(want - set(seen))[:3], sorted(set(seen) - want)[:3])
print(len(seen))
PY

echo "== 4 shards, one after the other"
: >"$T/union.jsonl"
for k in 0 1 2 3; do
	timeout 120 "$MXPROBE" "${ARGS[@]}" --json --shard "$k/4" --batch "$T/domains" \
		>"$T/shard$k.jsonl" 2>"$T/shard$k.err" || die "shard $k: exit $?: $(head -3 "$T/shard$k.err")"
	n=$(python3 "$T/check.py" "$T/domains" "$T/shard$k.jsonl" "$k" 4) || die "shard $k: wrong domains"
	[ "$n" -gt 0 ] || die "shard $k is empty"
	echo "   shard $k/4: $n domains"
	cat "$T/shard$k.jsonl" >>"$T/union.jsonl"
done
n=$(python3 "$T/check.py" "$T/domains" "$T/union.jsonl") || die "union is not the list"
[ "$n" = 200 ] || die "union has $n domains"
echo "   union: 200 domains, each once"

echo "== the same shard of a shuffled list, from stdin, holds the same domains"
shuf "$T/domains" | timeout 120 "$MXPROBE" "${ARGS[@]}" --json --shard 2/4 --batch - \
	>"$T/again.jsonl" || die "shuffled rerun: exit $?"
python3 "$T/check.py" "$T/domains" "$T/again.jsonl" 2 4 >/dev/null || die "shard 2 differs on a rerun"

echo "== bad --shard values are usage errors"
for bad in 4/4 1 -1/4 1/0 x/2; do
	rc=0
	"$MXPROBE" --shard "$bad" example.test >/dev/null 2>"$T/bad.err" || rc=$?
	[ "$rc" = 64 ] || die "--shard $bad: exit $rc, want 64"
	grep -q -- '--shard' "$T/bad.err" || die "--shard $bad: no message"
done

echo "== GNU parallel, one host: parallel ... --shard {}/4 ::: 0 1 2 3"
timeout 180 parallel -j4 "$MXPROBE" "${ARGS[@]}" --json --shard '{}/4' \
	--batch "$T/domains" ::: 0 1 2 3 >"$T/par.jsonl" 2>"$T/par.err" ||
	die "parallel: exit $?: $(head -3 "$T/par.err")"
n=$(python3 "$T/check.py" "$T/domains" "$T/par.jsonl") || die "parallel: merged output is not the list"
echo "   merged: $n domains"

echo "== GNU parallel --pipe: blocks of 50 lines to 4 mxprobe --batch -"
timeout 180 parallel --pipe -N 50 -j4 "$MXPROBE" "${ARGS[@]}" --json --batch - \
	<"$T/domains" >"$T/pipe.jsonl" 2>"$T/pipe.err" ||
	die "parallel --pipe: exit $?: $(head -3 "$T/pipe.err")"
n=$(python3 "$T/check.py" "$T/domains" "$T/pipe.jsonl") || die "parallel --pipe: merged output is not the list"
echo "   merged: $n domains"

echo "== GNU parallel over two hosts (-S; a stand-in ssh runs the command here)"
cat >"$T/fakessh" <<SH
#!/bin/bash
# ssh HOST -- COMMAND: note the host, run COMMAND on this machine with the
# login shell in SHELL, as sshd sets it (parallel's remote worker runs the
# job with \$SHELL; without it, as under cron or CI, it silently runs nothing)
export SHELL="\$(getent passwd "\$(id -u)" | cut -d: -f7)"
export SHELL="\${SHELL:-/bin/sh}"
while [ \$# -gt 0 ]; do case "\$1" in -o|-l|-p) shift 2 ;; -*) shift ;; *) break ;; esac; done
echo "\$1" >>"$T/hosts.log"
shift
[ "\${1:-}" != -- ] || shift
exec bash -c "\$*"
SH
chmod +x "$T/fakessh"
: >"$T/hosts.log"
timeout 180 parallel --ssh "$T/fakessh" -S 2/hostA,2/hostB "$MXPROBE" "${ARGS[@]}" --json \
	--shard '{}/4' --batch "$T/domains" ::: 0 1 2 3 >"$T/ssh.jsonl" 2>"$T/ssh.err" ||
	die "parallel -S: exit $?: $(head -3 "$T/ssh.err")"
n=$(python3 "$T/check.py" "$T/domains" "$T/ssh.jsonl") || die "parallel -S: merged output is not the list"
grep -qx hostA "$T/hosts.log" && grep -qx hostB "$T/hosts.log" || die "parallel did not use both hosts"
echo "   merged: $n domains from hostA and hostB"

echo "== the Kubernetes Indexed Job's shard script, index 0..3 of 4"
MANIFEST="$MF_TOP/contrib/kubernetes/mxprobe-indexed-job.yaml"
sed -n '/# BEGIN shard script/,/# END shard script/p' "$MANIFEST" | sed 's/^ *//' >"$T/job.sh"
[ "$(wc -l <"$T/job.sh")" -gt 3 ] || die "no shard script in $MANIFEST"
mkdir -p "$T/results"
for k in 0 1 2 3; do
	PATH="$MF_BIN:$PATH" JOB_COMPLETION_INDEX=$k SHARDS=4 DOMAINS="$T/domains" \
		RESULTS="$T/results" MXPROBE_OPTIONS="${ARGS[*]}" \
		timeout 120 sh "$T/job.sh" || die "job index $k: exit $?"
done
[ ! -e "$T/results/shard-0.jsonl.part" ] || die "a .part file was left"
cat "$T/results"/shard-*.jsonl >"$T/k8s.jsonl"
n=$(python3 "$T/check.py" "$T/domains" "$T/k8s.jsonl") || die "job results are not the list"
echo "   merged: $n domains"
echo "mxprobe shard: all checks passed"
