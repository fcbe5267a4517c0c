SUMMARY = "qbnet board daemon: IP networking over USB through the host"
DESCRIPTION = "qbnetd makes the board a USB gadget (ConfigFS + FunctionFS), \
creates the TUN interface qb0 and applies the address, default route and DNS \
that the qbnet driver on the host computer sends."
SECTION = "net"
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57"

# By default the recipe builds the qbnet checkout this layer lives in
# (board/packaging/yocto) with externalsrc. To fetch it instead, set in
# local.conf or a bbappend, e.g.:
#   QBNET_SRC_URI = "git://git.example.com/qbnet.git;protocol=https;branch=main"
#   SRCREV:pn-qbnetd = "<commit>"
QBNET_SRC_URI ??= ""
SRC_URI = "${QBNET_SRC_URI}"
SRCREV ??= "${AUTOREV}"
# externalsrc sets S to EXTERNALSRC itself.
S = "${WORKDIR}/git"
EXTERNALSRC := "${@os.path.normpath(os.path.join(d.getVar('THISDIR'), '../../../../..'))}"
inherit ${@'' if d.getVar('QBNET_SRC_URI') else 'externalsrc'}

inherit systemd update-rc.d

QBNETD_INIT_SYSTEMD = "${@bb.utils.contains('DISTRO_FEATURES', 'systemd', '1', '0', d)}"
QBNETD_INIT_SYSV = "${@bb.utils.contains('DISTRO_FEATURES', 'sysvinit', '1', '0', d)}"

# The toolchain and flags come from the environment (CC, CFLAGS, CPPFLAGS,
# LDFLAGS); the distro's security flags do the hardening (HARDEN=0).
EXTRA_OEMAKE = "-C ${S}/board BUILD=${B} HARDEN=0 PREFIX=${prefix} SBINDIR=${sbindir} \
    SYSCONFDIR=${sysconfdir} SYSTEMD_UNITDIR=${systemd_system_unitdir} \
    INITDIR=${sysconfdir}/init.d \
    INSTALL_SYSTEMD=${QBNETD_INIT_SYSTEMD} INSTALL_SYSV=${QBNETD_INIT_SYSV}"

do_compile() {
	oe_runmake all init-files
}

do_install() {
	oe_runmake install DESTDIR=${D}
}

SYSTEMD_SERVICE:${PN} = "qbnetd.service"
INITSCRIPT_NAME = "qbnetd"
INITSCRIPT_PARAMS = "start 45 2 3 4 5 . stop 55 0 1 6 ."
CONFFILES:${PN} = "${sysconfdir}/default/qbnetd"

# Loaded by qbnetd (modprobe) or the TUN device when they are modules;
# nothing to install when they are built in.
RRECOMMENDS:${PN} = "kmod kernel-module-libcomposite kernel-module-usb-f-fs kernel-module-tun"
