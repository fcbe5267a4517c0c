#!/bin/bash
# The host packages, used as a user would. Default (make test-dist): the image
# in host/target/dist (its launcher, also through a symlink, its modules, the
# man pages and completion) and the .deb's contents, then `make demo`'s run on
# the image's launcher. With --installed DEB (tests/fresh-machine.sh, in a root
# with no JDK where DEB was just installed): the same checks on /usr/bin/qbnet,
# the qbnet group and user, the udev rule and the unit, the demo, then a purge.
# Usage: tests/dist-test.sh [--installed DEB]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
DIST=$ROOT/host/target/dist
MODULES="java.base java.logging java.naming java.security.sasl jdk.naming.dns jdk.unsupported"
installed=""
[ "${1:-}" = --installed ] && installed=${2:?usage: tests/dist-test.sh [--installed DEB]}
TMP=$(mktemp -d /tmp/qbnet-dist-test.XXXXXX)
trap 'rm -rf "$TMP" "$TMP.results"' EXIT
QB_WORK=$TMP
. "$ROOT/tests/lib/cases.sh"

if [ -n "$installed" ]; then
	QBNET=/usr/bin/qbnet
	HOME_DIR=/usr/lib/qbnet
	MAN=/usr/share/man/man1
	COMPLETION=/usr/share/bash-completion/completions/qbnet
else
	img=$(ls -d "$DIST"/qbnet-*-linux-* 2> /dev/null | grep -v '\.tar\.gz$' | head -n 1)
	[ -d "$img" ] || { echo "dist-test: no image in $DIST: run make dist" >&2; exit 1; }
	QBNET=$img/bin/qbnet
	HOME_DIR=$img
	MAN=$img/share/man/man1
	COMPLETION=$img/share/bash-completion/completions/qbnet
	DEB=$(ls "$DIST"/qbnet_*.deb | head -n 1)
fi

case_launcher() {
	local v
	v=$("$QBNET" --version 2>&1)
	note "$QBNET --version: $v"
	check "--version names qbnet and Java 25" grep -qE '^qbnet [0-9.]+ .*Java 25' <<< "$v"
	check "and says nothing else (no JVM warnings)" [ "$(wc -l <<< "$v")" = 1 ]
	ln -s "$QBNET" "$TMP/qbnet"
	check "the launcher runs through a symlink" "$TMP/qbnet" --version
	check "no system Java on PATH is needed" env PATH=/usr/bin:/bin "$QBNET" --version
	local out rc=0
	out=$("$QBNET" list 2>&1) || rc=$?
	note "qbnet list: exit $rc: $out"
	check "qbnet list runs (libusb through FFM on the shipped runtime)" [ $rc = 0 ]
	out=$(QBNET_JAVA_OPTS="-Xshare:on -XX:+PrintCommandLineFlags" "$QBNET" --version 2>&1) && rc=0 || rc=$?
	check "the JVM maps the class-data archives dumped with the launcher's options (-Xshare:on: $rc)" [ $rc = 0 ]
	check "and runs with lib/jvm.options (Serial GC, compact headers)" \
		bash -c 'grep -q -- "-XX:+UseSerialGC" <<< "$1" && grep -q -- "-XX:+UseCompactObjectHeaders" <<< "$1"' _ "$out"
	check "with no native-access warning" bash -c '! grep -qi warning <<< "$1"' _ "$out"
	out=$("$QBNET" run --bogus 2>&1) && rc=0 || rc=$?
	check "a bad flag is exit 2 with the usual message ($rc)" [ $rc = 2 ]
}

case_runtime() {
	local mods
	mods=$("$HOME_DIR/runtime/bin/java" --list-modules | sed 's/@.*//' | sort | tr '\n' ' ')
	note "runtime modules: $mods"
	check "only the modules qbnet needs (and what they require)" [ "$mods" = "$MODULES " ]
	note "runtime $(du -sh "$HOME_DIR/runtime" | cut -f1), whole install $(du -sh "$HOME_DIR" | cut -f1)"
	local s e
	s=$(date +%s%N)
	for _ in 1 2 3 4 5; do "$QBNET" --version > /dev/null; done
	e=$(date +%s%N)
	note "launcher start (qbnet --version, mean of 5): $(((e - s) / 5000000)) ms"
}

man_page_ok() { # FILE NAME: a roff page whose NAME section is "NAME \- what it does"
	zcat "$1" | grep -q '^\.TH ' && zcat "$1" | grep -qF "$2 \-"
}

