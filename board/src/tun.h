/* The TUN device (IFF_TUN | IFF_NO_PI | IFF_VNET_HDR): open it non-blocking,
 * say what to do when that fails, and switch its offloads (PROTOCOL.md
 * section 7) on and off. */
#ifndef QB_TUN_H
#define QB_TUN_H

#include <stdbool.h>
#include <stddef.h>

/* What the kernel's TUN accepted at open. */
struct tun_info {
	size_t vnet_hdr_len;	/* sizeof(struct virtio_net_hdr), or 0: no IFF_VNET_HDR */
	bool offload;		/* TUNSETOFFLOAD works: CAPS bit 1 may be offered */
};

/* Opens /dev/net/tun and attaches to (or creates) the interface with a
 * virtio_net_hdr before every packet, offloads off; returns the fd, or -1
 * with an error that names the fix in err. A kernel that refuses the vnet
 * header or the offloads is logged once and noted in *info. */
int tun_open(const char *name, struct tun_info *info, char *err, size_t err_len);

/* TUN_F_* flags for TUNSETOFFLOAD: 0 turns offloads off. 0 or -1 (errno). */
int tun_set_offload(int fd, unsigned flags);

#endif
