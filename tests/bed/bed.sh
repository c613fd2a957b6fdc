#!/bin/bash
# mailflow real-server test bed.
#
#   bed.sh up DIR     start Dovecot, Postfix, NSD and Unbound under DIR
#   bed.sh down DIR   stop exactly what "up DIR" started (safe to repeat)
#
# DIR is an absolute directory the caller created (e.g. mktemp -d).  Every
# file, socket, pid file and log of the bed lives below it; nothing under /etc
# is read for configuration or written.  Servers listen on 127.0.0.1 only, on
# free high ports chosen at run time, so several beds can run at once.
# "up" writes DIR/env, a file of "export MF_...=..." lines for tests.
#
# Needs root: Dovecot and Postfix switch to their own users (dovecot,
# dovenull, postfix, uid 5000 for mail) which only root can do.
#
# Choices a test may rely on:
# - Users alice/alice-secret-1 and bob/bob-secret-2 (login names without
#   domain), mail for alice@example.test / bob@example.test, Maildirs under
#   DIR/mail/USER/Maildir owned by uid/gid 5000.  Files a test writes there
#   must be chowned to 5000.
# - Dovecot allows cleartext logins before STARTTLS (disable_plaintext_auth
#   = no) so "--tls none" can be tested; auth_failure_delay = 0.
#   Mechanisms: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256, APOP on POP3.
# - Postfix: submission and the bad-certificate ports offer AUTH only after
#   STARTTLS and refuse unauthenticated mail; the MX port takes mail for
#   example.test without AUTH (unknown users: 550 at RCPT); any other domain
#   resolves to the error transport, which Postfix refuses at RCPT with
#   "550 5.1.1 ... outbound mail is disabled in the test bed" - nothing is
#   ever relayed.
# - Certificate files served by the bed hold the leaf followed by its CA.
# - DNS: every tests/bed/zones/NAME.zone is served by NSD as zone NAME, after
#   replacing @MF_...@ placeholders with values from DIR/env (ports,
#   MF_SPKI_SHA256_OK for TLSA ...).  Zones listed in zones/SIGNED are signed
#   with fresh keys; a signed zone whose parent is a signed bed zone gets its
#   DS appended to the parent, otherwise its DS is an Unbound trust anchor.
#   Delegate child zones with NS records in the parent (NS targets resolve to
#   127.0.0.1; Unbound has a stub for every bed zone, so port 53 is never
#   used).  Unbound refuses every name outside the bed's zones.
set -eu

BED_SRC="$(cd "$(dirname "$0")" && pwd)"
ZONES_SRC="$BED_SRC/zones"

# Test accounts.  Login names are bare local parts; mail is addressed to
# NAME@example.test (LMTP strips the domain, see dovecot.conf below).
MAIL_DOMAIN="example.test"
USER1="alice"; PASS1="alice-secret-1"
USER2="bob";   PASS2="bob-secret-2"
VMAIL_UID=5000
VMAIL_GID=5000

# Where server processes log what goes wrong at start (stdout/stderr).
say() { printf 'bed: %s\n' "$*" >&2; }

die() { say "$*"; exit 1; }

# ---------------------------------------------------------------------------
# down
# ---------------------------------------------------------------------------

# pid_alive PID COMM: true if PID runs and its command name is COMM or
# starts with it ("nsd: xfrd") - guards against a pid file naming a
# long-gone pid that was reused.
pid_alive() {
	local comm
	[ -n "$1" ] && [ -r "/proc/$1/comm" ] || return 1
	comm="$(cat "/proc/$1/comm" 2>/dev/null)" || return 1
	case "$comm" in "$2" | "$2:"*) ;; *) return 1 ;; esac
	# A zombie has exited; pid 1 here may take seconds to reap it.
	case "$(ps -o stat= -p "$1" 2>/dev/null)" in Z* | "") return 1 ;; esac
}

