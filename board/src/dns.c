/* DNS managers. systemd-resolved gets per-link DNS through resolvectl (its
 * D-Bus API would need a D-Bus client; its varlink API only resolves), and
 * resolvconf gets a record "IFNAME.qbnet" on stdin; both are run with a
 * time limit. Otherwise the file (resolv.c). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "dns.h"
#include "state.h"

#define RESOLVED_DIR "/run/systemd/resolve"
#define DEFAULT_RESOLV_CONF "/etc/resolv.conf"

static const char *const mode_names[] = { "auto", "file", "resolved", "resolvconf", "none" };

int dns_mode_parse(const char *text, enum dns_mode *mode)
{
	for (unsigned i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!strcmp(text, mode_names[i])) {
			*mode = (enum dns_mode)i;
			return 0;
		}
	}
	return -1;
}

const char *dns_mode_name(enum dns_mode mode)
{
	return mode_names[mode];
}

/* The executable name would run from PATH, resolved (symlinks followed) into
 * real when given; false when there is none. */
static bool in_path(const char *name, char *real, size_t real_len)
{
	const char *path = getenv("PATH");
	char candidate[PATH_MAX], resolved[PATH_MAX];

	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		if (len && snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, path, name) <
				   (int)sizeof(candidate) &&
		    !access(candidate, X_OK)) {
			if (real && realpath(candidate, resolved))
				snprintf(real, real_len, "%s", resolved);
			return true;
		}
		path += len + (path[len] == ':');
	}
	return false;
}

void dns_facts_gather(struct dns_facts *facts)
{
	char real[PATH_MAX] = "";
	struct stat st;

	memset(facts, 0, sizeof(*facts));
	facts->resolv_conf_link = !lstat(DEFAULT_RESOLV_CONF, &st) && S_ISLNK(st.st_mode);
	if (facts->resolv_conf_link)
		facts->resolv_conf_manager = resolv_link_manager(DEFAULT_RESOLV_CONF);
	facts->resolved_running = !access(RESOLVED_DIR "/io.systemd.Resolve", F_OK) ||
				  !access(RESOLVED_DIR "/resolv.conf", F_OK);
	facts->have_resolvectl = in_path("resolvectl", NULL, 0);
	/* systemd's resolvconf is a link to resolvectl: not another manager. */
	facts->have_resolvconf = in_path("resolvconf", real, sizeof(real)) &&
				 !strstr(real, "resolvectl");
}

enum dns_mode dns_choose(const struct dns_facts *facts)
{
	const char *manager = facts->resolv_conf_manager;

	if (facts->resolved_running && facts->have_resolvectl && manager &&
	    !strcmp(manager, "systemd-resolved"))
		return DNS_RESOLVED;
	if (facts->have_resolvconf &&
	    (!facts->resolv_conf_link || (manager && !strcmp(manager, "resolvconf"))))
		return DNS_RESOLVCONF;
	return DNS_FILE;
}

int dns_init(struct dns *dns, enum dns_mode mode, const char *file_path, const char *ifname,
	     bool route_all, const char *state_dir)
{
	memset(dns, 0, sizeof(*dns));
	snprintf(dns->ifname, sizeof(dns->ifname), "%s", ifname);
	dns->route_all = route_all;
	if (mode == DNS_AUTO) {
		struct dns_facts facts;
		dns_facts_gather(&facts);
		mode = dns_choose(&facts);
		info("DNS: --resolv-conf auto chose %s (%s)", dns_mode_name(mode),
		     mode == DNS_RESOLVED ? "systemd-resolved runs and owns " DEFAULT_RESOLV_CONF :
		     mode == DNS_RESOLVCONF ? "resolvconf is installed and owns " DEFAULT_RESOLV_CONF :
		     "no systemd-resolved or resolvconf owns " DEFAULT_RESOLV_CONF);
		if (mode == DNS_FILE)
			file_path = DEFAULT_RESOLV_CONF;
	}
	dns->mode = mode;
	if (state_path(dns->state_path, sizeof(dns->state_path), state_dir,
		       DNS_RESOLVCONF_STATE_FILE))
		return -1;
	return resolv_init(&dns->file, mode == DNS_FILE ? file_path : NULL, state_dir);
}

