/* Unit tests of the status dump: what the daemon writes (session states,
 * configured addresses, counters, a value with a newline kept on its line),
 * the text and JSON the client prints from it, and lines it must skip.
 * --write-corpus DIR writes fuzz_status's seeds. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "status.h"

CHECKS_DEFINE;

static struct session session;
static struct stats counters;
static bool link_up = true;

static const struct status_view view = {
	.version = "0.1.0",
	.serial = "QB-0001",
	.link = "unix:/tmp/x\nsession configured",
	.tun = "qb0",
	.started_ms = 1000,
	.link_up = &link_up,
	.session = &session,
	.stats = &counters,
};

/* What a printer makes of dump, as a malloc'd string. */
static char *printed(int (*print)(const char *, size_t, FILE *), const char *dump)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	print(dump, strlen(dump), out);
	fclose(out);
	return text;
}

static char *json_of(const char *dump)
{
	return printed(status_print_json, dump);
}

static char *text_of(const char *dump)
{
	return printed(status_print_text, dump);
}

static void test_format(void)
{
	static char dump[STATUS_MAX];

	memset(&session, 0, sizeof(session));
	session.state = SESSION_DOWN;
	counters.link_rx_bundles = 7;
	counters.tun_read_errors = 18446744073709551615ull;
	size_t len = status_format(dump, sizeof(dump), &view, 13500);
	CHECK(len == strlen(dump), "length %zu", len);
	CHECK(strstr(dump, "version 0.1.0\nserial QB-0001\n"), "%s", dump);
	CHECK(strstr(dump, "\nlink unix:/tmp/x?session configured\n"), "a newline in a value stays on its line: %s", dump);
	CHECK(strstr(dump, "\nuptime_s 12\nlink_up 1\nsession down\n"), "%s", dump);
	CHECK(!strstr(dump, "protocol"), "no session figures while down");
	CHECK(strstr(dump, "\ncounters.link_rx_bundles 7\n"), "%s", dump);
	CHECK(strstr(dump, "\ncounters.tun_read_errors 18446744073709551615\n"), "%s", dump);

	session.state = SESSION_CONFIGURED;
	session.version = 1;
	session.peer_max_bundle = 262144;
	session.offload = true;
	session.applied = true;
	session.mtu = 65520;
	memcpy(session.config.ipv4, (uint8_t[]){ 10, 113, 98, 2 }, 4);
	session.config.ipv4_prefix = 24;
	session.config.has_ipv6 = true;
	session.config.ipv6[0] = 0xfd;
	session.config.ipv6[1] = 0x71;
	session.config.ipv6[2] = 0x62;
	session.config.ipv6[15] = 2;
	session.config.ipv6_prefix = 64;
	status_format(dump, sizeof(dump), &view, 1000);
	CHECK(strstr(dump, "\nsession configured\nprotocol 1\nhost_max_bundle 262144\noffload 1\nmtu 65520\n"
			   "ipv4 10.113.98.2/24\nipv6 fd71:6200::2/64\n"), "%s", dump);

	char small[16];
	size_t need = status_format(small, sizeof(small), &view, 1000);
	CHECK(need > sizeof(small) && strlen(small) == sizeof(small) - 1, "truncated like snprintf (%zu)", need);
}

static void test_print(void)
{
	char *json = json_of("version 0.1.0\nserial Q\"B\\1\nmtu 1500\ncounters.ip_rx 12\ncounters.ip_rx_gso 0\n");
	CHECK(!strcmp(json, "{\"version\": \"0.1.0\", \"serial\": \"Q\\\"B\\\\1\", \"mtu\": 1500, "
			    "\"counters\": {\"ip_rx\": 12, \"ip_rx_gso\": 0}}\n"), "%s", json);
	free(json);
	json = json_of("");
	CHECK(!strcmp(json, "{\"counters\": {}}\n"), "%s", json);
	free(json);
	/* Lines that are not KEY VALUE, a key named like the counters object, numbers that are not. */
	json = json_of("no-space\n\nBad key\n value\ncounters x\ncounters. 1\nuptime_s 007\nbig 99999999999999999999\n"
		       "ctl a\x01\xff\n");
	CHECK(!strcmp(json, "{\"counters.\": 1, \"uptime_s\": \"007\", \"big\": \"99999999999999999999\", "
			    "\"ctl\": \"a\\u0001\\u00ff\", \"counters\": {}}\n"), "%s", json);
	free(json);

	char *text = text_of("session configured\ncounters.ip_rx 12\ncounters.unknown_later 3\n");
	CHECK(!strcmp(text, "session         configured\ncounters:\n"
			    "  ip_rx                             12  IP frames written to the TUN\n"
			    "  unknown_later                      3  \n"), "%s", text);
	free(text);
}

static int write_corpus(const char *dir)
{
	static char dump[STATUS_MAX];
	char path[512];

	mkdir(dir, 0755);
	memset(&session, 0, sizeof(session));
	session.state = SESSION_CONFIGURED;
	session.applied = true;
	status_format(dump, sizeof(dump), &view, 5000);
	snprintf(path, sizeof(path), "%s/dump", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	fputs(dump, f);
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	test_format();
	test_print();
	return checks_report("test_status");
}