# session_members SID: live (non-zombie) processes in session SID.  Each
# daemon we start makes itself a session leader when it detaches, so its
# workers share its session id even after the leader is gone.
session_members() {
	ps -eo pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

# stop_daemon NAME PIDFILE COMM: TERM the daemon whose pid is in PIDFILE, wait
# for it and its workers to exit, KILL what is left after 8 s.
stop_daemon() {
	local name="$1" pidfile="$2" comm="$3" pid="" _ left
	[ -s "$pidfile" ] || return 0
	pid="$(head -n 1 "$pidfile" | tr -dc '0-9')"
	[ -n "$pid" ] || return 0
	if pid_alive "$pid" "$comm"; then
		kill -TERM "$pid" 2>/dev/null || true
		STOPPED="$STOPPED $name($pid)"
	fi
	for _ in $(seq 1 80); do
		left="$(session_members "$pid")"
		if [ -z "$left" ] && ! pid_alive "$pid" "$comm"; then
			rm -f "$pidfile"
			return 0
		fi
		sleep 0.1
	done
	say "$name did not stop in time, killing session $pid"
	left="$(session_members "$pid")"
	# shellcheck disable=SC2086 # one pid per word
	[ -z "$left" ] || kill -KILL $left 2>/dev/null || true
	rm -f "$pidfile"
}

# bed_down DIR: stop the bed's daemons and remove DIR/env, so that "up" may
# follow.  Sets STOPPED to "name(pid) ..." of the daemons it signalled.
STOPPED=""
bed_down() {
	local dir="$1"
	[ -d "$dir" ] || return 0
	# Recorded pids first (written right after each start), then the daemons'
	# own pid files in case "up" failed between the two.
	stop_daemon postfix "$dir/pids/postfix" master
	stop_daemon postfix "$dir/postfix-queue/pid/master.pid" master
	stop_daemon dovecot "$dir/pids/dovecot" dovecot
	stop_daemon dovecot "$dir/dovecot/run/master.pid" dovecot
	stop_daemon unbound "$dir/pids/unbound" unbound
	stop_daemon unbound "$dir/dns/unbound.pid" unbound
	stop_daemon nsd "$dir/pids/nsd" nsd
	stop_daemon nsd "$dir/dns/nsd.pid" nsd
	rm -f "$dir/env"
}

# down DIR: bed_down, saying what was stopped.
bed_down_verbose() {
	bed_down "$1"
	if [ -n "$STOPPED" ]; then
		say "stopped$STOPPED in $1"
	else
		say "nothing was running in $1"
	fi
}

# ---------------------------------------------------------------------------
# helpers for up
# ---------------------------------------------------------------------------

# fail SERVER LOGFILE MESSAGE: explain, show the log tail, undo, exit 1.
fail() {
	local server="$1" log="$2"
	shift 2
	say "FAILED: $server: $*"
	if [ -n "$log" ] && [ -s "$log" ]; then
		say "last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /' >&2
	fi
	rm -f "$DIR/env"
	bed_down "$DIR"
	exit 1
}

# run_logged SERVER LOG CMD...: run a setup command, fail with its output.
run_logged() {
	local server="$1" log="$2"
	shift 2
	if ! "$@" >>"$log" 2>&1; then
		fail "$server" "$log" "command failed: $*"
	fi
}

# start_daemon LOG CMD...: start a daemon that detaches itself.  Its stdio
# goes to LOG (a forked daemon would otherwise hold the caller's pipes open)
# and fd 9, the port lock, is closed so the lock ends with "up".
start_daemon() {
	local log="$1"
	shift
	"$@" </dev/null >>"$log" 2>&1 9>&-
}

# record_pid NAME PIDFILE: copy a daemon's pid for "down".
record_pid() {
	local _
	for _ in $(seq 1 50); do
		if [ -s "$2" ]; then
			head -n 1 "$2" >"$DIR/pids/$1"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# wait_tcp PORT...: true once every port accepts a connection (max ~10 s).
wait_tcp() {
	local port _
	for port in "$@"; do
		for _ in $(seq 1 100); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				continue 2
			fi
			sleep 0.1
		done
		say "port $port does not answer"
		return 1
	done
}

# wait_dns PORT NAME [DIG-OPTION...]: true once the DNS server on PORT
# answers NAME SOA (max ~10 s).
wait_dns() {
	local port="$1" name="$2" _
	shift 2
	for _ in $(seq 1 100); do
		if dig +time=1 +tries=1 +short "$@" -p "$port" @127.0.0.1 SOA "$name" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# pick_ports N: N distinct ports, free for both TCP and UDP on 127.0.0.1,
# drawn at random below the kernel's ephemeral range (32768+) so outgoing
# connections cannot take them meanwhile.  Callers hold the port lock.
pick_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
want = int(sys.argv[1])
rng = random.SystemRandom()
ports, held = [], []
while len(ports) < want:
    p = rng.randrange(20000, 32000)
    if p in ports:
        continue
    try:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", p))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", p))
    except OSError:
        continue
    held += [t, u]
    ports.append(p)
print(" ".join(map(str, ports)))
PY
}

# ---------------------------------------------------------------------------
# certificates
# ---------------------------------------------------------------------------

# cert_template FILE CN [extra lines...]: a certtool template.
cert_template() {
	local file="$1" cn="$2"
	shift 2
	{
		printf 'cn = "%s"\n' "$cn"
		printf 'serial = %s\n' "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
		printf '%s\n' "$@"
	} >"$file"
}

SERVER_NAMES=(
	'dns_name = "localhost"'
	'dns_name = "mail.example.test"'
	'dns_name = "mx1.example.test"'
	'ip_address = "127.0.0.1"'
	'tls_www_server'
	'signing_key'
	'encryption_key'
)

make_key() {
	certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$1" >>"$LOG/certs.log" 2>&1
}

# make_leaf NAME CA_NAME TEMPLATE_LINES...: certs/NAME.pem (leaf followed by
# its CA, as servers send it) and certs/NAME-key.pem, signed by CA_NAME.
make_leaf() {
	local name="$1" ca="$2" c="$DIR/certs"
	shift 2
	make_key "$c/$name-key.pem"
	cert_template "$c/$name.tmpl" "$@"
	certtool --generate-certificate --load-privkey "$c/$name-key.pem" \
		--load-ca-certificate "$c/$ca.pem" --load-ca-privkey "$c/$ca-key.pem" \
		--template "$c/$name.tmpl" --outfile "$c/$name.leaf.pem" >>"$LOG/certs.log" 2>&1
	cat "$c/$name.leaf.pem" "$c/$ca.pem" >"$c/$name.pem"
}

# make_ca NAME CN: self-signed CA certs/NAME.pem with key certs/NAME-key.pem.
make_ca() {
	local c="$DIR/certs"
	make_key "$c/$1-key.pem"
	cert_template "$c/$1.tmpl" "$2" 'ca' 'cert_signing_key' 'crl_signing_key' 'expiration_days = 3650'
	certtool --generate-self-signed --load-privkey "$c/$1-key.pem" \
		--template "$c/$1.tmpl" --outfile "$c/$1.pem" >>"$LOG/certs.log" 2>&1
}

