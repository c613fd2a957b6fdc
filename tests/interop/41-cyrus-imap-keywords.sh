#!/bin/bash
# imap-sync and IMAP keywords on Cyrus (issue 13), default options:
# - pull: $Forwarded becomes Maildir flag P, as with mbsync and Dovecot.
# - two-way: a local P becomes $Forwarded; a local flag change on a message
#   with $Junk and a custom keyword keeps both on Cyrus; a keyword set on
#   Cyrus after the first sync survives a later local change; no keyword
#   is ever dropped.
# - mbsync against the same folders: the same flags, P included.
set -eu

. "$MF_TOP/tests/interop/lib.sh"
export MAILFLOW_PASSWORD="$MF_PASS"
P="KW$$"

IS() { "$BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" -s "localhost:$MF_CYRUS_IMAP_PORT" "$@"; }
trap 'helper delete "$P" >/dev/null 2>&1 || true' EXIT

step "folders with keywords on Cyrus"
python3 "$CY" populate "$P" 120 || die "populate"
python3 "$CY" store "$P" 1 +FLAGS '($Forwarded)'
python3 "$CY" store "$P" 2 +FLAGS '($Junk mfproject)'
python3 "$CY" store "$P" 3 +FLAGS '($MDNSent \Seen)'
python3 "$CY" store "$P.Entwürfe" 1 +FLAGS '($Forwarded $NotJunk)'
python3 "$CY" store "$P.sub.deep" 1 +FLAGS '(mfdeep)'
python3 "$CY" keywords "$P" >kw-before.txt
grep -q 'mfproject' kw-before.txt && grep -q '\$NotJunk' kw-before.txt ||
	die "keywords not set on Cyrus: $(grep '\$' kw-before.txt | head -3)"

step "pull: \$Forwarded is P"
IS --folder "$P*" -m "$T/m" --state "$T/st" -q || die "pull: exit $?"
python3 - "$T/m" kw-before.txt <<'PY' || die "P after the pull"
import hashlib, os, sys
sys.path.insert(0, os.path.join(os.environ["MF_TOP"], "tests", "integration"))
h = __import__("50-imap-sync-helper")
server = {}
for line in open(sys.argv[2]):
    f, sha, flags = (line.rstrip("\n").split("\t") + [""])[:3]
    server[sha] = flags.split()
seen = 0
for d, _, files in os.walk(sys.argv[1]):
    if os.path.basename(d) not in ("cur", "new"):
        continue
    for n in files:
        sha = hashlib.sha256(h.norm(open(os.path.join(d, n), "rb").read())).hexdigest()
        letters = n.split(":2,")[1] if ":2," in n else ""
        fwd = "$Forwarded" in server.get(sha, [])
        assert ("P" in letters) == fwd, (n, server.get(sha))
        seen += fwd
assert seen == 2, "want 2 messages with P, got %d" % seen
PY

step "two-way: local P and F reach Cyrus, keywords stay"
python3 - "$T/m" "$P" kw-before.txt <<'PY' || die "local changes"
import hashlib, os, sys
sys.path.insert(0, os.path.join(os.environ["MF_TOP"], "tests", "integration"))
h = __import__("50-imap-sync-helper")
root, prefix = sys.argv[1], sys.argv[2]
kw = {}
for line in open(sys.argv[3]):
    f, sha, flags = (line.rstrip("\n").split("\t") + [""])[:3]
    kw[sha] = flags.split()
box = os.path.join(root, "." + prefix)
done = {"F": None, "P": None}
for sub in ("cur", "new"):
    for n in sorted(os.listdir(os.path.join(box, sub))):
        p = os.path.join(box, sub, n)
        sha = hashlib.sha256(h.norm(open(p, "rb").read())).hexdigest()
        flags = kw.get(sha, [])
        base, _, letters = n.partition(":2,")
        if done["F"] is None and "mfproject" in flags:
            want = "F"
        elif done["P"] is None and not flags:
            want = "P"
        else:
            continue
        os.rename(p, os.path.join(box, "cur", base + ":2," + "".join(sorted(set(letters + want)))))
        done[want] = sha
assert all(done.values()), done
open("changed", "w").write("%s\n%s\n" % (done["F"], done["P"]))
PY
IS --two-way --folder "$P*" -m "$T/m" --state "$T/st" -q || die "two-way: exit $?"
python3 "$CY" keywords "$P" >kw-after.txt
python3 - kw-before.txt kw-after.txt changed <<'PY' || die "keywords on Cyrus after the two-way sync"
import sys
def load(p):
    d = {}
    for line in open(p):
        f, sha, flags = (line.rstrip("\n").split("\t") + [""])[:3]
        d[sha] = (f, set(flags.split()))
    return d
before, after = load(sys.argv[1]), load(sys.argv[2])
f_sha, p_sha = open(sys.argv[3]).read().split()
for sha, (f, fl) in before.items():
    assert sha in after, ("message lost", f)
    kws = {x for x in fl if not x.startswith("\\")}
    assert kws <= after[sha][1], ("keyword dropped", f, kws, after[sha][1])
assert "\\Flagged" in after[f_sha][1] and {"$Junk", "mfproject"} <= after[f_sha][1], after[f_sha]
assert "$Forwarded" in after[p_sha][1], ("P did not become $Forwarded", after[p_sha])
PY

step "a keyword set on Cyrus later survives a local change"
python3 "$CY" store "$P.sub.deep" 2 +FLAGS '($Junk mflater)'
IS --two-way --folder "$P*" -m "$T/m" --state "$T/st" -q || die "two-way: exit $?"
deep="$T/m/.$P.sub.deep"
f="$(find "$deep/cur" "$deep/new" -type f | sort | head -n 1)"
mv "$f" "$deep/cur/$(basename "${f%%:2,*}"):2,$(printf '%s' "${f##*:2,}F" | fold -w1 | sort -u | tr -d '\n')"
IS --two-way --folder "$P*" -m "$T/m" --state "$T/st" -q || die "two-way: exit $?"
python3 "$CY" keywords "$P.sub.deep" >kw-deep.txt
grep -q 'mflater' kw-deep.txt && grep -q 'mfdeep' kw-deep.txt ||
	die "keywords lost: $(grep -v '^$' kw-deep.txt | head -3)"

step "mbsync: the same flags, P included"
mkdir -p "$T/mb"
python3 "$CY" mbsyncrc "$T/mb" "$P" >mbsyncrc
mbsync -c mbsyncrc -q t >mbsync.log 2>&1 || die "mbsync failed: $(tail -5 mbsync.log)"
IS --folder "$P*" -m "$T/m2" --state "$T/st2" -q || die "fresh pull: exit $?"
python3 "$CY" mbsync-compare "$T/m2" "$T/mb" "$P" || die "flags differ from mbsync's"

echo "41-cyrus-imap-keywords: all passed"
