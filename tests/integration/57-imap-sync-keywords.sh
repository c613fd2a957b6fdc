#!/bin/bash
# imap-sync keywords against the bed's Dovecot (issue 13): $Forwarded as
# Maildir's P, $Junk, $MDNSent and any keyword as a letter a-z through the
# folder's keyword table (Dovecot's dovecot-keywords when the Maildir has
# one, else the sync state), set and removed on either side in two-way
# mode; more than 26 keywords kept by name, never dropped; unseen mail in
# new/, and a MUA's move from new/ to cur/ is no change to push.
set -u
H="$MF_TOP/tests/integration/50-imap-sync-helper.py"
P="T57k$$"
M="$MF_TMP/m"
export HOME="$MF_TMP/home" MAILFLOW_PASSWORD="$MF_PASS"
mkdir -p "$HOME"
trap '[ -n "${KEEP:-}" ] || python3 "$H" delete "$P" >/dev/null 2>&1' EXIT
fail() { echo "FAIL: $*"; exit 1; }
IS() { "$MF_BIN/imap-sync" -u "$MF_USER" --tls-trust-file "$MF_CA" \
	-s "localhost:$MF_IMAP_PORT" -m "$M" --state "$MF_TMP/st" --folder "$P*" "$@"; }
# the file of UID $2 in folder dir $1, as "new/NAME" or "cur/NAME:2,..."
file_of() { (cd "$1" && { ls new | sed 's|^|new/|'; ls cur | sed 's|^|cur/|'; } |
	grep -E ",U=$2(:2,|\$)" | head -1); }
letters() { f=$(file_of "$1" "$2"); case $f in *:2,*) echo "${f##*:2,}" ;; esac; }
sflags() { python3 "$H" flags "$1" | grep "UID $2 " ; }
# the keyword behind letter $2 in folder dir $1: dovecot-keywords, or the
# K lines imap-sync keeps in its state when there is no such file
kwname() {
	if [ -f "$1/dovecot-keywords" ]; then
		awk -v i=$(($(printf '%d' "'$2") - 97)) '$1 == i { print $2 }' "$1/dovecot-keywords"
	else
		cat "$MF_TMP"/st/*.state "$MF_TMP"/st/*.journal 2>/dev/null |
			awk -v i=$(($(printf '%d' "'$2") - 97)) '$1 == "K" && $2 == i { n = $3 } END { print n }'
	fi
}
# the keywords a file shows, sorted, one line
kwof() {
	l=$(letters "$1" "$2")
	for c in $(echo "$l" | grep -o '[a-z]'); do kwname "$1" "$c"; done | sort | tr '\n' ' '
}
setfile() { f=$(file_of "$1" "$2"); b=${f#*/}; mv "$1/$f" "$1/cur/${b%%:2,*}:2,$3"; }
uid_list() { python3 "$H" flags "$1" | sed -n 's/.*UID \([0-9]*\) .*/\1/p'; }

$MF_DOVEADM mailbox create -u "$MF_USER" "$P" "$P.dk" || fail "mailbox create"
python3 "$H" append "$P" 7 >/dev/null && python3 "$H" append "$P.dk" 2 >/dev/null ||
	fail append
