#!/usr/bin/env bash
# Each tool's completions (bash, zsh, fish) must offer every long option its
# --help lists, and every tool must have a man page.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${MF_BIN:-$top/bin}
fishshared=completions/fish/functions/__mailflow_client_complete.fish
passed=0 failed=0
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

for exe in "$bin"/*; do
	[ -x "$exe" ] || continue
	tool=$(basename "$exe")
	[ "$tool" = sendmail ] && continue
	opts=$("$exe" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
	if [ -z "$opts" ]; then fail "$tool: --help lists no options"; continue; fi
	ok=1
	for f in "completions/bash/$tool" "completions/zsh/_$tool" \
	         "completions/fish/$tool.fish" "man/$tool.1"; do
		if [ ! -f "$top/$f" ]; then fail "$tool: $f is missing"; ok=0; fi
	done
	# fish: the tool's file, and the shared client function it calls.
	fishfiles="$top/completions/fish/$tool.fish"
	grep -q '^__mailflow_client_complete ' "$fishfiles" 2>/dev/null &&
		fishfiles="$fishfiles $top/$fishshared"
	for o in $opts; do
		name=${o#--}
		grep -q -- "$o\b" "$top/completions/bash/$tool" 2>/dev/null ||
			{ fail "$tool: bash completion lacks $o"; ok=0; }
		grep -q -- "$o\b" "$top/completions/zsh/_$tool" 2>/dev/null ||
			{ fail "$tool: zsh completion lacks $o"; ok=0; }
		grep -Eq -- "(-l|--long-option) '?$name\b" $fishfiles 2>/dev/null ||
			{ fail "$tool: fish completion lacks $o"; ok=0; }
		grep -q -- "Fl ${name}\b" "$top/man/$tool.1" 2>/dev/null ||
			{ fail "$tool: man page lacks $o"; ok=0; }
	done
	if [ "$ok" = 1 ]; then passed=$((passed + 1)); echo "ok   $tool"; fi
done
# Real shells under a pty: --tls and --auth values and account names.
if python3 "$top/tests/completions-pty.py" "$top"; then
	passed=$((passed + 1))
else
	fail "completions offered by real shells (tests/completions-pty.py)"
fi
echo "completions: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
