#!/bin/bash
# pop-fetch against Dovecot's POP3 in the bed (issue 6's acceptance list):
#   - STLS and POP3S; USER/PASS, APOP, SASL PLAIN and SCRAM-SHA-256 each fetch
#   - 2,000 messages (real-world + generated with attachments): every Maildir
#     file equals Dovecot's stored message (line endings normalised, final
#     newline), no header added; a second run fetches 0
#   - --mda, --limit, --max-size; --delete removes exactly the delivered ones
#   - crash test: SIGKILL at 20 random moments, rerun; each message once
#   - full disk (200k tmpfs as Maildir) -> exit 74, nothing deleted
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
TOP="${MF_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}"
BIN="${MF_BIN:-$TOP/bin}"
TMP="${MF_TMP:-$(mktemp -d)}"
PF="$BIN/pop-fetch"
U="$MF_USER"
CORPUS=/usr/lib/python3.11/test/test_email/data
MNT=""

step() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }
cleanup() {
	if [ -n "$MNT" ] && mountpoint -q "$MNT"; then umount "$MNT" || umount -l "$MNT"; fi
	$MF_DOVEADM expunge -u "$U" mailbox INBOX all >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ -x "$PF" ] || die "$PF not built"
export HOME="$TMP/home"
mkdir -p "$HOME"
export MAILFLOW_PASSWORD="$MF_PASS"

# Common connection options: the bed CA, the name in its certificate.
pf() { "$PF" -s 127.0.0.1 -u "$U" --tls-trust-file "$MF_CA" --sni localhost "$@"; }

inbox_count() { $MF_DOVEADM search -u "$U" mailbox INBOX all | wc -l; }
empty_inbox() { $MF_DOVEADM expunge -u "$U" mailbox INBOX all >/dev/null 2>&1 || true; }

# Sorted content hashes after line-ending normalisation and a final newline.
hashes() {
	python3 - "$@" <<'PY'
import hashlib, os, sys
out = []
for d in sys.argv[1:]:
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        if not os.path.isdir(p):
            continue
        for n in os.listdir(p):
            b = open(os.path.join(p, n), "rb").read().replace(b"\r\n", b"\n")
            if not b.endswith(b"\n"):
                b += b"\n"
            out.append(hashlib.sha256(b).hexdigest())
print("\n".join(sorted(out)))
PY
}

# Write messages straight into the user's Maildir, then let Dovecot see them.
# gen N SEED [CORPUS]: N messages; with CORPUS the real-world ones first.
gen() {
	python3 - "$MF_MAILDIR" "$1" "$2" "${3:-}" "$CORPUS" <<'PY'
import base64, glob, os, random, sys
md, n, seed, corpus, cdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rnd = random.Random(seed)
big = os.environ.get("GEN_BIG") == "1"   # crash test: runs long enough to kill
os.makedirs(os.path.join(md, "new"), exist_ok=True)
msgs = []
if corpus:
    for p in sorted(glob.glob(os.path.join(cdir, "msg_*.txt"))):
        msgs.append(open(p, "rb").read())
i = 0
while len(msgs) < n:
    i += 1
    kind = 2 + i % 2 if big else i % 4
    body = ("Line %d of message %d-%d\n" % (i, seed, i)) * rnd.randint(1, 40)
    if kind == 1:
        body += ".leading dot\n..two dots\n.\n" + "x" * 900 + "\n"
    hdr = ("From: Gen <gen@example.test>\nTo: %s@example.test\n"
           "Subject: generated %d-%d\nMessage-ID: <%d.%d@gen.example.test>\n"
           "Date: Sat, 21 Nov 2026 12:00:00 +0000\n") % ("u", seed, i, seed, i)
    if kind in (2, 3):
        att = base64.encodebytes(rnd.randbytes(
            rnd.randint(30000, 120000) if big else rnd.randint(500, 40000))).decode()
        m = (hdr + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n"
             "--b%d\nContent-Type: text/plain\n\n%s\n--b%d\n"
             "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
             "Content-Disposition: attachment; filename=\"f%d.bin\"\n\n%s--b%d--\n") % (
             i, i, body, i, i, att, i)
    else:
        m = hdr + "\n" + body
    msgs.append(m.encode())
for k, m in enumerate(msgs[:n]):
    name = "17000%05d.M%dP%d.gen" % (k, seed, k)
    with open(os.path.join(md, "tmp", name) if os.path.isdir(os.path.join(md, "tmp")) else os.path.join(md, "new", name), "wb") as f:
        f.write(m)
    if os.path.isdir(os.path.join(md, "tmp")):
        os.rename(os.path.join(md, "tmp", name), os.path.join(md, "new", name))
PY
	chown -R "$MF_VMAIL_UID:$MF_VMAIL_UID" "$MF_MAILDIR"
	$MF_DOVEADM force-resync -u "$U" INBOX
}

