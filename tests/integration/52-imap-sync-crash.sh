#!/bin/bash
# SIGKILL imap-sync at 20 random moments while it syncs (new mail and flag
# changes keep arriving between runs); after a final run the Maildir must
# equal the server: every message exactly once, flags right.
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
killed=0
for i in $(seq 1 20); do
	if [ "$i" -gt 6 ]; then
		# more work for the next run: new mail and a flag change
		python3 "$H" append "$P.sub" 6 big || fail append
		# a flag change on every message: many renames for the next run
		op=+FLAGS; [ $((i % 2)) = 0 ] && op=-FLAGS
		python3 "$H" store "$P.sub.deep" 1:* "$op" '(\Flagged)' || fail store
	fi
	IS >"$MF_TMP/run$i.log" 2>&1 &
	pid=$!
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	if kill -KILL "$pid" 2>/dev/null; then
		killed=$((killed + 1))
	fi
	wait "$pid" 2>/dev/null
done
echo "killed $killed of 20 runs while they were working"
[ "$killed" -ge 10 ] || fail "too few runs were interrupted ($killed)"
IS || fail "final sync: $(cat "$MF_TMP"/run20.log)"
python3 "$H" compare "$M" maildir++ "$P" || fail "Maildir differs from the server after crashes"
IS --json >"$MF_TMP/last.json" || fail "resync"
grep -q '"fetched":0' "$MF_TMP/last.json" && ! grep -q '"fetched":[1-9]' "$MF_TMP/last.json" ||
	fail "resync after recovery fetched bodies: $(cat "$MF_TMP/last.json")"
echo ok