# spki_sha256 / cert_sha256 FILE: TLSA "3 1 1" and "3 0 1" data of the first
# certificate in FILE.
spki_sha256() {
	certtool --pubkey-info --infile "$1" --outder 2>/dev/null | sha256sum | cut -d' ' -f1
}
cert_sha256() {
	local f=$1
	# Server files hold the leaf followed by its CA: hash the leaf alone.
	[ -f "${f%.pem}.leaf.pem" ] && f="${f%.pem}.leaf.pem"
	certtool -i --infile "$f" --outder 2>/dev/null | sha256sum | cut -d' ' -f1
}

setup_certs() {
	mkdir -p "$DIR/certs"
	{
		make_ca ca "mailflow test CA"
		make_ca unknown-ca "mailflow unknown CA (not trusted by clients)"
		make_leaf server ca "mail.example.test" "${SERVER_NAMES[@]}" 'expiration_days = 3650'
		make_leaf expired ca "mail.example.test" "${SERVER_NAMES[@]}" \
			'activation_date = "2020-01-01 00:00:00"' 'expiration_date = "2021-01-01 00:00:00"'
		make_leaf wrongname ca "wrong.example.net" 'dns_name = "wrong.example.net"' \
			'tls_www_server' 'signing_key' 'encryption_key' 'expiration_days = 3650'
		make_leaf unknownca unknown-ca "mail.example.test" "${SERVER_NAMES[@]}" 'expiration_days = 3650'
		make_leaf client ca "$USER1@$MAIL_DOMAIN" "email = \"$USER1@$MAIL_DOMAIN\"" \
			'tls_www_client' 'signing_key' 'encryption_key' 'expiration_days = 3650'
		# Signed mail (mailsend): S/MIME certificates with emailProtection
		# for both users and an expired one; DKIM keys, published in the
		# example.test zone as rsa._domainkey and ed25519._domainkey.
		make_leaf smime1 ca "$USER1@$MAIL_DOMAIN" "email = \"$USER1@$MAIL_DOMAIN\"" \
			'email_protection_key' 'signing_key' 'encryption_key' 'expiration_days = 3650'
		make_leaf smime2 ca "$USER2@$MAIL_DOMAIN" "email = \"$USER2@$MAIL_DOMAIN\"" \
			'email_protection_key' 'signing_key' 'encryption_key' 'expiration_days = 3650'
		make_leaf smime-expired ca "$USER1@$MAIL_DOMAIN" "email = \"$USER1@$MAIL_DOMAIN\"" \
			'email_protection_key' 'signing_key' 'encryption_key' \
			'activation_date = "2020-01-01 00:00:00"' 'expiration_date = "2021-01-01 00:00:00"'
		make_key "$DIR/certs/dkim-rsa-key.pem" &&
			certtool --generate-privkey --key-type=ed25519 \
				--outfile "$DIR/certs/dkim-ed25519-key.pem" >>"$LOG/certs.log" 2>&1
	} || fail certtool "$LOG/certs.log" "could not create certificates"
	# Test keys, not secrets: the postfix and dovecot users must read them.
	chmod 755 "$DIR/certs"
	chmod 644 "$DIR/certs"/*
}

# ---------------------------------------------------------------------------
# Dovecot
# ---------------------------------------------------------------------------

setup_dovecot() {
	local d="$DIR/dovecot" u
	mkdir -p "$d/state" "$DIR/mail"
	chmod 755 "$d"
	for u in "$USER1" "$USER2"; do
		mkdir -p "$DIR/mail/$u"
	done
	chown -R "$VMAIL_UID:$VMAIL_GID" "$DIR/mail"
	chmod 755 "$DIR/mail"

	# passwd-file: user:{PLAIN}password:uid:gid::home.  Cleartext storage is
	# what lets CRAM-MD5, SCRAM-* and APOP work.
	{
		printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$USER1" "$PASS1" "$VMAIL_UID" "$VMAIL_GID" "$DIR/mail/$USER1"
		printf '%s:{PLAIN}%s:%s:%s::%s::\n' "$USER2" "$PASS2" "$VMAIL_UID" "$VMAIL_GID" "$DIR/mail/$USER2"
	} >"$d/users"
	chmod 644 "$d/users"

	cat >"$d/dovecot.conf" <<EOF
# Generated by tests/bed/bed.sh - a private Dovecot instance for tests.
instance_name = mailflow-bed
base_dir = $d/run
state_dir = $d/state
log_path = $LOG/dovecot.log
hostname = mail.$MAIL_DOMAIN
protocols = imap pop3 lmtp
listen = 127.0.0.1
shutdown_clients = yes

default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $VMAIL_UID
last_valid_uid = $VMAIL_UID
mail_location = maildir:~/Maildir
mail_max_userip_connections = 100

# Tests also run with --tls none, so cleartext logins are allowed on the
# STARTTLS ports before TLS.  Real servers should not do this.
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256 apop
# No penalty for wrong passwords: tests try them on purpose.
auth_failure_delay = 0
# Nor the penalty anvil grows per IP (up to 15 s): after the many wrong
# passwords of 20 and 25 from 127.0.0.1 it made Postfix give up on the
# auth server ("Connection lost to authentication server", 454) in 30.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
auth_verbose = yes

ssl = yes
ssl_cert = <$DIR/certs/server.pem
ssl_key = <$DIR/certs/server-key.pem
ssl_dh = </usr/share/dovecot/dh.pem
ssl_ca = <$DIR/certs/ca.pem
ssl_verify_client_cert = no

passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/users
}
userdb {
  driver = passwd-file
  args = $d/users
}

namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = no
  }
}

service imap-login {
  # One long-lived login process keeps one TLS ticket key, so a client can
  # resume its TLS session on the next connection (tested in 10-tls.sh).
  service_count = 0
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $POP3_PORT
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $POP3S_PORT
    ssl = yes
  }
}
# LMTP: unix socket for Postfix (base_dir/lmtp), TCP for tests.
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
# SASL for Postfix: smtpd runs as "postfix" and connects here.
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
# Postfix hands over alice@example.test; the account is "alice".
protocol lmtp {
  auth_username_format = %Ln
}
EOF
	chmod 644 "$d/dovecot.conf"
	run_logged dovecot "$LOG/dovecot.log" doveconf -c "$d/dovecot.conf" -n
}

start_dovecot() {
	local d="$DIR/dovecot"
	start_daemon "$LOG/dovecot.log" dovecot -c "$d/dovecot.conf" ||
		fail dovecot "$LOG/dovecot.log" "dovecot did not start"
	record_pid dovecot "$d/run/master.pid" ||
		fail dovecot "$LOG/dovecot.log" "no pid file $d/run/master.pid"
	wait_tcp "$IMAP_PORT" "$IMAPS_PORT" "$POP3_PORT" "$POP3S_PORT" "$LMTP_PORT" ||
		fail dovecot "$LOG/dovecot.log" "listeners do not answer"
	# The run dir must be reachable by Postfix (lmtp, auth-postfix sockets).
	chmod 755 "$d/run"
}

# ---------------------------------------------------------------------------
# Postfix
# ---------------------------------------------------------------------------

# pf_smtpd NAME PORT [-o name=value ...]: one more smtpd listener on
# 127.0.0.1:PORT.  Log lines carry postfix/NAME.
pf_smtpd() {
	local name="$1" port="$2"
	shift 2
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o syslog_name=postfix/%s\n' "$port" "$name"
	while [ $# -gt 0 ]; do
		[ "$1" = "-o" ] && shift
		printf '  -o %s\n' "$1"
		shift
	done
}

# Options for submission-style listeners: AUTH offered, mail only from
# authenticated clients.
# shellcheck disable=SC2054 # the commas belong to the Postfix value
PF_AUTH=(-o smtpd_sasl_auth_enable=yes
	-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject)

# pf_badcert NAME PORT CERT: a submission-style STARTTLS listener serving
# certs/CERT.pem instead of the valid certificate.
pf_badcert() {
	pf_smtpd "$1" "$2" "${PF_AUTH[@]}" \
		-o "smtpd_tls_cert_file=$DIR/certs/$3.pem" -o "smtpd_tls_key_file=$DIR/certs/$3-key.pem"
}

setup_postfix() {
	local p="$DIR/postfix"
	mkdir -p "$p" "$DIR/postfix-queue" "$DIR/postfix-data"
	chmod 755 "$p" "$DIR/postfix-queue"
	chown postfix "$DIR/postfix-data"

	# Known recipients; anything else @example.test is rejected at RCPT.
	printf '%s@%s x\n' "$USER1" "$MAIL_DOMAIN" "$USER2" "$MAIL_DOMAIN" >"$p/vmailbox"
	printf 'postmaster@%s %s@%s\n' "$MAIL_DOMAIN" "$USER1" "$MAIL_DOMAIN" >"$p/valias"

	cat >"$p/main.cf" <<EOF
# Generated by tests/bed/bed.sh - a private Postfix instance for tests.
compatibility_level = 3.6
queue_directory = $DIR/postfix-queue
data_directory = $DIR/postfix-data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $LOG/postfix.log
maillog_file_prefixes = $DIR

myhostname = mail.$MAIL_DOMAIN
mydomain = $MAIL_DOMAIN
myorigin = \$mydomain
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP mailflow test bed

# Never ask the machine's resolver.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled

# example.test goes to Dovecot over LMTP; nothing ever leaves the machine:
# every other destination is the error transport (the sender gets a bounce).
virtual_mailbox_domains = $MAIL_DOMAIN
virtual_mailbox_maps = texthash:$p/vmailbox
virtual_alias_maps = texthash:$p/valias
virtual_transport = lmtp:unix:$DIR/dovecot/run/lmtp
local_transport = error:local delivery is disabled in the test bed
default_transport = error:outbound mail is disabled in the test bed
relay_transport = error:outbound mail is disabled in the test bed
relay_domains =

smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DIR/dovecot/run/auth-postfix
smtpd_sasl_auth_enable = no
smtpd_sasl_authenticated_header = yes

smtpd_tls_cert_file = $DIR/certs/server.pem
smtpd_tls_key_file = $DIR/certs/server-key.pem
smtpd_tls_CAfile = $DIR/certs/ca.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtp_tls_security_level = none

# Fast failures for tests that provoke errors.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
smtpd_junk_command_limit = 1000
delay_warning_time = 0
EOF

	{
		cat <<'EOF'
# Generated by tests/bed/bed.sh.  chroot is "n" everywhere: the instance
# lives in a temporary directory, not in a prepared chroot.
# service type  private unpriv  chroot  wakeup  maxproc command + args
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
# No syslog here: postlogd writes maillog_file.
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
		# Listeners: one line each.
		# Submission: STARTTLS offered, AUTH only after it.
		pf_smtpd submission "$SUBMISSION_PORT" "${PF_AUTH[@]}"
		# Implicit TLS submission (RFC 8314).
		pf_smtpd smtps "$SMTPS_PORT" "${PF_AUTH[@]}" -o smtpd_tls_wrappermode=yes
		# MX: no AUTH, STARTTLS offered, accepts mail for example.test.
		pf_smtpd mx "$MX_PORT"
		# Cleartext submission: no STARTTLS, AUTH in the clear.
		pf_smtpd submission-plain "$SUBMISSION_PLAIN_PORT" "${PF_AUTH[@]}" \
			-o smtpd_tls_security_level=none -o smtpd_tls_auth_only=no
		# Submission that refuses a MAIL FROM the login does not own
		# (smtp-auth-test's "not authorized to send as" finding).
		pf_smtpd senderlogin "$SUBMISSION_SENDERLOGIN_PORT" "${PF_AUTH[@]}" \
			-o 'smtpd_sender_login_maps=inline:{alice@example.test=alice,bob@example.test=bob}' \
			-o smtpd_sender_restrictions=reject_sender_login_mismatch
		# Bad certificates behind STARTTLS.
		pf_badcert expired "$SMTP_EXPIRED_PORT" expired
		pf_badcert wrongname "$SMTP_WRONGNAME_PORT" wrongname
		pf_badcert unknownca "$SMTP_UNKNOWNCA_PORT" unknownca
	} >"$p/master.cf"
	chmod 644 "$p/main.cf" "$p/master.cf" "$p/vmailbox" "$p/valias"

	# "postfix check" also creates the queue directories with their owners.
	run_logged postfix "$LOG/postfix.log" postfix -c "$p" check
}

start_postfix() {
	local p="$DIR/postfix"
	start_daemon "$LOG/postfix.log" postfix -c "$p" start ||
		fail postfix "$LOG/postfix.log" "postfix start failed"
	record_pid postfix "$DIR/postfix-queue/pid/master.pid" ||
		fail postfix "$LOG/postfix.log" "no master.pid"
	wait_tcp "$SUBMISSION_PORT" "$SMTPS_PORT" "$MX_PORT" "$SUBMISSION_PLAIN_PORT" \
		"$SMTP_EXPIRED_PORT" "$SMTP_WRONGNAME_PORT" "$SMTP_UNKNOWNCA_PORT" \
		"$SUBMISSION_SENDERLOGIN_PORT" ||
		fail postfix "$LOG/postfix.log" "listeners do not answer"
}

# ---------------------------------------------------------------------------
# DNS: NSD (authoritative) + Unbound (validating resolver)
# ---------------------------------------------------------------------------

# zone_names: the zones shipped in tests/bed/zones (file name minus .zone).
zone_names() {
	local f
	for f in "$ZONES_SRC"/*.zone; do
		[ -e "$f" ] || continue
		basename "$f" .zone
	done
}

# signed_line ZONE: the line of zones/SIGNED for ZONE ("" if unsigned).
# SIGNED has one zone per line: "ZONE [nsec3] [no-parent-ds]"; # comments.
signed_line() {
	[ -r "$ZONES_SRC/SIGNED" ] || return 0
	sed -e 's/#.*//' "$ZONES_SRC/SIGNED" | awk -v z="$1" '$1 == z || $1 == z "." { print; exit }'
}

