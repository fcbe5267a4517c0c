#!/bin/bash
# Packaging (make check-packaging): make install and its variables, the
# systemd unit (systemd-analyze verify and its exposure score, offline: no
# running systemd needed), the init script under BusyBox ash, dash and bash
# with the real qbnetd in a network namespace (root), the Buildroot package
# and the Yocto recipe run through stand-ins for their build systems, the
# license checksums they carry, and the kernel fragment against the kernel
# the USB VM tests run.
# Usage: packaging-test.sh BUILD_DIR   (run from board/; BUILD_DIR has qbnetd)
set -u
# Called from make: its command-line variables (BUILD=...) must not reach the
# makes below, which stand for a fresh Buildroot, Yocto or user invocation.
unset MAKEFLAGS MFLAGS MAKELEVEL CC CFLAGS CPPFLAGS LDFLAGS LDLIBS HARDEN STATIC PREFIX DESTDIR \
	SBINDIR SYSCONFDIR SYSTEMD_UNITDIR INITDIR INSTALL_SYSTEMD INSTALL_SYSV
cd "$(dirname "$0")/.."
BOARD=$PWD
REPO=$(cd .. && pwd)
BUILD=$(realpath "${1:-build}")
export -n BUILD
QBNETD=$BUILD/qbnetd
OUT=$BUILD/packagingtest
NS=${QB_PREFIX:-qbpkg}-pkg-$$
rm -rf "$OUT"
mkdir -p "$OUT"
. tests/check.sh

