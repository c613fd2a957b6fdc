#!/bin/bash
# The interop layer's servers: Exim 4.96 and Cyrus IMAP 3.6 (IMAP, POP3,
# LMTP), run from a private root, on 127.0.0.1 high ports.
#
#   setup.sh up DIR     unpack the cached .debs (once), start the servers
#                       with their state in DIR, write DIR/env
#                       ("export MF_...=..." lines)
#   setup.sh down DIR   stop exactly what "up DIR" started (safe to repeat)
#
# Installing cyrus-imapd or exim4 as packages would remove Dovecot or
# Postfix, so tests/deps.sh interop only downloads their .debs (and those of
# their libraries that are not installed) into $MF_INTEROP_CACHE
# (/var/cache/mailflow-interop); "up" unpacks them with dpkg-deb -x and runs
# the daemons with LD_LIBRARY_PATH and configuration files that point every
# state, spool, log and socket path into DIR.  Both need a user of their own (Debian-exim, cyrus) that
# this machine need not have: each daemon runs in a mount namespace
# (unshare -m) where /etc/passwd and /etc/group are copies with that user
# added and /etc/resolv.conf names 127.0.0.1, where nothing answers, so the
# machine's resolver is never asked.  Nothing under /etc is written and no
# system service is touched.  Needs root (namespaces, user switching).
#
# What a test may rely on (DIR/env):
# - users alice/alice-secret-1 and bob/bob-secret-2, mail for
#   NAME@example.test; the CA that signed the servers' certificate (names
#   localhost, mail.example.test, 127.0.0.1) in MF_CA.
# - Exim: MF_EXIM_PORT (STARTTLS; AUTH PLAIN LOGIN CRAM-MD5 only after TLS,
#   from a plaintext password file; CHUNKING; mail only when authenticated)
#   and MF_EXIM_SMTPS_PORT (TLS on connect).  Mail for example.test is
#   delivered to DIR/exim/mail/NAME/Maildir; any other domain is refused at
#   RCPT.
# - Cyrus: MF_CYRUS_IMAP_PORT (STARTTLS), MF_CYRUS_IMAPS_PORT,
#   MF_CYRUS_POP3_PORT (STLS), MF_CYRUS_POP3S_PORT, MF_CYRUS_LMTP_PORT and
#   the LMTP socket MF_CYRUS_LMTP_SOCKET; users in a sasldb, mechanisms
#   PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 and, on TLS, their -PLUS
#   variants (MF_CYRUS_PLUS=yes when the server advertises them, which needs
#   Cyrus SASL's SCRAM plugin with channel binding); altnamespace (folders
#   at the top, "." as separator); the admin MF_CYRUS_ADMIN/_PASS.
set -eu

SRC="$(cd "$(dirname "$0")" && pwd)"
TOP="$(cd "$SRC/../.." && pwd)"
CACHE="${MF_INTEROP_CACHE:-/var/cache/mailflow-interop}"
EXIM_UID=5001 CYRUS_UID=5002 MAIL_GID=8

