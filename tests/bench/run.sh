#!/usr/bin/env bash
# make bench: mailflow's tools against the peer tools people use today, on
# the local test bed.  Prints the median wall time of each and the ratio
# peer / mailflow (above 1: mailflow is faster).  Not a test: it never
# fails on speed, only on a tool that does not work.
#   BENCH_N      runs per send measurement (default 20)
#   BENCH_MSGS   messages in the fetch/sync mailbox (default 2000)
#   MF_BED_ENV   use a running bed instead of starting one
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/bin"
N=${BENCH_N:-20}
MSGS=${BENCH_MSGS:-2000}
work=$(mktemp -d)
chmod 755 "$work"
own_bed=0

cleanup() {
	[ "$own_bed" = 1 ] && bash "$top/tests/bed/bed.sh" down "$work/bed" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -n "${MF_BED_ENV:-}" ]; then
	. "$MF_BED_ENV"
else
	mkdir -p "$work/bed"; chmod 755 "$work/bed"
	bash "$top/tests/bed/bed.sh" up "$work/bed" >"$work/bed.log" 2>&1 ||
		{ cat "$work/bed.log"; exit 1; }
	own_bed=1
	. "$work/bed/env"
fi

# time_ms CMD...: wall time of one run in milliseconds.  When CMD fails it
# prints nothing, leaves CMD's first error line in $work/failed, returns 1.
# $EPOCHREALTIME (bash 5) reads the clock without forking a date process,
# which would otherwise add milliseconds to every short run.
time_ms() {
	local s e rc=0
	s=${EPOCHREALTIME/[.,]/}
	"$@" >/dev/null 2>"$work/last.err" || rc=$?
	e=${EPOCHREALTIME/[.,]/}
	if [ "$rc" -ne 0 ]; then
		{ grep -m 1 . "$work/last.err" || echo "exit status $rc"; } >"$work/failed"
		return 1
	fi
	echo $(( (e - s) / 1000 ))
}

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# runs K PREP CMD...: median ms of K runs of CMD, each after PREP (a command,
# ":" for none).  The first failing run ends the measurement: nothing is
# printed and the status is 1 ($work/failed says why).
runs() {
	local k=$1 prep=$2 i t; shift 2
	: >"$work/times"
	for i in $(seq "$k"); do
		$prep
		t=$(time_ms "$@") || return 1
		echo "$t" >>"$work/times"
	done
	median <"$work/times"
}

# repeat N CMD...: median ms of N runs
repeat() { local n=$1; shift; runs "$n" : "$@"; }

# count_msgs DIR...: message files under the Maildirs' new/ and cur/
count_msgs() { find "$@" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | wc -l; }
# expect_msgs N DIR...: a tool that did not do the work has no time; 1 and
# $work/failed when the Maildirs do not hold N messages.
expect_msgs() {
	local n=$1 got; shift
	got=$(count_msgs "$@")
	[ "$got" = "$n" ] && return 0
	echo "delivered $got of $n messages" >"$work/failed"
	return 1
}

ratio() {
	case "$1$2" in *FAILED*) echo "-"; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'
}

# row NAME MS [NOTE]: one line of the table.  MS is FAILED for a run that
# failed: the line then shows the first error line instead of a time.
row() {
	if [ "$2" = FAILED ]; then
		printf '  %-34s   FAILED   %s\n' "$1" "$(cat "$work/failed" 2>/dev/null)"
	else
		printf '  %-34s %8s ms   %s\n' "$1" "$2" "${3:-}"
	fi
}

# tool_row NAME MS: a row for one of mailflow's own tools; a failure makes
# the whole bench fail (exit 1 at the end), a peer's failure does not.
tool_failed=0
tool_row() {
	[ "$2" != FAILED ] || tool_failed=1
	row "$1" "$2"
}

echo "mailflow benchmark (medians: $N runs per send, ${BENCH_K:-3} per fetch/sync; bed on 127.0.0.1)"

# ---- 1. cron-style send: one process, STARTTLS, AUTH PLAIN, one small message
cat >"$work/config" <<CFG
account bench
host $MF_TLS_HOST
port $MF_SUBMISSION_PORT
tls starttls
tls_trust_file $MF_CA
user $MF_USER
auth PLAIN
passwordeval "printf %s $MF_PASS"
from $MF_ADDR
state $work/state
CFG
chmod 600 "$work/config"
cat >"$work/msmtprc" <<CFG
account bench
host $MF_TLS_HOST
port $MF_SUBMISSION_PORT
tls on
tls_starttls on
tls_trust_file $MF_CA
auth plain
user $MF_USER
passwordeval "printf %s $MF_PASS"
from $MF_ADDR
CFG
chmod 600 "$work/msmtprc"
printf 'From: %s\nTo: %s\nSubject: bench\n\nhello\n' "$MF_ADDR" "$MF_ADDR" >"$work/msg"

echo
echo "1. cron-style send (STARTTLS + AUTH + one small message)"
ms=$(repeat "$N" "$bin/mailsend" --config "$work/config" -a bench --message "$work/msg" "$MF_ADDR") || ms=FAILED
tool_row "mailsend" "$ms"
if command -v msmtp >/dev/null; then
	pm=$(repeat "$N" sh -c "msmtp -C '$work/msmtprc' -a bench '$MF_ADDR' <'$work/msg'") || pm=FAILED
	row "msmtp" "$pm" "msmtp/mailsend = $(ratio "$pm" "$ms")"
