#!/usr/bin/env bash
# make bench: mailflow's tools against the peer tools people use today, on
# the local test bed (Dovecot + Postfix on 127.0.0.1).  Not a test: it never
# fails on speed, only on a mailflow tool that does not do its job (exit 1).
#
# Fairness rules (issue 15):
#  - runs ALTERNATE: mailflow, peer, mailflow, peer ... for every job;
#  - the same AUTH mechanism on both sides: PLAIN everywhere (SMTP AUTH
#    PLAIN, POP3 AUTH PLAIN (RFC 5034), IMAP AUTHENTICATE PLAIN);
#  - passwords come from the environment or the peer's config file, so
#    neither side forks a password helper;
#  - before every run that touches a local Maildir the bench waits until its
#    cur/ and new/ are at least one second old: mbsync 1.4 stats cur/ and,
#    when it changed within the current second, sleeps one second and looks
#    again (seen with strace -r: clock_nanosleep({1, 0}) between two stats of
#    cur/).  The wait is untimed and done for both sides;
#  - no Maildir is deleted during the bench: every run's output is moved
#    aside and deleted at exit, in the background once the results are out
#    (ext4 allocates inodes slowly for minutes after a mass delete);
#  - the server's index and the page cache are warmed by one untimed raw
#    fetch before a job, so neither side pays for the first touch;
#  - every fetched or synced message is checked byte-identical to what the
#    server holds (SHA-256 after normalising line ends), every sent message
#    checked delivered with its body intact.
#
# Numbers: wall time per run (median, min, max over the runs), the child's
# peak RSS (getrusage), the ratio mailflow / peer of the medians (below 1:
# mailflow is faster).  Load average at start and end.
#
#   BENCH_QUICK=1   smaller counts, fewer runs (make bench QUICK=1, < 5 min)
#   BENCH_K, BENCH_K_SEND, BENCH_K_BATCH, BENCH_MSGS, BENCH_BATCH,
#   BENCH_RTT_MSGS, BENCH_LARGE   override the runs and counts (see below)
#   BENCH_OUT       also write the result tables (markdown) to this file
#   MF_BED_ENV      use a running bed instead of starting one
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin="$top/bin"
here="$top/tests/bench"
# the interpreter itself, not a version-manager shim that forks a few
# shells on every call (the checks between runs call it often)
py=$(python3 -c 'import sys; print(sys.executable)')

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	K=${BENCH_K:-3}; K_SEND=${BENCH_K_SEND:-5}; K_BATCH=${BENCH_K_BATCH:-1}; N=${BENCH_MSGS:-500}
	BATCH=${BENCH_BATCH:-50}; RTT_N=${BENCH_RTT_MSGS:-100}; LARGE=${BENCH_LARGE:-5000}
else
	K=${BENCH_K:-5}; K_SEND=${BENCH_K_SEND:-15}; K_BATCH=${BENCH_K_BATCH:-2}; N=${BENCH_MSGS:-10000}
	BATCH=${BENCH_BATCH:-1000}; RTT_N=${BENCH_RTT_MSGS:-1000}; LARGE=${BENCH_LARGE:-100000}
fi
SMALL=$((LARGE / 10))
RTT_DELAY_MS=20                 # each direction: 40 ms round trip

work=$(mktemp -d /var/tmp/mf-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/aside"
own_bed=0
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ "$(type -t mxp_down)" = function ] && mxp_down >/dev/null 2>&1
	[ "$own_bed" = 1 ] && bash "$top/tests/bed/bed.sh" down "$work/bed" >/dev/null 2>&1
	# the Maildirs moved aside take a minute or more to delete: that goes
	# on in the background, at the lowest priority, after the bench has
	# reported; the renamed directory is never looked at again
	if mv "$work" "$work.del" 2>/dev/null; then
		(setsid nice -n 19 rm -rf "$work.del" </dev/null >/dev/null 2>&1 &)
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT INT TERM

say() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------

