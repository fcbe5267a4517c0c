#!/bin/sh
# Installs what a make target needs on Debian 12 or 13 (as root), and only
# what is missing: apt packages by group. Maven fetches Java artifacts itself.
# Usage: tests/deps.sh build|demo|test|usb|dist|bench|fresh ...
#        tests/deps.sh --list GROUP...   (prints the groups' packages; tests/deps-check.py reads them)
# Every command a script of a make target runs must come from its groups or the
# base system: tests/deps-check.py (in make test) checks that.
set -eu

list=no
[ "${1:-}" = --list ] && { list=yes; shift; }
need=""
add() { need="$need $*"; }

for group in "$@"; do
	case $group in
	build) add make gcc libc6-dev ;;
	demo) add make gcc libc6-dev iproute2 curl python3 dnsmasq-base procps util-linux iputils-ping ;;
	test)
		add make gcc libc6-dev clang llvm lld iproute2 curl python3 dnsmasq-base procps util-linux iputils-ping \
			gcc-arm-linux-gnueabihf libc6-dev-armhf-cross gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
			valgrind shfmt iperf3 musl-tools binutils systemd busybox-static
		;;
	usb) add qemu-system-x86 busybox-static libusb-1.0-0 libusb-1.0-0-dev kmod xz-utils zstd iperf3 python3 ;;
	bench) add iperf3 slirp4netns passt gnuplot-nox python3 git apache2-utils nginx strace linux-perf ;;
	dist) add asciidoctor ;;
	fresh) add debootstrap git python3 shfmt ;;
	*) echo "deps.sh: unknown group '$group' (build, demo, test, usb, dist, bench, fresh)" >&2; exit 2 ;;
	esac
done
if [ $list = yes ]; then
	printf '%s\n' $need | sort -u
	exit 0
fi

if [ ! -x "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java" ]; then
	echo "deps.sh: no JDK 25 at ${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}: install Temurin 25 or set JAVA_HOME" >&2
	exit 1
fi
command -v mvn >/dev/null || add maven
# Maven Central is reached over TLS with the JDK's trust store. A JDK installed from a
# tarball often links it to Debian's Java trust store, which only ca-certificates-java
# makes; without it Maven fails with "PKIX path building failed".
cacerts=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/lib/security/cacerts
if [ ! -e "$cacerts" ]; then
	case $(readlink "$cacerts") in
	/etc/ssl/certs/java/cacerts) add ca-certificates-java ;;
	*) echo "deps.sh: the JDK's trust store $cacerts is missing (-> $(readlink "$cacerts")): Maven cannot reach Maven Central" >&2; exit 1 ;;
	esac
fi

missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

# libFuzzer and the sanitizer runtimes come with clang's runtime package,
# whose name carries clang's major version (14 on Debian 12, 19 on 13).
case " $need " in
*" clang "*)
	if command -v clang >/dev/null; then
		v=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
		rt=libclang-rt-$v-dev
		dpkg-query -W -f='${Status}' "$rt" 2>/dev/null | grep -q "install ok installed" || missing="$missing $rt"
	fi
	;;
esac

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	# clang may have arrived just now: its runtime package follows.
	case " $need " in
	*" clang "*)
		v=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
		dpkg-query -W -f='${Status}' "libclang-rt-$v-dev" 2>/dev/null | grep -q "install ok installed" ||
			apt-get install -y -qq --no-install-recommends "libclang-rt-$v-dev" >/dev/null
		;;
	esac
fi
exit 0
