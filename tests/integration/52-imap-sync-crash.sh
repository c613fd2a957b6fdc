#!/bin/bash
# SIGKILL imap-sync at 20 random moments while it syncs (new mail and flag
# changes keep arriving between runs; kills at random times and at random
# points of the message stream); after a final run the Maildir must equal
# the server: every message exactly once, flags right.
set -u
H="$MF_TOP/tests/integration/50-imap-sync-helper.py"
P="T52r$$"
M="$MF_TMP/m"
export HOME="$MF_TMP/home" MAILFLOW_PASSWORD="$MF_PASS"
mkdir -p "$HOME"
trap '[ -n "${KEEP:-}" ] || python3 "$H" delete "$P" >/dev/null 2>&1' EXIT
fail() { echo "FAIL: $*"; exit 1; }
IS() { "$MF_BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" \
	-s "localhost:$MF_IMAPS_PORT" --tls implicit -m "$M" --state "$MF_TMP/st" \
	--folder "$P*" -q "$@"; }

python3 "$H" populate "$P" 600 >/dev/null || fail populate
# Progress, message by message: files being written (tmp/) and delivered
# (new/, cur/) anywhere under the Maildir.
progress() { find "$M" -type f \( -path '*/tmp/*' -o -path '*/cur/*' -o -path '*/new/*' \) 2>/dev/null | wc -l; }
RANDOM=5252
killed=0 i=0
# 20 runs killed while working: a run that ends by itself first does not
# count, and another is started (40 at the most), so the test holds however
# fast the machine is.
while [ "$killed" -lt 20 ] && [ "$i" -lt 40 ]; do
	i=$((i + 1))
	if [ "$i" -gt 1 ]; then
		# more work for the next run: new mail (a few large) and a flag
		# change on every message of one folder (many renames)
		python3 "$H" append "$P.sub" 30 || fail append
		[ $((i % 4)) = 0 ] && { python3 "$H" append "$P" 2 big || fail append; }
		op=+FLAGS; [ $((i % 2)) = 0 ] && op=-FLAGS
		python3 "$H" store "$P.sub.deep" 1:* "$op" '(\Flagged)' || fail store
	fi
	start=$(progress)
	IS >"$MF_TMP/run$i.log" 2>&1 &
	pid=$!
	if [ $((i % 3)) = 0 ]; then
		# a random moment in time: login, LIST, SELECT, renames ...
		sleep "0.$(printf '%03d' $((RANDOM % 150 + 5)))"
	else
		# a random moment in the message stream of this run
		target=$((start + RANDOM % 25 + 1))
		for _ in $(seq 1 1000); do
			[ "$(progress)" -ge "$target" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.005
		done
	fi
	kill -KILL "$pid" 2>/dev/null
	rc=0; wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" = 137 ]; then   # 128 + SIGKILL
		killed=$((killed + 1))
	else
		sleep 0.2
	fi
done
echo "killed $killed of $i runs while they were working"
[ "$killed" -ge 20 ] || fail "too few runs were interrupted ($killed of $i)"
IS || fail "final sync: $(cat "$MF_TMP/run$i.log")"
python3 "$H" compare "$M" maildir++ "$P" || fail "Maildir differs from the server after crashes"
IS --json >"$MF_TMP/last.json" || fail "resync"
grep -q '"fetched":0' "$MF_TMP/last.json" && ! grep -q '"fetched":[1-9]' "$MF_TMP/last.json" ||
	fail "resync after recovery fetched bodies: $(cat "$MF_TMP/last.json")"
echo ok