# timed OUT [measure options] -- CMD...: one timed run of CMD (through
# tests/bench/measure.c, see there); appends "MS RSS_KB" to OUT.  On
# failure: CMD's first error line in $work/failed, status 1.
timed() {
	local out=$1 line rc=0
	shift
	line=$("$work/measure" -o "$work/last.out" -r "$work/last.err" "$@") || rc=$?
	if [ "$rc" -ne 0 ]; then
		{ grep -m 1 . "$work/last.err" || echo "exit status $rc"; } >"$work/failed"
		return 1
	fi
	echo "$line" >>"$out"
}

# check CMD...: an untimed check after a run; its one-line complaint goes to
# $work/failed and the status is 2 ("the run worked but lost or altered
# mail": the time is kept, the row says FAILED CHECK).
check() {
	"$@" >"$work/failed" 2>&1 && return 0
	return 2
}

# old_enough DIR...: wait until the Maildirs' cur/ and new/ were last changed
# in an earlier second than now (mbsync's one-second sleep, see the top).
old_enough() {
	"$py" - "$@" <<'PY'
import os, sys, time
newest = 0
for d in sys.argv[1:]:
    for sub in ("", "cur", "new"):
        try:
            newest = max(newest, int(os.stat(os.path.join(d, sub)).st_mtime))
        except OSError:
            pass
while int(time.time()) <= newest:
    time.sleep(0.05)
PY
}

# aside DIR...: move directories out of the way (deleted at exit).
aside() {
	local d
	for d in "$@"; do
		[ -e "$d" ] && mv "$d" "$work/aside/$(basename "$d").$RANDOM$RANDOM"
	done
	return 0
}

# stats FILE: "median min max maxrss" of the "MS RSS" lines in FILE.
stats() {
	sort -n "$1" | awk '{ t[NR] = $1; if ($2 > r) r = $2 }
	    END { if (NR == 0) exit 1
	          m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
	          printf "%.0f %.0f %.0f %d\n", m, t[1], t[NR], r }'
}

mib() { awk -v k="$1" 'BEGIN { if (k > 0) printf "%.1f MiB", k / 1024; else print "-" }'; }

# cell FILE FAILFILE NOTEFILE: "median (min–max)" or FAILED and why.
cell() {
	local m lo hi r
	if [ -s "$2" ]; then
		printf 'FAILED: %s' "$(cat "$2")"
		return
	fi
	read -r m lo hi r < <(stats "$1")
	printf '%s (%s–%s)' "$m" "$lo" "$hi"
	[ -s "$3" ] && printf ' FAILED CHECK: %s' "$(cat "$3")"
	return 0
}

tool_failed=0
table="$work/table"

# compare JOB PEER K MF_FN PEER_FN: K alternating runs of the two sides of
# one job.  MF_FN / PEER_FN OUT each do one run (preparation untimed, the
# run timed into OUT, then the checks) and return 0, 1 (the run failed: no
# time) or 2 (the check failed: the time is kept).  PEER_FN empty: the peer
# is not installed.  Appends one table row.
compare() {
	local job=$1 peer=$2 k=$3 fa=$4 fb=$5 i rc side fn
	for side in a b; do
		: >"$work/t.$side"; : >"$work/fail.$side"; : >"$work/note.$side"
	done
	say "  $job: $k alternating runs"
	for i in $(seq "$k"); do
		for side in a b; do
			fn=$fa; [ "$side" = b ] && fn=$fb
			[ -n "$fn" ] && [ ! -s "$work/fail.$side" ] || continue
			rc=0; "$fn" "$work/t.$side" || rc=$?
			[ "$rc" = 1 ] && cp "$work/failed" "$work/fail.$side"
			[ "$rc" = 2 ] && [ ! -s "$work/note.$side" ] && cp "$work/failed" "$work/note.$side"
		done
	done
	[ -s "$work/fail.a" ] || [ -s "$work/note.a" ] && tool_failed=1
	emit_row "$job" "$peer" "$fb"
}

