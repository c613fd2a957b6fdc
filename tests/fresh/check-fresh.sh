#!/bin/bash
# make check-fresh: the README's commands on a fresh Debian 12, as a new user
# types them.
#
#   tests/fresh/check-fresh.sh CACHE_DIR
#
# Builds a minimal Debian 12 root with debootstrap (minbase plus git, make and
# ca-certificates: the fresh machine of the README), clones the current
# commit into it and, inside it, runs
#   1. make demo                      (the very first command)
#   2. make check                     (must end "check: N passed, 0 failed")
#   3. make env-down && make demo     (what the demo itself suggests)
# One line per step, then a summary line.  The debootstrapped root is cached
# as a tarball in CACHE_DIR (it is the fresh machine, nothing of ours is in
# it); the packages the steps install are never cached.  Everything runs in
# private mount and PID namespaces: when the last step ends, every process
# the steps started ends with the namespace, and every mount with it; the
# root is then deleted.  Needs root (debootstrap, chroot, namespaces).
#   MF_FRESH_MIRROR  the Debian archive (default: the one apt uses here)
#   MF_FRESH_KEEP=1  keep the root and logs (printed at the end)
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${1:-/var/cache/mailflow-fresh}
suite=bookworm
passed=0 failed=0
start=$SECONDS

say() { printf 'check-fresh: %s\n' "$*"; }
die() { say "$*"; say "0 passed, 1 failed"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and namespaces)"
for c in unshare chroot git tar mount; do
	command -v "$c" >/dev/null || die "$c not found"
done
if ! command -v debootstrap >/dev/null; then
	bash "$top/tests/deps.sh" all >/dev/null || die "debootstrap is missing and could not be installed"
fi
commit=$(git -C "$top" rev-parse HEAD) || die "$top is not a git checkout"
[ -z "$(git -C "$top" status --porcelain --untracked-files=no)" ] ||
	say "note: uncommitted changes are not tested: only commit ${commit:0:12} is cloned"

# The archive apt uses on this machine, so the fresh root sees the same one.
mirror=${MF_FRESH_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)}
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

work=$(mktemp -d /var/tmp/mailflow-fresh.XXXXXX) || die "mktemp failed"
root="$work/root"
logs="$work/logs"
mkdir -p "$root" "$logs"

