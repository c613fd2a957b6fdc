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
for t in mailsend smtp-auth-test mxprobe pop-fetch imap-sync mailflow-config; do
	for f in "usr/local/bin/$t" "usr/local/share/man/man1/$t.1" \
	         "usr/local/share/bash-completion/completions/$t" \
	         "usr/local/share/zsh/vendor-completions/_$t" \
	         "usr/local/share/fish/vendor_completions.d/$t.fish"; do
		[ -e "$dest/$f" ] || { echo "missing after install: $f" >>"$log"; rc=1; }
	done
done
for f in usr/local/share/fish/vendor_functions.d/__mailflow_client_complete.fish \
         usr/local/share/man/man5/mailflow.5 usr/local/share/man/man7/mailflow.7 \
         usr/local/share/doc/mailflow/mailflow.schema.json; do
	[ -e "$dest/$f" ] || { echo "missing after install: $f" >>"$log"; rc=1; }
done
"$dest/usr/local/bin/mailsend" --help >/dev/null 2>&1 || { echo "installed mailsend does not run" >>"$log"; rc=1; }
result "make install PREFIX=/usr/local DESTDIR=..." "$rc"

# install-sendmail adds the link; uninstall takes back everything install
# and install-sendmail put there (empty directories may stay).
rc=0
make -s install-sendmail PREFIX=/usr/local DESTDIR="$dest" >"$log" 2>&1 || rc=1
[ "$(readlink "$dest/usr/local/sbin/sendmail")" = /usr/local/bin/mailsend ] ||
	{ echo "install-sendmail: no sendmail link" >>"$log"; rc=1; }
make -s uninstall PREFIX=/usr/local DESTDIR="$dest" >>"$log" 2>&1 || rc=1
left=$(find "$dest" ! -type d)
[ -z "$left" ] || { echo "left after uninstall: $left" >>"$log"; rc=1; }
result "make install-sendmail, make uninstall" "$rc"

# Release and package builds: CPPFLAGS and LDFLAGS reach the compiler and
# the linker, and WERROR=0 drops -Werror.
out=$(make -n -B build BUILD=build-flags LIBA=build-flags/libmailflow.a \
    BINDIR=build-flags/bin WERROR=0 CPPFLAGS=-DMF_CPP_PROBE \
    LDFLAGS=-Wl,--mf-ld-probe 2>&1)
rc=0
grep -q -- '-c -o build-flags/lib/buf.o' <<<"$out" || rc=1
grep -- '-c -o build-flags/lib/buf.o' <<<"$out" | grep -q -- -DMF_CPP_PROBE || rc=1
grep -- '-o build-flags/bin/mailsend ' <<<"$out" | grep -q -- --mf-ld-probe || rc=1
grep -q -- -Werror <<<"$out" && rc=1
echo "$out" >"$log"
result "CPPFLAGS and LDFLAGS honoured, WERROR=0 drops -Werror" "$rc"

echo "build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
