/* The data path: TUN reads aggregated into bundles for the link, received
 * bundles validated whole and dispatched (control to the session, IP to the
 * TUN, with offload headers mapped to the TUN's). It wires the link's
 * callbacks and the session's hooks together. */
#ifndef QB_DATAPATH_H
#define QB_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "apply.h"
#include "link.h"
#include "session.h"
#include "tun.h"

struct datapath {
	int epoll_fd;
	int tun_fd;
	bool tun_reading;	/* EPOLLIN on the TUN is armed */
	bool link_up;
	bool tun_failed;	/* the TUN is unusable (deleted): stop the daemon */
	struct link *link;
	struct apply *apply;
	struct session session;
	uint8_t *tx_buf;	/* one bundle of up to PROTO_BUNDLE_ABS_MAX */
	uint32_t rx_limit;	/* the MAX_BUNDLE we advertised */
	size_t vnet_hdr_len;	/* before every TUN packet: 10, or 0 without IFF_VNET_HDR */
	/* Derived from the session's view of the host (update_features()): */
	bool offload;		/* section 7 in use: OFFLOAD frames from the host accepted */
	unsigned tun_offloads;	/* TUN_F_* now set with TUNSETOFFLOAD */
};

extern const struct link_callbacks datapath_link_callbacks;

/* Registers tun_fd (opened as tun says) with epoll_fd; 0 or -1 (logged). */
int datapath_init(struct datapath *dp, int epoll_fd, int tun_fd, const struct tun_info *tun,
		  struct apply *apply, const struct session_params *params);
void datapath_set_link(struct datapath *dp, struct link *link);
void datapath_tun_event(struct datapath *dp, uint32_t events);
int datapath_timeout_ms(struct datapath *dp);
void datapath_tick(struct datapath *dp);
void datapath_free(struct datapath *dp);

#endif