# emit_row JOB PEER PEER_FN: | job | mailflow | peer | peer time | ratio | RSS |
emit_row() {
	local a b ratio="-" ra="" rb="" ma mb
	a=$(cell "$work/t.a" "$work/fail.a" "$work/note.a")
	if [ -z "$3" ]; then
		b="not installed"
	else
		b=$(cell "$work/t.b" "$work/fail.b" "$work/note.b")
	fi
	if [ ! -s "$work/fail.a" ] && [ -n "$3" ] && [ ! -s "$work/fail.b" ]; then
		read -r ma _ _ ra < <(stats "$work/t.a")
		read -r mb _ _ rb < <(stats "$work/t.b")
		ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }')
		# a lost or altered message makes the comparison invalid
		[ -s "$work/note.a" ] || [ -s "$work/note.b" ] && ratio="($ratio)"
	fi
	[ -s "$work/t.a" ] && ra=$(mib "$(stats "$work/t.a" | cut -d' ' -f4)")
	[ -s "$work/t.b" ] && rb=$(mib "$(stats "$work/t.b" | cut -d' ' -f4)")
	printf '| %s | %s | %s | %s | %s | %s / %s |\n' "$1" "$a" "$2" "$b" "$ratio" \
	    "${ra:--}" "${rb:--}" | tee -a "$table"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------------------
# the bed, the delay proxy, configuration
# ---------------------------------------------------------------------------

start_bed() {
	if [ -n "${MF_BED_ENV:-}" ]; then
		. "$MF_BED_ENV"
		return
	fi
	mkdir -p "$work/bed"; chmod 755 "$work/bed"
	bash "$top/tests/bed/bed.sh" up "$work/bed" >"$work/bed.log" 2>&1 ||
		{ cat "$work/bed.log"; exit 1; }
	own_bed=1
	. "$work/bed/env"
}

# start_proxy: delayproxy.py in front of submission, POP3S and IMAPS;
# sets RTT_SUBMISSION_PORT, RTT_POP3S_PORT, RTT_IMAPS_PORT.
start_proxy() {
	"$py" "$here/delayproxy.py" "$RTT_DELAY_MS" "$work/proxy.ports" \
	    "$MF_SUBMISSION_PORT" "$MF_POP3S_PORT" "$MF_IMAPS_PORT" \
	    </dev/null >"$work/proxy.log" 2>&1 &
	pids+=($!)
	mxp_wait "$work/proxy.ports" "$!" || { cat "$work/proxy.log"; exit 1; }
	RTT_SUBMISSION_PORT=$(awk -v p="$MF_SUBMISSION_PORT" '$1 == p { print $2 }' "$work/proxy.ports")
	RTT_POP3S_PORT=$(awk -v p="$MF_POP3S_PORT" '$1 == p { print $2 }' "$work/proxy.ports")
	RTT_IMAPS_PORT=$(awk -v p="$MF_IMAPS_PORT" '$1 == p { print $2 }' "$work/proxy.ports")
}

# write_configs: mailflow's and the peers' configuration files.  TLS name
# "localhost" (mbsync and friends match DNS names only).
write_configs() {
	local port
	for port in "$MF_SUBMISSION_PORT" "$RTT_SUBMISSION_PORT"; do
		cat >"$work/config.$port" <<-CFG
		account bench
		host $MF_TLS_HOST
		port $port
		tls starttls
		tls_trust_file $MF_CA
		user $MF_USER
		auth PLAIN
		from $MF_ADDR
		state $work/state
		CFG
		cat >"$work/msmtprc.$port" <<-CFG
		account bench
		host $MF_TLS_HOST
		port $port
		tls on
		tls_starttls on
		tls_trust_file $MF_CA
		auth plain
		user $MF_USER
		password $MF_PASS
		from $MF_ADDR
		CFG
	done
	chmod 600 "$work"/config.* "$work"/msmtprc.*
}

# mpoprc PORT USER PASS DIR: an mpop configuration (AUTH PLAIN, keep, and
# no Received header of its own: the message is stored as the server has it).
mpoprc() {
	local f="$work/mpoprc.$1.$2"
	cat >"$f" <<-CFG
	account bench
	host $MF_TLS_HOST
	port $1
	tls on
	tls_starttls off
	tls_trust_file $MF_CA
	auth plain
	user $2
	password $3
	keep on
	received_header off
	uidls_file $4.uidls
	delivery maildir $4
	CFG
	chmod 600 "$f"
	echo "$f"
}