say() { printf 'interop: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------------------
# down
# ---------------------------------------------------------------------------

# session_members SID: live processes of session SID (each daemon is started
# by setsid, so it and every worker it forks share its pid as session id).
session_members() {
	ps -eo pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

# stop NAME: TERM the session recorded in DIR/pids/NAME, KILL what is left
# after 8 s.  Only that session's processes are ever signalled.
stop() {
	local f="$DIR/pids/$1" sid left _
	[ -s "$f" ] || return 0
	sid="$(tr -dc '0-9' <"$f")"
	[ -n "$sid" ] || return 0
	left="$(session_members "$sid")"
	# shellcheck disable=SC2086 # one pid per word
	[ -z "$left" ] || kill -TERM $left 2>/dev/null || true
	for _ in $(seq 1 80); do
		[ -n "$(session_members "$sid")" ] || break
		sleep 0.1
	done
	left="$(session_members "$sid")"
	# shellcheck disable=SC2086
	[ -z "$left" ] || { say "$1 did not stop in time, killing $left"; kill -KILL $left 2>/dev/null || true; }
	rm -f "$f"
}

down() {
	stop exim
	stop cyrus
	rm -f "$DIR/env"
}

# ---------------------------------------------------------------------------
# helpers for up
# ---------------------------------------------------------------------------

# fail LOG MESSAGE: say why, show the log's tail, stop what runs, exit 1.
fail() {
	say "FAILED: $2"
	[ ! -s "$1" ] || tail -n 20 "$1" | sed 's/^/    /' >&2
	down
	exit 1
}

# pick_ports N: N distinct free TCP ports on 127.0.0.1 below the ephemeral
# range, so outgoing connections cannot take them meanwhile.
pick_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
rng, ports, held = random.SystemRandom(), [], []
while len(ports) < int(sys.argv[1]):
    p = rng.randrange(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    if p not in ports:
        held.append(s); ports.append(p)
print(" ".join(map(str, ports)))
PY
}

# wait_tcp PORT...: true once every port accepts a connection (max ~15 s).
wait_tcp() {
	local port _
	for port in "$@"; do
		for _ in $(seq 1 150); do
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue 2
			sleep 0.1
		done
		return 1
	done
}

# NS CMD...: CMD in a mount namespace with DIR/ns's passwd, group and
# resolv.conf over the machine's (private mounts: nothing leaks out).
NS=()
set_ns() {
	NS=(unshare -m --propagation private sh -c 'mount --bind "$0/passwd" /etc/passwd &&
		mount --bind "$0/group" /etc/group &&
		mount --bind "$0/resolv.conf" /etc/resolv.conf && exec "$@"' "$DIR/ns")
}

# start NAME CMD...: run a daemon that stays in the foreground in a session
# of its own (its pid is the session id "down" signals); stdio to its log.
start() {
	local name="$1"
	shift
	setsid "$@" </dev/null >>"$DIR/logs/$name.log" 2>&1 &
	echo $! >"$DIR/pids/$name"
}

# unpack_root: ROOT is the .debs of CACHE unpacked once (dpkg-deb -x) into
# CACHE/root-HASH, HASH naming the set of .debs: later runs reuse it, a new
# download gets a new root.  Read-only for the servers; their state is in DIR.
unpack_root() {
	local deb hash tmp f
	[ -f "$CACHE/complete" ] || bash "$TOP/tests/deps.sh" interop >&2 ||
		die "the servers' .debs are not in $CACHE (tests/deps.sh interop)"
	hash="$(cd "$CACHE" && ls -- *.deb | sha256sum | cut -c1-12)"
	ROOT="$CACHE/root-$hash"
	if [ ! -d "$ROOT" ]; then
		rm -rf "$CACHE"/root-* 2>/dev/null || true
		tmp="$(mktemp -d "$CACHE/unpack.XXXXXX")"
		for deb in "$CACHE"/*.deb; do
			dpkg-deb -x "$deb" "$tmp" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
		done
		chmod 755 "$tmp"
		# Another run may have unpacked the same set meanwhile.
		mv -T "$tmp" "$ROOT" 2>/dev/null || rm -rf "$tmp"
	fi
	for f in usr/sbin/exim4 usr/lib/cyrus/bin/master usr/sbin/saslpasswd2; do
		[ -x "$ROOT/$f" ] || die "$f missing in the unpacked root $ROOT"
	done
}

setup_ns() {
	mkdir -p "$DIR/ns"
	cp /etc/passwd "$DIR/ns/passwd"
	cp /etc/group "$DIR/ns/group"
	# Only the namespace's copies get these users.
	grep -q '^Debian-exim:' "$DIR/ns/passwd" ||
		echo "Debian-exim:x:$EXIM_UID:$EXIM_UID::/nonexistent:/usr/sbin/nologin" >>"$DIR/ns/passwd"
	grep -q '^Debian-exim:' "$DIR/ns/group" || echo "Debian-exim:x:$EXIM_UID:" >>"$DIR/ns/group"
	grep -q '^cyrus:' "$DIR/ns/passwd" ||
		echo "cyrus:x:$CYRUS_UID:$MAIL_GID::/nonexistent:/usr/sbin/nologin" >>"$DIR/ns/passwd"
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$DIR/ns/resolv.conf"
}

setup_certs() {
	local c="$DIR/certs"
	mkdir -p "$c"
	{
		certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$c/ca-key.pem" &&
			printf 'cn = "mailflow interop CA"\nca\ncert_signing_key\nexpiration_days = 30\n' >"$c/ca.tmpl" &&
			certtool --generate-self-signed --load-privkey "$c/ca-key.pem" \
				--template "$c/ca.tmpl" --outfile "$c/ca.pem" &&
			certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$c/server-key.pem" &&
			printf '%s\n' 'cn = "mail.example.test"' 'dns_name = "localhost"' \
				'dns_name = "mail.example.test"' 'ip_address = "127.0.0.1"' \
				tls_www_server signing_key encryption_key 'expiration_days = 30' >"$c/server.tmpl" &&
			certtool --generate-certificate --load-privkey "$c/server-key.pem" \
				--load-ca-certificate "$c/ca.pem" --load-ca-privkey "$c/ca-key.pem" \
				--template "$c/server.tmpl" --outfile "$c/server.pem"
	} >>"$DIR/logs/certs.log" 2>&1 || fail "$DIR/logs/certs.log" "certtool failed"
	# Test keys, not secrets: the daemons' users must read them.
	chmod 755 "$c"
	chmod 644 "$c"/*
}

# ---------------------------------------------------------------------------
# Exim
# ---------------------------------------------------------------------------

setup_exim() {
	local e="$DIR/exim"
	mkdir -p "$e/spool" "$e/log" "$e/mail"
	printf 'alice: alice-secret-1\nbob: bob-secret-2\n' >"$e/passwords"
	# local_part_data must come from a lookup (taint): a user -> user table.
	printf 'alice: alice\nbob: bob\n' >"$e/users"
	chmod 644 "$e/passwords" "$e/users"
	cat >"$e/exim.conf" <<EOF
# mailflow interop: Exim from a private root ($ROOT)
exim_path = $ROOT/usr/sbin/exim4
keep_environment =
primary_hostname = mail.example.test
qualify_domain = example.test
domainlist local_domains = example.test
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = $e/spool
log_file_path = $e/log/%slog
pid_file_path = $e/exim.pid
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = $EXIM_PORT : $EXIM_SMTPS_PORT
tls_on_connect_ports = $EXIM_SMTPS_PORT
tls_certificate = $DIR/certs/server.pem
tls_privatekey = $DIR/certs/server-key.pem
tls_advertise_hosts = *
# AUTH only on a TLS session (Exim's knob for smtpd_tls_auth_only)
auth_advertise_hosts = \${if eq{\$tls_in_cipher}{}{}{*}}
chunking_advertise_hosts = *
host_lookup =
rfc1413_hosts =
helo_lookup_domains =
check_spool_space = 0
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt

begin acl
acl_mail:
  deny    !authenticated = *
          message = 5.7.0 authentication required
  accept
acl_rcpt:
  deny    !domains = +local_domains
          message = 5.1.1 outbound mail is disabled in the interop bed
  require verify = recipient
  accept

begin routers
users:
  driver = accept
  domains = +local_domains
  local_parts = lsearch;$e/users
  transport = maildir

begin transports
maildir:
  driver = appendfile
  directory = $e/mail/\${local_part_data}/Maildir
  maildir_format
  create_directory
  user = Debian-exim
  group = Debian-exim
  mode = 0600

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if eq{\$auth3}{\${lookup{\$auth2}lsearch{$e/passwords}{\$value}fail}}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if eq{\$auth2}{\${lookup{\$auth1}lsearch{$e/passwords}{\$value}fail}}}
  server_set_id = \$auth1
cram:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = \${lookup{\$auth1}lsearch{$e/passwords}{\$value}fail}
  server_set_id = \$auth1
EOF
	chown -R "$EXIM_UID:$EXIM_UID" "$e/spool" "$e/log" "$e/mail"
	chmod 755 "$e/mail"
}

start_exim() {
	"${NS[@]}" "$ROOT/usr/sbin/exim4" -C "$DIR/exim/exim.conf" -bV >>"$DIR/logs/exim.log" 2>&1 ||
		fail "$DIR/logs/exim.log" "exim -bV: the configuration does not load"
	# -bdf: the daemon stays in the foreground (start records its session).
	start exim "${NS[@]}" "$ROOT/usr/sbin/exim4" -C "$DIR/exim/exim.conf" -bdf
	wait_tcp "$EXIM_PORT" "$EXIM_SMTPS_PORT" ||
		fail "$DIR/exim/log/mainlog" "Exim does not answer on $EXIM_PORT/$EXIM_SMTPS_PORT"
}

# ---------------------------------------------------------------------------
# Cyrus
# ---------------------------------------------------------------------------

setup_cyrus() {
	local c="$DIR/cyrus" bin="$ROOT/usr/lib/cyrus/bin" d u
	mkdir -p "$c/spool" "$c/run"
	for d in db socket proc log msg user quota sieve ptclient lock; do
		mkdir -p "$c/conf/$d"
	done
	cat >"$c/imapd.conf" <<EOF
configdirectory: $c/conf
partition-default: $c/spool
servername: mail.example.test
cyrus_user: cyrus
admins: $CYRUS_ADMIN
altnamespace: yes
unixhierarchysep: no
virtdomains: off
allowplaintext: yes
hashimapspool: no
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $c/sasldb2
sasl_mech_list: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS
tls_server_cert: $DIR/certs/server.pem
tls_server_key: $DIR/certs/server-key.pem
lmtp_downcase_rcpt: yes
lmtpsocket: $c/conf/socket/lmtp
idlesocket: $c/conf/socket/idle
notifysocket: $c/conf/socket/notify
duplicate_db_path: $c/conf/deliver.db
mboxname_lockpath: $c/conf/lock
proc_path: $c/conf/proc
statuscache: no
EOF
	# Every program by its full path and with -C: the compiled-in
	# /usr/lib/cyrus/bin and /etc/imapd.conf do not exist here.
	local C="-C $c/imapd.conf"
	cat >"$c/cyrus.conf" <<EOF
START {
  recover cmd="$bin/ctl_cyrusdb $C -r"
}
SERVICES {
  imap     cmd="$bin/imapd $C" listen="127.0.0.1:$CYRUS_IMAP_PORT" prefork=0
  imaps    cmd="$bin/imapd $C -s" listen="127.0.0.1:$CYRUS_IMAPS_PORT" prefork=0
  pop3     cmd="$bin/pop3d $C" listen="127.0.0.1:$CYRUS_POP3_PORT" prefork=0
  pop3s    cmd="$bin/pop3d $C -s" listen="127.0.0.1:$CYRUS_POP3S_PORT" prefork=0
  lmtp     cmd="$bin/lmtpd $C -a" listen="127.0.0.1:$CYRUS_LMTP_PORT" prefork=0
  lmtpunix cmd="$bin/lmtpd $C" listen="$c/conf/socket/lmtp" prefork=0
}
EVENTS {
}
EOF
	for u in alice:alice-secret-1 bob:bob-secret-2 "$CYRUS_ADMIN:$CYRUS_ADMIN_PASS"; do
		printf '%s' "${u#*:}" | LD_LIBRARY_PATH="$LIBS" "$ROOT/usr/sbin/saslpasswd2" \
			-f "$c/sasldb2" -c -p -u mail.example.test "${u%%:*}" >>"$DIR/logs/cyrus.log" 2>&1 ||
			fail "$DIR/logs/cyrus.log" "saslpasswd2 failed"
	done
	chown -R "$CYRUS_UID:$MAIL_GID" "$c"
	chmod 755 "$c"
}

start_cyrus() {
	# master stays in the foreground without -d.
	start cyrus "${NS[@]}" env LD_LIBRARY_PATH="$LIBS" "$ROOT/usr/lib/cyrus/bin/master" -C "$DIR/cyrus/imapd.conf" \
		-M "$DIR/cyrus/cyrus.conf" -p "$DIR/cyrus/run/master.pid"
	wait_tcp "$CYRUS_IMAP_PORT" "$CYRUS_IMAPS_PORT" "$CYRUS_POP3_PORT" \
		"$CYRUS_POP3S_PORT" "$CYRUS_LMTP_PORT" ||
		fail "$DIR/logs/cyrus.log" "Cyrus does not answer (it logs to syslog only; strace its master)"
	# The users' mailboxes (user.NAME) are made by the admin; the
	# capabilities after TLS tell whether SCRAM -PLUS is on offer.
	CYRUS_PLUS="$(python3 - "$DIR/certs/ca.pem" "$CYRUS_IMAPS_PORT" "$CYRUS_ADMIN" "$CYRUS_ADMIN_PASS" <<'PY'
import imaplib, ssl, sys
ca, port, admin, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = imaplib.IMAP4_SSL("localhost", port, ssl_context=ssl.create_default_context(cafile=ca))
plus = "AUTH=SCRAM-SHA-256-PLUS" in c.capabilities
c.login(admin, pw)
for u in ("alice", "bob"):
    typ, data = c.create("user." + u)
    assert typ == "OK", (u, data)
c.logout()
print("yes" if plus else "no")
PY
)" 2>>"$DIR/logs/cyrus.log" || fail "$DIR/logs/cyrus.log" "creating the users' mailboxes failed"
}

# ---------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------

write_env() {
	local v
	{
		for v in MF_INTEROP_DIR="$DIR" MF_CA="$DIR/certs/ca.pem" \
			MF_USER=alice MF_PASS=alice-secret-1 MF_ADDR=alice@example.test \
			MF_USER2=bob MF_PASS2=bob-secret-2 MF_ADDR2=bob@example.test \
			MF_EXIM_PORT="$EXIM_PORT" MF_EXIM_SMTPS_PORT="$EXIM_SMTPS_PORT" \
			MF_EXIM_MAIL="$DIR/exim/mail" MF_EXIM_LOG="$DIR/exim/log/mainlog" \
			MF_CYRUS_IMAP_PORT="$CYRUS_IMAP_PORT" MF_CYRUS_IMAPS_PORT="$CYRUS_IMAPS_PORT" \
			MF_CYRUS_POP3_PORT="$CYRUS_POP3_PORT" MF_CYRUS_POP3S_PORT="$CYRUS_POP3S_PORT" \
			MF_CYRUS_LMTP_PORT="$CYRUS_LMTP_PORT" \
			MF_CYRUS_LMTP_SOCKET="$DIR/cyrus/conf/socket/lmtp" \
			MF_CYRUS_PLUS="$CYRUS_PLUS" MF_CYRUS_ADMIN="$CYRUS_ADMIN" \
			MF_CYRUS_ADMIN_PASS="$CYRUS_ADMIN_PASS"; do
			printf 'export %s=%q\n' "${v%%=*}" "${v#*=}"
		done
	} >"$DIR/env"
}

up() {
	local t0=$SECONDS
	for cmd in certtool python3 unshare setsid dpkg-deb; do
		command -v "$cmd" >/dev/null || die "$cmd not found; run tests/deps.sh interop"
	done
	[ ! -e "$DIR/env" ] || down
	chmod 755 "$DIR"
	mkdir -p "$DIR/logs" "$DIR/pids"
	CYRUS_ADMIN=cyrusadmin
	CYRUS_ADMIN_PASS="admin-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	unpack_root
	LIBS="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu"
	setup_ns
	set_ns
	setup_certs
	# Ports are chosen and bound under the test bed's port lock.
	exec 9>"${TMPDIR:-/tmp}/mailflow-bed-ports.lock"
	flock -w 120 9 || die "could not take the port lock"
	read -r EXIM_PORT EXIM_SMTPS_PORT CYRUS_IMAP_PORT CYRUS_IMAPS_PORT \
		CYRUS_POP3_PORT CYRUS_POP3S_PORT CYRUS_LMTP_PORT < <(pick_ports 7)
	[ -n "$CYRUS_LMTP_PORT" ] || die "could not pick ports"
	setup_exim
	start_exim 9>&-
	setup_cyrus
	start_cyrus 9>&-
	exec 9>&-
	write_env
	say "Exim on $EXIM_PORT (STARTTLS) and $EXIM_SMTPS_PORT (TLS), Cyrus IMAP $CYRUS_IMAP_PORT/$CYRUS_IMAPS_PORT," \
		"POP3 $CYRUS_POP3_PORT/$CYRUS_POP3S_PORT, LMTP $CYRUS_LMTP_PORT, SCRAM -PLUS: $CYRUS_PLUS" \
		"($((SECONDS - t0)) s)"
}

[ $# -eq 2 ] || { echo "usage: $0 up|down DIR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, the daemons switch users)"
DIR="$2"
[ -d "$DIR" ] || die "$DIR: no such directory"
DIR="$(cd "$DIR" && pwd -P)"
case "$1" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
