# Sourced by tests/integration/60-mxprobe*.sh: certificates and the extra
# SMTP / HTTPS listeners behind the mxtest.test and mxplain.test zones of
# the bed (tests/bed/zones).  Needs the bed's env (MF_BED_DIR, MF_MX_PORT,
# MF_RESOLVER_PORT, MF_TMP).
#
#   mxp_up     create certificates, start the listeners, set MXP_* and
#              MXPROBE_MTA_STS_PORT, and trap EXIT to stop them again
#   mxp_down   stop what mxp_up started (by pid)
#
# Listeners, all on port $MF_MX_PORT (the zone's TLSA owner names use it):
#   127.0.0.2  mx1 / mx-taok / amx / mx.mxplain /  bed-CA leaf naming them
#              mx.xn--bcher-kva.mxplain
#   127.0.0.3  mx2                                same certificate
#   127.0.0.4  mx-dane / mx-stale                 the bed's server.pem
#   127.0.0.6  mx-ta     leaf from an unrelated intermediate, bed CA appended
#   127.0.0.8  mx-rogue                           bed-CA leaf
#   127.0.0.10 mx-notls                           no STARTTLS
#   127.0.0.11 mx-dead                            nothing listens
# and HTTPS for mta-sts.sts / mta-sts.stsok on 127.0.0.9:$MXPROBE_MTA_STS_PORT.

MXP_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MXP_PIDS=()

mxp_die() { printf 'FAIL: %s\n' "$*"; exit 1; }

mxp_cert() { # NAME SIGNER_CERT SIGNER_KEY TEMPLATE_LINES...
	local d="$MXP_DIR" name="$1" ca="$2" cakey="$3"
	shift 3
	certtool --generate-privkey --key-type=ecdsa --outfile "$d/$name-key.pem" >/dev/null 2>&1
	{
		printf 'serial = %s\n' "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
		printf '%s\n' "$@"
	} >"$d/$name.tmpl"
	certtool --generate-certificate --load-privkey "$d/$name-key.pem" \
		--load-ca-certificate "$ca" --load-ca-privkey "$cakey" \
		--template "$d/$name.tmpl" --outfile "$d/$name.crt" >/dev/null 2>&1 ||
		mxp_die "certtool: $name"
}

mxp_certs() {
	local c="$MF_BED_DIR/certs"
	mxp_cert good "$c/ca.pem" "$c/ca-key.pem" 'cn = "mx1.mxtest.test"' \
		'dns_name = "mx1.mxtest.test"' 'dns_name = "mx2.mxtest.test"' \
		'dns_name = "amx.mxtest.test"' 'dns_name = "mx-taok.mxtest.test"' \
		'dns_name = "mx-rogue.mxtest.test"' 'dns_name = "mx.mxplain.test"' \
		'dns_name = "mx.xn--bcher-kva.mxplain.test"' \
		'dns_name = "mta-sts.sts.mxtest.test"' 'dns_name = "mta-sts.stsok.mxtest.test"' \
		'tls_www_server' 'signing_key' 'expiration_days = 365'
	cat "$MXP_DIR/good.crt" "$c/ca.pem" >"$MXP_DIR/good.pem"
	# An intermediate of the unrelated ("unknown") CA, and a leaf from it.
	mxp_cert inter "$c/unknown-ca.pem" "$c/unknown-ca-key.pem" \
		'cn = "mxprobe unrelated intermediate"' 'ca' 'cert_signing_key' \
		'expiration_days = 365'
	mxp_cert ta "$MXP_DIR/inter.crt" "$MXP_DIR/inter-key.pem" 'cn = "mx-ta.mxtest.test"' \
		'dns_name = "mx-ta.mxtest.test"' 'tls_www_server' 'signing_key' \
		'expiration_days = 365'
	# The bed CA "merely appended": the TLSA 2 1 1 names it.
	cat "$MXP_DIR/ta.crt" "$MXP_DIR/inter.crt" "$c/ca.pem" >"$MXP_DIR/ta.pem"
}

mxp_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.9",0)); print(s.getsockname()[1])'
}

mxp_wait() { # FILE PID
	local i
	for i in $(seq 1 100); do
		[ -s "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

mxp_up() {
	local p="$MF_MX_PORT" c="$MF_BED_DIR/certs" g pid
	MXP_DIR="$MF_TMP/mxprobe"
	mkdir -p "$MXP_DIR/www/.well-known"
	mxp_certs
	g="$MXP_DIR/good.pem,$MXP_DIR/good-key.pem"
	trap mxp_down EXIT
	python3 "$MXP_HERE/smtpd.py" --ready "$MXP_DIR/smtpd.ready" \
		"127.0.0.2,$p,mx1.mxtest.test,$g" \
		"127.0.0.3,$p,mx2.mxtest.test,$g" \
		"127.0.0.4,$p,mail.example.test,$c/server.pem,$c/server-key.pem" \
		"127.0.0.6,$p,mx-ta.mxtest.test,$MXP_DIR/ta.pem,$MXP_DIR/ta-key.pem" \
		"127.0.0.8,$p,mx-rogue.mxtest.test,$g" \
		"127.0.0.10,$p,mx-notls.mxtest.test,-,-" \
		</dev/null >"$MXP_DIR/smtpd.log" 2>&1 &
	pid=$!
	MXP_PIDS+=("$pid")
	mxp_wait "$MXP_DIR/smtpd.ready" "$pid" ||
		mxp_die "smtpd.py did not start: $(tail -5 "$MXP_DIR/smtpd.log")"
	printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.mxtest.test\r\nmx: *.pool.mxtest.test\r\nmax_age: 86400\r\n' \
		>"$MXP_DIR/www/.well-known/mta-sts.txt"
	MXPROBE_MTA_STS_PORT="$(mxp_free_port)"
	export MXPROBE_MTA_STS_PORT
	python3 "$MXP_HERE/httpsd.py" --ready "$MXP_DIR/httpsd.ready" 127.0.0.9 \
		"$MXPROBE_MTA_STS_PORT" "$MXP_DIR/good.pem" "$MXP_DIR/good-key.pem" \
		"$MXP_DIR/www" </dev/null >"$MXP_DIR/httpsd.log" 2>&1 &
	pid=$!
	MXP_PIDS+=("$pid")
	mxp_wait "$MXP_DIR/httpsd.ready" "$pid" ||
		mxp_die "httpsd.py did not start: $(tail -5 "$MXP_DIR/httpsd.log")"
	MXP_ARGS=(--resolver "127.0.0.1:$MF_RESOLVER_PORT" --port "$p"
		--tls-trust-file "$MF_CA" --timeout 10)
}

mxp_down() {
	local pid
	for pid in "${MXP_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	MXP_PIDS=()
}
