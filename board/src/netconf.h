/* Interface configuration over rtnetlink: MTU and up, IPv4/IPv6 addresses,
 * default routes (ours, and dumping/replaying the system's). */
#ifndef QB_NETCONF_H
#define QB_NETCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETCONF_ROUTE_MAX 1024

/* A default route as the kernel reported it, reduced to what RTM_NEWROUTE
 * accepts back: struct rtmsg followed by its attributes. */
struct netconf_route {
	uint8_t family;
	uint16_t len;
	uint32_t msg[NETCONF_ROUTE_MAX / 4];
};

int netconf_link_up(int nl, int ifindex, uint32_t mtu, char *err, size_t err_len);
int netconf_address(int nl, bool add, int ifindex, int family, const uint8_t *addr,
		    uint8_t prefix, char *err, size_t err_len);
/* Our default route: "default via GATEWAY dev IF onlink metric M", or
 * "default dev IF metric M" when gateway is NULL. */
int netconf_default_route(int nl, bool add, int family, int ifindex, const uint8_t *gateway,
			  uint32_t metric, char *err, size_t err_len);
/* The main table's unicast default routes of a family, except those via
 * exclude_ifindex. Returns the count, or -errno (err says why). */
int netconf_default_routes(int nl, int family, int exclude_ifindex, struct netconf_route *out,
			   size_t max, char *err, size_t err_len);
/* Adds (with NLM_F_EXCL) or deletes a route saved by netconf_default_routes. */
int netconf_route_replay(int nl, bool add, const struct netconf_route *route, char *err,
			 size_t err_len);
/* "default via 192.0.2.1 dev eth0 metric 100", for logs. */
void netconf_route_describe(const struct netconf_route *route, char *out, size_t len);

#endif
