# errtrap.sh - sourced through BASH_ENV by tests/run-integration.sh into every
# integration test (and the bash scripts it starts), so that a script that
# "set -e" ends never ends silently: the failing command, its status, the
# file and line are printed first.
set -o errtrace
trap 'mf_errtrap_rc=$?; case $- in *e*) printf "FAIL: %s:%s: command exited %s: %s\n" "${BASH_SOURCE[0]##*/}" "$LINENO" "$mf_errtrap_rc" "$BASH_COMMAND" >&2 ;; esac' ERR
