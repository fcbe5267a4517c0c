/* Command line: qbnetd's flags, their defaults, validation with one clear
 * error line per bad value (exit code 2), --help and --version. */
#ifndef QB_OPTIONS_H
#define QB_OPTIONS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/un.h>

#include "dns.h"
#include "gadget.h"
#include "log.h"
#include "routes.h"
#include "serial.h"

#define OPTIONS_LINK_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

enum link_kind {
	LINK_KIND_USB,		/* the default: the board is a USB gadget */
	LINK_KIND_UNIX,
};

struct options {
	enum link_kind link_kind;
	char link_path[OPTIONS_LINK_PATH_MAX];	/* unix: the socket */
	uint16_t usb_vendor;
	uint16_t usb_product;
	const char *usb_udc;		/* NULL: the first UDC */
	const char *usb_gadget;
	const char *usb_ffs;		/* NULL: STATE_DIR/ffs */
	const char *usb_manufacturer;
	const char *usb_product_name;
	uint32_t usb_request_size;	/* cap on each USB request (usb_xfer.h) */
	bool usb_acm;			/* --usb-acm: an ACM serial function too */
	bool usb_function_only;		/* --usb-function-only: another gadget links ours */
	bool usb_gadget_option;		/* a flag describing the gadget (not with function-only) */
	bool wait_udc;			/* --wait-udc */
	bool usb_option_given;		/* any --usb-* flag */
	char tun[IF_NAMESIZE];
	bool has_serial;
	char serial[SERIAL_MAX + 1];
	struct route_policy route;
	enum dns_mode dns_mode;		/* --resolv-conf MODE */
	const char *resolv_conf;	/* the file of DNS_FILE */
	const char *state_dir;
	const char *pid_file;		/* NULL: none */
	uint32_t max_bundle;
	enum log_level log_level;
};

enum options_result {
	OPTIONS_RUN,		/* run the daemon */
	OPTIONS_EXIT,		/* --help or --version printed: exit 0 */
	OPTIONS_USAGE,		/* error printed: exit 2 */
};

enum options_result options_parse(struct options *options, int argc, char **argv,
				  FILE *out, FILE *errors);
void options_usage(FILE *out);

#endif
