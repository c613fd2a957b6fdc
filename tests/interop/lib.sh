# shellcheck shell=bash disable=SC2034 # variables for the sourcing test
# Sourced by every tests/interop test: a private HOME and XDG dirs under
# MF_TMP (never a real configuration), cd there, and the shared helpers.
: "${MF_INTEROP_DIR:?run me through tests/interop/run.sh}"
BIN="${MF_BIN:-$MF_TOP/bin}"
T="$MF_TMP"
export HOME="$T/home" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/xdg"
mkdir -p "$HOME"
unset MAILFLOW_CONFIG MAILFLOW_PASSWORD
cd "$T" || exit 1
CY="$MF_TOP/tests/interop/cyrus.py"
H="$MF_TOP/tests/integration/50-imap-sync-helper.py"

step() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*"; exit 1; }
tok() { printf 'tok-%s-%s' "$1" "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"; }
# helper ARGS: the imap-sync integration helper, speaking to Cyrus's IMAPS.
helper() { MF_IMAPS_PORT="$MF_CYRUS_IMAPS_PORT" python3 "$H" "$@"; }
