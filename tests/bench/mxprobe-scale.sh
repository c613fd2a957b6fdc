#!/usr/bin/env bash
# mxprobe at scale: probes per second at --jobs 16/64/256 and the peak
# memory (max RSS) for growing list lengths.  Results are written by hand
# into bench/results.md.  Not a test: it fails only when mxprobe does not
# report every domain.
#
#   MF_BED_ENV=... bash tests/bench/mxprobe-scale.sh [N_SPEED] [LENGTHS]
#
# Two kinds of lists:
#  - distinct: every domain has its own MX host (tests/bench/mxdns.py), all
#    at the bed's Postfix MX port on 127.0.0.1, so every domain costs a
#    whole SMTP + STARTTLS session and nothing is shared (--per-ip 64: at
#    most 64 sessions at once on the one address);
#  - shared: the bed's *.batch.mxtest.test, one MX host for all (the probe
#    is shared, DNS and MTA-STS lookups are per domain).
# MXPROBE=path compares another build (e.g. one from before --shard).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
MXPROBE=${MXPROBE:-$top/bin/mxprobe}
N_SPEED=${1:-1000}
LENGTHS=${2:-"1000 10000 50000"}
: "${MF_BED_ENV:?start a bed (bed.sh up DIR) and set MF_BED_ENV=DIR/env}"
. "$MF_BED_ENV"
work=$(mktemp -d)
dns_pid=""
cleanup() { [ -z "$dns_pid" ] || kill "$dns_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM

python3 "$top/tests/bench/mxdns.py" "$work/port" 127.0.0.1 3600 &
dns_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
DNS_PORT=$(cat "$work/port")

# rss.py CMD...: run CMD (stdin passed on) and print "seconds max_rss_kB
# summaries exit_status".
cat >"$work/rss.py" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
dt = time.monotonic() - t
n = sum(1 for l in p.stdout.splitlines() if l.startswith(b'{"type":"summary"'))
print("%.2f %d %d %d" % (dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
      n, p.returncode))
PY

# run KIND N JOBS [EXTRA...]: "seconds max_rss_kB" of one mxprobe run over
# N domains of KIND; checks that N summaries came out.
run() {
	local kind=$1 n=$2 jobs=$3 list="$work/$1.$2" res
	shift 3
	if [ ! -s "$list" ]; then
		if [ "$kind" = distinct ]; then
			seq -f 'd%.0f.scale.test' 1 "$n" >"$list"
		else
			seq -f 'b%.0f.batch.mxtest.test' 1 "$n" >"$list"
		fi
	fi
	if [ "$kind" = distinct ]; then
		set -- --resolver "127.0.0.1:$DNS_PORT" --per-ip 64 --no-mta-sts "$@"
	else
		set -- --resolver "127.0.0.1:$MF_RESOLVER_PORT" "$@"
	fi
	python3 "$work/rss.py" "$MXPROBE" --json --port "$MF_MX_PORT" \
		--tls-trust-file "$MF_CA" --timeout 30 --jobs "$jobs" "$@" \
		--batch - <"$list" >"$work/res"
	read -r secs rss got rc <"$work/res"
	[ "$got" = "$n" ] || { echo "bench: $got of $n summaries (exit $rc)" >&2; exit 1; }
	echo "$secs $rss"
}

echo "## probes per second ($N_SPEED domains)"
printf '%-9s %5s %9s %12s %10s\n' list jobs seconds domains/s maxrss_MB
for kind in distinct shared; do
	for jobs in 16 64 256; do
		read -r secs rss < <(run "$kind" "$N_SPEED" "$jobs")
		awk -v k="$kind" -v j="$jobs" -v s="$secs" -v n="$N_SPEED" -v r="$rss" \
			'BEGIN { printf "%-9s %5s %9s %12.0f %10.1f\n", k, j, s, n / s, r / 1024 }'
	done
done

echo "## peak memory by list length (--jobs 64, read from stdin)"
printf '%-9s %8s %9s %10s\n' list domains seconds maxrss_MB
for n in $LENGTHS; do
	for kind in distinct shared; do
		extra=()
		[ "$kind" = distinct ] && extra=(--dns-only)
		read -r secs rss < <(run "$kind" "$n" 64 "${extra[@]}")
		awk -v k="$kind" -v n="$n" -v s="$secs" -v r="$rss" \
			'BEGIN { printf "%-9s %8s %9s %10.1f\n", k, n, s, r / 1024 }'
	done
done