# mbsyncrc PORT FOLDER DIR: an mbsync configuration pulling FOLDER of bob
# into DIR/FOLDER (AuthMechs PLAIN).
mbsyncrc() {
	local f="$work/mbsyncrc.$1.$2"
	cat >"$f" <<-CFG
	IMAPAccount bench
	Host $MF_TLS_HOST
	Port $1
	User $MF_USER2
	Pass $MF_PASS2
	SSLType IMAPS
	CertificateFile $MF_CA
	AuthMechs PLAIN

	IMAPStore remote
	Account bench

	MaildirStore local
	Path $3/
	Inbox $3/INBOX

	Channel bench
	Far :remote:
	Near :local:
	Patterns $2
	Sync Pull
	Create Near
	SyncState *
	CFG
	chmod 600 "$f"
	echo "$f"
}

# ---------------------------------------------------------------------------
# mailboxes on the server
# ---------------------------------------------------------------------------

# server_dir USER FOLDER: the Dovecot Maildir of USER's FOLDER.
server_dir() {
	local root="$MF_MAILDIR"
	[ "$1" = "$MF_USER2" ] && root="$MF_MAILDIR2"
	if [ "$2" = INBOX ]; then echo "$root"; else echo "$root/.$2"; fi
}

# fill USER FOLDER COUNT [small]: COUNT messages of the mix (tests/bench/
# mix.py) into the folder, made known to Dovecot, then one untimed raw IMAP
# fetch to build Dovecot's index and warm the page cache.
fill() {
	local dir cp pass="$MF_PASS"
	dir=$(server_dir "$1" "$2")
	[ "$1" = "$MF_USER2" ] && pass="$MF_PASS2"
	cp=$("$py" "$here/mix.py" "$dir" "$3" "${4:-}")
	chown -R "${MF_VMAIL_UID:-5000}:${MF_VMAIL_UID:-5000}" "$dir"
	[ "$2" = INBOX ] || $MF_DOVEADM mailbox create -u "$1" "$2" 2>/dev/null || true
	$MF_DOVEADM force-resync -u "$1" "$2"
	"$py" "$here/raw.py" imap "$MF_IMAPS_PORT" "$MF_CA" "$1" "$pass" "$2" >/dev/null
	say "  $1/$2: $3 messages ($cp of them CPython test messages)"
}

# count_new USER: messages in USER's INBOX (new/ and cur/).
# (0 before the first delivery has made the Maildir)
count_msgs() { find "$(server_dir "$1" INBOX)"/new "$(server_dir "$1" INBOX)"/cur -type f 2>/dev/null | wc -l; }

# delivered COUNT MESSAGE: wait (max 120 s) until COUNT more messages are
# in alice's INBOX than at the last snapshot, then check their bodies.
snapshot() { "$py" "$here/verify.py" list "$MF_MAILDIR" >"$work/snap"; }
delivered() {
	local want i
	want=$(( $(grep -c . "$work/snap" || true) + $1 ))
	for i in $(seq 1200); do
		[ "$(count_msgs "$MF_USER")" -ge "$want" ] && break
		sleep 0.1
	done
	check "$py" "$here/verify.py" delivered "$work/snap" "$MF_MAILDIR" "$1" "$2"
}

# ---------------------------------------------------------------------------
# jobs: sending
# ---------------------------------------------------------------------------

# make_message FILE: a 7.5 KB plain-text message from alice to alice.
make_message() {
	{
		printf 'From: %s\nTo: %s\nSubject: bench 7.5 KB\n\n' "$MF_ADDR" "$MF_ADDR"
		for i in $(seq 100); do
			printf 'Line %03d of the cron report: all jobs ran, nothing to do here.\n' "$i"
		done
	} | head -c 7680 >"$1"
	echo >>"$1"
}

