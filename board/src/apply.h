/* Applying a host CONFIG to the system: TUN MTU and link up, addresses,
 * default routes and DNS; only what changed, and all of it undone at exit.
 * The IPv4 link is essential; IPv6 and DNS are not: their failures are
 * logged once with the fix and the rest comes up anyway. */
#ifndef QB_APPLY_H
#define QB_APPLY_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "log.h"
#include "proto.h"
#include "routes.h"

struct apply {
	int nl;
	int ifindex;
	char ifname[IF_NAMESIZE];
	struct routes routes;
	struct dns dns;
	bool ipv6_offered;	/* our HELLO carries CAPS bit 0 */
	struct log_once ipv6_problem;
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
	       const struct route_policy *policy, enum dns_mode dns_mode, const char *resolv_path,
	       bool ipv6_offered, const char *state_dir, char *err, size_t err_len);
/* 0, or -1 with the cause in err when the IPv4 link cannot be set up (what
 * was applied stays recorded). */
int apply_config(struct apply *apply, const struct proto_config *config, uint16_t mtu,
		 char *err, size_t err_len);
/* Restores routes and DNS and removes our addresses. */
void apply_undo(struct apply *apply);

#endif
