#!/bin/bash
# imap-sync --idle under load and trouble, with its memory watched.
#
#   tests/soak/soak.sh SECONDS RESTARTS DROPS SILENT [KEEPALIVE]
#
# A private Dovecot (server.sh) behind a TCP proxy this script controls
# (proxy.py); imap-sync --idle --expunge watches 6 folders (4 by IDLE, 2
# polled by STATUS) through the proxy while activity.py delivers, flags
# and expunges at random for SECONDS.  Meanwhile the server is restarted
# RESTARTS times, every connection is reset DROPS times, and SILENT times
# the proxy swallows every byte until imap-sync notices (must be within
# two minutes).  At the end the Maildir must equal the server and the
# resident memory must be within 10% of what it was after the first sync.
# Prints "soak: ..." result lines; exit 0 only when everything held.
# make soak runs 1800 5 5 1; tests/integration/54-imap-sync-soak.sh a short one.
set -u
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${MF_BIN:-$TOP/bin}"
SECS="$1" RESTARTS="$2" DROPS="$3" SILENT="$4" KEEPALIVE="${5:-60}"
S="$TOP/tests/soak"
H="$TOP/tests/integration/50-imap-sync-helper.py"
T="$(mktemp -d "${TMPDIR:-/tmp}/mailflow-soak.XXXXXX")"
chmod 755 "$T"
isp="" prp="" actp=""
cleanup() {
	[ -z "$isp" ] || kill -TERM "$isp" 2>/dev/null
	[ -z "$actp" ] || kill -TERM "$actp" 2>/dev/null
	[ -z "$prp" ] || kill -TERM "$prp" 2>/dev/null
	[ -z "$isp" ] || wait "$isp" 2>/dev/null
	bash "$S/server.sh" stop "$T"
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "soak: FAIL: $*"
	echo "soak: last lines of the imap-sync log:"
	tail -n 30 "$T/idle.log" | sed 's/^/    /'
	exit 1
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$isp/status" 2>/dev/null; }
lost() { grep -c 'connection lost\|reconnect failed' "$T/idle.log"; }

bash "$S/server.sh" up "$T" >"$T/server.out" 2>&1 || { cat "$T/server.out"; exit 1; }
# shellcheck disable=SC1091
. "$T/env"
python3 "$S/activity.py" populate Soak 6 40 || fail "populate"
python3 "$S/proxy.py" "$SOAK_PROXY_PORT" "$SOAK_IMAPS_PORT" "$T/proxy.pid" &
prp=$!
for _ in $(seq 1 100); do [ -s "$T/proxy.pid" ] && break; sleep 0.1; done

MAILFLOW_PASSWORD="$SOAK_PASS" HOME="$T" "$BIN/imap-sync" -u soak -s localhost \
	-p "$SOAK_PROXY_PORT" --tls implicit --tls-trust-file "$SOAK_CA" \
	-m "$T/m" --state "$T/st" --folder 'Soak*' --idle --expunge \
	--idle-connections 4 --poll-interval 20 --reconnect-max 15 \
	--keepalive "$KEEPALIVE" >"$T/idle.log" 2>&1 &
isp=$!
for _ in $(seq 1 600); do
	grep -q 'watching' "$T/idle.log" && break
	kill -0 "$isp" 2>/dev/null || fail "imap-sync exited"
	sleep 0.1
done
grep -q 'watching 4 folders with IDLE, polling 2' "$T/idle.log" ||
	fail "no 'watching 4 folders with IDLE, polling 2' line"
sleep 2
rss0=$(rss)
echo "soak: RSS after the first sync: $rss0 kB"

python3 "$S/activity.py" run Soak 6 "$SECS" "$$" >"$T/activity.out" 2>&1 &
actp=$!
start=$(date +%s)
nev=$((RESTARTS + DROPS + SILENT))
gap=$((SECS / (nev + 1)))
i=0 r=0 d=0 s=0
while [ "$i" -lt "$nev" ]; do
	i=$((i + 1))
	while [ $(($(date +%s) - start)) -lt $((gap * i)) ]; do sleep 1; done
	kill -0 "$isp" 2>/dev/null || fail "imap-sync exited"
	before=$(lost)
	if [ "$r" -lt "$RESTARTS" ] && { [ $((i % 3)) = 1 ] || { [ "$d" -ge "$DROPS" ] && [ "$s" -ge "$SILENT" ]; }; }; then
		r=$((r + 1))
		bash "$S/server.sh" stop "$T"
		sleep $((2 + RANDOM % 4))
		bash "$S/server.sh" start "$T" || fail "server did not restart"
		echo "soak: server restart $r at $(($(date +%s) - start)) s"
	elif [ "$d" -lt "$DROPS" ] && { [ $((i % 3)) = 2 ] || [ "$s" -ge "$SILENT" ]; }; then
		d=$((d + 1))
		kill -USR1 "$prp"
		echo "soak: connections dropped ($d) at $(($(date +%s) - start)) s"
	else
		s=$((s + 1))
		kill -USR2 "$prp"
		t0=$(date +%s)
		while [ "$(lost)" -le "$before" ] && [ $(($(date +%s) - t0)) -lt 150 ]; do
			sleep 1
		done
		kill -USR2 "$prp"
		took=$(($(date +%s) - t0))
		[ "$(lost)" -gt "$before" ] || fail "a silent connection went unnoticed for 150 s"
		echo "soak: silent connection noticed after $took s"
		[ "$took" -le 120 ] || fail "silent connection noticed after $took s (> 120)"
		continue
	fi
	for _ in $(seq 1 60); do
		[ "$(lost)" -gt "$before" ] && break
		sleep 1
	done
	[ "$(lost)" -gt "$before" ] || fail "the lost connection was not noticed"
done
wait "$actp"
actp=""
cat "$T/activity.out"

# settle: a sync now, then the Maildir must equal the server
kill -USR1 "$isp"
ok=0
for _ in $(seq 1 30); do
	sleep 4
	if MF_CA="$SOAK_CA" MF_IMAPS_PORT="$SOAK_IMAPS_PORT" MF_USER=soak \
		MF_PASS="$SOAK_PASS" python3 "$H" compare "$T/m" maildir++ Soak >"$T/compare.out" 2>&1; then
		ok=1
		break
	fi
done
kill -0 "$isp" 2>/dev/null || fail "imap-sync exited"
rss1=$(rss)
sed 's/^/soak: /' "$T/compare.out" | tail -n 8
[ "$ok" = 1 ] || fail "the Maildir differs from the server"
echo "soak: Maildir equals the server"
echo "soak: reconnect lines: $(lost) (restarts $r, drops $d, silent $s)"
grep -c '^Soak' "$T/idle.log" | sed 's/^/soak: folder syncs: /'
pct=$(awk -v a="$rss0" -v b="$rss1" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')
echo "soak: RSS at the end: $rss1 kB ($pct% against after the first sync)"
# Under AddressSanitizer (make check SANITIZE=1) RSS measures its quarantine
# of freed memory, not ours: there LeakSanitizer judges instead, at exit (a
# leak makes the exit status after SIGTERM below non-zero).
if ldd "$BIN/imap-sync" 2>/dev/null | grep -q libasan; then
	echo "soak: RSS growth not judged under AddressSanitizer (its quarantine); LeakSanitizer checks at exit"
else
	[ "$((rss1 * 100))" -le "$((rss0 * 110))" ] || fail "RSS grew more than 10%"
fi
kill -TERM "$isp"
wait "$isp"
rc=$?
isp=""
[ "$rc" = 0 ] || fail "exit $rc after SIGTERM"
echo "soak: PASS ($SECS s, $r restarts, $d drops, $s silent)"
