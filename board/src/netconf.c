/* rtnetlink requests for addresses, links and default routes, and the dump
 * that finds the system's default routes so they can be saved and put back. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "netconf.h"
#include "netlink.h"

#define NETCONF_DUMP_ATTEMPTS 5

#ifndef IFA_F_NODAD
#define IFA_F_NODAD 0x02
#endif

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Fills err with "what: kernel text or strerror" and returns rc. */
static int failed(int rc, const char *what, char *err, size_t err_len, const char *kernel)
{
	char detail[256];

	snprintf(detail, sizeof(detail), "%s", kernel && kernel[0] ? kernel : strerror(-rc));
	snprintf(err, err_len, "%s: %s", what, detail);
	return rc;
}

int netconf_link_up(int nl, int ifindex, uint32_t mtu, char *err, size_t err_len)
{
	struct nl_request req;
	struct ifinfomsg *ifi = nl_request_init(&req, RTM_NEWLINK, 0, sizeof(*ifi));
	char kernel[256], what[64];
	int rc;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	nl_put_u32(&req, IFLA_MTU, mtu);
	rc = nl_transact(nl, &req, kernel, sizeof(kernel));
	if (rc) {
		snprintf(what, sizeof(what), "cannot set MTU %u and bring the link up", mtu);
		return failed(rc, what, err, err_len, kernel);
	}
	return 0;
}

int netconf_address(int nl, bool add, int ifindex, int family, const uint8_t *addr,
		    uint8_t prefix, char *err, size_t err_len)
{
	struct nl_request req;
	struct ifaddrmsg *ifa = nl_request_init(&req, add ? RTM_NEWADDR : RTM_DELADDR,
						add ? NLM_F_CREATE | NLM_F_REPLACE : 0,
						sizeof(*ifa));
	char kernel[256], what[128], text[INET6_ADDRSTRLEN];
	uint32_t flags = family == AF_INET6 ? IFA_F_NODAD : 0;
	int rc;

	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_flags = (uint8_t)flags;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	if (family == AF_INET)
		nl_put_attr(&req, IFA_LOCAL, addr, 4);
	nl_put_attr(&req, IFA_ADDRESS, addr, (size_t)addr_len(family));
	if (add && flags)
		nl_put_u32(&req, IFA_FLAGS, flags);
	rc = nl_transact(nl, &req, kernel, sizeof(kernel));
	if (rc && !(!add && rc == -EADDRNOTAVAIL)) {
		inet_ntop(family, addr, text, sizeof(text));
		snprintf(what, sizeof(what), "cannot %s address %s/%u", add ? "add" : "remove",
			 text, prefix);
		return failed(rc, what, err, err_len, kernel);
	}
	return 0;
}

int netconf_default_route(int nl, bool add, int family, int ifindex, const uint8_t *gateway,
			  uint32_t metric, char *err, size_t err_len)
{
	struct nl_request req;
	struct rtmsg *rtm = nl_request_init(&req, add ? RTM_NEWROUTE : RTM_DELROUTE,
					    add ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*rtm));
	char kernel[256], what[160], text[INET6_ADDRSTRLEN];
	int rc;

	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	rtm->rtm_scope = gateway || family == AF_INET6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (gateway) {
		rtm->rtm_flags = RTNH_F_ONLINK;
		nl_put_attr(&req, RTA_GATEWAY, gateway, (size_t)addr_len(family));
	}
	nl_put_u32(&req, RTA_OIF, (uint32_t)ifindex);
	nl_put_u32(&req, RTA_PRIORITY, metric);
	rc = nl_transact(nl, &req, kernel, sizeof(kernel));
	if (rc && !(!add && rc == -ESRCH)) {
		if (gateway)
			inet_ntop(family, gateway, text, sizeof(text));
		snprintf(what, sizeof(what), "cannot %s default route%s%s metric %u",
			 add ? "add" : "remove", gateway ? " via " : "", gateway ? text : "",
			 metric);
		if (rc == -EEXIST)
			snprintf(kernel, sizeof(kernel),
				 "a default route with that metric exists; use --route-mode metric:N with another N");
		return failed(rc, what, err, err_len, kernel);
	}
	return 0;
}

struct dump_ctx {
	int family;
	int exclude_ifindex;
	struct netconf_route *out;
	size_t max;
	size_t count;
	int error;
};

