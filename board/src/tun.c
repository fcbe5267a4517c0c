/* Opening the TUN device and turning its failures into errors that name
 * the fix (load the module, get CAP_NET_ADMIN, pick another name). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tun.h"

#define TUN_PATH "/dev/net/tun"
#define CAP_FIX "run qbnetd as root or grant it CAP_NET_ADMIN (setcap cap_net_admin+ep)"

int tun_open(const char *name, char *err, size_t err_len)
{
	struct ifreq ifr;
	int fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
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

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int error = errno;
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
		else
			snprintf(err, err_len, "cannot create TUN interface %s: %s", name,
				 strerror(error));
		close(fd);
		return -1;
	}
	return fd;
}