# --- auth and TLS matrix ----------------------------------------------------
empty_inbox
$MF_DOVEADM mailbox status -u "$U" messages INBOX >/dev/null
for f in msg_01 msg_05 msg_35 msg_16 msg_40; do
	$MF_DOVEADM save -u "$U" <"$CORPUS/$f.txt"
done
want="$(hashes "$MF_MAILDIR")"
[ "$(printf '%s\n' "$want" | wc -l)" = 5 ] || die "setup: 5 messages expected in $MF_MAILDIR"

run_auth() { # NAME WANT-IN-TRANSCRIPT OPTIONS...
	local name="$1" expect="$2" md="$TMP/md-$1"
	shift 2
	step "fetch with $name"
	pf -v --maildir "$md" --state "$TMP/state-$name" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" ||
		die "$name: exit $? $(tail -3 "$TMP/$name.err")"
	grep -qF -- "$expect" "$TMP/$name.err" || die "$name: '$expect' not in the transcript"
	grep -qF "$MF_PASS" "$TMP/$name.err" && die "$name: password in the transcript"
	[ "$(hashes "$md")" = "$want" ] || die "$name: Maildir differs from Dovecot's messages"
}
run_auth stls-auto "~> AUTH SCRAM-SHA-256" -p "$MF_POP3_PORT"
run_auth pop3s-user "<~ +OK" -p "$MF_POP3S_PORT" --tls implicit --auth user
grep -q '^~> USER ' "$TMP/pop3s-user.err" || die "pop3s-user: no USER command"
grep -q '^~> PASS \*' "$TMP/pop3s-user.err" || die "pop3s-user: PASS not redacted"
grep -q '^-> STLS' "$TMP/pop3s-user.err" && die "pop3s-user: STLS on the implicit port"
run_auth apop "~> APOP $U" -p "$MF_POP3_PORT" --auth apop
run_auth plain "~> AUTH PLAIN" -p "$MF_POP3_PORT" --auth plain
run_auth scram "~> AUTH SCRAM-SHA-256" -p "$MF_POP3_PORT" --auth scram-sha-256
grep -q '^-> STLS' "$TMP/scram.err" || die "no STLS on the STARTTLS port"

step "no header added, bodies byte-equal (msg_35 has no header/body separator)"
f="$(grep -l 'Subject: here' "$TMP/md-apop/new/"* | head -1 || true)"
cmp -s <(tr -d '\r' <"$CORPUS/msg_35.txt") "$f" ||
	cmp -s <(tr -d '\r' <"$CORPUS/msg_35.txt"; echo) "$f" || die "msg_35 altered"

step "--mda gets the messages on stdin"
pf -q -p "$MF_POP3_PORT" --mda "cat >>'$TMP/mda.out'" --state "$TMP/state-mda" ||
	die "--mda: exit $?"
[ "$(grep -c '^Subject: ' "$TMP/mda.out")" -ge 5 ] || die "--mda: messages missing"

step "--mda failing -> 75, nothing recorded"
rc=0; pf -q -p "$MF_POP3_PORT" --mda "exit 3" --state "$TMP/state-mdafail" || rc=$?
[ "$rc" = 75 ] || die "--mda exit 3: got $rc"
[ "$(grep -c '^+ ' "$TMP/state-mdafail")" = 0 ] || die "--mda failure recorded a UID"

step "wrong password -> 77"
rc=0; MAILFLOW_PASSWORD=wrong pf -q -p "$MF_POP3_PORT" --maildir "$TMP/md-x" --state "$TMP/st-x" 2>/dev/null || rc=$?
[ "$rc" = 77 ] || die "wrong password: got $rc"

# --- 2,000 messages ---------------------------------------------------------
step "2,000 messages: real-world + generated with attachments"
empty_inbox
gen 2000 1 corpus
[ "$(inbox_count)" = 2000 ] || die "setup: $(inbox_count) messages in INBOX, not 2000"
want="$(hashes "$MF_MAILDIR")"
# Warm Dovecot's index and cache (sizes, UIDs) and flush the generator's
# dirty pages, so neither pop-fetch nor mpop pays for them.
$MF_DOVEADM fetch -u "$U" 'uid size.virtual' mailbox INBOX all >/dev/null
sync
s0=$(date +%s.%N)
pf -q --json -p "$MF_POP3_PORT" --maildir "$TMP/big" --state "$TMP/state-big" >"$TMP/big.json" ||
	die "2000: exit $?"