complete_words() { # LINE WORD... : COMPREPLY for the last word, as bash would complete LINE
	bash -c '. "$1"; shift; fn=$(complete -p qbnet | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		line=$1; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE=$line; COMP_POINT=${#line}
		"$fn" qbnet "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2> /dev/null; echo "${COMPREPLY[*]}"' _ "$COMPLETION" "$@"
}

case_docs() {
	local page
	for page in qbnet qbnet-run qbnet-status qbnet-forward qbnet-list qbnet-link-test; do
		check "man page $page(1)" man_page_ok "$MAN/$page.1.gz" "$page"
	done
	# What bash offers after "qbnet " and after "qbnet run --li", through the function the
	# script registers for qbnet (complete -F), as bash itself would call it.
	local words
	words=$(complete_words "qbnet " qbnet "")
	check "completion offers the commands ($words)" grep -qw run <<< "$words"
	words=$(complete_words "qbnet run --li" qbnet run --li)
	check "completion offers run's options ($words)" grep -qw -- --link <<< "$words"
}

case_deb_contents() {
	local list info
	info=$(dpkg-deb --field "$DEB" Package Architecture Depends)
	note "$(basename "$DEB"): $(du -k "$DEB" | cut -f1) KiB; $(tr '\n' ';' <<< "$info")"
	check "control: qbnet, depends on libusb" grep -q 'Depends: .*libusb-1.0-0' <<< "$info"
	list=$(dpkg-deb --contents "$DEB" | awk '{ print $6 ($7 ? " " $7 " " $8 : "") }')
	local f
	for f in ./usr/bin/qbnet ./usr/lib/qbnet/bin/qbnet ./usr/lib/qbnet/lib/qbnet.jar ./usr/lib/qbnet/runtime/bin/java \
		./usr/share/man/man1/qbnet.1.gz ./usr/share/man/man1/qbnet-run.1.gz \
		./usr/share/bash-completion/completions/qbnet ./usr/lib/udev/rules.d/60-qbnet.rules \
		./usr/lib/systemd/system/qbnet.service ./usr/lib/sysusers.d/qbnet.conf; do
		check "the .deb has $f" grep -q "^$f\( \|$\)" <<< "$list"
	done
	check "/usr/bin/qbnet links to the launcher" grep -q '^./usr/bin/qbnet -> ../lib/qbnet/bin/qbnet' <<< "$list"
	check "no file is owned by the builder" sh -c "dpkg-deb --contents '$DEB' | awk '{ print \$2 }' | sort -u | grep -qx root/root"
}

case_installed_system() {
	check "qbnet on PATH is the package's" [ "$(command -v qbnet)" = /usr/bin/qbnet ]
	check "the qbnet group exists" getent group qbnet
	check "the qbnet service user exists" getent passwd qbnet
	check "the udev rule gives the group the boards" grep -q 'GROUP="qbnet"' /usr/lib/udev/rules.d/60-qbnet.rules
	check "the udev rule tags them for the seat user" grep -q 'TAG+="uaccess"' /usr/lib/udev/rules.d/60-qbnet.rules
	check "the unit is Type=notify" grep -qx 'Type=notify' /usr/lib/systemd/system/qbnet.service
	check "the unit is not enabled" sh -c '! ls /etc/systemd/system/*.wants/qbnet.service 2> /dev/null'
}

case_demo() {
	local out rc=0
	out=$(QBNET_BIN=$QBNET QB_PREFIX=qbdist DEMO_SIZE_MIB=8 "$ROOT/tests/demo.sh" 2>&1) || rc=$?
	sed -n '/^== /,$p' <<< "$out" | sed 's/^/    /' | head -n 30
	check "the demo passes on $QBNET (exit $rc)" [ $rc = 0 ]
}

case_purge() {
	local rc=0
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq qbnet > "$TMP/purge.log" 2>&1 || rc=$?
	check "apt-get purge qbnet ($rc)" [ $rc = 0 ]
	check "nothing of qbnet left in /usr/lib/qbnet" [ ! -e /usr/lib/qbnet ]
	check "/usr/bin/qbnet gone" [ ! -e /usr/bin/qbnet ]
}

run_case launcher case_launcher
run_case runtime case_runtime
run_case docs case_docs
if [ -n "$installed" ]; then
	run_case installed-system case_installed_system
else
	run_case deb-contents case_deb_contents
fi
run_case demo case_demo
[ -n "$installed" ] && run_case purge case_purge
qb_summary dist-test
