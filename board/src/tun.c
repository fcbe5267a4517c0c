/* Opening the TUN device and turning its failures into errors that name
 * the fix (load the module, get CAP_NET_ADMIN, pick another name); the
 * virtio_net_hdr set-up and the offload switch (TUNSETOFFLOAD). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "tun.h"

#define TUN_PATH "/dev/net/tun"
#define CAP_FIX "run qbnetd as root or grant it CAP_NET_ADMIN (setcap cap_net_admin+ep)"
#define TUN_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)

static int open_device(char *err, size_t err_len)
{
	int fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	int error = errno;
	if (error == ENOENT || error == ENODEV || error == ENXIO)
		snprintf(err, err_len, "cannot open %s: %s: load the TUN driver (modprobe tun)",
			 TUN_PATH, strerror(error));
	else if (error == EACCES || error == EPERM)
		snprintf(err, err_len, "cannot open %s: %s: %s", TUN_PATH, strerror(error),
			 CAP_FIX);
	else
		snprintf(err, err_len, "cannot open %s: %s", TUN_PATH, strerror(error));
	return -1;
}

static int attach(int fd, const char *name, short flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	return ioctl(fd, TUNSETIFF, &ifr);
}

static void attach_error(int error, const char *name, char *err, size_t err_len)
{
	if (error == EPERM || error == EACCES)
		snprintf(err, err_len, "cannot create TUN interface %s: %s: %s", name,
			 strerror(error), CAP_FIX);
	else if (error == EBUSY)
		snprintf(err, err_len,
			 "cannot attach to TUN interface %s: it is in use by another process (another qbnetd?); stop it or pick another name with --tun",
			 name);
	else if (error == EINVAL)
		snprintf(err, err_len,
			 "cannot create TUN interface %s: an interface of another type has that name; pick another name with --tun",
			 name);
	else if (error == ENOTTY || error == EBADFD)
		snprintf(err, err_len,
			 "cannot create TUN interface %s: %s is not the TUN device (character device 10:200): load the TUN driver (modprobe tun), or recreate it (mknod %s c 10 200)",
			 name, TUN_PATH, TUN_PATH);
	else
		snprintf(err, err_len, "cannot create TUN interface %s: %s", name,
			 strerror(error));
}

/* A TUN fd without a vnet header: the kernel refused one (logged by the
 * caller); a fresh fd, since TUNSETIFF cannot be repeated on one. */
static int open_plain(const char *name, struct tun_info *info, char *err, size_t err_len)
{
	int fd = open_device(err, err_len);

	if (fd < 0)
		return -1;
	if (attach(fd, name, IFF_TUN | IFF_NO_PI)) {
		attach_error(errno, name, err, err_len);
		close(fd);
		return -1;
	}
	info->vnet_hdr_len = 0;
	info->offload = false;
	return fd;
}

int tun_open(const char *name, struct tun_info *info, char *err, size_t err_len)
{
	int fd = open_device(err, err_len);

	if (fd < 0)
		return -1;
	if (attach(fd, name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR)) {
		int error = errno;
		close(fd);
		if (error != EINVAL) {
			attach_error(error, name, err, err_len);
			return -1;
		}
		/* EINVAL: IFF_VNET_HDR refused, or a name of another type. */
		fd = open_plain(name, info, err, err_len);
		if (fd >= 0)
			warn("the kernel refused IFF_VNET_HDR on TUN %s: running without offload (CAPS bit 1 off)",
			     name);
		return fd;
	}

	/* The default is this size already; say so, so nothing depends on it. */
	int hdr_len = (int)sizeof(struct virtio_net_hdr);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len)) {
		int error = errno;
		close(fd);
		fd = open_plain(name, info, err, err_len);
		if (fd >= 0)
			warn("the kernel refused a %d-byte vnet header on TUN %s (%s): running without offload (CAPS bit 1 off)",
			     hdr_len, name, strerror(error));
		return fd;
	}
	info->vnet_hdr_len = sizeof(struct virtio_net_hdr);

	/* Probe the offloads, then leave them off until a session uses them. */
	info->offload = !tun_set_offload(fd, TUN_OFFLOADS);
	if (!info->offload)
		warn("the kernel refused TUN offloads (TUNSETOFFLOAD csum, tso4, tso6) on %s: %s: running without offload (CAPS bit 1 off)",
		     name, strerror(errno));
	if (tun_set_offload(fd, 0) && info->offload) {
		warn("cannot turn TUN offloads off on %s: %s: running without offload (CAPS bit 1 off)",
		     name, strerror(errno));
		info->offload = false;
	}
	return fd;
}

int tun_set_offload(int fd, unsigned flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags);
}