s1=$(date +%s.%N)
printf '   pop-fetch: 2000 messages in %.2f s: %s\n' "$(awk "BEGIN { print $s1 - $s0 }")" "$(cat "$TMP/big.json")"
grep -q '"fetched":2000' "$TMP/big.json" || die "2000: $(cat "$TMP/big.json")"
[ "$(hashes "$TMP/big")" = "$want" ] || die "2000: Maildir differs from Dovecot's messages"
pf -q --json -p "$MF_POP3_PORT" --maildir "$TMP/big" --state "$TMP/state-big" >"$TMP/big2.json" ||
	die "second run: exit $?"
grep -q '"fetched":0' "$TMP/big2.json" || die "second run: $(cat "$TMP/big2.json")"
[ "$(ls "$TMP/big/new" | wc -l)" = 2000 ] || die "second run added files"

if command -v mpop >/dev/null 2>&1; then
	step "mpop on the same mailbox, for comparison"
	mkdir -p "$TMP/mpop/new" "$TMP/mpop/cur" "$TMP/mpop/tmp"
	cat >"$TMP/mpoprc" <<EOF
account bed
host 127.0.0.1
port $MF_POP3_PORT
tls on
tls_starttls on
tls_trust_file $MF_CA
tls_host_override localhost
user $U
passwordeval echo $MF_PASS
uidls_file $TMP/mpop.uidls
delivery maildir $TMP/mpop
keep on
EOF
	chmod 600 "$TMP/mpoprc"
	sync
	s0=$(date +%s.%N)
	if timeout 120 mpop -C "$TMP/mpoprc" -q bed >"$TMP/mpop.out" 2>&1; then
		s1=$(date +%s.%N)
		printf '   mpop: %s messages in %.2f s\n' "$(ls "$TMP/mpop/new" | wc -l)" "$(awk "BEGIN { print $s1 - $s0 }")"
	else
		echo "   mpop failed (not ours): $(tail -2 "$TMP/mpop.out")"
	fi
fi

# --- --limit, --max-size, --delete ------------------------------------------
step "--limit, --max-size and --delete remove exactly the delivered messages"
gen 3 7              # three new small messages ...
python3 - "$MF_MAILDIR" <<'PY'    # ... and one of 300 kB
import os, sys
p = os.path.join(sys.argv[1], "new", "1799999999.Mbig.gen")
open(p, "w").write("Subject: big\n\n" + ("y" * 99 + "\n") * 3000)
PY
chown -R "$MF_VMAIL_UID:$MF_VMAIL_UID" "$MF_MAILDIR"
$MF_DOVEADM force-resync -u "$U" INBOX
[ "$(inbox_count)" = 2004 ] || die "setup: $(inbox_count) messages, not 2004"
pf -q --json -p "$MF_POP3_PORT" --maildir "$TMP/big" --state "$TMP/state-big" \
	--limit 1 --max-size 100000 >"$TMP/lim.json" || die "--limit: exit $?"
grep -q '"fetched":1,' "$TMP/lim.json" || die "--limit 1: $(cat "$TMP/lim.json")"
pf --json -p "$MF_POP3_PORT" --maildir "$TMP/big" --state "$TMP/state-big" \
	--max-size 100000 --delete >"$TMP/del.json" 2>"$TMP/del.err" || die "--delete: exit $?"
grep -q '"fetched":2,' "$TMP/del.json" || die "--delete: $(cat "$TMP/del.json")"
grep -q '"deleted":2003,' "$TMP/del.json" || die "--delete: $(cat "$TMP/del.json")"
grep -q 'max-size' "$TMP/del.err" || die "--max-size: the big message was not reported"
[ "$(inbox_count)" = 1 ] || die "--delete: $(inbox_count) messages left, want 1 (the big one)"
$MF_DOVEADM search -u "$U" mailbox INBOX subject big | grep -q . || die "--delete removed the big one"
[ "$(ls "$TMP/big/new" | wc -l)" = 2003 ] || die "--delete: $(ls "$TMP/big/new" | wc -l) files, want 2003"
[ "$(grep -c '^+ ' "$TMP/state-big")" = 0 ] || die "state not compacted after --delete"

