/* Applying a host CONFIG to the system: TUN MTU and link up, addresses,
 * default routes and DNS; only what changed, and all of it undone at exit. */
#ifndef QB_APPLY_H
#define QB_APPLY_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "resolv.h"
#include "routes.h"

struct apply {
	int nl;
	int ifindex;
	char ifname[IF_NAMESIZE];
	struct routes routes;
	struct resolv resolv;
	bool has_mtu;
	uint16_t mtu;
	bool has_ipv4;
	uint8_t ipv4[4];
	uint8_t ipv4_prefix;
	bool has_ipv6;
	uint8_t ipv6[16];
	uint8_t ipv6_prefix;
};

int apply_init(struct apply *apply, int nl, const char *ifname,
	       const struct route_policy *policy, const char *resolv_path,
	       const char *state_dir, char *err, size_t err_len);
/* 0, or -1 with the cause in err (what was applied stays recorded). */
int apply_config(struct apply *apply, const struct proto_config *config, uint16_t mtu,
		 char *err, size_t err_len);
/* Restores routes and resolv.conf and removes our addresses. */
void apply_undo(struct apply *apply);

#endif
