/* Parsing and validating qbnetd's command line. Every bad value gets one
 * line naming the flag and what it accepts; the caller exits with 2. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "proto.h"
#include "version.h"

#define DEFAULT_TUN "qb0"
#define DEFAULT_RESOLV "/etc/resolv.conf"
#define DEFAULT_STATE_DIR "/run/qbnetd"

void options_usage(FILE *out)
{
	fprintf(out,
"Usage: qbnetd --link unix:PATH [OPTION]...\n"
"Board daemon of qbnet: IP networking to a host computer over a link.\n"
"Creates a TUN interface, connects to the host driver (qbnet), applies the\n"
"host's CONFIG (address, MTU, default route, DNS) and moves IP packets.\n"
"\n"
"  --link unix:PATH        connect to the host driver listening on the Unix\n"
"                          stream socket PATH (required; USB comes later)\n"
"  --tun NAME              TUN interface name (default: %s)\n"
"  --serial STR            serial announced to the host (default: device tree\n"
"                          serial-number, else /etc/machine-id, else hostname)\n"
"  --route-mode MODE       default route handling (default: replace):\n"
"                            replace   save and remove the existing default\n"
"                                      routes, install ours, restore at exit\n"
"                            metric:N  add ours alongside, with metric N\n"
"                            none      do not touch default routes\n"
"  --resolv-conf PATH|none file that receives the host's DNS servers, restored\n"
"                          at exit (default: %s)\n"
"  --state-dir DIR         where saved routes and the resolv.conf backup are kept\n"
"                          for crash recovery (default: %s)\n"
"  --max-bundle BYTES      largest bundle we accept, %u..%u (default: %u)\n"
"  --log-level LEVEL       error, warn, info or debug (default: info)\n"
"  -v, --verbose           one log level more (info -> debug)\n"
"  -q, --quiet             one log level less (info -> warn -> error)\n"
"  -h, --help              show this help and exit\n"
"  -V, --version           show the version and exit\n"
"\n"
"Signals: SIGINT/SIGTERM restore routes and resolv.conf, remove addresses and\n"
"exit 0; SIGUSR1 logs the counters.\n"
"Needs /dev/net/tun (modprobe tun) and CAP_NET_ADMIN (run as root).\n",
		DEFAULT_TUN, DEFAULT_RESOLV, DEFAULT_STATE_DIR, PROTO_MAX_BUNDLE_MIN,
		PROTO_BUNDLE_ABS_MAX, PROTO_MAX_BUNDLE_DEFAULT);
}

static enum options_result bad(FILE *errors, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum options_result bad(FILE *errors, const char *fmt, ...)
{
	va_list ap;

	fputs("qbnetd: ", errors);
	va_start(ap, fmt);
	vfprintf(errors, fmt, ap);
	va_end(ap);
	fputs("\nTry 'qbnetd --help' for more information.\n", errors);
	return OPTIONS_USAGE;
}

static bool valid_ifname(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

enum {
	OPT_LINK = 256,
	OPT_TUN,
	OPT_SERIAL,
	OPT_ROUTE_MODE,
	OPT_RESOLV_CONF,
	OPT_STATE_DIR,
	OPT_MAX_BUNDLE,
	OPT_LOG_LEVEL,
};

static const struct option long_options[] = {
	{ "link", required_argument, NULL, OPT_LINK },
	{ "tun", required_argument, NULL, OPT_TUN },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "route-mode", required_argument, NULL, OPT_ROUTE_MODE },
	{ "resolv-conf", required_argument, NULL, OPT_RESOLV_CONF },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "max-bundle", required_argument, NULL, OPT_MAX_BUNDLE },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static enum options_result parse_one(struct options *o, int opt, const char *arg,
				     FILE *out, FILE *errors)
{
	char *end;

	switch (opt) {
	case OPT_LINK:
		if (strncmp(arg, "unix:", 5))
			return bad(errors, "--link: '%s' is not valid; accepted: unix:PATH%s", arg,
				   !strcmp(arg, "usb") ? " (the USB transport is not in this version yet)" : "");
		if (!arg[5] || strlen(arg + 5) >= sizeof(o->link_path))
			return bad(errors, "--link: '%s' is not valid; accepted: unix:PATH with a PATH of 1..%zu bytes",
				   arg, sizeof(o->link_path) - 1);
		snprintf(o->link_path, sizeof(o->link_path), "%s", arg + 5);
		return OPTIONS_RUN;
	case OPT_TUN:
		if (!valid_ifname(arg))
			return bad(errors,
				   "--tun: '%s' is not a valid interface name; accepted: 1..%d characters, no spaces, '/' or ':'",
				   arg, IF_NAMESIZE - 1);
		snprintf(o->tun, sizeof(o->tun), "%s", arg);
		return OPTIONS_RUN;
	case OPT_SERIAL:
		if (!serial_sanitise(arg, strlen(arg), o->serial))
			return bad(errors, "--serial: '%s' has no printable characters; accepted: 1..%d printable ASCII characters",
				   arg, SERIAL_MAX);
		o->has_serial = true;
		return OPTIONS_RUN;
	case OPT_ROUTE_MODE:
		if (route_policy_parse(arg, &o->route))
			return bad(errors, "--route-mode: '%s' is not valid; accepted: replace, metric:N (N = 0..4294967295), none",
				   arg);
		return OPTIONS_RUN;
	case OPT_RESOLV_CONF:
		if (!arg[0] || strchr(arg, '\n'))
			return bad(errors, "--resolv-conf: '%s' is not valid; accepted: a file path, or none", arg);
		o->resolv_conf = strcmp(arg, "none") ? arg : NULL;
		return OPTIONS_RUN;
	case OPT_STATE_DIR:
		if (!arg[0] || strlen(arg) > 512)
			return bad(errors, "--state-dir: '%s' is not valid; accepted: a directory path of 1..512 bytes", arg);
		o->state_dir = arg;
		return OPTIONS_RUN;
	case OPT_MAX_BUNDLE: {
		errno = 0;
		unsigned long long value = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || value < PROTO_MAX_BUNDLE_MIN ||
		    value > PROTO_BUNDLE_ABS_MAX)
			return bad(errors, "--max-bundle: '%s' is not valid; accepted: a number of bytes from %u to %u",
				   arg, PROTO_MAX_BUNDLE_MIN, PROTO_BUNDLE_ABS_MAX);
		o->max_bundle = (uint32_t)value;
		return OPTIONS_RUN;
	}
	case OPT_LOG_LEVEL:
		if (log_level_parse(arg, &o->log_level))
			return bad(errors, "--log-level: '%s' is not valid; accepted: error, warn, info, debug",
				   arg);
		return OPTIONS_RUN;
	case 'v':
		if (o->log_level < LOG_LEVEL_DEBUG)
			o->log_level++;
		return OPTIONS_RUN;
	case 'q':
		if (o->log_level > LOG_LEVEL_ERROR)
			o->log_level--;
		return OPTIONS_RUN;
	case 'h':
		options_usage(out);
		return OPTIONS_EXIT;
	case 'V':
		fprintf(out, "qbnetd %s (qbnet link protocol %d-%d)\n", QBNETD_VERSION,
			PROTO_VERSION_MIN, PROTO_VERSION_MAX);
		return OPTIONS_EXIT;
	}
	return OPTIONS_USAGE;
}

enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out,
				  FILE *errors)
{
	int opt;

	memset(o, 0, sizeof(*o));
	snprintf(o->tun, sizeof(o->tun), "%s", DEFAULT_TUN);
	o->route.mode = ROUTE_MODE_REPLACE;
	o->resolv_conf = DEFAULT_RESOLV;
	o->state_dir = DEFAULT_STATE_DIR;
	o->max_bundle = PROTO_MAX_BUNDLE_DEFAULT;
	o->log_level = LOG_LEVEL_INFO;

	optind = 0; /* full getopt re-initialisation (glibc) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vqhV", long_options, NULL)) != -1) {
		enum options_result result;
		const char *current = argv[optind - 1];

		if (opt == '?') {
			if (optopt)
				return bad(errors, "unknown option '-%c'", optopt);
			return bad(errors, "unknown option '%s'", current);
		}
		if (opt == ':')
			return bad(errors, "option '%s' needs a value", current);
		result = parse_one(o, opt, optarg, out, errors);
		if (result != OPTIONS_RUN)
			return result;
	}
	if (optind < argc)
		return bad(errors, "unexpected argument '%s'", argv[optind]);
	if (!o->link_path[0])
		return bad(errors, "--link is required; accepted: unix:PATH (the host driver's socket)");
	return OPTIONS_RUN;
}
