#!/bin/bash
# The README's two commands on truly fresh machines: for Debian 12 (bookworm)
# and 13 (trixie), a minimal root (debootstrap minbase, from the package mirror
# this machine uses) gets only what the README assumes (JDK 25 bind-mounted
# read-only, Maven, gcc, make), then, as root, in a clean clone of HEAD under
# /root (mode 0700): `make demo`, `make test`, `make dist`. A second fresh root
# with no JDK and no Maven installs the .deb (and the demo's packages) and runs
# `qbnet --version`, `qbnet list` and the demo against the installed qbnet.
# Every package a target forgets shows up as a failure. Needs root; the mounts
# are undone and the roots' processes ended on any exit.
# Usage: tests/fresh-machine.sh [--release bookworm|trixie]... [--stages LIST] [--m2 fresh|host] [--keep]
#   --stages  comma-separated, of demo,test,dist,deb (default: all four)
#   --m2 host  Maven reads this machine's ~/.m2/repository through an overlay
#              (faster; hides nothing in Debian packages, but an artifact only
#              this machine has would pass). Default fresh: Maven Central.
#   --keep     keep the roots (in $QB_FRESH_WORK) for a look afterwards
# Environment: QB_FRESH_WORK (roots, default /var/tmp/qbnet-fresh), QB_FRESH_CACHE
# (debootstrap tarballs, default /var/cache/qbnet-fresh, refreshed after 14 days),
# QB_FRESH_MIRROR (default: the first Debian URI in /etc/apt/sources.list*).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
JDK=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
WORK=${QB_FRESH_WORK:-/var/tmp/qbnet-fresh}
CACHE=${QB_FRESH_CACHE:-/var/cache/qbnet-fresh}
releases=()
stages=demo,test,dist,deb
m2=fresh
keep=no
while [ $# -gt 0 ]; do
	case $1 in
	--release) releases+=("$2"); shift 2 ;;
	--stages) stages=$2; shift 2 ;;
	--m2) m2=$2; shift 2 ;;
	--keep) keep=yes; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "fresh-machine: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ ${#releases[@]} -gt 0 ] || releases=(bookworm trixie)
for r in "${releases[@]}"; do
	case $r in bookworm | trixie) ;; *) echo "fresh-machine: --release bookworm or trixie" >&2; exit 2 ;; esac
done
case $m2 in fresh | host) ;; *) echo "fresh-machine: --m2 fresh or host" >&2; exit 2 ;; esac
has_stage() { case ",$stages," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

log() { printf '%s fresh-machine: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
[ -x "$JDK/bin/java" ] || die "no JDK 25 at $JDK: set JAVA_HOME"
command -v debootstrap > /dev/null || "$HERE/deps.sh" fresh
commit=$(git -C "$SRC" rev-parse HEAD)
[ -z "$(git -C "$SRC" status --porcelain --untracked-files=no)" ] ||
	log "note: uncommitted changes in $SRC are not tested (the roots get a clean clone of $commit)"

# The mirror this machine already uses: the first Debian archive URI in its apt sources.
mirror_of() { # archive|security
	local want=$1 f uri suites
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case $f in *.sources)
			awk -v want="$want" 'tolower($1) == "uris:" { uri = $2 } tolower($1) == "suites:" {
				for (i = 2; i <= NF; i++) if (($i ~ /-security$/) == (want == "security")) { print uri; exit } }' "$f" ;;
		*)
			awk -v want="$want" '$1 == "deb" { u = $2; s = $3; if ($2 ~ /^\[/) { u = $3; s = $4 }
				if ((s ~ /-security$/) == (want == "security")) { print u; exit } }' "$f" ;;
		esac
	done | grep -i debian | head -n 1
}
MIRROR=${QB_FRESH_MIRROR:-$(mirror_of archive)}
SECURITY=$(mirror_of security)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${SECURITY:-${MIRROR%/debian}/debian-security}
log "mirror $MIRROR, security $SECURITY; commit $(git -C "$SRC" log -1 --format='%h %s' | cut -c1-70)"