/* Runs a manager's command; true when it exited 0, else logged once. */
static bool run(struct dns *dns, char *const argv[], const char *input, const char *fix)
{
	char outcome[128];
	struct child_result result = child_run(argv, input, input ? strlen(input) : 0,
					       DNS_COMMAND_TIMEOUT_MS);

	if (child_ok(result))
		return true;
	child_describe(result, outcome, sizeof(outcome));
	log_once(&dns->problem, LOG_LEVEL_WARN, "DNS: '%s %s %s' %s: the host's DNS servers are not set; %s",
		 argv[0], argv[1], argv[2] ? argv[2] : "", outcome, fix);
	return false;
}

#define RESOLVED_FIX "is systemd-resolved running? Else use --resolv-conf file, resolvconf or none"
#define RESOLVCONF_FIX "use --resolv-conf file, resolved or none"

/* resolvectl dns IF ADDR... (and domain IF ~. to send every query there). */
static void resolved_apply(struct dns *dns, const struct proto_config *config, const char *key)
{
	char addresses[PROTO_DNS_MAX * 2][INET6_ADDRSTRLEN];
	char *argv[PROTO_DNS_MAX * 2 + 4] = { "resolvectl", "dns", dns->ifname };
	unsigned count = 0;

	for (unsigned i = 0; i < config->dns4_count; i++)
		inet_ntop(AF_INET, config->dns4[i], addresses[count++], INET6_ADDRSTRLEN);
	for (unsigned i = 0; config->has_ipv6 && i < config->dns6_count; i++)
		inet_ntop(AF_INET6, config->dns6[i], addresses[count++], INET6_ADDRSTRLEN);
	if (!count) {
		char *revert[] = { "resolvectl", "revert", dns->ifname, NULL };
		if (dns->applied && run(dns, revert, NULL, RESOLVED_FIX)) {
			free(dns->applied);
			dns->applied = NULL;
		}
		return;
	}
	for (unsigned i = 0; i < count; i++)
		argv[3 + i] = addresses[i];
	argv[3 + count] = NULL;
	if (!run(dns, argv, NULL, RESOLVED_FIX))
		return;
	char *domain[] = { "resolvectl", "domain", dns->ifname, dns->route_all ? "~." : NULL, NULL };
	if (dns->route_all && !run(dns, domain, NULL, RESOLVED_FIX))
		return;
	free(dns->applied);
	dns->applied = strdup(key);
	log_once_reset(&dns->problem);
}

static void resolvconf_record(const struct dns *dns, char *out, size_t len)
{
	snprintf(out, len, "%s" DNS_RESOLVCONF_SUFFIX, dns->ifname);
}

/* resolvconf -a IF.qbnet < nameserver lines; the record is noted in the
 * state dir first, so a restart after a crash can delete it. */
static void resolvconf_apply(struct dns *dns, const char *text)
{
	char record[IF_NAMESIZE + 16];

	resolvconf_record(dns, record, sizeof(record));
	if (!text[0]) {
		char *del[] = { "resolvconf", "-d", record, NULL };
		if (dns->applied && run(dns, del, NULL, RESOLVCONF_FIX)) {
			state_remove(dns->state_path);
			free(dns->applied);
			dns->applied = NULL;
		}
		return;
	}
	char line[IF_NAMESIZE + 20];
	int len = snprintf(line, sizeof(line), "%s\n", record);
	int rc = state_write(dns->state_path, line, (size_t)len);
	if (rc)
		warn_limited("cannot note the resolvconf record in %s: %s (a crash would leave it)",
			     dns->state_path, strerror(-rc));
	char *add[] = { "resolvconf", "-a", record, NULL };
	if (!run(dns, add, text, RESOLVCONF_FIX))
		return;
	free(dns->applied);
	dns->applied = strdup(text);
	log_once_reset(&dns->problem);
}