# fill_placeholders IN OUT: replace @MF_NAME@ with the value of MF_NAME from
# DIR/env (ports, certificate digests ...); an unknown name is an error.
fill_placeholders() {
	python3 - "$1" "$2" "$DIR/env" <<'PY'
import re, shlex, sys
src, dst, envfile = sys.argv[1:4]
env = {}
for line in open(envfile):
    line = line.strip()
    if line.startswith("export "):
        k, _, v = line[7:].partition("=")
        env[k] = " ".join(shlex.split(v))
def sub(m):
    if m.group(1) not in env:
        sys.exit("%s: unknown placeholder @%s@" % (src, m.group(1)))
    return env[m.group(1)]
text = re.sub(r"@(MF_[A-Z0-9_]+)@", sub, open(src).read())
open(dst, "w").write(text)
PY
}

setup_dns() {
	local z="$DIR/dns/zones" k="$DIR/dns/keys" zone line parent child ksk zsk opts
	mkdir -p "$z" "$k" "$DIR/dns/xfr"
	chmod 755 "$DIR/dns" "$z"
	: >"$DIR/dns/trust-anchors"
	mapfile -t ZONES < <(zone_names)
	[ "${#ZONES[@]}" -gt 0 ] || fail nsd "" "no zone files in $ZONES_SRC"

	for zone in "${ZONES[@]}"; do
		fill_placeholders "$ZONES_SRC/$zone.zone" "$z/$zone.zone" >>"$LOG/dns-setup.log" 2>&1 ||
			fail nsd "$LOG/dns-setup.log" "zone $zone: placeholders"
	done

	# Fresh keys for every signed zone: a KSK (its DS is the trust anchor or
	# goes into the parent zone) and a ZSK.
	for zone in "${ZONES[@]}"; do
		[ -n "$(signed_line "$zone")" ] || continue
		(cd "$k" &&
			ldns-keygen -a ECDSAP256SHA256 -k "$zone" >"$zone.ksk" &&
			ldns-keygen -a ECDSAP256SHA256 "$zone" >"$zone.zsk") >>"$LOG/dns-setup.log" 2>&1 ||
			fail ldns-keygen "$LOG/dns-setup.log" "zone $zone: key generation"
	done

	# A signed zone whose parent is a signed bed zone gets its DS published
	# in the parent (unless "no-parent-ds"); otherwise its DS is a trust
	# anchor for Unbound.
	for child in "${ZONES[@]}"; do
		line="$(signed_line "$child")"
		[ -n "$line" ] || continue
		ksk="$k/$(cat "$k/$child.ksk")"
		parent=""
		for zone in "${ZONES[@]}"; do
			case "$child" in
			*."$zone")
				if [ -n "$(signed_line "$zone")" ] && [ ${#zone} -gt ${#parent} ]; then
					parent="$zone"
				fi
				;;
			esac
		done
		if [ -n "$parent" ]; then
			case " $line " in
			*" no-parent-ds "*) ;;
			*) cat "$ksk.ds" >>"$z/$parent.zone" ;;
			esac
		else
			cat "$ksk.ds" >>"$DIR/dns/trust-anchors"
		fi
	done

	for zone in "${ZONES[@]}"; do
		line="$(signed_line "$zone")"
		[ -n "$line" ] || continue
		opts=()
		case " $line " in *" nsec3 "*) opts=(-n) ;; esac
		ksk="$k/$(cat "$k/$zone.ksk")"
		zsk="$k/$(cat "$k/$zone.zsk")"
		# Inception a day back: tolerate clocks a little apart.
		run_logged ldns-signzone "$LOG/dns-setup.log" ldns-signzone "${opts[@]}" \
			-i "$(date -u -d '1 day ago' +%Y%m%d%H%M%S)" -o "$zone" \
			-f "$z/$zone.zone.signed" "$z/$zone.zone" "$ksk" "$zsk"
	done

	{
		cat <<EOF
# Generated by tests/bed/bed.sh - authoritative server for the test zones.
server:
  ip-address: 127.0.0.1
  port: $DNS_PORT
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$z"
  pidfile: "$DIR/dns/nsd.pid"
  logfile: "$LOG/nsd.log"
  database: ""
  zonelistfile: "$DIR/dns/zone.list"
  xfrdfile: "$DIR/dns/xfrd.state"
  xfrdir: "$DIR/dns/xfr"
  server-count: 1
  verbosity: 1
  hide-version: yes
remote-control:
  control-enable: no
EOF
		for zone in "${ZONES[@]}"; do
			if [ -e "$z/$zone.zone.signed" ]; then
				printf 'zone:\n  name: "%s"\n  zonefile: "%s.zone.signed"\n' "$zone" "$zone"
			else
				printf 'zone:\n  name: "%s"\n  zonefile: "%s.zone"\n' "$zone" "$zone"
			fi
		done
	} >"$DIR/dns/nsd.conf"
	run_logged nsd "$LOG/nsd.log" nsd-checkconf "$DIR/dns/nsd.conf"

	{
		cat <<EOF
# Generated by tests/bed/bed.sh - validating resolver that knows only the
# test zones (served by NSD on port $DNS_PORT) and refuses everything else.
server:
  interface: 127.0.0.1
  port: $RESOLVER_PORT
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$DIR/dns"
  pidfile: "$DIR/dns/unbound.pid"
  logfile: "$LOG/unbound.log"
  use-syslog: no
  num-threads: 1
  verbosity: 1
  log-servfail: yes
  val-log-level: 2
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "validator iterator"
  val-permissive-mode: no
  qname-minimisation: no
  rrset-roundrobin: no
  trust-anchor-signaling: no
  local-zone: "." refuse
EOF
		if [ -s "$DIR/dns/trust-anchors" ]; then
			printf '  trust-anchor-file: "%s"\n' "$DIR/dns/trust-anchors"
		fi
		# "transparent" overrides the refusal (and Unbound's built-in
		# local zones such as "test.") for the test zones.
		for zone in "${ZONES[@]}"; do
			printf '  local-zone: "%s." transparent\n' "$zone"
		done
		printf 'remote-control:\n  control-enable: no\n'
		# A stub per zone: a delegation to another bed zone would otherwise
		# be followed to port 53.
		for zone in "${ZONES[@]}"; do
			printf 'stub-zone:\n  name: "%s."\n  stub-addr: 127.0.0.1@%s\n' "$zone" "$DNS_PORT"
		done
	} >"$DIR/dns/unbound.conf"
	run_logged unbound "$LOG/unbound.log" unbound-checkconf "$DIR/dns/unbound.conf"
}

