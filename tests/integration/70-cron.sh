#!/bin/bash
# The cron path end to end (issue 11): Debian cron's exact sendmail call
# through a link named sendmail with env -i, a piped body, an msmtprc
# from msmtp(1)'s examples read unchanged, the log line, a failing server
# leaving a log line and the message in the queue, and a wrong TLS mode
# failing within 5 s with the fix named (mailsend, pop-fetch, imap-sync).
set -eu

: "${MF_BED_DIR:?run me through tests/run-integration.sh}"
BIN="${MF_BIN:-$MF_TOP/bin}"
T="$(mktemp -d "${MF_TMP:-/tmp}/cron.XXXXXX")"
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"

step() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }
tok() { printf 'tok-%s-%s' "$1" "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"; }
wait_mail() {
	local n=0 i
	for i in $(seq 1 100); do
		n=$(grep -l -s -- "$2" "$1"/new/* "$1"/cur/* 2>/dev/null | wc -l)
		[ "$n" -ge 1 ] && break
		sleep 0.2
	done
	[ "$n" -eq 1 ] || die "expected 1 message with $2 in $1, found $n"
	grep -l -s -- "$2" "$1"/new/* "$1"/cur/* | head -1
}

H="$T/home"
mkdir -p "$H"
printf '%s\n' "$MF_PASS" >"$T/pw"
# ~/.msmtprc as in msmtp(1)'s example (defaults, tls on, auth on, user,
# passwordeval, account inheritance, "account default : NAME"), pointed
# at the bed, plus the logfile and aliases keys.
cat >"$H/.msmtprc" <<EOF
# Set default values: use the mail submission port, and always use TLS.
defaults
port $MF_SUBMISSION_PORT
tls on
tls_trust_file $MF_CA
logfile ~/msmtp.log
aliases ~/aliases

# Define a mail account
account freemail
host localhost
from $MF_ADDR
auth on
user $MF_USER
passwordeval cat $T/pw

# A second mail address at the same service
account freemail2 : freemail
from $MF_ADDR

# An account whose server is down
account down : freemail
port 9
queue ~/queue

# Set a default account
account default : freemail
EOF
chmod 600 "$H/.msmtprc"
printf '# cron mail\nroot: %s\ndefault: %s\n' "$MF_ADDR" "$MF_ADDR" >"$H/aliases"
ln -s "$BIN/mailsend" "$T/sendmail"
: >"$T/empty"
CRONENV=(env -i HOME="$H" LOGNAME=root USER=root SHELL=/bin/sh PATH=/usr/bin:/bin)

step "Debian cron's call: sendmail -FCronDaemon -i -B8BITMIME -oem root, env -i, no terminal"
t=$(tok cron)
printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> backup\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nX-Cron-Env: <SHELL=/bin/sh>\n\nbackup done %s\n' "$t" |
	setsid "${CRONENV[@]}" "$T/sendmail" -FCronDaemon -i -B8BITMIME -oem root \
	>"$T/cron.out" 2>"$T/cron.err" || die "cron send failed: $(cat "$T/cron.err")"
f=$(wait_mail "$MF_MAILDIR" "$t")
grep -q "^Subject: Cron <root@host> backup" "$f" || die "subject lost"
[ ! -s "$T/cron.err" ] || die "cron send wrote to stderr: $(cat "$T/cron.err")"

step "mailflow-config import: that msmtprc converted, read by mailsend --config, sends"
"$BIN/mailflow-config" import "$H/.msmtprc" >"$T/converted" 2>"$T/import.err" ||
	die "import failed: $(cat "$T/import.err")"
chmod 600 "$T/converted"
grep -q "^tls starttls$" "$T/converted" || die "no 'tls starttls': $(cat "$T/converted")"
grep -q "^account freemail2 : freemail$" "$T/converted" || die "inheritance lost"
grep -Eq "^(tls on|auth on|tls_starttls)" "$T/converted" && die "msmtp values left: $(cat "$T/converted")"
[ ! -s "$T/import.err" ] || die "warnings for convertible keys: $(cat "$T/import.err")"
t=$(tok import)
echo "converted $t" | env -i HOME="$H" PATH=/usr/bin:/bin "$BIN/mailsend" \
	--config "$T/converted" --subject imported "$MF_ADDR" 2>"$T/imp-send.err" ||
	die "send with the converted file failed: $(cat "$T/imp-send.err")"
f=$(wait_mail "$MF_MAILDIR" "$t")
grep -q "^Subject: imported" "$f" || die "subject lost"
# msmtp(1)'s own example file, as the package ships it: accepted as it
# is converted (a dry run: its servers are not ours)
ex=/usr/share/doc/msmtp/examples/msmtprc-user.example
if [ -f "$ex" ]; then
	"$BIN/mailflow-config" import "$ex" >"$T/example" 2>"$T/ex.err" ||
		die "msmtp's example: $(cat "$T/ex.err")"
	echo x | HOME="$H" "$BIN/mailsend" --config "$T/example" -a freemail2 --dry-run \
		--subject s bob@example.org >"$T/ex.out" 2>"$T/ex.err" ||
		die "mailsend refuses the converted example: $(cat "$T/ex.err")"
	grep -q "^MAIL FROM:<joey@freemail.example>" "$T/ex.out" ||
		die "inherited account lost: $(head -3 "$T/ex.out")"
fi

step "the log line of that message"
grep -q "mailsend account=freemail host=localhost port=$MF_SUBMISSION_PORT tls=starttls user=$MF_USER from=$MF_ADDR recipients=$MF_ADDR mailsize=[0-9]* smtpstatus=250 smtpmsg='250 .*exitcode=EX_OK$" "$H/msmtp.log" ||
	die "no log line: $(cat "$H/msmtp.log")"
grep -q "$MF_PASS" "$H/msmtp.log" && die "the password is in the log"

step "a piped body: echo ... | mailsend --subject alert ADDR"
t=$(tok pipe)
echo "disk almost full $t" | HOME="$H" "$BIN/mailsend" --subject alert "$MF_ADDR" </dev/stdin ||
	die "piped send failed"
f=$(wait_mail "$MF_MAILDIR" "$t")
grep -q "^disk almost full $t" "$f" || die "piped body not in the message"

step "an unmapped local name without aliases: refused before connecting, exit 67"
cp -p "$H/.msmtprc" "$T/msmtprc.orig"
sed -i 's|^aliases .*||' "$H/.msmtprc"
rc=0
echo x | HOME="$H" "$T/sendmail" -i nobody 2>"$T/nouser.err" || rc=$?
[ "$rc" = 67 ] || die "expected 67, got $rc: $(cat "$T/nouser.err")"
grep -q "'aliases FILE'" "$T/nouser.err" || die "error does not name aliases: $(cat "$T/nouser.err")"
cp -p "$T/msmtprc.orig" "$H/.msmtprc"

step "-v says which file was read"
echo x | HOME="$H" "$BIN/mailsend" -v --dry-run --subject s root 2>"$T/v.err" >/dev/null ||
	die "dry run failed: $(cat "$T/v.err")"
grep -q "reading $H/.msmtprc (msmtp format)" "$T/v.err" || die "no note: $(cat "$T/v.err")"

step "a failing server: a log line, and with --queue the message queued"
t=$(tok down)
rc=0
echo "$t" | HOME="$H" "$BIN/mailsend" -a down --queue --subject down root 2>"$T/down.err" || rc=$?
[ "$rc" = 0 ] || die "queued send should exit 0, got $rc: $(cat "$T/down.err")"
grep -q "queued as" "$T/down.err" || die "not queued: $(cat "$T/down.err")"
ls "$H/queue/new/" | grep -q . || die "queue empty: $(find "$H/queue")"
grep -q "account=down host=localhost port=9 .*errormsg=.*queued=.*exitcode=EX_TEMPFAIL$" "$H/msmtp.log" ||
	die "no failure log line: $(tail -2 "$H/msmtp.log")"
rc=0
echo "$t" | HOME="$H" "$BIN/mailsend" -a down --subject down root 2>/dev/null || rc=$?
[ "$rc" = 75 ] || die "without --queue: expected 75, got $rc"
tail -1 "$H/msmtp.log" | grep -q "exitcode=EX_TEMPFAIL$" || die "no log line without --queue"

# wrong_mode TOOL ARGS...: must fail within 5 s naming "--tls implicit".
wrong_mode() {
	local name=$1 s e rc=0; shift
	s=$(date +%s%N)
	HOME="$H" "$@" >"$T/wm.out" 2>"$T/wm.err" </dev/null || rc=$?
	e=$(( ($(date +%s%N) - s) / 1000000 ))
	[ "$rc" != 0 ] || die "$name: succeeded with the wrong TLS mode"
	grep -q "expects TLS at once: use --tls implicit" "$T/wm.err" ||
		die "$name: no fix named: $(cat "$T/wm.err")"
	[ "$e" -lt 5000 ] || die "$name: took $e ms"
	echo "   $name: $e ms, exit $rc: $(head -1 "$T/wm.err")"
}
step "STARTTLS asked of an implicit-TLS port fails within 5 s with the fix named"
wrong_mode mailsend "$BIN/mailsend" --config "$T/empty" -s localhost -p "$MF_SMTPS_PORT" \
	--tls starttls --tls-trust-file "$MF_CA" -f "$MF_ADDR" --body x "$MF_ADDR"
wrong_mode pop-fetch "$BIN/pop-fetch" --config "$T/empty" -s localhost -p "$MF_POP3S_PORT" \
	--tls starttls --tls-trust-file "$MF_CA" -u "$MF_USER" --passwordeval "cat $T/pw" \
	-m "$T/pm"
wrong_mode imap-sync "$BIN/imap-sync" --config "$T/empty" -s localhost -p "$MF_IMAPS_PORT" \
	--tls starttls --tls-trust-file "$MF_CA" -u "$MF_USER" --passwordeval "cat $T/pw" \
	-m "$T/im"

step "implicit TLS asked of a STARTTLS port names --tls starttls"
rc=0
HOME="$H" "$BIN/pop-fetch" --config "$T/empty" -s localhost -p "$MF_POP3_PORT" --tls implicit \
	--tls-trust-file "$MF_CA" -u "$MF_USER" --passwordeval "cat $T/pw" -m "$T/pm" \
	2>"$T/imp.err" || rc=$?
grep -q "use --tls starttls" "$T/imp.err" || die "pop-fetch: $(cat "$T/imp.err")"

step "pop-fetch writes one log line per run (mpoprc keys)"
cat >"$H/.mpoprc" <<EOF
defaults
tls on
tls_trust_file $MF_CA
logfile ~/mpop.log
account default
host localhost
port $MF_POP3_PORT
user $MF_USER
passwordeval cat $T/pw
delivery maildir $T/popmail
keep on
EOF
chmod 600 "$H/.mpoprc"
mkdir -p "$T/popmail/new" "$T/popmail/cur" "$T/popmail/tmp"
HOME="$H" "$BIN/pop-fetch" -q 2>"$T/pf.err" || die "pop-fetch with ~/.mpoprc failed: $(cat "$T/pf.err")"
grep -q "pop-fetch account=default host=localhost port=$MF_POP3_PORT tls=starttls user=$MF_USER listed=.* fetched=[0-9]* .*exitcode=EX_OK$" "$H/mpop.log" ||
	die "no pop-fetch log line: $(cat "$H/mpop.log")"
step "mailflow-config import: that mpoprc converted, read by pop-fetch --config"
"$BIN/mailflow-config" import "$H/.mpoprc" >"$T/pconv" 2>"$T/pimp.err" ||
	die "mpoprc import failed: $(cat "$T/pimp.err")"
grep -q "^maildir $T/popmail$" "$T/pconv" || die "no maildir: $(cat "$T/pconv")"
grep -q "^keep on$" "$T/pconv" || die "keep lost: $(cat "$T/pconv")"
t=$(tok popimport)
echo "$t" | HOME="$H" "$BIN/mailsend" --config "$T/converted" --subject "pop $t" \
	"$MF_ADDR" 2>/dev/null || die "could not send the pop test message"
for i in $(seq 1 50); do
	HOME="$H" "$BIN/pop-fetch" --config "$T/pconv" -q 2>"$T/pf2.err" ||
		die "pop-fetch with the converted mpoprc failed: $(cat "$T/pf2.err")"
	grep -q -r -- "$t" "$T/popmail/new" "$T/popmail/cur" && break
	sleep 0.2
done
grep -q -r -- "$t" "$T/popmail/new" "$T/popmail/cur" ||
	die "pop-fetch with the converted mpoprc did not fetch $t: $(cat "$T/pf2.err")"
echo "70-cron: ok"