# One cron-style send: a new process, STARTTLS, AUTH PLAIN, one 7.5 KB
# message, then the delivery check.  SEND_PORT picks direct or delayed.
send_mailsend() {
	snapshot
	MAILFLOW_PASSWORD=$MF_PASS timed "$1" -- "$bin/mailsend" --config "$work/config.$SEND_PORT" \
	    -a bench --message "$work/msg" "$MF_ADDR" || return 1
	delivered 1 "$work/msg"
}
send_msmtp() {
	snapshot
	timed "$1" -i "$work/msg" -- msmtp -C "$work/msmtprc.$SEND_PORT" -a bench "$MF_ADDR" ||
		return 1
	delivered 1 "$work/msg"
}
send_swaks() {
	snapshot
	timed "$1" -- swaks --silent 2 --server "$MF_TLS_HOST" --port "$SEND_PORT" --tls \
	    --tls-ca-path "$MF_CA" --auth PLAIN --auth-user "$MF_USER" --auth-password "$MF_PASS" \
	    --from "$MF_ADDR" --to "$MF_ADDR" --data "$work/msg" || return 1
	delivered 1 "$work/msg"
}

# --batch: BATCH messages over one connection, against BATCH msmtp runs.
batch_mailsend() {
	snapshot
	MAILFLOW_PASSWORD=$MF_PASS timed "$1" -- "$bin/mailsend" --config "$work/config.$SEND_PORT" \
	    -a bench --batch "$work/batch" || return 1
	delivered "$BATCH" "$work/msg"
}
batch_msmtp() {
	snapshot
	timed "$1" -e "$work/batch" -- msmtp -C "$work/msmtprc.$SEND_PORT" -a bench \
	    "$MF_ADDR" || return 1
	delivered "$BATCH" "$work/msg"
}

job_send() {
	local i
	make_message "$work/msg"
	mkdir -p "$work/batch"
	for i in $(seq -w "$BATCH"); do cp "$work/msg" "$work/batch/$i.eml"; done
	local msmtp_fn="" swaks_fn=""
	command -v msmtp >/dev/null && msmtp_fn=send_msmtp
	command -v swaks >/dev/null && swaks_fn=send_swaks
	SEND_PORT=$MF_SUBMISSION_PORT
	compare "cron-style send, 7.5 KB, STARTTLS + AUTH PLAIN" msmtp "$K_SEND" send_mailsend "$msmtp_fn"
	compare "cron-style send, 7.5 KB, STARTTLS + AUTH PLAIN" swaks "$K_SEND" send_mailsend "$swaks_fn"
	compare "mailsend --batch of $BATCH vs $BATCH msmtp runs" msmtp "$K_BATCH" batch_mailsend \
	    "${msmtp_fn:+batch_msmtp}"
	SEND_PORT=$RTT_SUBMISSION_PORT
	compare "40 ms RTT: one send, 7.5 KB" msmtp "$K_SEND" send_mailsend "$msmtp_fn"
}

# ---------------------------------------------------------------------------
# jobs: mxprobe
# ---------------------------------------------------------------------------

# in_ns CMD...: CMD in a private mount namespace whose resolv.conf names the
# forwarder to the bed's resolver (posttls-finger has no resolver option).
# Both sides run through it, so both pay the same unshare + exec.
write_in_ns() {
	echo "nameserver 127.0.0.53" >"$work/resolv.conf"
	cat >"$work/in_ns" <<-SH
	#!/bin/sh
	exec unshare -m sh -c 'mount --bind "\$0" /etc/resolv.conf && exec "\$@"' "$work/resolv.conf" "\$@"
	SH
	chmod 755 "$work/in_ns"
}

# mxprobe probes every MX of the domain (both, with the DANE and MTA-STS
# lookups); posttls-finger stops at the first MX whose TLS session works.
# Both verify the certificate against the MX host name (-l verify).
mx_mxprobe() {
	timed "$1" -- "$work/in_ns" "$bin/mxprobe" "${MXP_ARGS[@]}" two.mxtest.test
}
mx_finger() {
	MAIL_CONFIG="$work/pf" timed "$1" -- "$work/in_ns" posttls-finger -c -a ipv4 -l verify \
	    -F "$MF_CA" "two.mxtest.test:$MF_MX_PORT" || return 1
	# posttls-finger exits 0 even when it failed: look at what it said
	cat "$work/last.out" "$work/last.err" >"$work/finger.out"
	grep -q "Trusted TLS connection established\|Verified TLS connection established" \
	    "$work/finger.out" && return 0
	echo "no verified TLS session: $(grep -m 1 . "$work/finger.out")" >"$work/failed"
	return 2
}