/* Attributes that describe a route and that RTM_NEWROUTE takes back. */
static bool attr_kept(uint16_t type)
{
	switch (type) {
	case RTA_GATEWAY:
	case RTA_OIF:
	case RTA_PRIORITY:
	case RTA_PREFSRC:
	case RTA_METRICS:
	case RTA_MULTIPATH:
	case RTA_FLOW:
	case RTA_TABLE:
	case RTA_PREF:
	case RTA_VIA:
	case RTA_ENCAP_TYPE:
	case RTA_ENCAP:
	case RTA_NH_ID:
		return true;
	}
	return false;
}

static uint32_t attr_u32(const uint8_t *value, size_t len)
{
	uint32_t v = 0;

	if (len >= 4)
		memcpy(&v, value, 4);
	return v;
}

/* Kernel-set next-hop flags (dead, linkdown, offload) are refused on add. */
static void clean_multipath(uint8_t *value, size_t len)
{
	size_t offset = 0;

	while (offset + sizeof(struct rtnexthop) <= len) {
		struct rtnexthop nh;
		memcpy(&nh, value + offset, sizeof(nh));
		if (nh.rtnh_len < sizeof(nh) || offset + nh.rtnh_len > len)
			return;
		nh.rtnh_flags &= RTNH_F_ONLINK;
		memcpy(value + offset, &nh, sizeof(nh));
		offset += RTNH_ALIGN(nh.rtnh_len);
	}
}

