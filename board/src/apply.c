/* CONFIG application: compares the new CONFIG with what is in effect and
 * changes only the differences (old addresses and routes go first), then
 * logs what is now configured. IPv4 first and essential; IPv6 and DNS
 * after it, each failure logged once and the IPv4 link kept. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "log.h"
#include "netconf.h"
#include "notify.h"

int apply_init(struct apply *apply, int nl, const char *ifname,
	       const struct route_policy *policy, enum dns_mode dns_mode, const char *resolv_path,
	       bool ipv6_offered, const char *state_dir, char *err, size_t err_len)
{
	memset(apply, 0, sizeof(*apply));
	apply->nl = nl;
	apply->ipv6_offered = ipv6_offered;
	snprintf(apply->ifname, sizeof(apply->ifname), "%s", ifname);
	apply->ifindex = (int)if_nametoindex(ifname);
	if (!apply->ifindex) {
		snprintf(err, err_len, "interface %s vanished", ifname);
		return -1;
	}
	if (routes_init(&apply->routes, policy, nl, apply->ifindex, state_dir) ||
	    dns_init(&apply->dns, dns_mode, resolv_path, ifname, policy->mode == ROUTE_MODE_REPLACE,
		     state_dir)) {
		snprintf(err, err_len, "path too long under state directory %s", state_dir);
		return -1;
	}
	return 0;
}

static void remove_ipv4(struct apply *apply)
{
	char err[512];

	if (!apply->has_ipv4)
		return;
	/* Our route goes with the address (the kernel would flush it). */
	routes_remove_ours(&apply->routes, AF_INET);
	if (netconf_address(apply->nl, false, apply->ifindex, AF_INET, apply->ipv4,
			    apply->ipv4_prefix, err, sizeof(err)))
		warn("%s", err);
	apply->has_ipv4 = false;
}

static void remove_ipv6(struct apply *apply)
{
	char err[512];

	if (!apply->has_ipv6)
		return;
	routes_remove_ours(&apply->routes, AF_INET6);
	if (netconf_address(apply->nl, false, apply->ifindex, AF_INET6, apply->ipv6,
			    apply->ipv6_prefix, err, sizeof(err)))
		warn("%s", err);
	apply->has_ipv6 = false;
}

static int apply_ipv4(struct apply *apply, const struct proto_config *config, char *err,
		      size_t err_len)
{
	if (apply->has_ipv4 && (memcmp(apply->ipv4, config->ipv4, 4) ||
				apply->ipv4_prefix != config->ipv4_prefix))
		remove_ipv4(apply);
	if (!apply->has_ipv4) {
		if (netconf_address(apply->nl, true, apply->ifindex, AF_INET, config->ipv4,
				    config->ipv4_prefix, err, err_len))
			return -1;
		memcpy(apply->ipv4, config->ipv4, 4);
		apply->ipv4_prefix = config->ipv4_prefix;
		apply->has_ipv4 = true;
	}
	return routes_set(&apply->routes, AF_INET, true,
			  config->has_gateway4 ? config->gateway4 : NULL, err, err_len);
}

/* IPv6 address and default route; -1 with the cause in err, after which
 * IPv6 is left unconfigured (and the system's IPv6 default routes back). */
static int apply_ipv6(struct apply *apply, const struct proto_config *config, char *err,
		      size_t err_len)
{
	if (apply->has_ipv6 && (!config->has_ipv6 || memcmp(apply->ipv6, config->ipv6, 16) ||
				apply->ipv6_prefix != config->ipv6_prefix))
		remove_ipv6(apply);
	if (config->has_ipv6 && !apply->has_ipv6) {
		if (netconf_address(apply->nl, true, apply->ifindex, AF_INET6, config->ipv6,
				    config->ipv6_prefix, err, err_len))
			goto failed;
		memcpy(apply->ipv6, config->ipv6, 16);
		apply->ipv6_prefix = config->ipv6_prefix;
		apply->has_ipv6 = true;
	}
	if (routes_set(&apply->routes, AF_INET6, config->has_ipv6,
		       config->has_gateway6 ? config->gateway6 : NULL, err, err_len))
		goto failed;
	return 0;
failed:
	remove_ipv6(apply);
	routes_set(&apply->routes, AF_INET6, false, NULL, NULL, 0);
	return -1;
}

