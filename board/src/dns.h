/* The host's DNS servers on the board (--resolv-conf): through
 * systemd-resolved or resolvconf as per-link DNS on the TUN where they
 * manage DNS, else in a resolv.conf file. Never essential: a failure is
 * logged once with the fix and the link comes up anyway. */
#ifndef QB_DNS_H
#define QB_DNS_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>

#include "log.h"
#include "proto.h"
#include "resolv.h"

#define DNS_RESOLVCONF_STATE_FILE "resolvconf.record"
#define DNS_RESOLVCONF_SUFFIX ".qbnet"
#define DNS_COMMAND_TIMEOUT_MS 5000

enum dns_mode {
	DNS_AUTO,		/* resolved if running, else resolvconf if installed, else file */
	DNS_FILE,		/* write a resolv.conf file */
	DNS_RESOLVED,		/* resolvectl dns/domain/revert IFNAME */
	DNS_RESOLVCONF,		/* resolvconf -a/-d IFNAME.qbnet */
	DNS_NONE,
};

/* What decides the auto mode; gathered from the system by dns_facts_gather. */
struct dns_facts {
	bool resolved_running;		/* /run/systemd/resolve/ has its socket */
	bool have_resolvectl;		/* in PATH */
	bool have_resolvconf;		/* in PATH, and not systemd's resolvectl alias */
	bool resolv_conf_link;		/* /etc/resolv.conf is a symlink */
	const char *resolv_conf_manager; /* whose directory it points into, or NULL */
};

struct dns {
	enum dns_mode mode;		/* in effect: never DNS_AUTO after dns_init */
	char ifname[IF_NAMESIZE];
	bool route_all;			/* send every query to the host (~. on resolved) */
	struct resolv file;
	char *applied;			/* resolved/resolvconf: what is set now, to skip repeats */
	char state_path[PATH_MAX];	/* resolvconf: the record, for crash recovery */
	struct log_once problem;
};

int dns_mode_parse(const char *text, enum dns_mode *mode);
const char *dns_mode_name(enum dns_mode mode);
void dns_facts_gather(struct dns_facts *facts);
/* The mode auto picks (pure): resolved, resolvconf or file. A manager
 * counts only where it owns /etc/resolv.conf: resolved when the file is its
 * (e.g. not inside a network namespace with a file of its own), resolvconf
 * when the file is its link or a plain file (openresolv writes it). */
enum dns_mode dns_choose(const struct dns_facts *facts);

/* mode DNS_AUTO is decided here (logged); file_path for DNS_FILE. -1 when
 * a path does not fit. */
int dns_init(struct dns *dns, enum dns_mode mode, const char *file_path, const char *ifname,
	     bool route_all, const char *state_dir);
/* Sets the CONFIG's servers (none: takes ours away). Failures are logged
 * once with the fix; the CONFIG is applied anyway. */
void dns_apply(struct dns *dns, const struct proto_config *config);
/* Exit: takes our servers away (the original resolv.conf back). */
void dns_restore(struct dns *dns);
/* Start: undoes what a qbnetd that did not exit cleanly left. */
void dns_recover(const char *state_dir);
/* " in /etc/resolv.conf", " via systemd-resolved on qb0", ... for the log. */
void dns_describe(const struct dns *dns, char *out, size_t out_len);

#endif
