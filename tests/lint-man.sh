#!/usr/bin/env bash
# Every man page must be clean under mandoc -Tlint (warnings count), render
# whole under groff as under mandoc (the same section list: a word groff
# reads as a macro, like "No" in a title, silently cuts a page short there),
# and every tool page has ENVIRONMENT and says its default timeouts.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0
sections() {   # PAGE RENDERER: the section headings, one per line
	case $2 in
	mandoc) mandoc -Tascii "$1" ;;
	groff) groff -mdoc -Tascii -P-c "$1" 2>/dev/null ;;
	esac | col -b | grep -E '^[A-Z][A-Z0-9 ]+$'
}
have_groff=1
command -v groff >/dev/null || have_groff=0
for m in man/*.[1-8]; do
	[ -f "$m" ] || continue
	out=$(mandoc -Tlint -W warning "$m" 2>&1)
	if [ "$have_groff" = 0 ]; then
		out="${out}groff is not installed (package groff): cannot compare renderings"$'\n'
	elif [ "$(sections "$m" mandoc)" != "$(sections "$m" groff)" ]; then
		out="${out}groff and mandoc render different sections:"$'\n'
		out="$out$(diff <(sections "$m" mandoc) <(sections "$m" groff))"$'\n'
	fi
	case $m in
	*.1)
		grep -q '^\.Sh ENVIRONMENT' "$m" || out="${out}no ENVIRONMENT section"$'\n'
		# a tool with a time limit (every one but mailflow-config) says
		# its default
		t=cmd/$(basename "$m" .1).c
		if grep -q '^\.It Fl Fl timeout' "$m" ||
		    grep -Eq 'MF_CLI_LONGOPTS|"timeout"' "$t" 2>/dev/null; then
			awk '/^\.It Fl Fl timeout/{p=1;next} p&&/^\.It/{exit} p' "$m" |
				grep -qi 'default' || out="${out}--timeout does not say its default"$'\n'
		fi
		;;
	esac
	if [ -z "$out" ]; then
		passed=$((passed + 1)); echo "ok   $m"
	else
		failed=$((failed + 1)); echo "FAIL $m"; echo "$out" | head -20
	fi
done
echo "man: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
