/* Default routes: ours on the TUN, and in replace mode the system's ones,
 * saved to the state file before they are removed so that they come back
 * at exit or, after a crash, at the next start. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "routes.h"
#include "state.h"

#define STATE_HEADER "# qbnetd: default routes it replaced, restored when it stops or restarts\n"

int route_policy_parse(const char *text, struct route_policy *policy)
{
	if (!strcmp(text, "replace")) {
		policy->mode = ROUTE_MODE_REPLACE;
		policy->metric = 0;
		return 0;
	}
	if (!strcmp(text, "none")) {
		policy->mode = ROUTE_MODE_NONE;
		policy->metric = 0;
		return 0;
	}
	if (!strncmp(text, "metric:", 7) && text[7] >= '0' && text[7] <= '9') {
		char *end;
		errno = 0;
		unsigned long long metric = strtoull(text + 7, &end, 10);
		if (errno || *end || metric > UINT32_MAX)
			return -1;
		policy->mode = ROUTE_MODE_METRIC;
		policy->metric = (uint32_t)metric;
		return 0;
	}
	return -1;
}

void route_policy_describe(const struct route_policy *policy, char *out, size_t len)
{
	if (policy->mode == ROUTE_MODE_METRIC)
		snprintf(out, len, "metric:%u", policy->metric);
	else
		snprintf(out, len, "%s", policy->mode == ROUTE_MODE_REPLACE ? "replace" : "none");
}

int routes_init(struct routes *routes, const struct route_policy *policy, int nl, int ifindex,
		const char *state_dir)
{
	memset(routes, 0, sizeof(*routes));
	routes->policy = *policy;
	routes->nl = nl;
	routes->ifindex = ifindex;
	return state_path(routes->state_path, sizeof(routes->state_path), state_dir,
			  ROUTES_STATE_FILE);
}

static int family_index(int family)
{
	return family == AF_INET ? 0 : 1;
}

/* Writes the saved routes as "route FAMILY HEX" lines (or removes the file). */
static int save_state(struct routes *routes)
{
	size_t cap = sizeof(STATE_HEADER) + routes->saved_count * (2 * NETCONF_ROUTE_MAX + 16);
	char *text = malloc(cap);
	size_t len = 0;
	int rc;

	if (!routes->saved_count) {
		free(text);
		state_remove(routes->state_path);
		return 0;
	}
	if (!text)
		return -ENOMEM;
	len += (size_t)snprintf(text, cap, "%s", STATE_HEADER);
	for (size_t i = 0; i < routes->saved_count; i++) {
		const struct netconf_route *route = &routes->saved[i];
		const uint8_t *bytes = (const uint8_t *)route->msg;
		len += (size_t)snprintf(text + len, cap - len, "route %u ", route->family);
		for (size_t b = 0; b < route->len; b++)
			len += (size_t)snprintf(text + len, cap - len, "%02x", bytes[b]);
		len += (size_t)snprintf(text + len, cap - len, "\n");
	}
	rc = state_write(routes->state_path, text, len);
	free(text);
	return rc;
}

static void restore_family(struct routes *routes, int family)
{
	char err[512], text[160];
	size_t kept = 0;

	for (size_t i = 0; i < routes->saved_count; i++) {
		const struct netconf_route *route = &routes->saved[i];
		if (route->family != family) {
			routes->saved[kept++] = *route;
			continue;
		}
		netconf_route_describe(route, text, sizeof(text));
		if (netconf_route_replay(routes->nl, true, route, err, sizeof(err)))
			warn("%s", err);
		else
			info("restored %s", text);
	}
	routes->saved_count = kept;
	if (save_state(routes))
		warn("cannot update %s", routes->state_path);
}

void routes_remove_ours(struct routes *routes, int family)
{
	int index = family_index(family);
	char err[512];

	if (!routes->ours[index].installed)
		return;
	if (netconf_default_route(routes->nl, false, family, routes->ifindex,
				  routes->ours[index].has_gateway ? routes->ours[index].gateway :
				  NULL, routes->policy.metric, err, sizeof(err)))
		warn("%s", err);
	routes->ours[index].installed = false;
}

/* Replace mode: save the system's default routes of a family, then remove
 * them. The state file is written before anything is removed. */
