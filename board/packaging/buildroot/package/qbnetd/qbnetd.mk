################################################################################
#
# qbnetd
#
################################################################################

QBNETD_VERSION = 0.1.0
# The qbnet repository this BR2_EXTERNAL tree lives in (board/packaging/buildroot).
QBNETD_SITE = $(BR2_EXTERNAL_QBNET_PATH)/../../..
QBNETD_SITE_METHOD = local
# Only the board daemon is built: the host driver and build products stay out.
QBNETD_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /host --exclude /bench --exclude /board/build --exclude /.git
QBNETD_LICENSE = Apache-2.0
QBNETD_LICENSE_FILES = LICENSE

# Buildroot's own hardening (BR2_SSP_*, BR2_RELRO_*, BR2_FORTIFY_SOURCE_*,
# BR2_PIC_PIE) applies through its toolchain wrapper: HARDEN=0 adds none of
# qbnetd's on top (a toolchain without SSP would fail to link them).
QBNETD_MAKE_OPTS = \
	$(TARGET_CONFIGURE_OPTS) \
	HARDEN=0 \
	PREFIX=/usr \
	SYSCONFDIR=/etc \
	SYSTEMD_UNITDIR=/usr/lib/systemd/system

define QBNETD_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) $(QBNETD_MAKE_OPTS) -C $(@D)/board all init-files
endef

define QBNETD_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/board/build/qbnetd $(TARGET_DIR)/usr/sbin/qbnetd
	$(INSTALL) -D -m 0644 $(@D)/board/packaging/default/qbnetd \
		$(TARGET_DIR)/etc/default/qbnetd
endef

# After S40network: qbnetd adds its own interface and default route.
define QBNETD_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(@D)/board/build/qbnetd.init \
		$(TARGET_DIR)/etc/init.d/S45qbnetd
endef

define QBNETD_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/board/build/qbnetd.service \
		$(TARGET_DIR)/usr/lib/systemd/system/qbnetd.service
endef

# The kernel options qbnetd needs (board/packaging/kernel/qbnetd.config),
# but the UDC, which is the board's choice.
define QBNETD_LINUX_CONFIG_FIXUPS
	$(call KCONFIG_ENABLE_OPT,CONFIG_NET)
	$(call KCONFIG_ENABLE_OPT,CONFIG_INET)
	$(call KCONFIG_ENABLE_OPT,CONFIG_IPV6)
	$(call KCONFIG_ENABLE_OPT,CONFIG_UNIX)
	$(call KCONFIG_ENABLE_OPT,CONFIG_TUN)
	$(call KCONFIG_ENABLE_OPT,CONFIG_INET_DIAG)
	$(call KCONFIG_ENABLE_OPT,CONFIG_INET_DIAG_DESTROY)
	$(call KCONFIG_ENABLE_OPT,CONFIG_AIO)
	$(call KCONFIG_ENABLE_OPT,CONFIG_EPOLL)
	$(call KCONFIG_ENABLE_OPT,CONFIG_SIGNALFD)
	$(call KCONFIG_ENABLE_OPT,CONFIG_TIMERFD)
	$(call KCONFIG_ENABLE_OPT,CONFIG_EVENTFD)
	$(call KCONFIG_ENABLE_OPT,CONFIG_CONFIGFS_FS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_GADGET)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_CONFIGFS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_CONFIGFS_F_FS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_CONFIGFS_ACM)
endef

$(eval $(generic-package))