set -- $(uid_list "$P")
[ $# = 7 ] || fail "want 7 messages, have $#"
u1=$1 u2=$2 u3=$3 u4=$4 u5=$5 u6=$6 u7=$7
set -- $(uid_list "$P.dk")
d1=$1 d2=$2
A="$M/.$P" B="$M/.$P.dk"

# a folder whose Maildir has Dovecot's table already: it is used, extended
mkdir -p "$B/cur" "$B/new" "$B/tmp"
printf '0 Preset\n1 $Junk\n' >"$B/dovecot-keywords"

echo "== server -> local"
python3 "$H" store "$P" "$u1" +FLAGS '($Forwarded)'
python3 "$H" store "$P" "$u2" +FLAGS '($Junk)'
python3 "$H" store "$P" "$u3" +FLAGS '(Custom_A $MDNSent \Seen)'
python3 "$H" store "$P" "$u5" +FLAGS '(\Seen)'
python3 "$H" store "$P.dk" "$d1" +FLAGS '($Junk NewOne)'
IS --two-way -q || fail "first two-way sync"
[ "$(letters "$A" "$u1")" = P ] || fail "\$Forwarded is not P: $(file_of "$A" "$u1")"
[ "$(kwof "$A" "$u2")" = '$Junk ' ] || fail "\$Junk: $(file_of "$A" "$u2") -> '$(kwof "$A" "$u2")'"
[ "$(kwof "$A" "$u3")" = '$MDNSent Custom_A ' ] || fail "keywords of u3: '$(kwof "$A" "$u3")'"
letters "$A" "$u3" | grep -q S || fail "u3 lost \\Seen"
[ -f "$A/dovecot-keywords" ] && fail "a dovecot-keywords file was made where there was none"
case $(file_of "$A" "$u4") in new/*) ;; *) fail "unseen message not in new/: $(file_of "$A" "$u4")" ;; esac
case $(file_of "$A" "$u5") in cur/*:2,S) ;; *) fail "seen message not in cur/ with S: $(file_of "$A" "$u5")" ;; esac
[ "$(letters "$B" "$d1")" = bc ] || fail "dovecot-keywords letters: $(file_of "$B" "$d1")"
grep -qx '2 NewOne' "$B/dovecot-keywords" || fail "NewOne not appended: $(cat "$B/dovecot-keywords")"
grep -qx '0 Preset' "$B/dovecot-keywords" || fail "dovecot-keywords lost an entry"

echo "== local -> server"
jl=$(for c in a b c d e f g h; do [ "$(kwname "$A" $c)" = '$Junk' ] && echo $c; done)
[ -n "$jl" ] || fail "no letter for \$Junk"
setfile "$A" "$u4" "S$jl"                 # a MUA reads it and marks it junk
setfile "$A" "$u5" "PS"                   # and forwards another
printf '3 LocalKw\n' >>"$B/dovecot-keywords"
setfile "$B" "$d2" "d"                    # a keyword only the Maildir knows
IS --two-way -q || fail "second two-way sync"
sflags "$P" "$u4" | grep -q '\\Seen' && sflags "$P" "$u4" | grep -q '\$Junk' ||
	fail "local \\Seen \$Junk not stored: $(sflags "$P" "$u4")"
sflags "$P" "$u5" | grep -q '\$Forwarded' || fail "local P not stored as \$Forwarded: $(sflags "$P" "$u5")"
sflags "$P.dk" "$d2" | grep -q 'LocalKw' || fail "local keyword not stored: $(sflags "$P.dk" "$d2")"

echo "== removed on either side"
setfile "$A" "$u1" ""                     # P removed locally
python3 "$H" store "$P" "$u2" -FLAGS '($Junk)'
python3 "$H" store "$P" "$u3" -FLAGS '(Custom_A)'
setfile "$B" "$d1" "c"                    # $Junk (b) removed locally
IS --two-way -q || fail "removal sync"
sflags "$P" "$u1" | grep -q '\$Forwarded' && fail "local removal of P not sent: $(sflags "$P" "$u1")"
[ -z "$(kwof "$A" "$u2")" ] || fail "server removal of \$Junk not applied: $(file_of "$A" "$u2")"
[ "$(kwof "$A" "$u3")" = '$MDNSent ' ] || fail "server removal of Custom_A: '$(kwof "$A" "$u3")'"
sflags "$P" "$u3" | grep -q '\$MDNSent' || fail "\$MDNSent lost: $(sflags "$P" "$u3")"
sflags "$P.dk" "$d1" | grep -q '\$Junk' && fail "local removal of \$Junk not sent"
sflags "$P.dk" "$d1" | grep -q 'NewOne' || fail "NewOne lost: $(sflags "$P.dk" "$d1")"
python3 "$H" compare "$M" maildir++ "$P" >/dev/null || fail "system flags differ"

echo "== a MUA's move from new/ to cur/ is no change"
f=$(file_of "$A" "$u6")
case $f in new/*) ;; *) fail "u6 not in new/: $f" ;; esac
before=$(sflags "$P" "$u6")
mv "$A/$f" "$A/cur/${f#new/}:2,"
IS --two-way -v >"$MF_TMP/mv.out" 2>&1 || fail "sync after the move: $(tail -3 "$MF_TMP/mv.out")"
grep -E '^[-~]> A[0-9]+ (UID STORE|APPEND|UID EXPUNGE|EXPUNGE)( |$)' "$MF_TMP/mv.out" && fail "the move was pushed"
[ "$(sflags "$P" "$u6")" = "$before" ] || fail "server flags changed: $(sflags "$P" "$u6")"
[ "$(file_of "$A" "$u6")" = "cur/${f#new/}:2," ] || fail "the moved file was renamed: $(file_of "$A" "$u6")"
# with :2,S the move carries one flag change: that STORE and nothing else
f=$(file_of "$A" "$u7")
mv "$A/$f" "$A/cur/${f#new/}:2,S"
IS --two-way -v >"$MF_TMP/mv2.out" 2>&1 || fail "sync after the move with S"
[ "$(grep -cE '^[-~]> A[0-9]+ (UID STORE|APPEND|UID EXPUNGE|EXPUNGE)( |$)' "$MF_TMP/mv2.out")" = 1 ] &&
	grep -qE "^[-~]> .*UID STORE $u7 \\+FLAGS.SILENT \\(\\\\Seen\\)" "$MF_TMP/mv2.out" ||
	fail "move with S: $(grep -E '^[-~]> ' "$MF_TMP/mv2.out" | tail -5)"

echo "== a dovecot-keywords file appears later: its letters rule"
before4=$(sflags "$P" "$u4") before3=$(sflags "$P" "$u3")
printf '0 Zother\n' >"$A/dovecot-keywords"       # a Dovecot took letter a
IS --two-way >/dev/null 2>"$MF_TMP/adopt.err" || fail "sync after dovecot-keywords appeared"
[ "$(sflags "$P" "$u4")" = "$before4" ] && [ "$(sflags "$P" "$u3")" = "$before3" ] ||
	fail "server keywords changed: $(sflags "$P" "$u4") / $(sflags "$P" "$u3")"
[ "$(kwof "$A" "$u4")" = '$Junk ' ] || fail "u4 through the new table: '$(kwof "$A" "$u4")' $(file_of "$A" "$u4")"
[ "$(kwof "$A" "$u3")" = '$MDNSent ' ] || fail "u3 through the new table: '$(kwof "$A" "$u3")'"
grep -qx '0 Zother' "$A/dovecot-keywords" || fail "dovecot-keywords lost Dovecot's entry"
grep -q 'dovecot-keywords' "$MF_TMP/adopt.err" || fail "no word about the adoption"
IS --two-way -q || fail "resync after the adoption"
[ "$(sflags "$P" "$u4")" = "$before4" ] || fail "resync changed u4"

echo "== more than 26 keywords"
kws=$(for i in $(seq 1 30); do printf 'Many%02d ' "$i"; done)
python3 "$H" store "$P" "$u7" +FLAGS "(${kws% })" || fail "store 30 keywords"
IS --two-way -q || fail "sync with 30 keywords"
n=$(sflags "$P" "$u7" | grep -o 'Many[0-9]*' | wc -l)
[ "$n" = 30 ] || fail "server has $n of 30 keywords after the sync"
l=$(letters "$A" "$u7" | grep -o '[a-z]' | wc -l)
[ "$l" -le 26 ] && [ "$l" -ge 20 ] || fail "letters on the file: $l"
setfile "$A" "$u7" "F$(letters "$A" "$u7")"     # a local change beside them
IS --two-way -q || fail "sync after a local change"
n=$(sflags "$P" "$u7" | grep -o 'Many[0-9]*' | wc -l)
[ "$n" = 30 ] || fail "server has $n of 30 keywords after a local change"
sflags "$P" "$u7" | grep -q '\\Flagged' || fail "local \\Flagged not stored"
# the ones past z are in the state only, and a removal there still comes down
python3 "$H" store "$P" "$u7" -FLAGS '(Many30)'
IS --two-way -q || fail "sync after removing a letterless keyword"
n=$(sflags "$P" "$u7" | grep -o 'Many[0-9]*' | wc -l)
[ "$n" = 29 ] || fail "server has $n of 29 keywords"
IS --two-way -q || fail "resync"
[ "$(sflags "$P" "$u7" | grep -o 'Many[0-9]*' | wc -l)" = 29 ] || fail "a resync changed keywords"
echo ok
