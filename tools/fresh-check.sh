#!/bin/sh
# fresh-check.sh - README's quick start on a freshly installed Debian (make check-fresh).
# Builds a minimal Debian root with debootstrap (minbase plus make and git, nothing else),
# clones this repository's HEAD into it, and runs README's two commands in order, as root
# inside it: `make demo`, then `make test` (both, even if the first fails). Prints the time of
# each step and which one failed.
#
#   tools/fresh-check.sh [--keep]      (--keep leaves the root in place to look into)
#
# Needs root (debootstrap, chroot, mounts). The mirror and suites are read from this machine's
# apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list and *.sources) and are
# never written into the repository. Downloads are cached outside the repository, in
# $EE_FRESH_CACHE (default /var/cache/eeprof-fresh-check): the debootstrap tarball and apt's
# .deb files, so that a second run downloads nothing. The root itself is new on every run and
# what it installs is decided by the clone's tools/deps.sh alone. /proc, /sys, /dev and the
# .deb cache are mounted into the root and unmounted on exit; the root is then removed.
# Exit status: 0 both steps passed, 1 a step failed, 2 usage, 3 the root could not be built.
set -eu

keep=0
case ${1:-} in
--keep) keep=1 ;;
"") ;;
*) echo "usage: tools/fresh-check.sh [--keep]" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${EE_FRESH_CACHE:-/var/cache/eeprof-fresh-check}
root=""

die() { echo "fresh-check: $*" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "fresh-check: run as root (debootstrap, chroot, mounts)" >&2; exit 2; }
"$top/tools/deps.sh" debootstrap || die "debootstrap is missing"

# Every enabled "deb" source of this machine as "URI SUITE COMPONENT...", one a line, from
# both the one-line format and the deb822 (.sources) format.
apt_sources() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" { $1 = ""; print }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'function flush() {
			if (types ~ /(^| )deb( |$)/ && enabled != "no")
				for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j], comps
			types = ""; enabled = ""; comps = ""; nu = 0; ns = 0
		}
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		{ key = tolower($1); $1 = "" ; sub(/^ +/, "") }
		key == "types:" { types = $0 }
		key == "enabled:" { enabled = tolower($0) }
		key == "uris:" { nu = split($0, u, " ") }
		key == "suites:" { ns = split($0, s, " ") }
		key == "components:" { comps = $0 }
		END { flush() }' "$f"
	done
}

# Unmounts everything below the root (deepest first), then removes it unless --keep; never
# removes a root that still has something mounted in it.
cleanup() {
	[ -n "$root" ] || return 0
	for m in $(awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' \
			/proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done
	if awk -v r="$root" 'index($5, r "/") == 1 { found = 1 } END { exit !found }' \
			/proc/self/mountinfo; then
		echo "fresh-check: mounts remain under $root; not removing it" >&2
	elif [ $keep = 1 ]; then
		echo "fresh-check: root kept in $root"
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
arch=$(dpkg --print-architecture)
sources=$(apt_sources | awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security"')
mirror=$(echo "$sources" | awk -v s="$suite" '$2 == s { print $1; exit }')
[ -n "$mirror" ] || die "no '$suite' source in this machine's apt sources"
head=$(git -C "$top" rev-parse HEAD)
[ -z "$(git -C "$top" status --porcelain --untracked-files=no)" ] ||
	echo "fresh-check: note: uncommitted changes are not part of the check (it clones HEAD)"
echo "fresh-check: Debian $suite/$arch from $mirror; eeprof $(git -C "$top" log -1 --format='%h %cd' --date=short)"

t0=$(date +%s)
mkdir -p "$cache/apt"
tarball=$cache/debootstrap-$suite-$arch-minbase-make-git.tgz
bootstrap() {
	debootstrap --variant=minbase --include=make,git --arch="$arch" "$@" "$suite" "$root" "$mirror" \
		> "$cache/debootstrap.log" 2>&1 || die "debootstrap failed (log: $cache/debootstrap.log)"
}
root=$(mktemp -d /var/tmp/eeprof-fresh.XXXXXX)
if [ ! -s "$tarball" ]; then
	bootstrap --make-tarball="$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	rm -rf --one-file-system "$root" && mkdir "$root"
fi
bootstrap --unpack-tarball="$tarball"
echo "$sources" | awk '{ print "deb", $0 }' > "$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf"
git clone -q --no-hardlinks "$top" "$root/root/eeprof"
git -C "$root/root/eeprof" checkout -q --detach "$head"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mount --bind "$cache/apt" "$root/var/cache/apt/archives"
echo "fresh-check: root with make and git ready in $(( $(date +%s) - t0 )) s ($root)"

# Runs one README command in the root, with a login-like clean environment; its output goes to
# a log next to the cache. Printed: the log's summary and failure lines (test group counts,
# FAIL, not ok, make errors), and after a failure its last lines too.
status=0
run_step() {
	log=$cache/step-$(echo "$1" | tr ' ' '-').log
	start=$(date +%s)
	if chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			sh -c "cd /root/eeprof && $1" > "$log" 2>&1; then
		result=passed
	else
		result=FAILED; status=1
	fi
	echo "fresh-check: '$1' $result in $(( $(date +%s) - start )) s (log: $log)"
	grep -E '^deps: |^(unit|cli|models|parity): |^report written|^FAIL|^not ok|\*\*\*|error:' "$log" |
		head -n 30 | sed 's/^/    /'
	if [ $result = FAILED ]; then
		echo "    last lines:"
		tail -n 8 "$log" | sed 's/^/    /'
	fi
}
run_step "make demo"
run_step "make test"
if [ $status = 0 ]; then
	echo "fresh-check: passed: make demo, then make test, on a fresh Debian $suite root" \
		"($(( $(date +%s) - t0 )) s in all)"
else
	echo "fresh-check: FAILED (see the step marked FAILED above)"
fi
exit $status
