/* Unit tests of the pure helpers around the daemon: command-line parsing
 * and its error messages, route mode parsing, serial sanitising, and the
 * resolv.conf content rendered from a CONFIG. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "options.h"
#include "resolv.h"
#include "routes.h"
#include "serial.h"

CHECKS_DEFINE;

static char out_text[8192], err_text[8192];
/* The options point into argv: it lives until the next parse. */
static char *argv_copy[32];

static void free_argv(void)
{
	for (int i = 0; i < 32; i++) {
		free(argv_copy[i]);
		argv_copy[i] = NULL;
	}
}

/* Parses a NULL-terminated argument list, capturing stdout/stderr text. */
static enum options_result parse(struct options *o, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	free_argv();
	argv_copy[argc++] = strdup("qbnetd");
	for (; *args && argc < 31; args++)
		argv_copy[argc++] = strdup(*args);
	memcpy(argv, argv_copy, sizeof(argv));
	FILE *out = fmemopen(out_text, sizeof(out_text), "w");
	FILE *errors = fmemopen(err_text, sizeof(err_text), "w");
	enum options_result result = options_parse(o, argc, argv, out, errors);
	fclose(out);
	fclose(errors);
	return result;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_usage(const char *const *args, const char *flag)
{
	struct options o;

	CHECK(parse(&o, args) == OPTIONS_USAGE && strstr(err_text, flag) &&
	      strstr(err_text, "accepted") && strstr(err_text, "--help"),
	      "usage error naming %s and the accepted values: %s", flag, err_text);
}

static void test_options(void)
{
	struct options o;

	CHECK(parse(&o, ARGS("--link", "unix:/run/qbnet.sock")) == OPTIONS_RUN, "minimal");
	CHECK(!strcmp(o.link_path, "/run/qbnet.sock") && !strcmp(o.tun, "qb0") &&
	      o.route.mode == ROUTE_MODE_REPLACE && o.dns_mode == DNS_AUTO &&
	      !strcmp(o.resolv_conf, "/etc/resolv.conf") &&
	      !strcmp(o.state_dir, "/run/qbnetd") && o.max_bundle == 262144 &&
	      o.log_level == LOG_LEVEL_INFO && !o.has_serial, "defaults");

	CHECK(parse(&o, ARGS("--link=unix:/s", "--tun", "usb0", "--serial", " QB-7\n",
			     "--route-mode", "metric:50", "--resolv-conf", "none", "--state-dir",
			     "/tmp/st", "--max-bundle", "1048576", "--log-level", "warn", "-v",
			     "-v")) == OPTIONS_RUN, "all flags: %s", err_text);
	CHECK(!strcmp(o.tun, "usb0") && o.has_serial && !strcmp(o.serial, "QB-7") &&
	      o.route.mode == ROUTE_MODE_METRIC && o.route.metric == 50 && o.dns_mode == DNS_NONE &&
	      !strcmp(o.state_dir, "/tmp/st") && o.max_bundle == 1048576 &&
	      o.log_level == LOG_LEVEL_DEBUG, "all flags parsed");
	CHECK(parse(&o, ARGS("--link", "unix:/s", "-q", "-q", "-q")) == OPTIONS_RUN &&
	      o.log_level == LOG_LEVEL_ERROR, "-q floors at error");

	CHECK(parse(&o, ARGS("--help")) == OPTIONS_EXIT && strstr(out_text, "--route-mode") &&
	      strstr(out_text, "default: qb0") && strstr(out_text, "/run/qbnetd"), "--help");
	CHECK(parse(&o, ARGS("-V")) == OPTIONS_EXIT && !strncmp(out_text, "qbnetd ", 7),
	      "--version");

	CHECK(parse(&o, ARGS("--tun", "x")) == OPTIONS_RUN && o.link_kind == LINK_KIND_USB &&
	      o.usb_vendor == 0x1209 && o.usb_product == 0x0001 && !o.usb_udc &&
	      !strcmp(o.usb_gadget, "qbnet") && !o.usb_ffs &&
	      !strcmp(o.usb_manufacturer, "qbkit") && !strcmp(o.usb_product_name, "qbkit board"),
	      "USB is the default link: %s", err_text);
	CHECK(parse(&o, ARGS("--link", "usb", "--usb-id", "0x1d6b:104", "--usb-udc", "dummy_udc.0",
			     "--usb-gadget", "qb-2", "--usb-ffs", "/run/x/ffs",
			     "--usb-manufacturer", "ACME", "--usb-product", "Widget 2")) == OPTIONS_RUN &&
	      o.link_kind == LINK_KIND_USB && o.usb_vendor == 0x1d6b && o.usb_product == 0x0104 &&
	      !strcmp(o.usb_udc, "dummy_udc.0") && !strcmp(o.usb_gadget, "qb-2") &&
	      !strcmp(o.usb_ffs, "/run/x/ffs") && !strcmp(o.usb_manufacturer, "ACME") &&
	      !strcmp(o.usb_product_name, "Widget 2"), "USB flags: %s", err_text);
	CHECK(parse(&o, ARGS("--help")) == OPTIONS_EXIT && strstr(out_text, "--usb-id") &&
	      strstr(out_text, "1209:0001") && strstr(out_text, "--link usb"), "USB in --help");
	expect_usage(ARGS("--link", "tcp:1.2.3.4"), "--link");
	expect_usage(ARGS("--link", "usbx"), "--link");
	expect_usage(ARGS("--usb-id", "1209"), "--usb-id");
	expect_usage(ARGS("--usb-id", "12345:1"), "--usb-id");
	expect_usage(ARGS("--usb-id", "1209:0001:2"), "--usb-id");
	expect_usage(ARGS("--usb-id", "g:1"), "--usb-id");
	expect_usage(ARGS("--usb-id", "1:-1"), "--usb-id");
	expect_usage(ARGS("--usb-udc", "a/b"), "--usb-udc");
	expect_usage(ARGS("--usb-udc", ""), "--usb-udc");
	expect_usage(ARGS("--usb-gadget", "a b"), "--usb-gadget");
	expect_usage(ARGS("--usb-gadget", ".hidden"), "--usb-gadget");
	expect_usage(ARGS("--usb-gadget", "x23456789012345678901234567890123"), "--usb-gadget");
	expect_usage(ARGS("--usb-ffs", "relative/dir"), "--usb-ffs");
	expect_usage(ARGS("--usb-manufacturer", ""), "--usb-manufacturer");
	expect_usage(ARGS("--usb-product", "tab\there"), "--usb-product");
	CHECK(parse(&o, ARGS("--tun", "x")) == OPTIONS_RUN && o.usb_request_size == 32768,
	      "requests of 32 KiB by default (doc/DESIGN.md, \"USB request sizes\")");
	CHECK(parse(&o, ARGS("--usb-request-size", "65536")) == OPTIONS_RUN &&
	      o.usb_request_size == 65536, "--usb-request-size 65536: %s", err_text);
	CHECK(parse(&o, ARGS("--usb-request-size", "4096")) == OPTIONS_RUN &&
	      o.usb_request_size == 4096, "--usb-request-size 4096: %s", err_text);
	expect_usage(ARGS("--usb-request-size", "5000"), "--usb-request-size");
	expect_usage(ARGS("--usb-request-size", "2048"), "--usb-request-size");
	expect_usage(ARGS("--usb-request-size", "2097152"), "--usb-request-size");
	expect_usage(ARGS("--usb-request-size", "16k"), "--usb-request-size");
	expect_usage(ARGS("--usb-request-size", "-16384"), "--usb-request-size");
	CHECK(parse(&o, ARGS("--usb-request-size", "1000")) == OPTIONS_USAGE &&
	      strstr(err_text, "multiple of 1024") && strstr(err_text, "4096") &&
	      strstr(err_text, "1048576"), "the error names the bounds: %s", err_text);
	CHECK(parse(&o, ARGS("--usb-acm", "--wait-udc", "--usb-udc", "u.0")) == OPTIONS_RUN &&
	      o.usb_acm && o.wait_udc && !o.usb_function_only, "--usb-acm --wait-udc: %s", err_text);
	CHECK(parse(&o, ARGS("--usb-function-only", "--usb-gadget", "net0", "--usb-ffs", "/run/f",
			     "--usb-request-size", "32768")) == OPTIONS_RUN &&
	      o.usb_function_only && !o.usb_acm && !o.wait_udc, "--usb-function-only: %s", err_text);
	static const char *const gadget_flags[][2] = {
		{ "--usb-acm", NULL }, { "--wait-udc", NULL }, { "--usb-udc", "u.0" },
		{ "--usb-id", "1:2" }, { "--usb-product", "P" }, { "--usb-manufacturer", "M" },
	};
	for (size_t i = 0; i < sizeof(gadget_flags) / sizeof(gadget_flags[0]); i++) {
		const char *const *flag = gadget_flags[i];
		enum options_result r = flag[1] ? parse(&o, ARGS("--usb-function-only", flag[0], flag[1])) :
					parse(&o, ARGS("--usb-function-only", flag[0]));
		CHECK(r == OPTIONS_USAGE && strstr(err_text, "--usb-function-only") &&
		      strstr(err_text, flag[0]), "%s with --usb-function-only: %s", flag[0], err_text);
	}
	CHECK(parse(&o, ARGS("--link", "unix:/s", "--wait-udc")) == OPTIONS_USAGE &&
	      strstr(err_text, "--link usb"), "--wait-udc with unix: %s", err_text);
	CHECK(parse(&o, ARGS("--help")) == OPTIONS_EXIT && strstr(out_text, "--usb-acm") &&
	      strstr(out_text, "--usb-function-only") && strstr(out_text, "--wait-udc") &&
	      strstr(out_text, "--usb-request-size"), "the new USB flags in --help");
	CHECK(parse(&o, ARGS("--link", "unix:/s", "--usb-id", "1:2")) == OPTIONS_USAGE &&
	      strstr(err_text, "--link usb"), "USB flags with unix: %s", err_text);
	expect_usage(ARGS("--link", "unix:"), "--link");
	expect_usage(ARGS("--link", "unix:/s", "--tun", "a/b"), "--tun");
	expect_usage(ARGS("--link", "unix:/s", "--tun", "sixteen-chars-xx"), "--tun");
	expect_usage(ARGS("--link", "unix:/s", "--serial", "\x01\x02"), "--serial");
	expect_usage(ARGS("--link", "unix:/s", "--route-mode", "metric:"), "--route-mode");
	expect_usage(ARGS("--link", "unix:/s", "--resolv-conf", ""), "--resolv-conf");
	expect_usage(ARGS("--link", "unix:/s", "--resolv-conf", "resolv.conf"), "--resolv-conf");
	expect_usage(ARGS("--link", "unix:/s", "--resolv-conf", "Resolved"), "--resolv-conf");
	static const struct {
		const char *arg;
		enum dns_mode mode;
	} modes[] = { { "auto", DNS_AUTO }, { "file", DNS_FILE }, { "resolved", DNS_RESOLVED },
		      { "resolvconf", DNS_RESOLVCONF }, { "none", DNS_NONE } };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		CHECK(parse(&o, ARGS("--link", "unix:/s", "--resolv-conf", modes[i].arg)) == OPTIONS_RUN &&
		      o.dns_mode == modes[i].mode && !strcmp(o.resolv_conf, "/etc/resolv.conf"),
		      "--resolv-conf %s", modes[i].arg);
	CHECK(parse(&o, ARGS("--link", "unix:/s", "--resolv-conf", "/tmp/resolv.conf")) == OPTIONS_RUN &&
	      o.dns_mode == DNS_FILE && !strcmp(o.resolv_conf, "/tmp/resolv.conf"), "--resolv-conf PATH");
	CHECK(parse(&o, ARGS("--link", "unix:/s", "--resolv-conf", "./resolv.conf")) == OPTIONS_RUN &&
	      o.dns_mode == DNS_FILE, "--resolv-conf ./relative");
	expect_usage(ARGS("--link", "unix:/s", "--state-dir", ""), "--state-dir");
	expect_usage(ARGS("--link", "unix:/s", "--pid-file", "qbnetd.pid"), "--pid-file");
	CHECK(parse(&o, ARGS("--link", "unix:/s", "--pid-file", "/run/qbnetd.pid")) == OPTIONS_RUN &&
	      !strcmp(o.pid_file, "/run/qbnetd.pid"), "--pid-file: %s", err_text);
	CHECK(parse(&o, ARGS("--link", "unix:/s")) == OPTIONS_RUN && !o.pid_file, "no pid file by default");
	expect_usage(ARGS("--link", "unix:/s", "--max-bundle", "16383"), "--max-bundle");
	expect_usage(ARGS("--link", "unix:/s", "--max-bundle", "1048577"), "--max-bundle");
	expect_usage(ARGS("--link", "unix:/s", "--max-bundle", "64k"), "--max-bundle");
	expect_usage(ARGS("--link", "unix:/s", "--log-level", "trace"), "--log-level");
	CHECK(parse(&o, ARGS("--link", "unix:/s", "--frobnicate")) == OPTIONS_USAGE &&
	      strstr(err_text, "--frobnicate"), "unknown option named: %s", err_text);
	CHECK(parse(&o, ARGS("--link")) == OPTIONS_USAGE && strstr(err_text, "needs a value"),
	      "missing value: %s", err_text);
	CHECK(parse(&o, ARGS("--link", "unix:/s", "extra")) == OPTIONS_USAGE &&
	      strstr(err_text, "extra"), "stray argument: %s", err_text);
}

static void test_route_policy(void)
{
	struct route_policy p;
	char text[32];

	CHECK(!route_policy_parse("replace", &p) && p.mode == ROUTE_MODE_REPLACE, "replace");
	CHECK(!route_policy_parse("none", &p) && p.mode == ROUTE_MODE_NONE, "none");
	CHECK(!route_policy_parse("metric:0", &p) && p.mode == ROUTE_MODE_METRIC && !p.metric,
	      "metric:0");
	CHECK(!route_policy_parse("metric:4294967295", &p) && p.metric == 4294967295u, "max");
	route_policy_describe(&p, text, sizeof(text));
	CHECK(!strcmp(text, "metric:4294967295"), "describe %s", text);
	const char *bad[] = { "metric:4294967296", "metric:", "metric:-1", "metric:1x",
			      "metric: 5", "Replace", "", "metric" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(route_policy_parse(bad[i], &p), "'%s' rejected", bad[i]);
}

static void test_serial(void)
{
	char out[SERIAL_MAX + 1], long_in[200];

	CHECK(serial_sanitise("  QB-0001\n", 10, out) == 7 && !strcmp(out, "QB-0001"), "trim");
	CHECK(serial_sanitise("a\tb\x7f\xc3\xa9" "c", 7, out) == 3 && !strcmp(out, "abc"),
	      "non-printable dropped: %s", out);
	CHECK(serial_sanitise("\x01\x02 \n", 4, out) == 0 && !out[0], "nothing usable");
	CHECK(serial_sanitise("1234\0abcd", 9, out) == 8, "device-tree NUL dropped");
	memset(long_in, 'x', sizeof(long_in));
	CHECK(serial_sanitise(long_in, sizeof(long_in), out) == SERIAL_MAX &&
	      strlen(out) == SERIAL_MAX, "truncated to 64");

	const char *source;
	serial_detect(out, &source);
	CHECK(strlen(out) >= 1 && strlen(out) <= SERIAL_MAX && source, "detected '%s' from %s",
	      out, source);
}

static void test_resolv_render(void)
{
	struct proto_config config = { .mtu = 1500 };
	char text[2048];

	CHECK(resolv_render(&config, "qb0", text, sizeof(text)) == 0, "no DNS: nothing");
	config.dns4_count = 2;
	inet_pton(AF_INET, "10.113.98.3", config.dns4[0]);
	inet_pton(AF_INET, "10.113.98.4", config.dns4[1]);
	config.dns6_count = 1;
	inet_pton(AF_INET6, "fd71:6200::3", config.dns6[0]);
	size_t len = resolv_render(&config, "qb0", text, sizeof(text));
	CHECK(len == strlen(text) && !strncmp(text, "# generated by qbnetd ", 22) &&
	      strstr(text, "\nnameserver 10.113.98.3\nnameserver 10.113.98.4\n") &&
	      !strstr(text, "fd71"), "IPv4 servers, IPv6 ones only with IPv6 configured:\n%s",
	      text);
	config.has_ipv6 = true;
	resolv_render(&config, "qb0", text, sizeof(text));
	CHECK(strstr(text, "nameserver 10.113.98.4\nnameserver fd71:6200::3\n") != NULL,
	      "IPv6 server after the IPv4 ones:\n%s", text);
	CHECK(resolv_render(&config, "qb0", text, 40) == 0, "too small a buffer");
}

int main(void)
{
	test_options();
	test_route_policy();
	test_serial();
	test_resolv_render();
	free_argv();
	return checks_report("test_util");
}
