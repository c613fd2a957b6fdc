#!/usr/bin/env bash
# The build itself as a test: the tree compiles -Werror-clean with clang as
# well as gcc, and "make install" puts tools, man pages and completions
# where they belong.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
passed=0 failed=0
log=$(mktemp)
dest=$(mktemp -d)
trap 'rm -rf "$log" "$dest"' EXIT
result() {
	if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "ok   $1"
	else failed=$((failed + 1)); echo "FAIL $1"; tail -n 30 "$log"; fi
}

if command -v clang >/dev/null; then
	make -s CC=clang BUILD=build-clang LIBA=build-clang/libmailflow.a \
	    BINDIR=build-clang/bin all >"$log" 2>&1
	result "clang -Wall -Wextra -Werror build" $?
else
	failed=$((failed + 1)); echo "FAIL clang is not installed"
fi

make -s install PREFIX=/usr/local DESTDIR="$dest" >"$log" 2>&1
rc=$?
for t in mailsend smtp-auth-test mxprobe pop-fetch imap-sync; do
	for f in "usr/local/bin/$t" "usr/local/share/man/man1/$t.1" \
	         "usr/local/share/bash-completion/completions/$t" \
	         "usr/local/share/zsh/site-functions/_$t" \
	         "usr/local/share/fish/vendor_completions.d/$t.fish"; do
		[ -e "$dest/$f" ] || { echo "missing after install: $f" >>"$log"; rc=1; }
	done
done
for f in usr/local/share/man/man5/mailflow.5 usr/local/share/man/man7/mailflow.7; do
	[ -e "$dest/$f" ] || { echo "missing after install: $f" >>"$log"; rc=1; }
done
"$dest/usr/local/bin/mailsend" --help >/dev/null 2>&1 || { echo "installed mailsend does not run" >>"$log"; rc=1; }
result "make install PREFIX=/usr/local DESTDIR=..." "$rc"

echo "build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