void dns_apply(struct dns *dns, const struct proto_config *config)
{
	char text[RESOLV_TEXT_MAX] = "", err[1024];

	resolv_render(config, dns->ifname, text, sizeof(text));
	switch (dns->mode) {
	case DNS_FILE:
		if (resolv_set(&dns->file, text[0] ? text : NULL, err, sizeof(err)))
			log_once(&dns->problem, LOG_LEVEL_WARN, "DNS: %s", err);
		else
			log_once_reset(&dns->problem);
		return;
	case DNS_RESOLVED:
		if (!dns->applied ? text[0] != '\0' : strcmp(dns->applied, text))
			resolved_apply(dns, config, text);
		return;
	case DNS_RESOLVCONF:
		if (!dns->applied ? text[0] != '\0' : strcmp(dns->applied, text))
			resolvconf_apply(dns, text);
		return;
	case DNS_AUTO:
	case DNS_NONE:
		return;
	}
}

void dns_restore(struct dns *dns)
{
	switch (dns->mode) {
	case DNS_FILE:
		resolv_restore(&dns->file);
		break;
	case DNS_RESOLVED:
		if (dns->applied) {
			char *revert[] = { "resolvectl", "revert", dns->ifname, NULL };
			if (run(dns, revert, NULL, RESOLVED_FIX))
				info("DNS: reverted %s's DNS servers in systemd-resolved", dns->ifname);
		}
		break;
	case DNS_RESOLVCONF:
		if (dns->applied) {
			char record[IF_NAMESIZE + 16];
			resolvconf_record(dns, record, sizeof(record));
			char *del[] = { "resolvconf", "-d", record, NULL };
			if (run(dns, del, NULL, RESOLVCONF_FIX)) {
				info("DNS: deleted the resolvconf record %s", record);
				state_remove(dns->state_path);
			}
		}
		break;
	case DNS_AUTO:
	case DNS_NONE:
		break;
	}
	free(dns->applied);
	dns->applied = NULL;
}

void dns_recover(const char *state_dir)
{
	char path[PATH_MAX], *data = NULL;

	resolv_recover(state_dir);
	if (state_path(path, sizeof(path), state_dir, DNS_RESOLVCONF_STATE_FILE) ||
	    read_file(path, 256, &data) < 0)
		return;
	data[strcspn(data, "\n")] = '\0';
	size_t len = strlen(data), suffix = strlen(DNS_RESOLVCONF_SUFFIX);
	if (len > suffix && len < IF_NAMESIZE + suffix &&
	    !strcmp(data + len - suffix, DNS_RESOLVCONF_SUFFIX) && !strchr(data, '/')) {
		char *del[] = { "resolvconf", "-d", data, NULL };
		struct child_result result = child_run(del, NULL, 0, DNS_COMMAND_TIMEOUT_MS);
		info("a previous qbnetd did not exit cleanly: resolvconf -d %s %s", data,
		     child_ok(result) ? "done" : "failed");
	}
	state_remove(path);
	free(data);
}

void dns_describe(const struct dns *dns, char *out, size_t out_len)
{
	switch (dns->mode) {
	case DNS_FILE:
		snprintf(out, out_len, " in %s", dns->file.backed_up ? dns->file.target : dns->file.path);
		return;
	case DNS_RESOLVED:
		snprintf(out, out_len, " via systemd-resolved on %s", dns->ifname);
		return;
	case DNS_RESOLVCONF:
		snprintf(out, out_len, " via resolvconf (%s" DNS_RESOLVCONF_SUFFIX ")", dns->ifname);
		return;
	case DNS_AUTO:
	case DNS_NONE:
		break;
	}
	snprintf(out, out_len, " (not set: --resolv-conf none)");
}
