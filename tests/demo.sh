#!/usr/bin/env bash
# make demo: walk one message through the mail flow with the tools, against
# the local test bed (started here unless it is already up).
# Also the bed's entry for people (make env-up, make env-down), so that the
# three work in any order.
# Usage: tests/demo.sh [--up-only|--down] ENV_DIR
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mode=demo
case "${1:-}" in
--up-only) mode=env-up; shift ;;
--down) mode=env-down; shift ;;
esac
dir=${1:-/tmp/mailflow-bed}
bin="$top/bin"

if [ "$(id -u)" -ne 0 ]; then
	echo "make $mode: needs root: the test bed's Dovecot and Postfix switch to their own users (run it as root)" >&2
	exit 1
fi
if [ "$mode" = env-down ]; then
	if [ -d "$dir" ]; then
		bash "$top/tests/bed/bed.sh" down "$dir"
	else
		echo "bed: nothing was running in $dir" >&2
	fi
	exit 0
fi
mkdir -p "$dir"
bash "$top/tests/bed/bed.sh" up "$dir"
[ "$mode" = demo ] || exit 0
# shellcheck disable=SC1091
. "$dir/env"

demo="$dir/demo"
mkdir -p "$demo"
cfg="$demo/config"
# The password comes from a command, never from the command line.
cat >"$cfg" <<CFG
defaults
tls_trust_file $MF_CA
host $MF_TLS_HOST
user $MF_USER
passwordeval "printf %s '$MF_PASS'"

account submission
port $MF_SUBMISSION_PORT
from $MF_ADDR

account pop
port $MF_POP3S_PORT
tls implicit
maildir $demo/Maildir-pop
state $demo/pop.state

account imap
port $MF_IMAPS_PORT
tls implicit
maildir $demo/Maildir-imap
state $demo/imap-state
CFG
chmod 600 "$cfg"
export MAILFLOW_CONFIG="$cfg"

# Bold headings on a terminal only: no escape sequences in a log or a pipe.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$bold" "$1" "$plain" "$2"; }
have() { [ -x "$bin/$1" ]; }

if have mailsend; then
	step "1. send: mailsend submits a message over STARTTLS + AUTH" \
	    "mailsend -a submission --subject 'Hello from mailflow' --body ... $MF_ADDR"
	"$bin/mailsend" -a submission -v --subject "Hello from mailflow ($(date +%T))" \
	    --body "This message went through Postfix into Dovecot." "$MF_ADDR"
fi
if have mxprobe; then
	step "2. route: mxprobe finds where mail for $MF_DOMAIN goes" \
	    "mxprobe --resolver 127.0.0.1:$MF_RESOLVER_PORT --port $MF_MX_PORT --tls-trust-file \$MF_CA $MF_DOMAIN"
	"$bin/mxprobe" --resolver "127.0.0.1:$MF_RESOLVER_PORT" --port "$MF_MX_PORT" \
	    --tls-trust-file "$MF_CA" "$MF_DOMAIN" || true
fi
if have smtp-auth-test; then
	step "3. diagnose: smtp-auth-test checks submission and every AUTH mechanism" \
	    "smtp-auth-test -a submission $MF_TLS_HOST:$MF_SUBMISSION_PORT"
	"$bin/smtp-auth-test" -a submission --tls-trust-file "$MF_CA" \
	    "$MF_TLS_HOST:$MF_SUBMISSION_PORT" || true
	step "3b. diagnose a mistake: AUTH without STARTTLS" \
	    "smtp-auth-test --tls none -u $MF_USER $MF_TLS_HOST:$MF_SUBMISSION_PORT"
	"$bin/smtp-auth-test" -a submission --tls none --tls-trust-file "$MF_CA" \
	    "$MF_TLS_HOST:$MF_SUBMISSION_PORT" || true
fi
sleep 1
if have pop-fetch; then
	step "4. fetch: pop-fetch drains the mailbox into a Maildir (POP3S)" \
	    "pop-fetch pop"
	"$bin/pop-fetch" pop
	ls "$demo/Maildir-pop/new" | head -5
fi
if have imap-sync; then
	step "5. sync: imap-sync mirrors the IMAP folders into a Maildir (IMAPS)" \
	    "imap-sync imap"
	"$bin/imap-sync" imap
	find "$demo/Maildir-imap" -type f -path '*/cur/*' | head -5
fi
printf '\nThe bed is still running; stop it with: make env-down\n'
