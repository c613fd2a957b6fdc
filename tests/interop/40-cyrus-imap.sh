#!/bin/bash
# imap-sync against Cyrus IMAP 3.6, default options apart from the CA:
# - logins: auth auto on the STARTTLS and the IMAPS port (Cyrus offers
#   SCRAM-*-PLUS but binds only tls-unique: on TLS 1.3 auto falls back once
#   and says so under -v), every offered mechanism by name,
#   SCRAM-SHA-256-PLUS on TLS 1.2 (tls-unique).
# - pull of five folders (nested, two non-ASCII) with flags: byte-identical,
#   flags right; a pull resync selects no unchanged folder (LIST-STATUS)
#   and still sees a flag change, an expunge and a new message made on
#   Cyrus.
# - two-way: local flag changes in the nested folder and a new local
#   message in the non-ASCII folder reach Cyrus.
# - mbsync against the same Cyrus: the same messages byte for byte (apart
#   from its X-TUID header) and the same flags.
# Keywords are 41-cyrus-imap-keywords.sh's.
set -eu

. "$MF_TOP/tests/interop/lib.sh"
export MAILFLOW_PASSWORD="$MF_PASS"
P="IT$$"

IS() { "$BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" "$@"; }
STARTTLS=(-s "localhost:$MF_CYRUS_IMAP_PORT")
IMAPS=(-s "localhost:$MF_CYRUS_IMAPS_PORT" --tls implicit)

[ "$MF_CYRUS_PLUS" = yes ] || die "Cyrus does not advertise SCRAM -PLUS (Cyrus SASL's SCRAM plugin lacks channel binding?)"

# --- logins ---------------------------------------------------------------
step "auth auto, STARTTLS port and IMAPS port"
for v in STARTTLS IMAPS; do
	declare -n conn="$v"
	IS "${conn[@]}" --folder "NOPE$P" -m "$T/login" --state "$T/login-st" -v \
		>"auto-$v.out" 2>"auto-$v.err" || die "auto on $v: exit $? $(grep -v '^[<>~-]' "auto-$v.err" | tail -3)"
	grep -q '~> A[0-9]* AUTHENTICATE SCRAM-SHA-256-PLUS' "auto-$v.err" ||
		die "auto on $v did not try SCRAM-SHA-256-PLUS first"
	grep -q 'trying SCRAM-SHA-256 without channel binding' "auto-$v.err" ||
		die "auto on $v: no fallback said under -v"
	[ "$(grep -c 'AUTHENTICATE SCRAM-SHA-256 ' "auto-$v.err")" = 1 ] ||
		die "auto on $v: not exactly one fallback"
	grep -qF "$MF_PASS" "auto-$v.err" && die "the password appears in the transcript"
	unset -n conn
done
grep -q '^-> A[0-9]* STARTTLS' auto-STARTTLS.err || die "STARTTLS not used on the plain port"

step "every mechanism Cyrus offers after TLS"
mechs="$(python3 "$CY" caps starttls | sed -n 's/^AUTH=//p' | sort -u)"
[ -n "$mechs" ] || die "no AUTH= capabilities"
for m in $mechs login; do
	prio=()
	case "$m" in
	SCRAM-SHA-1-PLUS)
		set +e
		IS "${IMAPS[@]}" --auth "$m" --folder "NOPE$P" -m "$T/login" --state "$T/login-st" \
			>/dev/null 2>"m-$m.err"
		rc=$?
		set -e
		grep -q 'not supported' "m-$m.err" || die "$m: exit $rc, $(cat "m-$m.err")"
		echo "   $m: not supported by mailflow, said so (exit $rc)"
		continue
		;;
	*-PLUS) prio=(--tls-priority 'NORMAL:-VERS-TLS1.3') ;;   # tls-unique
	esac
	IS "${IMAPS[@]}" --auth "$m" "${prio[@]}" --folder "NOPE$P" -m "$T/login" \
		--state "$T/login-st" -v >/dev/null 2>"m-$m.err" ||
		die "--auth $m: exit $? $(grep -v '^[<>~-]' "m-$m.err" | tail -3)"
	case "$m" in
	# imap-sync takes SASL LOGIN to mean the IMAP LOGIN command
	login | LOGIN) grep -q '~> A[0-9]* LOGIN ' "m-$m.err" || die "LOGIN not used" ;;
	*) grep -q "~> A[0-9]* AUTHENTICATE $m" "m-$m.err" || die "$m not used" ;;
	esac
	grep -q 'trying .* without channel binding' "m-$m.err" && die "$m: fell back"
	echo "   $m: ok"
done

# --- pull -------------------------------------------------------------------
step "five folders (nested, non-ASCII) with flags"
python3 "$CY" populate "$P" 200 || die "populate"

step "pull with default options"
IS "${STARTTLS[@]}" --folder "$P*" -m "$T/m" --state "$T/st" --json >pull.json 2>pull.err ||
	die "pull: exit $? $(tail -3 pull.err)"
