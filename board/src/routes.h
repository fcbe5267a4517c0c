/* Default-route policy (--route-mode replace|metric:N|none): install ours,
 * save and remove the system's (replace), put them back on exit, and after
 * a crash from the state file. */
#ifndef QB_ROUTES_H
#define QB_ROUTES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netconf.h"

enum route_mode {
	ROUTE_MODE_REPLACE,
	ROUTE_MODE_METRIC,
	ROUTE_MODE_NONE,
};

struct route_policy {
	enum route_mode mode;
	uint32_t metric;	/* ROUTE_MODE_METRIC */
};

#define ROUTES_SAVED_MAX 16
#define ROUTES_STATE_FILE "routes"

struct routes {
	struct route_policy policy;
	int nl;
	int ifindex;
	char state_path[PATH_MAX];
	struct netconf_route saved[ROUTES_SAVED_MAX];
	size_t saved_count;
	struct {
		bool installed;
		bool has_gateway;
		uint8_t gateway[16];
	} ours[2];		/* [0] IPv4, [1] IPv6 */
};

/* "replace", "metric:N" or "none"; 0 or -1. */
int route_policy_parse(const char *text, struct route_policy *policy);
void route_policy_describe(const struct route_policy *policy, char *out, size_t len);

int routes_init(struct routes *routes, const struct route_policy *policy, int nl, int ifindex,
		const char *state_dir);
/* Makes our default route of a family "via gateway" (NULL: dev only), or
 * none when !want (restoring the saved ones in replace mode). */
int routes_set(struct routes *routes, int family, bool want, const uint8_t *gateway, char *err,
	       size_t err_len);
/* Removes our route of a family but keeps the saved ones saved. */
void routes_remove_ours(struct routes *routes, int family);
/* Exit: remove ours, restore all saved, forget the state file. */
void routes_restore_all(struct routes *routes);
/* Start: restore routes saved by a qbnetd that did not exit cleanly.
 * Returns how many were restored. */
int routes_recover(int nl, const char *state_dir);

#endif