ROOTS=()
# Ends the processes whose root is one of ours, then unmounts everything below it.
release_root() {
	local root=$1 pid n
	for n in 1 2 3; do
		local found=0
		for pid in $(ls /proc | grep -E '^[0-9]+$'); do
			[ "$(readlink "/proc/$pid/root" 2> /dev/null)" = "$root" ] || continue
			found=1
			kill -9 "$pid" 2> /dev/null || true
		done
		[ $found = 0 ] && break
		sleep 1
	done
	# Deepest first; lazy, so a busy mount cannot keep the others.
	local m
	for m in $(findmnt -rn -o TARGET | grep -E "^$root(/|$)" | sort -r); do
		umount -l "$m" 2> /dev/null || true
	done
	return 0
}
cleanup() {
	local rc=$?
	trap '' INT TERM # a second signal must not cut the unmounting short
	for root in "${ROOTS[@]}"; do
		release_root "$root"
		if [ $keep = no ]; then
			if findmnt -rn -o TARGET | grep -qE "^$root(/|$)"; then
				log "mounts remain under $root: not deleting it"
			else
				rm -rf --one-file-system "$root"
			fi
		fi
	done
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A cached debootstrap tarball (the packages of a minbase root) per release, in $TARBALL.
tarball() {
	local rel=$1 t=$CACHE/$1-minbase.tgz
	mkdir -p "$CACHE"
	if [ ! -s "$t" ] || [ -n "$(find "$t" -mtime +14)" ]; then
		log "$rel: downloading the minbase packages (cached in $t)"
		local tmp
		tmp=$(mktemp -d "$WORK/tarball.XXXXXX")
		ROOTS+=("$tmp")
		debootstrap --variant=minbase --make-tarball="$t.new" "$rel" "$tmp" "$MIRROR" > "$WORK/$rel-tarball.log" 2>&1 ||
			die "debootstrap --make-tarball failed: $(tail -n 5 "$WORK/$rel-tarball.log")"
		mv "$t.new" "$t"
	fi
	TARBALL=$t
}

# new_root REL NAME: a fresh minbase root in $NEW_ROOT, mounted for namespaces, TUN and a VM.
new_root() {
	local rel=$1 root=$WORK/$1-$2
	release_root "$root"
	findmnt -rn -o TARGET | grep -qE "^$root(/|$)" && die "mounts remain under $root"
	rm -rf --one-file-system "$root"
	ROOTS+=("$root")
	tarball "$rel"
	debootstrap --variant=minbase --unpack-tarball="$TARBALL" "$rel" "$root" "$MIRROR" \
		> "$WORK/$rel-$2-debootstrap.log" 2>&1 || die "debootstrap failed: $(tail -n 5 "$WORK/$rel-$2-debootstrap.log")"
	# What minbase must have, since tests/deps-check.py counts on it.
	local missing=""
	for p in $(python3 "$HERE/deps-check.py" --base); do
		chroot "$root" dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] || die "$rel minbase lacks$missing, which tests/deps-check.py counts as base: fix its BASE"
	rm -f "$root/etc/apt/sources.list"
	cat > "$root/etc/apt/sources.list.d/debian.list" <<-EOF
		deb $MIRROR $rel main
		deb $MIRROR $rel-updates main
		deb $SECURITY $rel-security main
	EOF
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# The certificate authorities this machine adds to Debian's, for the same reason as its
	# resolv.conf: a network whose egress inspects TLS is trusted only through them (Maven
	# Central then fails with "PKIX path building failed"). ca-certificates picks them up.
	if ls /usr/local/share/ca-certificates/*.crt > /dev/null 2>&1; then
		mkdir -p "$root/usr/local/share/ca-certificates"
		cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
	fi
	chmod 700 "$root/root"
	# The root a mount point of its own, as a machine's is: `ip netns exec` makes "/" a
	# slave mount, which fails (EINVAL) on a directory that is not one.
	mount --bind "$root" "$root" && mount --make-private "$root"
	mount -t proc proc "$root/proc"
	# /sys and /dev of this machine (TUN, the VM's devices); rslave so nothing unmounts them here.
	mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
	mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
	# A private /run: `ip netns add` keeps its namespaces in /run/netns.
	mount -t tmpfs -o mode=755 tmpfs "$root/run"
	NEW_ROOT=$root
}

in_root() { # ROOT TIMEOUT-S COMMAND: a login-like root shell with a clean environment
	local root=$1 secs=$2
	shift 2
	timeout --kill-after=30 "$secs" chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		TERM=dumb CI=true /bin/bash -c "$*"
}

TIMES=()
# stage REL ROOT NAME TIMEOUT-S COMMAND: runs and times one step, log in $WORK.
stage() {
	local rel=$1 root=$2 name=$3 secs=$4 start rc=0
	shift 4
	local logf=$WORK/$rel-$name.log
	log "$rel: $name (log $logf)"
	start=$(date +%s)
	in_root "$root" "$secs" "$*" > "$logf" 2>&1 || rc=$?
	local took=$(($(date +%s) - start))
	TIMES+=("$rel $name $((took / 60))m$((took % 60))s rc=$rc")
	if [ $rc != 0 ]; then
		tail -n 60 "$logf" | sed 's/^/    /' >&2
		die "$rel: $name failed (exit $rc after ${took}s; $([ $rc = 124 ] && echo "timed out, ")log $logf)"
	fi
	log "$rel: $name passed in ${took}s"
}

mkdir -p "$WORK"
for rel in "${releases[@]}"; do
	t0=$(date +%s)
	new_root "$rel" build
	root=$NEW_ROOT
	mkdir -p "$root$JDK"
	mount --bind "$JDK" "$root$JDK" && mount -o remount,bind,ro "$root$JDK"
	if [ $m2 = host ] && [ -d "$HOME/.m2/repository" ]; then
		mkdir -p "$root/root/.m2/repository" "$WORK/$rel-m2/upper" "$WORK/$rel-m2/work"
		mount -t overlay overlay -o "lowerdir=$HOME/.m2/repository,upperdir=$WORK/$rel-m2/upper,workdir=$WORK/$rel-m2/work" \
			"$root/root/.m2/repository"
	fi
	git clone -q --no-hardlinks "$SRC" "$root/root/qbnet"
	git -C "$root/root/qbnet" checkout -q "$commit"
	TIMES+=("$rel root $(($(date +%s) - t0))s")
	# What the README assumes a fresh machine has: root, JDK 25, Maven, gcc, make.
	stage "$rel" "$root" readme-preconditions 900 \
		"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven gcc make"
	has_stage demo && stage "$rel" "$root" make-demo 1800 "cd /root/qbnet && make demo"
	has_stage test && stage "$rel" "$root" make-test 5400 "cd /root/qbnet && make test"
	if has_stage dist || has_stage deb; then
		stage "$rel" "$root" make-dist 1200 "cd /root/qbnet && make dist"
	fi
	if has_stage deb; then
		# A second fresh root: no JDK, no Maven; the .deb and the demo's packages only (qbnetd comes built).
		deb=$(cd "$root/root/qbnet/host/target/dist" && ls qbnet_*_amd64.deb | head -n 1)
		[ -n "$deb" ] || die "$rel: make dist made no .deb"
		t1=$(date +%s)
		new_root "$rel" user
		user=$NEW_ROOT
		git clone -q --no-hardlinks "$SRC" "$user/root/qbnet"
		git -C "$user/root/qbnet" checkout -q "$commit"
		cp "$root/root/qbnet/host/target/dist/$deb" "$user/root/"
		mkdir -p "$user/root/qbnet/board/build"
		cp "$root/root/qbnet/board/build/qbnetd" "$user/root/qbnet/board/build/"
		TIMES+=("$rel user-root $(($(date +%s) - t1))s")
		stage "$rel" "$user" deb-install 900 "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends /root/$deb \$(/root/qbnet/tests/deps.sh --list demo)"
		stage "$rel" "$user" deb-use 900 "cd /root/qbnet && tests/dist-test.sh --installed /root/$deb"
	fi
	log "$rel: done in $(($(date +%s) - t0))s"
	for r in "${ROOTS[@]}"; do release_root "$r"; done
done

echo
echo "fresh-machine: times (commit $(git -C "$SRC" rev-parse --short HEAD), m2 $m2)"
printf '  %s\n' "${TIMES[@]}"
echo "fresh-machine: ${#releases[@]} passed, 0 failed"