cleanup() {
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT


[ -x "$QBNETD" ] || { echo "packaging-test: build $QBNETD first (make -C board)" >&2; exit 1; }

# 1. make install: DESTDIR and PREFIX, the paths written into the unit and
# the script, INSTALL_SYSTEMD/INSTALL_SYSV, an existing options file kept.
D=$OUT/destdir
check "make install DESTDIR=... PREFIX=/usr" \
	make -s BUILD="$BUILD" DESTDIR="$D" PREFIX=/usr install
check "installed: the daemon, the unit, the init script, the options file" \
	test -x "$D/usr/sbin/qbnetd" -a -f "$D/usr/lib/systemd/system/qbnetd.service" \
	-a -x "$D/etc/init.d/qbnetd" -a -f "$D/etc/default/qbnetd"
check "modes 0755, 0644, 0755, 0644" test "$(stat -c %a "$D/usr/sbin/qbnetd" \
	"$D/usr/lib/systemd/system/qbnetd.service" "$D/etc/init.d/qbnetd" "$D/etc/default/qbnetd" | tr '\n' ' ')" = "755 644 755 644 "
check "the unit runs /usr/sbin/qbnetd with the options of /etc/default/qbnetd" \
	bash -c "grep -qx 'ExecStart=/usr/sbin/qbnetd \$QBNETD_ARGS' '$D/usr/lib/systemd/system/qbnetd.service' && grep -qx 'EnvironmentFile=-/etc/default/qbnetd' '$D/usr/lib/systemd/system/qbnetd.service'"
check "the init script runs /usr/sbin/qbnetd and reads /etc/default/qbnetd" \
	bash -c "grep -qx 'DAEMON=/usr/sbin/qbnetd' '$D/etc/init.d/qbnetd' && grep -q '/etc/default/qbnetd' '$D/etc/init.d/qbnetd' && ! grep -q @ '$D/etc/init.d/qbnetd'"
echo 'QBNETD_ARGS="--serial KEEP-ME"' >"$D/etc/default/qbnetd"
make -s BUILD="$BUILD" DESTDIR="$D" PREFIX=/usr install
check "a second make install keeps the edited options file" grep -q KEEP-ME "$D/etc/default/qbnetd"
D2=$OUT/destdir2
make -s BUILD="$BUILD" DESTDIR="$D2" PREFIX=/opt/qb SYSCONFDIR=/opt/qb/etc \
	SYSTEMD_UNITDIR=/lib/systemd/system INSTALL_SYSV=0 install
check "PREFIX, SYSCONFDIR and SYSTEMD_UNITDIR move the files; INSTALL_SYSV=0 leaves the script out" \
	bash -c "[ -x '$D2/opt/qb/sbin/qbnetd' ] && [ -f '$D2/lib/systemd/system/qbnetd.service' ] && [ -f '$D2/opt/qb/etc/default/qbnetd' ] && [ ! -e '$D2/opt/qb/etc/init.d' ] && grep -q 'ExecStart=/opt/qb/sbin/qbnetd' '$D2/lib/systemd/system/qbnetd.service'"
make -s BUILD="$BUILD" DESTDIR="$D2" PREFIX=/opt/qb SYSCONFDIR=/opt/qb/etc uninstall >/dev/null
check "make uninstall removes the daemon" test ! -e "$D2/opt/qb/sbin/qbnetd"

# 2. The unit, checked by systemd itself without a running systemd. verify
# needs ExecStart to exist: install with a real prefix under $OUT.
P=$OUT/prefix
make -s BUILD="$BUILD" PREFIX="$P/usr" SYSCONFDIR="$P/etc" install
UNIT=$P/usr/lib/systemd/system/qbnetd.service
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$UNIT" >"$OUT/verify.log" 2>&1
	rc=$?
	check "systemd-analyze verify: exit 0 and not one warning" test "$rc" -eq 0 -a ! -s "$OUT/verify.log"
	cat "$OUT/verify.log"
	sed 's/^UMask=/NoSuchKey=1\nUMask=/' "$UNIT" >"$P/broken.service"
	systemd-analyze verify "$P/broken.service" >"$OUT/verify-broken.log" 2>&1
	check "(and it does warn about a unit with a wrong key)" grep -q "Unknown key" "$OUT/verify-broken.log"
	score=$(systemd-analyze security --offline=true "$UNIT" 2>/dev/null |
		sed -n 's/.*Overall exposure level for qbnetd.service: \([0-9.]*\).*/\1/p')
	check "systemd-analyze security: exposure ${score:-?} of 10, at most 5.0 (OK)" \
		awk -v s="${score:-99}" 'BEGIN { exit !(s <= 5.0) }'
	check "Type=notify, Restart=on-failure, a bad option (exit 2) not retried" \
		bash -c "grep -qx Type=notify '$UNIT' && grep -qx Restart=on-failure '$UNIT' && grep -qx RestartPreventExitStatus=2 '$UNIT'"
else
	check "systemd-analyze is installed (tests/deps.sh test: systemd)" false
fi

# 3. The init script under BusyBox ash, dash and bash, with the real qbnetd
# in a network namespace (it creates qb0 there). No host listens on the
# socket: qbnetd is ready once its link has started, as with no USB host.
make -s BUILD="$OUT/sysv" SBINDIR="$BUILD" SYSCONFDIR="$OUT/sysv/etc" init-files
SCRIPT=$OUT/sysv/qbnetd.init
mkdir -p "$OUT/sysv/etc/default"
shells=()
command -v busybox >/dev/null && shells+=("busybox sh")
command -v dash >/dev/null && shells+=(dash)
shells+=(bash)
for sh in "${shells[@]}"; do
	check "$sh -n: the init script parses" $sh -n "$SCRIPT"
done
if [ "$(id -u)" = 0 ] && ip netns add "$NS"; then
	ip -n "$NS" link set lo up
	for sh in "${shells[@]}"; do
		tag=${sh%% *}
		log=$OUT/$tag.log
		cat >"$OUT/sysv/etc/default/qbnetd" <<-EOF
			QBNETD_ARGS="--link unix:$OUT/no-host.sock --state-dir $OUT/state-$tag --resolv-conf none"
			QBNETD_LOG=$log
			QBNETD_PIDFILE=$OUT/qbnetd-$tag.pid
			QBNETD_START_TIMEOUT=10
		EOF
		run() { ip netns exec "$NS" $sh "$SCRIPT" "$@"; }
		out=$(run start 2>&1)
		rc=$?
		check "$tag: start: '$out', exit 0" test "$rc" -eq 0 -a "$out" = "Starting qbnetd: OK"
		pid=$(cat "$OUT/qbnetd-$tag.pid" 2>/dev/null)
		check "$tag: the pid file names a running qbnetd" \
			bash -c "[ -n '$pid' ] && grep -q qbnetd /proc/$pid/comm"
		check "$tag: qb0 exists in the namespace" bash -c "ip -n $NS link show qb0 >/dev/null"
		check "$tag: status: running, exit 0" bash -c "[ \"\$(ip netns exec $NS $sh $SCRIPT status)\" = 'qbnetd is running (pid $pid)' ]"
		out=$(run start 2>&1)
		rc=$?
		check "$tag: a second start says it runs already, exit 0" \
			test "$rc" -eq 0 -a "$out" = "qbnetd is already running (pid $pid)"
		out=$(run restart 2>&1)
		newpid=$(cat "$OUT/qbnetd-$tag.pid" 2>/dev/null)
		check "$tag: restart: a new qbnetd ($pid -> $newpid)" \
			bash -c "[ -n '$newpid' ] && [ '$newpid' != '$pid' ] && ! kill -0 $pid 2>/dev/null && kill -0 $newpid"
		out=$(run stop 2>&1)
		rc=$?
		check "$tag: stop: '$out', exit 0" test "$rc" -eq 0 -a "$out" = "Stopping qbnetd: OK"
		check "$tag: qbnetd is gone, and qb0 and the pid file with it" \
			bash -c "! kill -0 $newpid 2>/dev/null && ! ip -n $NS link show qb0 2>/dev/null && [ ! -e '$OUT/qbnetd-$tag.pid' ]"
		run status >/dev/null
		check "$tag: status: not running, exit 3" test $? -eq 3
		run stop >/dev/null 2>&1
		check "$tag: stop when stopped: exit 0" test $? -eq 0
		check "$tag: the log has qbnetd's lines" grep -q "shutting down" "$log"
		sed -i "s|^QBNETD_ARGS=.*|QBNETD_ARGS=\"--no-such-option\"|" "$OUT/sysv/etc/default/qbnetd"
		run start >"$OUT/bad-$tag.out" 2>&1
		rc=$?
		check "$tag: a bad option: start fails (exit $rc) and shows why" \
			bash -c "[ $rc -eq 1 ] && grep -q 'exited at start' '$OUT/bad-$tag.out' && grep -q 'no-such-option' '$OUT/bad-$tag.out'"
		run bogus >"$OUT/usage-$tag.out" 2>&1
		rc=$?
		check "$tag: an unknown action: usage, exit 2" bash -c "[ $rc -eq 2 ] && grep -q Usage '$OUT/usage-$tag.out'"
	done
	ip netns del "$NS"
else
	check "the init script test runs as root with network namespaces" false
fi

# 4. The Buildroot package, through stand-ins for Buildroot's variables and
# macros: a source tree of LICENSE and board/ only (the host driver is
# excluded), then BUILD_CMDS and every INSTALL_* into a target directory.
BR=$OUT/buildroot
mkdir -p "$BR/src" "$BR/target"
cp "$REPO/LICENSE" "$BR/src/"
tar -C "$REPO" --exclude=board/build -cf - board | tar -C "$BR/src" -xf -
cat >"$BR/harness.mk" <<EOF
BR2_EXTERNAL_QBNET_PATH := $BOARD/packaging/buildroot
TARGET_CONFIGURE_OPTS = CC=gcc CFLAGS="-O2 -g" CPPFLAGS="-D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64" LDFLAGS=
TARGET_MAKE_ENV = PATH=\$(PATH)
TARGET_DIR := $BR/target
INSTALL := install
KCONFIG_ENABLE_OPT = echo \$(1) >> $BR/kconfig.txt
generic-package :=
include \$(BR2_EXTERNAL_QBNET_PATH)/external.mk
$BR/src/.stamp:
	\$(QBNETD_BUILD_CMDS)
	\$(QBNETD_INSTALL_TARGET_CMDS)
	\$(QBNETD_INSTALL_INIT_SYSV)
	\$(QBNETD_INSTALL_INIT_SYSTEMD)
	\$(QBNETD_LINUX_CONFIG_FIXUPS)
EOF
check "Buildroot: qbnetd.mk builds and installs (\$(TARGET_CONFIGURE_OPTS), HARDEN=0)" \
	make -s -f "$BR/harness.mk" "$BR/src/.stamp"
T=$BR/target
check "Buildroot: /usr/sbin/qbnetd, /etc/init.d/S45qbnetd, the unit, /etc/default/qbnetd" \
	test -x "$T/usr/sbin/qbnetd" -a -x "$T/etc/init.d/S45qbnetd" \
	-a -f "$T/usr/lib/systemd/system/qbnetd.service" -a -f "$T/etc/default/qbnetd"
check "Buildroot: the script and unit name /usr/sbin/qbnetd" \
	bash -c "grep -qx 'DAEMON=/usr/sbin/qbnetd' '$T/etc/init.d/S45qbnetd' && grep -q 'ExecStart=/usr/sbin/qbnetd' '$T/usr/lib/systemd/system/qbnetd.service'"
check "Buildroot: the license and its hash (qbnetd.hash)" \
	bash -c "grep -qx 'QBNETD_LICENSE_FILES = LICENSE' '$BOARD/packaging/buildroot/package/qbnetd/qbnetd.mk' && grep -q \"sha256  \$(sha256sum '$REPO/LICENSE' | cut -d' ' -f1)  LICENSE\" '$BOARD/packaging/buildroot/package/qbnetd/qbnetd.hash'"
check "Buildroot: the kernel fixups are exactly the fragment's options" \
	bash -c "diff <(sort '$BR/kconfig.txt') <(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p' '$BOARD/packaging/kernel/qbnetd.cfg' | sort)"

# 5. The Yocto recipe: its do_compile and do_install as BitBake would run
# them (its ${VAR}s are shell syntax too), with oe_runmake as make.
Y=$OUT/yocto
mkdir -p "$Y/D" "$Y/B"
RECIPE=$BOARD/packaging/yocto/recipes-connectivity/qbnetd/qbnetd_0.1.0.bb
md5=$(sed -n 's/^LIC_FILES_CHKSUM = "file:\/\/LICENSE;md5=\([0-9a-f]*\)"/\1/p' "$RECIPE")
check "Yocto: LIC_FILES_CHKSUM is LICENSE's md5" test "$md5" = "$(md5sum "$REPO/LICENSE" | cut -d' ' -f1)"
extra=$(awk '/^EXTRA_OEMAKE = "/ { on = 1 } on { print } on && /"$/ { exit }' "$RECIPE" |
	sed -e 's/^EXTRA_OEMAKE = "//' -e 's/"$//' -e 's/\\$//' | tr '\n' ' ')
body() { sed -n "/^$1() {/,/^}/p" "$RECIPE" | sed '1d;$d'; }
cat >"$Y/run.sh" <<EOF
set -e
S='$REPO' B='$Y/B' D='$Y/D' prefix=/usr sbindir=/usr/sbin sysconfdir=/etc
systemd_system_unitdir=/lib/systemd/system QBNETD_INIT_SYSTEMD=1 QBNETD_INIT_SYSV=1
export CC=gcc CFLAGS='-O2 -g' LDFLAGS=
EXTRA_OEMAKE="$extra"
oe_runmake() { make -s \$EXTRA_OEMAKE "\$@"; }
$(body do_compile)
$(body do_install)
EOF
check "Yocto: do_compile and do_install" bash "$Y/run.sh"
check "Yocto: \${sbindir}/qbnetd, the unit in \${systemd_system_unitdir}, the script in \${sysconfdir}/init.d" \
	test -x "$Y/D/usr/sbin/qbnetd" -a -f "$Y/D/lib/systemd/system/qbnetd.service" \
	-a -x "$Y/D/etc/init.d/qbnetd" -a -f "$Y/D/etc/default/qbnetd"
check "Yocto: built in \${B}, not in the source tree" test -x "$Y/B/qbnetd"
check "Yocto: systemd and update-rc.d classes, the service and script named" \
	bash -c "grep -qx 'inherit systemd update-rc.d' '$RECIPE' && grep -q 'SYSTEMD_SERVICE:\${PN} = \"qbnetd.service\"' '$RECIPE' && grep -qx 'INITSCRIPT_NAME = \"qbnetd\"' '$RECIPE'"
check "Yocto: the kernel bbappend finds the fragment" \
	test -f "$BOARD/packaging/yocto/recipes-kernel/linux/../../../kernel/qbnetd.cfg"

# 6. The kernel fragment against the kernel the USB VM tests run (Debian's):
# every option it sets exists there, and is built in or a module.
KCONFIG=$(ls "${QB_USBVM_WORK:-/var/tmp/qbnet-usbvm}"/kernel/boot/config-* 2>/dev/null | head -n 1)
if [ -z "$KCONFIG" ]; then
	echo "     fetching the USB VM's kernel (tests/usbvm/build.sh) for its config"
	"$REPO/tests/usbvm/build.sh" >"$OUT/usbvm-build.log" 2>&1
	KCONFIG=$(ls "${QB_USBVM_WORK:-/var/tmp/qbnet-usbvm}"/kernel/boot/config-* 2>/dev/null | head -n 1)
fi
if [ -n "$KCONFIG" ]; then
	missing=""
	for option in $(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=y$/\1/p' "$BOARD/packaging/kernel/qbnetd.cfg"); do
		grep -qE "^$option=(y|m)$" "$KCONFIG" || missing="$missing $option"
	done
	check "kernel fragment: every option is y or m in $(basename "$KCONFIG")${missing:+; not:$missing}" \
		test -z "$missing"
	check "kernel fragment: the UDCs it names exist there" \
		bash -c "for o in USB_DWC2 USB_MUSB_HDRC USB_CHIPIDEA USB_DWC3 USB_DUMMY_HCD; do grep -qE \"^(# )?CONFIG_\$o[= ]\" '$KCONFIG' || exit 1; done"
else
	check "the USB VM's kernel config (tests/usbvm/build.sh; log in $OUT/usbvm-build.log)" false
fi

check_report packaging-test