fi
if command -v swaks >/dev/null; then
	sw=$(repeat "$(( N < 10 ? N : 10 ))" swaks --silent 2 --server "$MF_TLS_HOST" \
	    --port "$MF_SUBMISSION_PORT" --tls --tls-ca-path "$MF_CA" --auth PLAIN \
	    --auth-user "$MF_USER" --auth-password "$MF_PASS" --from "$MF_ADDR" \
	    --to "$MF_ADDR" --data "$work/msg") || sw=FAILED
	row "swaks" "$sw" "swaks/mailsend = $(ratio "$sw" "$ms")"
fi

# ---- 2./3. a mailbox of $MSGS messages for fetch and sync
echo
echo "filling bob's mailbox with $MSGS messages ..."
python3 - "$MF_MAILDIR2" "$MSGS" <<'PY'
import os, sys, time
root, n = sys.argv[1], int(sys.argv[2])
new = os.path.join(root, "new")
os.makedirs(new, exist_ok=True)
body = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 60)
for i in range(n):
    with open(os.path.join(new, "%d.M%dP1Q%d.bench" % (int(time.time()), i, i)), "w") as f:
        f.write("From: a@example.test\nTo: bob@example.test\n"
                "Subject: bench %d\nMessage-ID: <bench%d@example.test>\n\n%s" % (i, i, body))
PY
chown -R "${MF_VMAIL_UID:-5000}:${MF_VMAIL_UID:-5000}" "$MF_MAILDIR2"
$MF_DOVEADM force-resync -u "$MF_USER2" INBOX

echo
echo "2. POP3 fetch of $MSGS messages into a Maildir (POP3S, keep on server)"
export MAILFLOW_PASSWORD="$MF_PASS2"
# Fetches and first syncs are single runs into fresh directories, so the
# median of K of them (disk noise is large here).
K=${BENCH_K:-3}
pop_clean() { rm -rf "$work/pop-md" "$work/pop.state"; }
pf=$(runs "$K" pop_clean "$bin/pop-fetch" -s "$MF_TLS_HOST" -p "$MF_POP3S_PORT" --tls implicit \
	    --tls-trust-file "$MF_CA" -u "$MF_USER2" --auth user --keep \
	    -m "$work/pop-md" --state "$work/pop.state" -q) &&
	expect_msgs "$MSGS" "$work/pop-md" || pf=FAILED
tool_row "pop-fetch" "$pf"
if command -v mpop >/dev/null; then
	cat >"$work/mpoprc" <<CFG
account bench
host $MF_TLS_HOST
port $MF_POP3S_PORT
tls on
tls_starttls off
tls_trust_file $MF_CA
auth user
user $MF_USER2
passwordeval "printf %s $MF_PASS2"
keep on
uidls_file $work/mpop.uidls
delivery maildir $work/mpop-md
CFG
	chmod 600 "$work/mpoprc"
	mpop_clean() {
		rm -rf "$work/mpop-md" "$work/mpop.uidls"
		mkdir -p "$work/mpop-md/new" "$work/mpop-md/cur" "$work/mpop-md/tmp"
	}
	mp=$(runs "$K" mpop_clean mpop -C "$work/mpoprc" -q bench) &&
		expect_msgs "$MSGS" "$work/mpop-md" || mp=FAILED
	row "mpop" "$mp" "mpop/pop-fetch = $(ratio "$mp" "$pf")"
fi

echo
echo "3. IMAP first sync of $MSGS messages, then a resync with no change (IMAPS)"
is_sync() {
	"$bin/imap-sync" -s "$MF_TLS_HOST" -p "$MF_IMAPS_PORT" --tls implicit \
	    --tls-trust-file "$MF_CA" -u "$MF_USER2" -m "$work/imap-md" \
	    --state "$work/imap-state" --folder INBOX -q
}
is_clean() { rm -rf "$work/imap-md" "$work/imap-state"; }
is1=$(runs "$K" is_clean is_sync) && expect_msgs "$MSGS" "$work/imap-md" || is1=FAILED
tool_row "imap-sync first sync" "$is1"
is2=$(repeat "$K" is_sync) || is2=FAILED
tool_row "imap-sync resync" "$is2"
if command -v mbsync >/dev/null; then
	mkdir -p "$work/mbsync-md"
	cat >"$work/mbsyncrc" <<CFG
IMAPAccount bench
Host $MF_TLS_HOST
Port $MF_IMAPS_PORT
User $MF_USER2
PassCmd "printf %s $MF_PASS2"
SSLType IMAPS
CertificateFile $MF_CA

IMAPStore remote
Account bench

MaildirStore local
Path $work/mbsync-md/
Inbox $work/mbsync-md/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Sync Pull
Create Near
SyncState *
CFG
	mb_clean() { rm -rf "$work/mbsync-md"; mkdir -p "$work/mbsync-md"; }
	mb1=$(runs "$K" mb_clean mbsync -c "$work/mbsyncrc" -q bench) &&
		expect_msgs "$MSGS" "$work/mbsync-md" || mb1=FAILED
	row "mbsync first sync" "$mb1" "mbsync/imap-sync = $(ratio "$mb1" "$is1")"
	mb2=$(repeat "$K" mbsync -c "$work/mbsyncrc" -q bench) || mb2=FAILED
	row "mbsync resync" "$mb2" "mbsync/imap-sync = $(ratio "$mb2" "$is2")"
fi
echo
if [ "$tool_failed" -ne 0 ]; then
	echo "bench: FAILED: a mailflow tool failed a job (see FAILED above)"
	exit 1
fi
echo "bench: done"