start_dns() {
	local zone first
	start_daemon "$LOG/nsd.log" nsd -c "$DIR/dns/nsd.conf" ||
		fail nsd "$LOG/nsd.log" "nsd did not start"
	record_pid nsd "$DIR/dns/nsd.pid" || fail nsd "$LOG/nsd.log" "no pid file"
	# NSD starts even when a zone fails to load: ask for every zone.
	for zone in "${ZONES[@]}"; do
		wait_dns "$DNS_PORT" "$zone" +norecurse ||
			fail nsd "$LOG/nsd.log" "no answer for $zone SOA on port $DNS_PORT"
	done

	start_daemon "$LOG/unbound.log" unbound -c "$DIR/dns/unbound.conf" ||
		fail unbound "$LOG/unbound.log" "unbound did not start"
	record_pid unbound "$DIR/dns/unbound.pid" || fail unbound "$LOG/unbound.log" "no pid file"
	# +cd: a zone may be deliberately bogus; readiness is not validation.
	first="${ZONES[0]}"
	wait_dns "$RESOLVER_PORT" "$first" +cd ||
		fail unbound "$LOG/unbound.log" "no answer for $first SOA on port $RESOLVER_PORT"
}

# ---------------------------------------------------------------------------
# env file and summary
# ---------------------------------------------------------------------------

