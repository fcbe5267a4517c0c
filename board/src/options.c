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
#include "usb_xfer.h"
#include "version.h"

#define DEFAULT_TUN "qb0"
#define DEFAULT_RESOLV "/etc/resolv.conf"
#define DEFAULT_STATE_DIR "/run/qbnetd"

void options_usage(FILE *out)
{
	fprintf(out,
"Usage: qbnetd [--link usb|unix:PATH] [OPTION]...\n"
"       qbnetd status [--json] [--state-dir DIR]   (the running daemon's state)\n"
"Board daemon of qbnet: IP networking to a host computer over USB.\n"
"Creates a TUN interface and a USB gadget (or connects to a socket), applies\n"
"the host's CONFIG (address, MTU, default route, DNS) and moves IP packets.\n"
"\n"
"  --link usb              be a USB device: create the ConfigFS gadget with a\n"
"                          FunctionFS function and bind it to the UDC (default)\n"
"  --link unix:PATH        connect to the host driver listening on the Unix\n"
"                          stream socket PATH instead (tests, emulators)\n"
"  --usb-id VID:PID        USB vendor and product ID in hex (default: %04x:%04x)\n"
"  --usb-udc NAME          USB device controller (default: the first entry of\n"
"                          /sys/class/udc)\n"
"  --usb-gadget NAME       ConfigFS gadget and FunctionFS instance name\n"
"                          (default: %s)\n"
"  --usb-ffs DIR           where functionfs is mounted (default: STATE_DIR/ffs)\n"
"  --usb-manufacturer STR  USB manufacturer string (default: %s)\n"
"  --usb-product STR       USB product string (default: %s)\n"
"  --usb-acm               add an ACM serial function to the gadget: a console\n"
"                          on the same cable (/dev/ttyGS<n> on the board)\n"
"  --usb-function-only     do not create a gadget: only mount and serve the\n"
"                          FunctionFS instance ffs.NAME (--usb-gadget) that a\n"
"                          gadget set up by someone else links; bind that\n"
"                          gadget to its UDC once ep2 exists in the --usb-ffs\n"
"                          directory\n"
"  --wait-udc              no UDC yet (or not the --usb-udc one): wait for it\n"
"                          to appear in /sys/class/udc instead of exiting\n"
"  --usb-request-size N    largest USB request in bytes, a multiple of %u\n"
"                          from %u to %u (default: %u); raise it only\n"
"                          where the UDC does scatter-gather (dwc3, cdns3,\n"
"                          chipidea) or has memory to spare: without it each\n"
"                          request is one contiguous kernel allocation\n"
"  --tun NAME              TUN interface name (default: %s)\n"
"  --serial STR            serial announced to the host, also the USB serial\n"
"                          number (default: device tree serial-number, else\n"
"                          /etc/machine-id, else hostname)\n"
"  --route-mode MODE       default route handling (default: replace):\n"
"                            replace   save and remove the existing default\n"
"                                      routes, install ours, restore at exit\n"
"                            metric:N  add ours alongside, with metric N\n"
"                            none      do not touch default routes\n"
"  --resolv-conf MODE      where the host's DNS servers go (default: auto):\n"
"                            auto        whoever owns /etc/resolv.conf:\n"
"                                        resolved, resolvconf, else file\n"
"                            resolved    per-link DNS on the TUN via resolvectl\n"
"                            resolvconf  a record TUN.qbnet via resolvconf -a\n"
"                            file        write %s in place,\n"
"                                        restored at exit\n"
"                            PATH        the same with another file (a path\n"
"                                        with a '/'); never written through a\n"
"                                        symlink into another manager's file\n"
"                            none        leave DNS alone\n"
"  --state-dir DIR         where saved routes and the resolv.conf backup are kept\n"
"                          for crash recovery (default: %s)\n"
"  --pid-file PATH         write qbnetd's pid to PATH once it is ready (the\n"
"                          gadget is bound or the socket link started), remove\n"
"                          it at exit (init scripts; systemd uses READY=1)\n"
"  --max-bundle BYTES      largest bundle we accept, %u..%u (default: %u)\n"
"  --log-level LEVEL       error, warn, info or debug (default: info)\n"
"  -v, --verbose           one log level more (info -> debug)\n"
"  -q, --quiet             one log level less (info -> warn -> error)\n"
"  -h, --help              show this help and exit\n"
"  -V, --version           show the version and exit\n"
"\n"
"Signals: SIGTERM, SIGINT, SIGHUP and SIGQUIT remove the gadget, restore routes\n"
"and resolv.conf, remove addresses and exit 0; SIGUSR1 logs the counters, which\n"
"'qbnetd status' reads from STATE_DIR/status.sock (owner-only) at any time.\n"
"Needs root: /dev/net/tun (modprobe tun), CAP_NET_ADMIN, and for USB ConfigFS\n"
"with libcomposite and usb_f_fs (modprobe -a libcomposite usb_f_fs) and a UDC.\n",
		GADGET_DEFAULT_VENDOR, GADGET_DEFAULT_PRODUCT, GADGET_DEFAULT_NAME,
		GADGET_DEFAULT_MANUFACTURER, GADGET_DEFAULT_PRODUCT_NAME, USB_XFER_REQUEST_ALIGN,
		USB_XFER_REQUEST_MIN, USB_XFER_REQUEST_MAX, USB_XFER_REQUEST_DEFAULT, DEFAULT_TUN, DEFAULT_RESOLV, DEFAULT_STATE_DIR, PROTO_MAX_BUNDLE_MIN,
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

/* --usb-id: VID:PID, each 1..4 hex digits, optionally 0x-prefixed. */
static bool parse_usb_id(const char *arg, uint16_t *vendor, uint16_t *product)
{
	unsigned long values[2];
	const char *p = arg;

	for (int i = 0; i < 2; i++) {
		char *end;
		if (!strncmp(p, "0x", 2) || !strncmp(p, "0X", 2))
			p += 2;
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
			return false;
		errno = 0;
		values[i] = strtoul(p, &end, 16);
		if (errno || end - p > 4 || *end != (i ? '\0' : ':'))
			return false;
		p = end + 1;
	}
	*vendor = (uint16_t)values[0];
	*product = (uint16_t)values[1];
	return true;
}

/* Printable ASCII of 1..max bytes (names, USB strings). */
static bool printable_text(const char *text, size_t max, const char *forbidden)
{
	size_t len = strlen(text);

	if (!len || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (text[i] < 0x20 || text[i] > 0x7e || strchr(forbidden, text[i]))
			return false;
	return true;
}

static bool valid_gadget_name(const char *name)
{
	if (name[0] == '.' || !printable_text(name, GADGET_NAME_MAX, ""))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

enum {
	OPT_LINK = 256,
	OPT_USB_ID,
	OPT_USB_UDC,
	OPT_USB_GADGET,
	OPT_USB_FFS,
	OPT_USB_MANUFACTURER,
	OPT_USB_PRODUCT,
	OPT_USB_REQUEST_SIZE,
	OPT_USB_ACM,
	OPT_USB_FUNCTION_ONLY,
	OPT_WAIT_UDC,
	OPT_TUN,
	OPT_SERIAL,
	OPT_ROUTE_MODE,
	OPT_RESOLV_CONF,
	OPT_STATE_DIR,
	OPT_PID_FILE,
	OPT_MAX_BUNDLE,
	OPT_LOG_LEVEL,
};

static const struct option long_options[] = {
	{ "link", required_argument, NULL, OPT_LINK },
	{ "usb-id", required_argument, NULL, OPT_USB_ID },
	{ "usb-udc", required_argument, NULL, OPT_USB_UDC },
	{ "usb-gadget", required_argument, NULL, OPT_USB_GADGET },
	{ "usb-ffs", required_argument, NULL, OPT_USB_FFS },
	{ "usb-manufacturer", required_argument, NULL, OPT_USB_MANUFACTURER },
	{ "usb-product", required_argument, NULL, OPT_USB_PRODUCT },
	{ "usb-request-size", required_argument, NULL, OPT_USB_REQUEST_SIZE },
	{ "usb-acm", no_argument, NULL, OPT_USB_ACM },
	{ "usb-function-only", no_argument, NULL, OPT_USB_FUNCTION_ONLY },
	{ "wait-udc", no_argument, NULL, OPT_WAIT_UDC },
	{ "tun", required_argument, NULL, OPT_TUN },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "route-mode", required_argument, NULL, OPT_ROUTE_MODE },
	{ "resolv-conf", required_argument, NULL, OPT_RESOLV_CONF },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "pid-file", required_argument, NULL, OPT_PID_FILE },
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
		if (!strcmp(arg, "usb")) {
			o->link_kind = LINK_KIND_USB;
			return OPTIONS_RUN;
		}
		if (strncmp(arg, "unix:", 5))
			return bad(errors, "--link: '%s' is not valid; accepted: usb, unix:PATH", arg);
		if (!arg[5] || strlen(arg + 5) >= sizeof(o->link_path))
			return bad(errors, "--link: '%s' is not valid; accepted: usb, or unix:PATH with a PATH of 1..%zu bytes",
				   arg, sizeof(o->link_path) - 1);
		o->link_kind = LINK_KIND_UNIX;
		snprintf(o->link_path, sizeof(o->link_path), "%s", arg + 5);
		return OPTIONS_RUN;
	case OPT_USB_ID:
		o->usb_option_given = true;
		o->usb_gadget_option = true;
		if (!parse_usb_id(arg, &o->usb_vendor, &o->usb_product))
			return bad(errors, "--usb-id: '%s' is not valid; accepted: VID:PID in hex, e.g. 1209:0001", arg);
		return OPTIONS_RUN;
	case OPT_USB_UDC:
		o->usb_option_given = true;
		o->usb_gadget_option = true;
		if (!printable_text(arg, GADGET_UDC_MAX - 1, " /") || !strcmp(arg, ".") || !strcmp(arg, ".."))
			return bad(errors, "--usb-udc: '%s' is not valid; accepted: a name from /sys/class/udc (1..%d characters, no '/' or spaces)",
				   arg, GADGET_UDC_MAX - 1);
		o->usb_udc = arg;
		return OPTIONS_RUN;
	case OPT_USB_GADGET:
		o->usb_option_given = true;
		if (!valid_gadget_name(arg))
			return bad(errors, "--usb-gadget: '%s' is not valid; accepted: 1..%d characters of A-Z a-z 0-9 _ - . (not starting with '.')",
				   arg, GADGET_NAME_MAX);
		o->usb_gadget = arg;
		return OPTIONS_RUN;
	case OPT_USB_FFS:
		o->usb_option_given = true;
		if (arg[0] != '/' || strlen(arg) > 512 || strchr(arg, '\n'))
			return bad(errors, "--usb-ffs: '%s' is not valid; accepted: an absolute directory path of 1..512 bytes", arg);
		o->usb_ffs = arg;
		return OPTIONS_RUN;
	case OPT_USB_MANUFACTURER:
	case OPT_USB_PRODUCT:
		o->usb_option_given = true;
		o->usb_gadget_option = true;
		if (!printable_text(arg, GADGET_STRING_MAX, ""))
			return bad(errors, "%s: '%s' is not valid; accepted: 1..%d printable ASCII characters",
				   opt == OPT_USB_PRODUCT ? "--usb-product" : "--usb-manufacturer", arg,
				   GADGET_STRING_MAX);
		if (opt == OPT_USB_PRODUCT)
			o->usb_product_name = arg;
		else
			o->usb_manufacturer = arg;
		return OPTIONS_RUN;
	case OPT_USB_REQUEST_SIZE: {
		o->usb_option_given = true;
		errno = 0;
		unsigned long long value = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || !usb_xfer_request_size_valid(value))
			return bad(errors, "--usb-request-size: '%s' is not valid; accepted: a multiple of %u (the largest bulk packet) from %u to %u bytes, e.g. %u or 65536",
				   arg, USB_XFER_REQUEST_ALIGN, USB_XFER_REQUEST_MIN, USB_XFER_REQUEST_MAX,
				   USB_XFER_REQUEST_DEFAULT);
		o->usb_request_size = (uint32_t)value;
		return OPTIONS_RUN;
	}
	case OPT_USB_ACM:
		o->usb_option_given = true;
		o->usb_gadget_option = true;
		o->usb_acm = true;
		return OPTIONS_RUN;
	case OPT_USB_FUNCTION_ONLY:
		o->usb_option_given = true;
		o->usb_function_only = true;
		return OPTIONS_RUN;
	case OPT_WAIT_UDC:
		o->usb_option_given = true;
		o->usb_gadget_option = true;
		o->wait_udc = true;
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
		if (!dns_mode_parse(arg, &o->dns_mode))
			return OPTIONS_RUN;
		if (!strchr(arg, '/') || strchr(arg, '\n') || strlen(arg) >= PATH_MAX)
			return bad(errors, "--resolv-conf: '%s' is not valid; accepted: auto, resolved, resolvconf, file, none, or a file PATH (with a '/')",
				   arg);
		o->dns_mode = DNS_FILE;
		o->resolv_conf = arg;
		return OPTIONS_RUN;
	case OPT_STATE_DIR:
		if (!arg[0] || strlen(arg) > 512)
			return bad(errors, "--state-dir: '%s' is not valid; accepted: a directory path of 1..512 bytes", arg);
		o->state_dir = arg;
		return OPTIONS_RUN;
	case OPT_PID_FILE:
		if (arg[0] != '/' || strlen(arg) > 512 || strchr(arg, '\n'))
			return bad(errors, "--pid-file: '%s' is not valid; accepted: an absolute file path of 1..512 bytes",
				   arg);
		o->pid_file = arg;
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
	o->dns_mode = DNS_AUTO;
	o->resolv_conf = DEFAULT_RESOLV;
	o->state_dir = DEFAULT_STATE_DIR;
	o->max_bundle = PROTO_MAX_BUNDLE_DEFAULT;
	o->log_level = LOG_LEVEL_INFO;
	o->link_kind = LINK_KIND_USB;
	o->usb_vendor = GADGET_DEFAULT_VENDOR;
	o->usb_product = GADGET_DEFAULT_PRODUCT;
	o->usb_gadget = GADGET_DEFAULT_NAME;
	o->usb_manufacturer = GADGET_DEFAULT_MANUFACTURER;
	o->usb_product_name = GADGET_DEFAULT_PRODUCT_NAME;
	o->usb_request_size = USB_XFER_REQUEST_DEFAULT;

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
	if (o->link_kind != LINK_KIND_USB && o->usb_option_given)
		return bad(errors, "--usb-* flags apply to --link usb only; accepted: drop them, or use --link usb");
	if (o->usb_function_only && o->usb_gadget_option)
		return bad(errors, "--usb-function-only: the gadget is someone else's, so --usb-id, --usb-udc, --usb-manufacturer, --usb-product, --usb-acm and --wait-udc are theirs to set; accepted: drop them, or drop --usb-function-only");
	return OPTIONS_RUN;
}