job_mxprobe() {
	local fn=""
	MF_TMP="$work" mxp_up >"$work/mxp.log" 2>&1 || { cat "$work/mxp.log"; return 1; }
	trap cleanup EXIT INT TERM          # mxp_up sets its own
	write_in_ns
	"$py" "$here/dnsfwd.py" 127.0.0.53 "$MF_RESOLVER_PORT" "$work/dnsfwd.ready" \
	    </dev/null >"$work/dnsfwd.log" 2>&1 &
	pids+=($!)
	mxp_wait "$work/dnsfwd.ready" "$!" || { cat "$work/dnsfwd.log"; return 1; }
	mkdir -p "$work/pf"
	printf 'compatibility_level = 3.6\nsmtp_dns_support_level = dnssec\n' >"$work/pf/main.cf"
	command -v posttls-finger >/dev/null && fn=mx_finger
	compare "mxprobe one 2-MX domain" posttls-finger "$K_SEND" mx_mxprobe "$fn"
}

# ---------------------------------------------------------------------------
# jobs: POP3 and IMAP
# ---------------------------------------------------------------------------

# POP3S fetch of INBOX into a fresh Maildir, keep on server (POP_USER,
# POP_PASS, POP_PORT say whose and through which port).
pop_mailflow() {
	aside "$work/pf-md" "$work/pf.state"
	old_enough "$work"
	MAILFLOW_PASSWORD=$POP_PASS timed "$1" -- "$bin/pop-fetch" -s "$MF_TLS_HOST" -p "$POP_PORT" \
	    --tls implicit --tls-trust-file "$MF_CA" -u "$POP_USER" --auth PLAIN --keep \
	    -m "$work/pf-md" --state "$work/pf.state" -q || return 1
	check "$py" "$here/verify.py" same "$(server_dir "$POP_USER" INBOX)" "$work/pf-md"
}
pop_mpop() {
	local rc
	aside "$work/mp-md" "$work/mp-md.uidls"
	mkdir -p "$work/mp-md/new" "$work/mp-md/cur" "$work/mp-md/tmp"
	rc=$(mpoprc "$POP_PORT" "$POP_USER" "$POP_PASS" "$work/mp-md")
	old_enough "$work/mp-md"
	timed "$1" -- mpop -C "$rc" -q bench || return 1
	check "$py" "$here/verify.py" same "$(server_dir "$POP_USER" INBOX)" "$work/mp-md"
}
# the limit: every RETR in one write, read and discarded (tests/bench/raw.py)
pop_raw() {
	local out
	out=$("$py" "$here/raw.py" pop3 "$POP_PORT" "$MF_CA" "$POP_USER" "$POP_PASS" 2>&1) ||
		{ echo "$out" | tail -n 1 >"$work/failed"; return 1; }
	echo "${out% *} 0" >>"$1"
	[ "${out#* }" = "$POP_COUNT" ] || { echo "received ${out#* } of $POP_COUNT" >"$work/failed"; return 2; }
}

# IMAPS pull of IS_FOLDER into a fresh Maildir (IS_PORT direct or delayed).
is_run() {
	MAILFLOW_PASSWORD=$MF_PASS2 timed "$1" -- "$bin/imap-sync" -s "$MF_TLS_HOST" -p "$IS_PORT" \
	    --tls implicit --tls-trust-file "$MF_CA" -u "$MF_USER2" --auth PLAIN \
	    -m "$work/is-md" --state "$work/is.state" --folder "$IS_FOLDER" -q || return 1
	local got="$work/is-md"
	[ "$IS_FOLDER" = INBOX ] || got="$work/is-md/.$IS_FOLDER"
	check "$py" "$here/verify.py" same "$(server_dir "$MF_USER2" "$IS_FOLDER")" "$got"
}
is_first() { aside "$work/is-md" "$work/is.state"; old_enough "$work"; is_run "$1"; }
is_again() { old_enough "$work/is-md"; is_run "$1"; }
mb_run() {
	local rc
	rc=$(mbsyncrc "$IS_PORT" "$IS_FOLDER" "$work/mb-md")
	timed "$1" -- mbsync -c "$rc" -q bench || return 1
	check "$py" "$here/verify.py" same "$(server_dir "$MF_USER2" "$IS_FOLDER")" \
	    "$work/mb-md/$IS_FOLDER" X-TUID
}
mb_first() { aside "$work/mb-md"; mkdir -p "$work/mb-md"; old_enough "$work/mb-md"; mb_run "$1"; }
mb_again() { old_enough "$work/mb-md/$IS_FOLDER"; mb_run "$1"; }
is_raw() {
	local out
	out=$("$py" "$here/raw.py" imap "$IS_PORT" "$MF_CA" "$MF_USER2" "$MF_PASS2" "$IS_FOLDER" 2>&1) ||
		{ echo "$out" | tail -n 1 >"$work/failed"; return 1; }
	echo "${out% *} 0" >>"$1"
	[ "${out#* }" = "$IS_COUNT" ] || { echo "received ${out#* } of $IS_COUNT" >"$work/failed"; return 2; }
}

