#!/bin/bash
# A private Dovecot (IMAP only) for the --idle service tests, which restart
# it at will: the shared test bed's server is never touched.
#
#   server.sh up DIR [notify]   certificates, config, start; writes DIR/env
#                               (notify: mailbox_list_index, so NOTIFY is
#                               offered)
#   server.sh stop DIR          stop it (what "up" started, by pid)
#   server.sh start DIR         start it again (same ports, same mail)
#
# Listens on 127.0.0.1 high ports only; user "soak", mail as uid 5000
# under DIR/mail.  Needs root (Dovecot switches users).
set -eu
cmd="$1" DIR="$2"
D="$DIR/dovecot"

pidof_master() { head -n 1 "$D/run/master.pid" 2>/dev/null | tr -dc '0-9'; }

stop() {
	local pid _
	pid="$(pidof_master)"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	rm -f "$D/run/master.pid"
	return 0
}

start() {
	local _ port
	# shellcheck disable=SC1091
	. "$DIR/env"
	dovecot -c "$D/dovecot.conf" </dev/null >>"$DIR/dovecot.out" 2>&1 9>&-
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$SOAK_IMAPS_PORT") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "server.sh: dovecot does not answer on $SOAK_IMAPS_PORT" >&2
	tail -n 20 "$DIR/dovecot.log" >&2
	return 1
}

up() {
	local notify="${1:-}" ports
	mkdir -p "$D/state" "$DIR/mail/soak" "$DIR/certs"
	chmod 755 "$DIR" "$D"
	chown -R 5000:5000 "$DIR/mail"
	ports=$(python3 - <<'PY'
import socket
out, held = [], []
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); held.append(s)
    out.append(str(s.getsockname()[1]))
print(" ".join(out))
PY
)
	set -- $ports
	local c="$DIR/certs"
	certtool --generate-privkey --key-type=ecdsa --outfile "$c/ca-key.pem" 2>/dev/null
	printf 'cn = "soak CA"\nca\ncert_signing_key\nexpiration_days = 30\n' >"$c/ca.tmpl"
	certtool --generate-self-signed --load-privkey "$c/ca-key.pem" \
		--template "$c/ca.tmpl" --outfile "$c/ca.pem" >/dev/null 2>&1
	certtool --generate-privkey --key-type=ecdsa --outfile "$c/key.pem" 2>/dev/null
	printf 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\ntls_www_server\nsigning_key\nexpiration_days = 30\n' >"$c/srv.tmpl"
	certtool --generate-certificate --load-privkey "$c/key.pem" \
		--load-ca-certificate "$c/ca.pem" --load-ca-privkey "$c/ca-key.pem" \
		--template "$c/srv.tmpl" --outfile "$c/cert.pem" >/dev/null 2>&1
	chmod 644 "$c"/*
	printf 'soak:{PLAIN}soak-secret:5000:5000::%s::\n' "$DIR/mail/soak" >"$D/users"
	chmod 644 "$D/users"
	cat >"$D/dovecot.conf" <<CONF
instance_name = mailflow-soak-$1
base_dir = $D/run
state_dir = $D/state
log_path = $DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
shutdown_clients = yes
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 5000
last_valid_uid = 5000
mail_location = maildir:~/Maildir
mailbox_list_index = $([ "$notify" = notify ] && echo yes || echo no)
mail_max_userip_connections = 100
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
ssl = yes
ssl_cert = <$c/cert.pem
ssl_key = <$c/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/users
}
userdb {
  driver = passwd-file
  args = $D/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $1
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $2
    ssl = yes
  }
}
CONF
	chmod 644 "$D/dovecot.conf"
	{
		printf 'export SOAK_IMAP_PORT=%s SOAK_IMAPS_PORT=%s SOAK_PROXY_PORT=%s\n' "$1" "$2" "$3"
		printf 'export SOAK_CA=%q SOAK_CONF=%q\n' "$c/ca.pem" "$D/dovecot.conf"
		printf 'export SOAK_USER=soak SOAK_PASS=soak-secret\n'
	} >"$DIR/env"
	start
}

case "$cmd" in
up) shift 2; up "$@" ;;
stop) stop ;;
start) start ;;
*) echo "usage: server.sh up|stop|start DIR" >&2; exit 64 ;;
esac