write_env() {
	local c="$DIR/certs" name var
	{
		echo "# mailflow test bed in $DIR - generated by tests/bed/bed.sh"
		envline MF_BED_DIR "$DIR"
		envline MF_HOST 127.0.0.1
		envline MF_TLS_HOST localhost
		envline MF_DOMAIN "$MAIL_DOMAIN"
		envline MF_MX_HOST "mail.$MAIL_DOMAIN"
		envline MF_IMAP_PORT "$IMAP_PORT"
		envline MF_IMAPS_PORT "$IMAPS_PORT"
		envline MF_POP3_PORT "$POP3_PORT"
		envline MF_POP3S_PORT "$POP3S_PORT"
		envline MF_LMTP_PORT "$LMTP_PORT"
		envline MF_SUBMISSION_PORT "$SUBMISSION_PORT"
		envline MF_SMTPS_PORT "$SMTPS_PORT"
		envline MF_MX_PORT "$MX_PORT"
		envline MF_SUBMISSION_PLAIN_PORT "$SUBMISSION_PLAIN_PORT"
		envline MF_SUBMISSION_SENDERLOGIN_PORT "$SUBMISSION_SENDERLOGIN_PORT"
		envline MF_SMTP_EXPIRED_PORT "$SMTP_EXPIRED_PORT"
		envline MF_SMTP_WRONGNAME_PORT "$SMTP_WRONGNAME_PORT"
		envline MF_SMTP_UNKNOWNCA_PORT "$SMTP_UNKNOWNCA_PORT"
		envline MF_DNS_PORT "$DNS_PORT"
		envline MF_RESOLVER_PORT "$RESOLVER_PORT"
		envline MF_USER "$USER1"
		envline MF_PASS "$PASS1"
		envline MF_ADDR "$USER1@$MAIL_DOMAIN"
		envline MF_MAILDIR "$DIR/mail/$USER1/Maildir"
		envline MF_USER2 "$USER2"
		envline MF_PASS2 "$PASS2"
		envline MF_ADDR2 "$USER2@$MAIL_DOMAIN"
		envline MF_MAILDIR2 "$DIR/mail/$USER2/Maildir"
		envline MF_VMAIL_UID "$VMAIL_UID"
		envline MF_CA "$c/ca.pem"
		envline MF_UNKNOWN_CA "$c/unknown-ca.pem"
		envline MF_CERT_OK "$c/server.pem"
		envline MF_KEY_OK "$c/server-key.pem"
		envline MF_CERT_EXPIRED "$c/expired.pem"
		envline MF_KEY_EXPIRED "$c/expired-key.pem"
		envline MF_CERT_WRONGNAME "$c/wrongname.pem"
		envline MF_KEY_WRONGNAME "$c/wrongname-key.pem"
		envline MF_CERT_UNKNOWNCA "$c/unknownca.pem"
		envline MF_KEY_UNKNOWNCA "$c/unknownca-key.pem"
		envline MF_CLIENT_CERT "$c/client.pem"
		envline MF_CLIENT_KEY "$c/client-key.pem"
		envline MF_SMIME_CERT1 "$c/smime1.pem"
		envline MF_SMIME_KEY1 "$c/smime1-key.pem"
		envline MF_SMIME_CERT2 "$c/smime2.pem"
		envline MF_SMIME_KEY2 "$c/smime2-key.pem"
		envline MF_SMIME_CERT_EXPIRED "$c/smime-expired.pem"
		envline MF_SMIME_KEY_EXPIRED "$c/smime-expired-key.pem"
		envline MF_DKIM_RSA_KEY "$c/dkim-rsa-key.pem"
		envline MF_DKIM_ED25519_KEY "$c/dkim-ed25519-key.pem"
		envline MF_DKIM_RSA_TXT "$(dkim_txt rsa "$c/dkim-rsa-key.pem")"
		envline MF_DKIM_ED25519_TXT "$(dkim_txt ed25519 "$c/dkim-ed25519-key.pem")"
		# TLSA data: SHA-256 of the SubjectPublicKeyInfo ("x 1 1") and of
		# the whole certificate ("x 0 1").
		for name in OK:server EXPIRED:expired WRONGNAME:wrongname UNKNOWNCA:unknownca CA:ca UNKNOWN_CA:unknown-ca; do
			var="${name%%:*}"
			envline "MF_SPKI_SHA256_$var" "$(spki_sha256 "$c/${name#*:}.pem")"
			envline "MF_CERT_SHA256_$var" "$(cert_sha256 "$c/${name#*:}.pem")"
		done
		envline MF_DOVECOT_CONF "$DIR/dovecot/dovecot.conf"
		envline MF_DOVEADM "doveadm -c $DIR/dovecot/dovecot.conf"
		envline MF_POSTFIX_DIR "$DIR/postfix"
		envline MF_LOG_DIR "$LOG"
	} >"$DIR/env"
	chmod 644 "$DIR/env"
}

envline() { printf 'export %s=%q\n' "$1" "$2"; }

# dkim_txt rsa|ed25519 KEY: the DKIM key record (RFC 6376 §3.6.1, RFC 8463
# §4) as zone-file TXT strings of at most 255 characters each.
dkim_txt() {
	local p
	if [ "$1" = rsa ]; then
		p="$(openssl pkey -in "$2" -pubout -outform DER | base64 -w0)"
	else
		p="$(openssl pkey -in "$2" -pubout -outform DER | tail -c 32 | base64 -w0)"
	fi
	printf '"v=DKIM1; k=%s; p=" ' "$1"
	printf '%s\n' "$p" | fold -w 200 | sed 's/.*/"&"/' | paste -sd' '
}

summary() {
	cat <<EOF
mailflow test bed up in $DIR (${SECONDS}s)
  IMAP     127.0.0.1:$IMAP_PORT (STARTTLS)   IMAPS 127.0.0.1:$IMAPS_PORT
  POP3     127.0.0.1:$POP3_PORT (STLS)       POP3S 127.0.0.1:$POP3S_PORT
  LMTP     127.0.0.1:$LMTP_PORT
  SMTP     submission $SUBMISSION_PORT (STARTTLS, AUTH after TLS)  smtps $SMTPS_PORT
           mx $MX_PORT (no AUTH)  submission-plain $SUBMISSION_PLAIN_PORT (no TLS, AUTH in clear)
           bad certs: expired $SMTP_EXPIRED_PORT  wrong name $SMTP_WRONGNAME_PORT  unknown CA $SMTP_UNKNOWNCA_PORT
           sender-login $SUBMISSION_SENDERLOGIN_PORT (refuses MAIL FROM addresses the login does not own)
  DNS      NSD 127.0.0.1:$DNS_PORT   Unbound (validating) 127.0.0.1:$RESOLVER_PORT   zones: ${ZONES[*]}
  users    $USER1 / $PASS1  ($USER1@$MAIL_DOMAIN)    $USER2 / $PASS2  ($USER2@$MAIL_DOMAIN)
  CA       $DIR/certs/ca.pem   (TLS name: localhost or mail.example.test)
  env      source $DIR/env     logs: $LOG
EOF
}

# ---------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------

bed_up() {
	SECONDS=0
	for cmd in dovecot doveconf postfix nsd nsd-checkconf unbound unbound-checkconf \
		certtool ldns-keygen ldns-signzone dig python3 flock; do
		command -v "$cmd" >/dev/null || die "$cmd not found; run tests/deps.sh"
	done
	if [ -e "$DIR/env" ]; then
		# Up twice is no error: a running bed stays; a dead one is cleared.
		if bed_status >/dev/null 2>&1; then
			say "a bed is already running in $DIR"
			cat "$DIR/summary" 2>/dev/null || true
			exit 0
		fi
		say "clearing a bed in $DIR that is no longer running"
		bed_down "$DIR"
	fi

	# The daemons run as dovecot, dovenull, postfix and uid 5000: they must
	# be able to traverse the bed (mktemp -d makes it 0700).
	chmod 755 "$DIR"
	LOG="$DIR/logs"
	mkdir -p "$LOG" "$DIR/pids"
	chmod 755 "$LOG"

	setup_certs

	# Choosing ports and binding them happens under a lock shared by all
	# beds on this machine, so two "up"s at once never pick the same port.
	exec 9>"${TMPDIR:-/tmp}/mailflow-bed-ports.lock"
	flock -w 120 9 || die "could not take the port lock"
	read -r IMAP_PORT IMAPS_PORT POP3_PORT POP3S_PORT LMTP_PORT SUBMISSION_PORT \
		SMTPS_PORT MX_PORT SUBMISSION_PLAIN_PORT SMTP_EXPIRED_PORT \
		SMTP_WRONGNAME_PORT SMTP_UNKNOWNCA_PORT DNS_PORT RESOLVER_PORT \
		SUBMISSION_SENDERLOGIN_PORT < <(pick_ports 15)
	[ -n "$SUBMISSION_SENDERLOGIN_PORT" ] || die "could not pick ports"

	# env first: zone files may use its values as @MF_...@ placeholders.
	write_env
	setup_dns
	start_dns
	setup_dovecot
	start_dovecot
	setup_postfix
	start_postfix
	exec 9>&-

	summary >"$DIR/summary"
	cat "$DIR/summary"
}

usage() {
	echo "usage: $0 up|down|status DIR   (DIR: absolute path of an existing directory)" >&2
	exit 2
}

# status: exit 0 when every server of the bed in DIR is still running.
bed_status() {
	local f pid
	[ -f "$DIR/env" ] || { echo "no bed in $DIR"; return 1; }
	for f in postfix dovecot unbound nsd; do
		pid=$(head -n 1 "$DIR/pids/$f" 2>/dev/null) || { echo "$f: not started"; return 1; }
		kill -0 "$pid" 2>/dev/null || { echo "$f: not running"; return 1; }
	done
	echo "bed in $DIR is running"
}

[ $# -eq 2 ] || usage
[ "$(id -u)" -eq 0 ] || die "needs root (Dovecot and Postfix change users)"
DIR="$2"
case "$DIR" in /*) ;; *) usage ;; esac
[ -d "$DIR" ] || die "$DIR: no such directory"
DIR="$(cd "$DIR" && pwd -P)"
case "$1" in
up) bed_up ;;
down) bed_down_verbose "$DIR" ;;
status) bed_status ;;
*) usage ;;
esac
