#!/bin/bash
# Count the round trips in a -v transcript (lib/transcript.h markers).
#
#   tests/turns.sh FILE [-l]
#
# A round trip is a time the client waits for the server: the first line
# it receives (the greeting: connect, then wait) and every received line
# that follows a line it sent.  Lines sent together and their replies read
# afterwards (pipelining) are one round trip; a line sent with no reply
# read after it (QUIT, LOGOUT sent before closing) is none.  A TLS
# handshake ("=== TLS started") counts as one (TLS 1.3 needs one; 1.2
# two), and what the server says first after it as another.  Prints the count; with -l also one line per round trip: the
# first line sent in it (or "greeting", "TLS handshake").
#
# The count follows the client's order of work, not the network's: sent
# lines appear when queued, received ones when read.  That is exact for
# lock-step and pipelined exchanges; a client that queues a command while
# the replies to an earlier one are still streaming in (fetch windows)
# shows an extra turn there.
set -eu
[ $# -ge 1 ] || { echo "usage: turns.sh FILE [-l]" >&2; exit 64; }
sed -E 's/^\[ *[0-9]+ ms\] //' "$1" | awk -v list="${2:-}" '
function turn(what) {
	n++
	if (list == "-l")
		lines[n] = what
}
/^(->|~>) / { if (!pending) first = substr($0, 4); pending = 1; last = "send"; next }
/^(<-|<~) / {
	if (last == "")
		turn("greeting")
	else if (last == "send")
		turn(first)
	pending = 0
	last = "recv"
	next
}
/^=== TLS started/ { turn("TLS handshake"); pending = 0; last = ""; next }
END {
	print n + 0
	for (i = 1; list == "-l" && i <= n; i++)
		printf "  %d: %s\n", i, lines[i]
}'
