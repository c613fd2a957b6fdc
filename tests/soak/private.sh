# Sourced by the --idle service tests (tests/integration/55-*, 58-*): a
# private Dovecot offering NOTIFY (server.sh) under $MF_TMP/srv, its
# environment (SOAK_*), DA (its doveadm), fail and wait_for.  Define
# on_exit (stop what you started) and set pid before sourcing; the EXIT
# trap set here calls it, then stops the server.
S="$MF_TOP/tests/soak"
T="$MF_TMP/srv"
mkdir -p "$T"
chmod 755 "$T"
private_exit() {
	on_exit
	bash "$S/server.sh" stop "$T"
}
trap private_exit EXIT
fail() { echo "FAIL: $*"; cat "$MF_TMP/idle.log" 2>/dev/null; exit 1; }
bash "$S/server.sh" up "$T" notify >"$MF_TMP/server.out" 2>&1 ||
	{ cat "$MF_TMP/server.out"; exit 1; }
# shellcheck disable=SC1091
. "$T/env"
DA() { doveadm -c "$SOAK_CONF" "$@"; }
# wait_for PATTERN [SECONDS]: true once $MF_TMP/idle.log has a line
# matching it (false at once when the process $pid ended)
wait_for() {
	local _
	for _ in $(seq 1 $((${2:-10} * 5))); do
		grep -q "$1" "$MF_TMP/idle.log" && return 0
		[ -z "${pid:-}" ] || kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