cleanup() {
	# The namespaces are gone with their last process; a mount left under
	# the root here would be a bug, so never delete across one.
	if grep -q " $work/" /proc/self/mounts; then
		say "mounts left under $work: not deleting it"
		return
	fi
	if [ -n "${MF_FRESH_KEEP:-}" ]; then
		say "kept $work"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT

# step NAME STATUS SECONDS [DETAIL]: the one line of a step.
step() {
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		printf 'check-fresh: ok   %-36s %4ss%s\n' "$1" "$3" "${4:+  $4}"
	else
		failed=$((failed + 1))
		printf 'check-fresh: FAIL %-36s %4ss%s\n' "$1" "$3" "${4:+  $4}"
	fi
}

# ---- the fresh machine: debootstrap once, then the cached tarball
tarball="$cache/$suite-minbase.tar"
t0=$SECONDS
if [ ! -s "$tarball" ]; then
	mkdir -p "$cache"
	if debootstrap --variant=minbase --include=git,make,ca-certificates \
		"$suite" "$root" "$mirror" >"$logs/debootstrap.log" 2>&1 &&
		tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"; then
		step "debootstrap $suite minbase (cached)" 0 $((SECONDS - t0))
	else
		rm -f "$tarball.tmp"
		step "debootstrap $suite minbase" 1 $((SECONDS - t0))
		tail -n 20 "$logs/debootstrap.log" | sed 's/^/    /'
		exit 1
	fi
else
	tar -C "$root" -xf "$tarball" || die "cannot unpack $tarball"
	step "fresh root from $tarball" 0 $((SECONDS - t0))
fi

# What a minimal install has that debootstrap leaves out: /etc/hosts, a
# resolver and the machine's apt sources (for apt-get only).  Package
# scripts must not start the root's own daemons on this machine's ports.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	rm -f "$root/etc/apt/sources.list"
	cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
fi
for f in /etc/apt/apt.conf.d/*; do
	# Only settings about the archive (validity of a snapshot), none of
	# the packages this machine happens to have.
	grep -qs 'Check-Valid-Until\|Check-Date' "$f" && cp "$f" "$root/etc/apt/apt.conf.d/"
done
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# ---- the checkout: the current commit, cloned as a user would
t0=$SECONDS
if git clone -q --no-hardlinks "$top" "$root/root/mailflow" >"$logs/clone.log" 2>&1 &&
	git -C "$root/root/mailflow" checkout -q "$commit" >>"$logs/clone.log" 2>&1; then
	step "git clone (${commit:0:12})" 0 $((SECONDS - t0))
else
	step "git clone (${commit:0:12})" 1 $((SECONDS - t0))
	sed 's/^/    /' "$logs/clone.log"
	exit 1
fi

# ---- inside: the three steps, in one PID namespace (the demo's bed stays
# up across them, as on a real machine) and one private mount namespace.
cat >"$root/root/fresh-steps.sh" <<'EOS'
#!/bin/bash
# Runs inside the fresh root; one "RESULT name status seconds detail" line per step.
cd /root/mailflow || exit 1
run() {
	local name=$1 log=$2 t0=$SECONDS rc=0 detail=""; shift 2
	"$@" </dev/null >"/root/logs/$log" 2>&1 || rc=$?
	detail=$(grep -E '^check: [0-9]+ passed' "/root/logs/$log" | tail -n 1)
	echo "RESULT|$name|$rc|$((SECONDS - t0))|$log|$detail"
}
run "make demo (first command)" demo.log make demo
run "make check" check.log make check
run "make env-down && make demo" redo.log sh -c 'make env-down && make demo'
make env-down >/root/logs/down.log 2>&1
EOS
chmod 755 "$root/root/fresh-steps.sh"
mkdir -p "$root/root/logs"

# --kill-child: when unshare ends (also by the signal trap below), the
# namespace's first process gets SIGKILL, and with it every process inside.
unshare --mount --pid --fork --kill-child --propagation private /bin/bash -c '
	set -e
	root=$1
	# The root a mount point of its own, as on a machine: tests that make
	# "/" private in a namespace of their own need it.
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --rbind /dev "$root/dev"
	mount --make-rslave "$root/dev"
	mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
	exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash /root/fresh-steps.sh
' fresh "$root" >"$logs/steps.out" 2>&1 &
ns=$!
# Ctrl-C or a CI timeout: end the namespace (and so every daemon the steps
# started) before the EXIT trap deletes the root.
interrupted() {
	trap - INT TERM
	say "interrupted: stopping the fresh root"
	kill -TERM "$ns" 2>/dev/null
	wait "$ns" 2>/dev/null
	exit 130
}
trap interrupted INT TERM
# Show each step's line as it ends.
shown=0
while :; do
	alive=1
	kill -0 "$ns" 2>/dev/null || alive=0
	mapfile -t lines < <(grep '^RESULT|' "$logs/steps.out")
	while [ "$shown" -lt "${#lines[@]}" ]; do
		IFS='|' read -r _ name rc secs log detail <<<"${lines[$shown]}"
		step "$name" "$rc" "$secs" "$detail"
		if [ "$rc" != 0 ]; then
			# every failing test's own lines first (runners print
			# "FAIL name" then the details), then the log's end
			grep -A 25 -E '^ *FAIL ' "$root/root/logs/$log" | head -n 150 |
				sed 's/^/    | /'
			echo "    | ..."
			tail -n 15 "$root/root/logs/$log" | sed 's/^/    | /'
		fi
		shown=$((shown + 1))
	done
	[ "$alive" = 1 ] || break
	sleep 2
done
wait "$ns"
if [ "$shown" -lt 3 ]; then
	step "steps inside the fresh root" 1 0 "ended after $shown of 3 steps"
	tail -n 20 "$logs/steps.out" | sed 's/^/    | /'
fi
[ -z "${MF_FRESH_KEEP:-}" ] || cp -r "$root/root/logs" "$logs/inside"

say "done in $((SECONDS - start)) s"
say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