static void log_applied(const struct apply *apply, const struct proto_config *config)
{
	char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN], gw4[INET_ADDRSTRLEN] = "",
	     gw6[INET6_ADDRSTRLEN] = "", policy[32], dns[512] = "", addr[INET6_ADDRSTRLEN],
	     where[PATH_MAX + 32];
	size_t used = 0;

	inet_ntop(AF_INET, config->ipv4, v4, sizeof(v4));
	if (config->has_gateway4)
		inet_ntop(AF_INET, config->gateway4, gw4, sizeof(gw4));
	route_policy_describe(&apply->routes.policy, policy, sizeof(policy));
	for (unsigned i = 0; i < config->dns4_count; i++) {
		inet_ntop(AF_INET, config->dns4[i], addr, sizeof(addr));
		used += (size_t)snprintf(dns + used, sizeof(dns) - used, " %s", addr);
	}
	notify("STATUS=configured: %s %s/%u mtu %u", apply->ifname, v4, config->ipv4_prefix, apply->mtu);
	dns_describe(&apply->dns, where, sizeof(where));
	info_limited("CONFIG applied: %s mtu %u, %s/%u, default route %s%s (%s), DNS%s%s",
		     apply->ifname, apply->mtu, v4, config->ipv4_prefix, gw4[0] ? "via " : "dev ",
		     gw4[0] ? gw4 : apply->ifname, policy, dns[0] ? dns : " none",
		     dns[0] ? where : "");
	if (config->has_ipv6) {
		used = 0;
		dns[0] = '\0';
		inet_ntop(AF_INET6, config->ipv6, v6, sizeof(v6));
		if (config->has_gateway6)
			inet_ntop(AF_INET6, config->gateway6, gw6, sizeof(gw6));
		for (unsigned i = 0; i < config->dns6_count; i++) {
			inet_ntop(AF_INET6, config->dns6[i], addr, sizeof(addr));
			used += (size_t)snprintf(dns + used, sizeof(dns) - used, " %s", addr);
		}
		info_limited("CONFIG applied: %s %s/%u, IPv6 default route %s%s, DNS%s", apply->ifname, v6,
			     config->ipv6_prefix, gw6[0] ? "via " : "dev ", gw6[0] ? gw6 : apply->ifname,
			     dns[0] ? dns : " none");
	}
}

int apply_config(struct apply *apply, const struct proto_config *host_config, uint16_t mtu,
		 char *err, size_t err_len)
{
	struct proto_config config = *host_config;
	char ipv6_err[512];

	if (!apply->has_mtu || apply->mtu != mtu) {
		if (netconf_link_up(apply->nl, apply->ifindex, mtu, err, err_len))
			return -1;
		apply->has_mtu = true;
		apply->mtu = mtu;
	}
	if (apply_ipv4(apply, &config, err, err_len))
		return -1;
	if (config.has_ipv6 && !apply->ipv6_offered) {
		log_once(&apply->ipv6_problem, LOG_LEVEL_WARN,
			 "the host's CONFIG has IPv6, which this board did not offer (IPv6 is disabled here): configuring IPv4 only");
		config.has_ipv6 = false;
	} else if (apply_ipv6(apply, &config, ipv6_err, sizeof(ipv6_err))) {
		log_once(&apply->ipv6_problem, LOG_LEVEL_WARN,
			 "IPv6 not configured: %s; the IPv4 link is up (enable IPv6 on %s, or have the host send no IPv6)",
			 ipv6_err, apply->ifname);
		config.has_ipv6 = false;
	} else {
		log_once_reset(&apply->ipv6_problem);
	}
	dns_apply(&apply->dns, &config);
	log_applied(apply, &config);
	return 0;
}

void apply_undo(struct apply *apply)
{
	routes_restore_all(&apply->routes);
	dns_restore(&apply->dns);
	remove_ipv6(apply);
	remove_ipv4(apply);
}