static int take_over(struct routes *routes, int family, char *err, size_t err_len)
{
	struct netconf_route found[ROUTES_SAVED_MAX];
	char text[160];
	int count = netconf_default_routes(routes->nl, family, routes->ifindex, found,
					   ROUTES_SAVED_MAX, err, err_len);

	if (count < 0)
		return count;
	if (routes->saved_count + (size_t)count > ROUTES_SAVED_MAX) {
		snprintf(err, err_len, "too many default routes to save (at most %d)",
			 ROUTES_SAVED_MAX);
		return -ENOSPC;
	}
	memcpy(&routes->saved[routes->saved_count], found, (size_t)count * sizeof(found[0]));
	routes->saved_count += (size_t)count;
	int rc = save_state(routes);
	if (rc) {
		routes->saved_count -= (size_t)count;
		snprintf(err, err_len, "cannot write %s: %s", routes->state_path, strerror(-rc));
		return rc;
	}
	for (int i = 0; i < count; i++) {
		netconf_route_describe(&found[i], text, sizeof(text));
		rc = netconf_route_replay(routes->nl, false, &found[i], err, err_len);
		if (rc)
			return rc;
		info_limited("saved and removed %s", text);
	}
	return 0;
}

int routes_set(struct routes *routes, int family, bool want, const uint8_t *gateway, char *err,
	       size_t err_len)
{
	int index = family_index(family);
	size_t addr_len = family == AF_INET ? 4 : 16;

	if (routes->policy.mode == ROUTE_MODE_NONE)
		return 0;
	if (want && routes->ours[index].installed &&
	    routes->ours[index].has_gateway == (gateway != NULL) &&
	    (!gateway || !memcmp(routes->ours[index].gateway, gateway, addr_len)))
		return 0;

	routes_remove_ours(routes, family);
	if (!want) {
		if (routes->policy.mode == ROUTE_MODE_REPLACE)
			restore_family(routes, family);
		return 0;
	}
	if (routes->policy.mode == ROUTE_MODE_REPLACE) {
		int rc = take_over(routes, family, err, err_len);
		if (rc) {
			restore_family(routes, family);
			return rc;
		}
	}
	int rc = netconf_default_route(routes->nl, true, family, routes->ifindex, gateway,
				       routes->policy.metric, err, err_len);
	if (rc) {
		if (routes->policy.mode == ROUTE_MODE_REPLACE)
			restore_family(routes, family);
		return rc;
	}
	routes->ours[index].installed = true;
	routes->ours[index].has_gateway = gateway != NULL;
	if (gateway)
		memcpy(routes->ours[index].gateway, gateway, addr_len);
	return 0;
}

void routes_restore_all(struct routes *routes)
{
	routes_remove_ours(routes, AF_INET);
	routes_remove_ours(routes, AF_INET6);
	if (routes->policy.mode == ROUTE_MODE_REPLACE) {
		restore_family(routes, AF_INET);
		restore_family(routes, AF_INET6);
	}
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_route_line(const char *line, struct netconf_route *route)
{
	unsigned family;
	int consumed;

	if (sscanf(line, "route %u %n", &family, &consumed) != 1 ||
	    (family != AF_INET && family != AF_INET6))
		return -1;
	const char *hex = line + consumed;
	size_t len = strcspn(hex, "\n");
	if (len % 2 || len / 2 > NETCONF_ROUTE_MAX || len / 2 < 12)
		return -1;
	uint8_t *bytes = (uint8_t *)route->msg;
	for (size_t i = 0; i < len / 2; i++) {
		int high = hex_value(hex[2 * i]), low = hex_value(hex[2 * i + 1]);
		if (high < 0 || low < 0)
			return -1;
		bytes[i] = (uint8_t)(high << 4 | low);
	}
	route->family = (uint8_t)family;
	route->len = (uint16_t)(len / 2);
	return 0;
}

int routes_recover(int nl, const char *state_dir)
{
	char path[PATH_MAX], err[512], text[160];
	char *data;
	int restored = 0;

	if (state_path(path, sizeof(path), state_dir, ROUTES_STATE_FILE))
		return -1;
	ssize_t len = read_file(path, 1 << 20, &data);
	if (len < 0) {
		if (len != -ENOENT)
			warn("cannot read %s: %s", path, strerror((int)-len));
		return 0;
	}
	info("%s exists: a previous qbnetd did not exit cleanly; restoring its saved routes", path);
	for (char *line = data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		struct netconf_route route;
		if (*line == '#' || *line == '\n')
			continue;
		if (parse_route_line(line, &route)) {
			warn("%s: ignoring a line that is not a saved route", path);
			continue;
		}
		netconf_route_describe(&route, text, sizeof(text));
		if (netconf_route_replay(nl, true, &route, err, sizeof(err))) {
			warn("%s", err);
		} else {
			info("restored %s", text);
			restored++;
		}
	}
	free(data);
	state_remove(path);
	return restored;
}