job_pop() {
	local fn=""
	command -v mpop >/dev/null && fn=pop_mpop
	POP_USER=$MF_USER2 POP_PASS=$MF_PASS2 POP_PORT=$MF_POP3S_PORT POP_COUNT=$N
	compare "POP3S fetch of $N" mpop "$K" pop_mailflow "$fn"
	compare "POP3S fetch of $N vs the raw limit" "raw pipelined RETR" "$K" pop_mailflow pop_raw
}

job_imap() {
	local fn="" fn2=""
	command -v mbsync >/dev/null && fn=mb_first fn2=mb_again
	IS_FOLDER=INBOX IS_PORT=$MF_IMAPS_PORT IS_COUNT=$N
	compare "IMAPS first pull of $N" mbsync "$K" is_first "$fn"
	compare "IMAPS resync, no change, $N" mbsync "$K" is_again "$fn2"
	compare "IMAPS first pull of $N vs the raw limit" "raw UID FETCH 1:* BODY.PEEK[]" "$K" \
	    is_first is_raw
}

# The 40 ms RTT jobs: alice's INBOX (moved aside after the sends and filled
# anew) for POP3, bob's folder Rtt for IMAP.
job_rtt() {
	local fn="" fn1="" fn2=""
	command -v mpop >/dev/null && fn=pop_mpop
	command -v mbsync >/dev/null && fn1=mb_first fn2=mb_again
	POP_USER=$MF_USER POP_PASS=$MF_PASS POP_PORT=$RTT_POP3S_PORT POP_COUNT=$RTT_N
	compare "40 ms RTT: POP3S fetch of $RTT_N" mpop "$K" pop_mailflow "$fn"
	IS_FOLDER=Rtt IS_PORT=$RTT_IMAPS_PORT IS_COUNT=$RTT_N
	compare "40 ms RTT: IMAPS first pull of $RTT_N" mbsync "$K" is_first "$fn1"
	compare "40 ms RTT: IMAPS resync, no change, $RTT_N" mbsync "$K" is_again "$fn2"
}

# change_folder FOLDER: 100 flag changes and 100 new messages in bob's
# FOLDER, on the server.
change_folder() {
	local i
	$MF_DOVEADM flags add -u "$MF_USER2" '\Flagged' mailbox "$1" uid 1:100 || return 1
	for i in $(seq 100); do
		printf 'From: %s\nTo: %s\nSubject: new %s\n\nLine %s.\n' "$MF_ADDR" \
		    "$MF_ADDR2" "$i" "$i" | $MF_DOVEADM save -u "$MF_USER2" -m "$1" || return 1
	done
}

# imap-sync's peak RSS pulling and resyncing a folder of LARGE small
# messages and one of LARGE/10, with no change and after 100 flag changes
# and 100 new messages: memory should not grow with the count.
job_rss() {
	local f count pull resync change
	IS_PORT=$MF_IMAPS_PORT
	for f in Tenth Large; do
		count=$SMALL; [ "$f" = Large ] && count=$LARGE
		IS_FOLDER=$f
		: >"$work/rss.pull"; : >"$work/rss.resync"; : >"$work/rss.change"
		if is_first "$work/rss.pull" && is_again "$work/rss.resync" &&
		    { change_folder "$f" >"$work/failed" 2>&1 ||
		      { echo "changing $f on the server failed" >"$work/failed"; false; }; } &&
		    is_again "$work/rss.change"; then
			read -r pull _ _ pr < <(stats "$work/rss.pull")
			read -r resync _ _ rr < <(stats "$work/rss.resync")
			read -r change _ _ cr < <(stats "$work/rss.change")
			echo "$count $pr $rr $pull $resync $cr $change" >>"$work/rss"
		else
			tool_failed=1
			echo "$count FAILED $(cat "$work/failed")" >>"$work/rss"
		fi
	done
}

