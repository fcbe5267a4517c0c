/* Unit tests of DNS on the board (src/dns.c, src/resolv.c) in a temp dir:
 * the auto choice, resolv.conf files (regular, missing, a symlink to a
 * plain file, a dangling symlink, a symlink into another manager's
 * directory), never restoring over someone else's text (also after a
 * crash), and systemd-resolved and resolvconf driven through stand-in
 * resolvectl and resolvconf commands placed first in PATH. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dns.h"
#include "log.h"
#include "resolv.h"
#include "state.h"

CHECKS_DEFINE;

static char dir[] = "/tmp/qbnetd-dns.XXXXXX";
static char log_text[65536];
static FILE *log_out;

static const char *at(const char *name)
{
	static char paths[8][512];
	static unsigned next;
	char *path = paths[next++ % 8];

	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	return path;
}

static void put(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");

	if (file) {
		fputs(text, file);
		fclose(file);
	}
}

/* The file's content, "" when missing. */
static const char *get(const char *path)
{
	static char text[8192];
	char *data = NULL;
	ssize_t len = read_file(path, sizeof(text) - 1, &data);

	text[0] = '\0';
	if (len >= 0)
		memcpy(text, data, (size_t)len + 1);
	free(data);
	return text;
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

static struct proto_config config_with(uint8_t dns_last_octet, bool ipv6)
{
	struct proto_config config = { .mtu = 1500, .ipv4_prefix = 24 };

	config.dns4_count = 1;
	inet_pton(AF_INET, "10.113.98.3", config.dns4[0]);
	config.dns4[0][3] = dns_last_octet;
	config.has_ipv6 = ipv6;
	config.dns6_count = 1;
	inet_pton(AF_INET6, "fd71:6200::3", config.dns6[0]);
	return config;
}

static void test_choose(void)
{
	struct dns_facts facts = { 0 };

	CHECK(dns_choose(&facts) == DNS_FILE, "nothing: file");
	facts.have_resolvconf = true;
	CHECK(dns_choose(&facts) == DNS_RESOLVCONF, "resolvconf installed, a plain resolv.conf (openresolv): resolvconf");
	facts.resolv_conf_link = true;
	CHECK(dns_choose(&facts) == DNS_FILE, "resolvconf installed, resolv.conf a link elsewhere: file");
	facts.resolv_conf_manager = "resolvconf";
	CHECK(dns_choose(&facts) == DNS_RESOLVCONF, "resolv.conf resolvconf's link: resolvconf");
	facts.have_resolvectl = true;
	facts.resolved_running = true;
	CHECK(dns_choose(&facts) == DNS_RESOLVCONF, "resolved runs but resolv.conf is resolvconf's: resolvconf");
	facts.resolv_conf_manager = "systemd-resolved";
	CHECK(dns_choose(&facts) == DNS_RESOLVED, "resolved runs and owns resolv.conf: resolved");
	facts.resolved_running = false;
	facts.have_resolvconf = false;
	CHECK(dns_choose(&facts) == DNS_FILE, "resolv.conf resolved's but resolved stopped: file (which refuses it)");
	facts = (struct dns_facts){ .resolved_running = true, .have_resolvectl = true };
	CHECK(dns_choose(&facts) == DNS_FILE,
	      "resolved runs but resolv.conf is a plain file (a network namespace's own): file");

	CHECK(!strcmp(resolv_manager_of("/run/systemd/resolve/stub-resolv.conf"), "systemd-resolved"),
	      "resolved's directory");
	CHECK(!strcmp(resolv_manager_of("/run/resolvconf/resolv.conf"), "resolvconf"), "resolvconf's");
	CHECK(!strcmp(resolv_manager_of("/run/NetworkManager/resolv.conf"), "NetworkManager"), "NM's");
	CHECK(!resolv_manager_of("/tmp/resolv.conf") && !resolv_manager_of("/etc/resolv.conf") &&
	      !resolv_manager_of("/run/systemd/resolved.conf"), "plain places are nobody's");

	/* Debian's relative link, dangling while resolved is stopped. */
	char up[512] = "";
	for (const char *p = dir; *p; p++)
		if (*p == '/')
			strcat(up, "../");
	char link[600];
	snprintf(link, sizeof(link), "%s../run/systemd/resolve/stub-resolv.conf", up);
	CHECK(!symlink(link, at("relative.conf")), "symlink");
	const char *manager = resolv_link_manager(at("relative.conf"));
	CHECK(manager && !strcmp(manager, "systemd-resolved"), "a relative dangling link into resolved's directory: %s",
	      manager ? manager : "nobody's");
	CHECK(!symlink("tmp/resolv.conf", at("plain-link.conf")) && !resolv_link_manager(at("plain-link.conf")),
	      "a link to a plain place is nobody's");
}

static void file_init(struct resolv *resolv, const char *path)
{
	CHECK(!resolv_init(resolv, path, dir), "resolv_init %s", path);
}

static int set(struct resolv *resolv, const struct proto_config *config, char *err, size_t len)
{
	char text[RESOLV_TEXT_MAX];

	err[0] = '\0';
	size_t n = resolv_render(config, "qb0", text, sizeof(text));
	return resolv_set(resolv, n ? text : NULL, err, len);
}

static void test_file(void)
{
	struct resolv r;
	struct proto_config config = config_with(3, false);
	char err[1024];
	const char *original = "nameserver 192.0.2.53\nsearch example.test\n";

	/* A regular file: written in place, the original back at exit. */
	put(at("resolv.conf"), original);
	file_init(&r, at("resolv.conf"));
	CHECK(!set(&r, &config, err, sizeof(err)) && strstr(get(at("resolv.conf")), "nameserver 10.113.98.3\n"),
	      "regular file written: %s", err);
	CHECK(exists(at(RESOLV_STATE_FILE)), "backup in the state dir");
	resolv_restore(&r);
	CHECK(!strcmp(get(at("resolv.conf")), original) && !exists(at(RESOLV_STATE_FILE)),
	      "original back, backup gone");

	/* Someone else writes after us: left as it is at exit. */
	file_init(&r, at("resolv.conf"));
	set(&r, &config, err, sizeof(err));
	put(at("resolv.conf"), "nameserver 198.51.100.1\n");
	resolv_restore(&r);
	CHECK(!strcmp(get(at("resolv.conf")), "nameserver 198.51.100.1\n") &&
	      !exists(at(RESOLV_STATE_FILE)), "someone else's text is not restored over");

	/* ... or between two CONFIGs: theirs becomes the original to put back. */
	put(at("resolv.conf"), original);
	file_init(&r, at("resolv.conf"));
	set(&r, &config, err, sizeof(err));
	put(at("resolv.conf"), "nameserver 198.51.100.2\n");
	struct proto_config other = config_with(4, false);
	CHECK(!set(&r, &other, err, sizeof(err)) && strstr(get(at("resolv.conf")), "10.113.98.4"),
	      "second CONFIG written");
	resolv_restore(&r);
	CHECK(!strcmp(get(at("resolv.conf")), "nameserver 198.51.100.2\n"),
	      "the version written in between is what comes back");

	/* No file yet: created, and removed at exit. */
	file_init(&r, at("new.conf"));
	CHECK(!set(&r, &config, err, sizeof(err)) && exists(at("new.conf")), "missing file created");
	resolv_restore(&r);
	CHECK(!exists(at("new.conf")), "and removed");

	/* A symlink to a plain file (Buildroot: /etc/resolv.conf -> ../tmp/resolv.conf). */
	mkdir(at("tmp"), 0755);
	put(at("tmp/resolv.conf"), original);
	CHECK(!symlink("tmp/resolv.conf", at("link.conf")), "symlink");
	file_init(&r, at("link.conf"));
	CHECK(!set(&r, &config, err, sizeof(err)) && strstr(get(at("tmp/resolv.conf")), "10.113.98.3"),
	      "a symlink to a plain file: its target written: %s", err);
	struct stat st;
	CHECK(!lstat(at("link.conf"), &st) && S_ISLNK(st.st_mode), "the symlink stays a symlink");
	resolv_restore(&r);
	CHECK(!strcmp(get(at("tmp/resolv.conf")), original), "target restored");

	/* Dangling into an existing plain directory: the target is created. */
	unlink(at("tmp/resolv.conf"));
	file_init(&r, at("link.conf"));
	CHECK(!set(&r, &config, err, sizeof(err)) && strstr(get(at("tmp/resolv.conf")), "10.113.98.3"),
	      "dangling into a plain directory: target created: %s", err);
	resolv_restore(&r);
	CHECK(!exists(at("tmp/resolv.conf")) && exists(at("link.conf")), "target removed, link kept");

	/* Dangling into a directory that does not exist: refused, logged by the caller. */
	CHECK(!symlink("nodir/resolv.conf", at("nodir.conf")), "symlink");
	file_init(&r, at("nodir.conf"));
	CHECK(set(&r, &config, err, sizeof(err)) < 0 && strstr(err, "dangling symlink") &&
	      strstr(err, "--resolv-conf none") && !exists(at("nodir")) &&
	      !exists(at(RESOLV_STATE_FILE)), "dangling into a missing directory: refused: %s", err);

	/* Into systemd-resolved's directory: never written through. */
	CHECK(!symlink("/run/systemd/resolve/stub-resolv.conf", at("stub.conf")), "symlink");
	file_init(&r, at("stub.conf"));
	CHECK(set(&r, &config, err, sizeof(err)) < 0 && strstr(err, "systemd-resolved") &&
	      strstr(err, "--resolv-conf resolved") && !exists(at(RESOLV_STATE_FILE)),
	      "a symlink into resolved's directory: refused: %s", err);

	/* A directory is not a resolv.conf. */
	file_init(&r, at("tmp"));
	CHECK(set(&r, &config, err, sizeof(err)) < 0 && strstr(err, "not a regular file"), "%s", err);
}

/* What a killed qbnetd held in memory (the test's process lives on). */
static void crash(struct resolv *resolv)
{
	free(resolv->original);
	free(resolv->written);
}

/* A qbnetd killed after writing: the next start puts the original back,
 * unless someone else wrote the file since. */
static void test_recover(void)
{
	struct resolv r;
	struct proto_config config = config_with(3, false);
	char err[1024];
	const char *original = "nameserver 192.0.2.53\n";

	put(at("crash.conf"), original);
	file_init(&r, at("crash.conf"));
	set(&r, &config, err, sizeof(err));
	crash(&r);
	CHECK(resolv_recover(dir) == 1 && !strcmp(get(at("crash.conf")), original) &&
	      !exists(at(RESOLV_STATE_FILE)), "after a crash: original back");

	file_init(&r, at("crash.conf"));
	set(&r, &config, err, sizeof(err));
	crash(&r);
	put(at("crash.conf"), "nameserver 198.51.100.3\n");
	resolv_recover(dir);
	CHECK(!strcmp(get(at("crash.conf")), "nameserver 198.51.100.3\n") &&
	      !exists(at(RESOLV_STATE_FILE)), "after a crash and someone else's write: left alone");

	/* A backup of the first format (no copy of what was written). */
	char v1[512];
	snprintf(v1, sizeof(v1), "qbnetd resolv.conf backup 1\n%s\n1\n%s", at("crash.conf"), original);
	put(at(RESOLV_STATE_FILE), v1);
	put(at("crash.conf"), "# generated by qbnetd 0.1.0 from the host's CONFIG on qb0;\nnameserver 10.113.98.3\n");
	resolv_recover(dir);
	CHECK(!strcmp(get(at("crash.conf")), original), "v1 backup: our text replaced by the original");
	put(at(RESOLV_STATE_FILE), v1);
	put(at("crash.conf"), "nameserver 198.51.100.4\n");
	resolv_recover(dir);
	CHECK(!strcmp(get(at("crash.conf")), "nameserver 198.51.100.4\n") &&
	      !exists(at(RESOLV_STATE_FILE)), "v1 backup: someone else's text left alone");
}

/* Stand-ins for resolvectl and resolvconf: each call appends its
 * arguments (and stdin) to calls.log and exits with $FAKE_RC. */
static void fake_commands(void)
{
	char script[1024];

	mkdir(at("bin"), 0755);
	snprintf(script, sizeof(script),
		 "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> %s\ncat | sed 's/^/  stdin: /' >> %s\nexit ${FAKE_RC:-0}\n",
		 at("calls.log"), at("calls.log"));
	put(at("bin/resolvectl"), script);
	put(at("bin/resolvconf"), script);
	chmod(at("bin/resolvectl"), 0755);
	chmod(at("bin/resolvconf"), 0755);
	char path[1024];
	snprintf(path, sizeof(path), "%s:%s", at("bin"), getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
}

static void test_resolved(void)
{
	struct dns dns;
	struct proto_config config = config_with(3, true);

	unlink(at("calls.log"));
	CHECK(!dns_init(&dns, DNS_RESOLVED, NULL, "qb0", true, dir), "dns_init resolved");
	dns_apply(&dns, &config);
	CHECK(strstr(get(at("calls.log")), "resolvectl dns qb0 10.113.98.3 fd71:6200::3\n") &&
	      strstr(get(at("calls.log")), "resolvectl domain qb0 ~.\n"),
	      "per-link DNS and ~. on qb0:\n%s", get(at("calls.log")));
	size_t calls = checks_count(get(at("calls.log")), "resolvectl ");
	dns_apply(&dns, &config);
	CHECK(checks_count(get(at("calls.log")), "resolvectl ") == calls, "the same CONFIG: nothing run");
	config.has_ipv6 = false;
	dns_apply(&dns, &config);
	CHECK(strstr(get(at("calls.log")), "resolvectl dns qb0 10.113.98.3\n") != NULL,
	      "without IPv6: the IPv4 server only");
	dns_restore(&dns);
	CHECK(strstr(get(at("calls.log")), "resolvectl revert qb0\n") != NULL, "reverted at exit");

	/* Not the default route for DNS unless qbnetd replaced the default routes. */
	unlink(at("calls.log"));
	dns_init(&dns, DNS_RESOLVED, NULL, "qb0", false, dir);
	dns_apply(&dns, &config);
	CHECK(strstr(get(at("calls.log")), "resolvectl dns qb0") && !strstr(get(at("calls.log")), "domain"),
	      "route mode metric/none: no ~. domain");
	dns_restore(&dns);

	/* resolvectl failing: one warning naming the fix, for any number of CONFIGs. */
	setenv("FAKE_RC", "1", 1);
	dns_init(&dns, DNS_RESOLVED, NULL, "qb0", true, dir);
	for (uint8_t i = 0; i < 5; i++) {
		struct proto_config next = config_with((uint8_t)(10 + i), false);
		dns_apply(&dns, &next);
	}
	CHECK(checks_count(log_text, "'resolvectl dns qb0' exited with 1") == 1 &&
	      strstr(log_text, "is systemd-resolved running?"), "one warning with the fix:\n%s", log_text);
	unsetenv("FAKE_RC");
	dns_restore(&dns);
}

static void test_resolvconf(void)
{
	struct dns dns;
	struct proto_config config = config_with(3, false);

	unlink(at("calls.log"));
	CHECK(!dns_init(&dns, DNS_RESOLVCONF, NULL, "qb0", true, dir), "dns_init resolvconf");
	dns_apply(&dns, &config);
	CHECK(strstr(get(at("calls.log")), "resolvconf -a qb0.qbnet\n") &&
	      strstr(get(at("calls.log")), "  stdin: nameserver 10.113.98.3\n"),
	      "a record qb0.qbnet with the servers on stdin:\n%s", get(at("calls.log")));
	CHECK(!strcmp(get(at(DNS_RESOLVCONF_STATE_FILE)), "qb0.qbnet\n"), "the record is noted");
	dns_restore(&dns);
	CHECK(strstr(get(at("calls.log")), "resolvconf -d qb0.qbnet\n") &&
	      !exists(at(DNS_RESOLVCONF_STATE_FILE)), "deleted at exit");

	/* A crash leaves the record: the next start deletes it. */
	unlink(at("calls.log"));
	dns_init(&dns, DNS_RESOLVCONF, NULL, "qb0", true, dir);
	dns_apply(&dns, &config);
	free(dns.applied);
	dns_recover(dir);
	CHECK(strstr(get(at("calls.log")), "resolvconf -d qb0.qbnet\n") &&
	      !exists(at(DNS_RESOLVCONF_STATE_FILE)), "after a crash: record deleted at start");
}

/* A resolv.conf that cannot be written is said once, not at every CONFIG. */
static void test_file_problem_once(void)
{
	struct dns dns;

	log_text[0] = '\0';
	rewind(log_out);
	CHECK(!dns_init(&dns, DNS_FILE, at("nodir.conf"), "qb0", true, dir), "dns_init file");
	for (uint8_t i = 0; i < 5; i++) {
		struct proto_config next = config_with((uint8_t)(20 + i), false);
		dns_apply(&dns, &next);
	}
	CHECK(checks_count(log_text, "dangling symlink") == 1 && strstr(log_text, "--resolv-conf none"),
	      "logged once with the fix:\n%s", log_text);
	dns_restore(&dns);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	log_out = fmemopen(log_text, sizeof(log_text) - 1, "w");
	setvbuf(log_out, NULL, _IONBF, 0);
	log_set_output(log_out);
	log_set_level(LOG_LEVEL_WARN);
	test_choose();
	test_file();
	test_recover();
	fake_commands();
	test_resolved();
	test_resolvconf();
	test_file_problem_once();
	log_set_output(NULL);
	fclose(log_out);
	char command[600];
	snprintf(command, sizeof(command), "rm -rf %s", dir);
	if (system(command))
		fprintf(stderr, "cannot remove %s\n", dir);
	return checks_report("test_dns");
}