static void dump_route(const struct nlmsghdr *msg, void *opaque)
{
	struct dump_ctx *ctx = opaque;
	const struct rtmsg *rtm = nl_payload(msg);
	size_t header = NLMSG_ALIGN(sizeof(*rtm));

	if (msg->nlmsg_type != RTM_NEWROUTE || msg->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return;
	if (rtm->rtm_family != ctx->family || rtm->rtm_dst_len || rtm->rtm_type != RTN_UNICAST ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return;

	const uint8_t *attrs = (const uint8_t *)rtm + header;
	size_t attrs_len = msg->nlmsg_len - NLMSG_HDRLEN > header ?
			   msg->nlmsg_len - NLMSG_HDRLEN - header : 0;
	uint32_t table = rtm->rtm_table;
	int oif = 0;
	for (size_t offset = 0; offset + RTA_LENGTH(0) <= attrs_len;) {
		struct rtattr rta;
		memcpy(&rta, attrs + offset, sizeof(rta));
		if (rta.rta_len < RTA_LENGTH(0) || offset + rta.rta_len > attrs_len)
			break;
		const uint8_t *value = attrs + offset + RTA_LENGTH(0);
		size_t value_len = rta.rta_len - RTA_LENGTH(0);
		if (rta.rta_type == RTA_TABLE)
			table = attr_u32(value, value_len);
		else if (rta.rta_type == RTA_OIF)
			oif = (int)attr_u32(value, value_len);
		offset += RTA_ALIGN(rta.rta_len);
	}
	if (table != RT_TABLE_MAIN || (oif && oif == ctx->exclude_ifindex))
		return;
	if (ctx->count >= ctx->max) {
		ctx->error = -ENOSPC;
		return;
	}

	struct netconf_route *route = &ctx->out[ctx->count];
	uint8_t *out = (uint8_t *)route->msg;
	struct rtmsg copy = *rtm;
	size_t len = header;
	copy.rtm_flags &= RTNH_F_ONLINK;
	memcpy(out, &copy, sizeof(copy));
	for (size_t offset = 0; offset + RTA_LENGTH(0) <= attrs_len;) {
		struct rtattr rta;
		memcpy(&rta, attrs + offset, sizeof(rta));
		if (rta.rta_len < RTA_LENGTH(0) || offset + rta.rta_len > attrs_len)
			break;
		if (attr_kept(rta.rta_type)) {
			if (len + RTA_ALIGN(rta.rta_len) > NETCONF_ROUTE_MAX) {
				ctx->error = -E2BIG;
				return;
			}
			memcpy(out + len, attrs + offset, rta.rta_len);
			if (rta.rta_type == RTA_MULTIPATH)
				clean_multipath(out + len + RTA_LENGTH(0),
						rta.rta_len - RTA_LENGTH(0));
			len += RTA_ALIGN(rta.rta_len);
		}
		offset += RTA_ALIGN(rta.rta_len);
	}
	route->family = (uint8_t)ctx->family;
	route->len = (uint16_t)len;
	ctx->count++;
}

int netconf_default_routes(int nl, int family, int exclude_ifindex, struct netconf_route *out,
			   size_t max, char *err, size_t err_len)
{
	struct nl_request req;
	struct rtmsg *rtm = nl_request_init(&req, RTM_GETROUTE, 0, sizeof(*rtm));
	struct dump_ctx ctx = { .family = family, .exclude_ifindex = exclude_ifindex,
				.out = out, .max = max };
	int rc;

	rtm->rtm_family = (uint8_t)family;
	/* A dump interrupted by a route change may be inconsistent: again. */
	for (int attempt = 0; attempt < NETCONF_DUMP_ATTEMPTS; attempt++) {
		ctx.count = 0;
		ctx.error = 0;
		rc = nl_dump(nl, &req, dump_route, &ctx);
		if (rc != -EINTR)
			break;
	}
	if (!rc)
		rc = ctx.error;
	if (rc) {
		snprintf(err, err_len, "cannot read the IPv%c default routes: %s",
			 family == AF_INET ? '4' : '6',
			 rc == -ENOSPC ? "too many default routes to save" :
			 rc == -E2BIG ? "a default route is too large to save" :
			 rc == -EINTR ? "the routing table kept changing while it was read" :
			 strerror(-rc));
		return rc;
	}
	return (int)ctx.count;
}

int netconf_route_replay(int nl, bool add, const struct netconf_route *route, char *err,
			 size_t err_len)
{
	struct nl_request req;
	char kernel[256], what[192], text[160];
	int rc;

	if (route->len < sizeof(struct rtmsg) || route->len > NETCONF_ROUTE_MAX) {
		snprintf(err, err_len, "invalid saved route");
		return -EINVAL;
	}
	void *body = nl_request_init(&req, add ? RTM_NEWROUTE : RTM_DELROUTE,
				     add ? NLM_F_CREATE | NLM_F_EXCL : 0, route->len);
	memcpy(body, route->msg, route->len);
	rc = nl_transact(nl, &req, kernel, sizeof(kernel));
	if (rc && !(add && rc == -EEXIST) && !(!add && rc == -ESRCH)) {
		netconf_route_describe(route, text, sizeof(text));
		snprintf(what, sizeof(what), "cannot %s route %s", add ? "restore" : "remove", text);
		return failed(rc, what, err, err_len, kernel);
	}
	return 0;
}

void netconf_route_describe(const struct netconf_route *route, char *out, size_t len)
{
	const uint8_t *msg = (const uint8_t *)route->msg;
	size_t header = NLMSG_ALIGN(sizeof(struct rtmsg));
	char gateway[INET6_ADDRSTRLEN] = "", dev[IF_NAMESIZE] = "";
	uint32_t metric = 0;
	bool multipath = false;

	for (size_t offset = header; offset + RTA_LENGTH(0) <= route->len;) {
		struct rtattr rta;
		memcpy(&rta, msg + offset, sizeof(rta));
		if (rta.rta_len < RTA_LENGTH(0) || offset + rta.rta_len > route->len)
			break;
		const uint8_t *value = msg + offset + RTA_LENGTH(0);
		size_t value_len = rta.rta_len - RTA_LENGTH(0);
		if (rta.rta_type == RTA_GATEWAY && value_len == (size_t)addr_len(route->family))
			inet_ntop(route->family, value, gateway, sizeof(gateway));
		else if (rta.rta_type == RTA_OIF && !if_indextoname(attr_u32(value, value_len), dev))
			snprintf(dev, sizeof(dev), "#%u", attr_u32(value, value_len));
		else if (rta.rta_type == RTA_PRIORITY)
			metric = attr_u32(value, value_len);
		else if (rta.rta_type == RTA_MULTIPATH)
			multipath = true;
		offset += RTA_ALIGN(rta.rta_len);
	}
	snprintf(out, len, "default%s%s%s%s%s metric %u", gateway[0] ? " via " : "", gateway,
		 dev[0] ? " dev " : "", dev, multipath ? " (multipath)" : "", metric);
}