rss_table() {
	awk -v large="$LARGE" '
	function mib(k) { return sprintf("%.1f MiB", k / 1024) }
	$2 == "FAILED" { print "| imap-sync at " $1 " | FAILED: " substr($0, index($0, $3)) " | | |"; next }
	{ c[NR] = $1; p[NR] = $2; r[NR] = $3; tp[NR] = $4; tr[NR] = $5; h[NR] = $6; th[NR] = $7 }
	END {
		if (NR < 2) exit
		printf "| imap-sync first pull, peak RSS | %s (%d ms) | %s (%d ms) | %.2f× |\n", mib(p[1]), tp[1], mib(p[2]), tp[2], p[2] / p[1]
		printf "| imap-sync resync, no change, peak RSS | %s (%d ms) | %s (%d ms) | %.2f× |\n", mib(r[1]), tr[1], mib(r[2]), tr[2], r[2] / r[1]
		printf "| imap-sync resync after 100 flag changes and 100 new, peak RSS | %s (%d ms) | %s (%d ms) | %.2f× |\n", mib(h[1]), th[1], mib(h[2]), th[2], h[2] / h[1]
	}' "$work/rss"
}

# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(loadavg)
t0=$SECONDS
cc -O2 -o "$work/measure" "$here/measure.c"
# mxp_up/mxp_down (the mxprobe listeners) and mxp_wait FILE PID (until FILE
# exists while PID lives, max 10 s)
. "$top/tests/mxprobe/setup.sh"
start_bed
start_proxy
write_configs
cat <<EOF
mailflow benchmark $(git -C "$top" describe --always --dirty 2>/dev/null || echo) ($started)
  runs: $K per fetch/sync job, $K_BATCH per batch, $K_SEND per single send and mxprobe; mailbox $N
  messages, $RTT_N at 40 ms RTT, batch $BATCH, memory at $SMALL and $LARGE
  load average at start: $load_start
EOF

say "filling the server's mailboxes ..."
fill "$MF_USER2" INBOX "$N"
fill "$MF_USER2" Rtt "$RTT_N"
fill "$MF_USER2" Tenth "$SMALL" small
fill "$MF_USER2" Large "$LARGE" small

{
	echo
	echo "| job | mailflow ms, median (min–max) | peer | peer ms, median (min–max) | mailflow/peer | peak RSS mailflow / peer |"
	echo "|---|---|---|---|---|---|"
} | tee "$table"

say "sending ..."
job_send
say "mxprobe ..."
job_mxprobe
say "POP3 and IMAP ..."
job_pop
job_imap
say "40 ms RTT: alice's INBOX moved aside, filled with $RTT_N ..."
aside "$MF_MAILDIR"
fill "$MF_USER" INBOX "$RTT_N"
job_rtt
say "memory ..."
job_rss
{
	echo
	echo "| imap-sync memory | at $SMALL | at $LARGE | ratio |"
	echo "|---|---|---|---|"
	rss_table
} | tee -a "$table"

load_end=$(loadavg)
echo
echo "load average at end: $load_end; bench took $(( (SECONDS - t0) / 60 )) min $(( (SECONDS - t0) % 60 )) s"
if [ -n "${BENCH_OUT:-}" ]; then
	{
		echo "started $started, load at start $load_start, at end $load_end," \
		    "$(( SECONDS - t0 )) s"
		cat "$table"
	} >"$BENCH_OUT"
fi
if [ "$tool_failed" -ne 0 ]; then
	echo "bench: FAILED: a mailflow tool failed a job (see FAILED above)"
	exit 1
fi
echo "bench: done"