# --- crash test ---------------------------------------------------------------
step "crash test: pop-fetch --delete killed with SIGKILL at 20 random moments"
empty_inbox
# 2,000 messages: enough that 20 interrupted runs, each killed within its
# first group or so, never drain the mailbox, so every kill lands in a
# live run however fast the machine is.
gen 2000 3
want="$(hashes "$MF_MAILDIR")"
RANDOM=4242
killed=0
nfiles() { ls "$TMP/crash/new" 2>/dev/null | wc -l; }
# Progress, message by message: files being written (tmp/) and delivered
# (new/). Delivery becomes visible a group at a time, writing does not.
progress() { ls "$TMP/crash/tmp" "$TMP/crash/new" 2>/dev/null | grep -vc ':$' || true; }
# 20 runs killed while working: a run that ends by itself first (e.g. the
# server still holds the mailbox of the run killed before: [IN-USE]) does
# not count, and another is started, 40 at the most.
i=0
while [ "$killed" -lt 20 ] && [ "$i" -lt 40 ]; do
	i=$((i + 1))
	# pop-fetch itself in the background (not a shell function: the kill
	# must hit the process that holds the state and the connection).
	"$PF" -s 127.0.0.1 -u "$U" --tls-trust-file "$MF_CA" --sni localhost \
		--delete -p "$MF_POP3_PORT" --maildir "$TMP/crash" \
		--state "$TMP/state-crash" >>"$TMP/crash.out" 2>>"$TMP/crash.err" &
	pid=$!
	if [ $((i % 2)) = 1 ]; then
		# a random moment in time: connect, login, listing, first RETRs
		sleep "0.$(printf '%03d' $((RANDOM % 75 + 5)))"
	else
		# a random moment in the message stream: within the first group
		# being written (64 messages), or just past its sync, journal
		# or DELE
		target=$(($(progress) + RANDOM % 80 + 1))
		for _ in $(seq 1 1000); do
			[ "$(progress)" -ge "$target" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.005
		done
	fi
	kill -9 "$pid" 2>/dev/null || true
	rc=0; wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" = 137 ]; then   # 128 + SIGKILL
		killed=$((killed + 1))
	else
		sleep 0.5
	fi
done
printf '   %s runs killed of %s started, %s files before the final run; %s runs found messages of a killed run by their tags\n' \
	"$killed" "$i" "$(nfiles)" "$(grep -c 'interrupted run' "$TMP/crash.err" || true)"
[ "$killed" -ge 20 ] || die "crash test: only $killed of $i runs were still running when killed"
ok=0
for i in 1 2 3; do
	if pf -q --delete -p "$MF_POP3_PORT" --maildir "$TMP/crash" --state "$TMP/state-crash"; then
		ok=1; break
	fi
	sleep 1
done
[ "$ok" = 1 ] || die "crash test: the final run failed"
[ "$(inbox_count)" = 0 ] || die "crash test: $(inbox_count) messages left on the server"
got="$(hashes "$TMP/crash")"
[ "$(printf '%s\n' "$got" | wc -l)" = 2000 ] || die "crash test: $(printf '%s\n' "$got" | wc -l) files, want 2000"
[ "$got" = "$want" ] || die "crash test: Maildir is not each original message exactly once"

# --- full disk ----------------------------------------------------------------
step "full disk: 200k tmpfs as Maildir -> exit 74, nothing deleted"
gen 30 5
n0="$(inbox_count)"
MNT="$TMP/tiny"
mkdir -p "$MNT"
if mount -t tmpfs -o size=200k tmpfs "$MNT" 2>"$TMP/mount.err"; then
	rc=0
	pf -q --delete -p "$MF_POP3_PORT" --maildir "$MNT/Maildir" --state "$TMP/state-full" \
		2>"$TMP/full.err" || rc=$?
	[ "$rc" = 74 ] || die "full disk: exit $rc, want 74 ($(cat "$TMP/full.err"))"
	grep -qi 'space' "$TMP/full.err" || die "full disk: message does not say why: $(cat "$TMP/full.err")"
	[ "$(inbox_count)" = "$n0" ] || die "full disk: $(inbox_count) of $n0 messages left"
	umount "$MNT"
	MNT=""
else
	echo "   cannot mount a tmpfs here ($(cat "$TMP/mount.err")); full-disk check not run"
fi
echo "pop-fetch: all checks passed"