helper compare "$T/m" maildir++ "$P" || die "the Maildir differs from Cyrus"
[ -d "$T/m/.$P.Entwürfe/cur" ] && [ -d "$T/m/.$P.sub.deep/cur" ] || die "folder names"

# --- pull resync -------------------------------------------------------------
step "pull resync: unchanged folders skipped by LIST-STATUS, changes made on Cyrus still seen"
IS "${STARTTLS[@]}" --folder "$P*" -m "$T/m" --state "$T/st" -v >/dev/null 2>resync.tx ||
	die "resync: exit $? $(tail -3 resync.tx)"
# Cyrus 3.6 offers LIST-EXTENDED, LIST-STATUS and QRESYNC after login
grep -q 'STATUS (UIDNEXT UIDVALIDITY HIGHESTMODSEQ))' resync.tx ||
	die "LIST-STATUS not used against Cyrus: $(grep -m1 'CAPABILITY' resync.tx)"
n=$(grep -c 'SELECT "' resync.tx || true)
[ "$n" = 0 ] || die "five unchanged folders: $n SELECTs, want 0"
helper store "$P.sub" 1:3 +FLAGS '(\Flagged)' || die "store on Cyrus"
helper expunge "$P.sub.deep" 1 || die "expunge on Cyrus"
helper append "$P.Entwürfe" 1 || die "append on Cyrus"
IS "${STARTTLS[@]}" --folder "$P*" -m "$T/m" --state "$T/st" --expunge -v >/dev/null 2>resync2.tx ||
	die "resync after changes: exit $? $(tail -3 resync2.tx)"
helper compare "$T/m" maildir++ "$P" || die "the Maildir differs from Cyrus after changes made there"

# --- two-way ----------------------------------------------------------------
step "two-way: local flag changes and a new message reach Cyrus"
python3 "$CY" keywords "$P" >before.txt
python3 - "$T/m" "$P" <<'PY' || die "local changes"
import os, sys
root, prefix = sys.argv[1], sys.argv[2]
box = os.path.join(root, "." + prefix + ".sub.deep")
n = 0
for sub in ("cur", "new"):
    for name in sorted(os.listdir(os.path.join(box, sub))):
        base, _, letters = name.partition(":2,")
        if "F" in letters or n >= 3:
            continue
        os.rename(os.path.join(box, sub, name), os.path.join(box, "cur", base + ":2," + "".join(sorted(set(letters + "FS")))))
        n += 1
assert n == 3, n
new = os.path.join(root, "." + prefix + ".Entwürfe", "new", "1700000000.local1.host")
open(new, "wb").write(b"From: alice@example.test\nSubject: written offline\n"
                      b"Message-ID: <offline@example.test>\n\nfrom the Maildir\n")
PY
IS "${STARTTLS[@]}" --two-way --folder "$P*" -m "$T/m" --state "$T/st" --json >two.json 2>two.err ||
	die "two-way: exit $? $(tail -3 two.err)"
python3 "$CY" keywords "$P" >after.txt
python3 - before.txt after.txt <<'PY' || die "Cyrus after the two-way sync"
import sys
def load(p):
    d = {}
    for line in open(p):
        f, sha, flags = (line.rstrip("\n").split("\t") + [""])[:3]
        d[sha] = (f, set(flags.split()))
    return d
before, after = load(sys.argv[1]), load(sys.argv[2])
assert set(before) <= set(after), "messages lost"
flagged = [s for s in before if after[s][0].endswith(".sub.deep")
           and "\\Flagged" in after[s][1] and "\\Flagged" not in before[s][1]]
assert len(flagged) == 3, flagged
new = [s for s in after if s not in before]
assert len(new) == 1 and after[new[0]][0].endswith("Entw&APw-rfe"), [after[s] for s in new]
PY
helper compare "$T/m" maildir++ "$P" || die "Maildir and Cyrus differ after the two-way sync"

# --- mbsync -------------------------------------------------------------------
step "mbsync against the same Cyrus: same messages, same flags"
if ! command -v mbsync >/dev/null; then
	die "mbsync missing (package isync, tests/deps.sh)"
fi
mkdir -p "$T/mb"
python3 "$CY" mbsyncrc "$T/mb" "$P" >mbsyncrc
mbsync -c mbsyncrc -q t >mbsync.log 2>&1 || die "mbsync failed: $(tail -5 mbsync.log)"
# a fresh imap-sync pull into its own Maildir, to compare like with like
IS "${STARTTLS[@]}" --folder "$P*" -m "$T/m2" --state "$T/st2" -q || die "second pull: exit $?"
python3 "$CY" mbsync-compare "$T/m2" "$T/mb" "$P" || die "messages or flags differ from mbsync's"

helper delete "$P" >/dev/null 2>&1 || true
echo "40-cyrus-imap: all passed"
