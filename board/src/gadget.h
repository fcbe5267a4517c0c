/* The USB gadget in ConfigFS and its FunctionFS instance: creation (configfs
 * and modules, device fields, strings, configuration, os_desc, functionfs
 * mount, ep0 descriptors, endpoint files, UDC binding) and removal. */
#ifndef QB_GADGET_H
#define QB_GADGET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usb_desc.h"

#define GADGET_NAME_MAX 32
#define GADGET_UDC_MAX 128
#define GADGET_STRING_MAX 126	/* USB string descriptors hold 126 UTF-16 units */
#define GADGET_ENDPOINTS_MAX 15
#define GADGET_DEFAULT_NAME "qbnet"
#define GADGET_DEFAULT_VENDOR 0x1209
#define GADGET_DEFAULT_PRODUCT 0x0001
#define GADGET_DEFAULT_MANUFACTURER "qbkit"
#define GADGET_DEFAULT_PRODUCT_NAME "qbkit board"
#define GADGET_BCD_DEVICE 0x0101	/* bump with any descriptor change */
/* With --usb-acm: another shape of device (composite, IAD class), so that
 * Windows, which caches what it learnt per VID/PID/bcdDevice, sees a new one. */
#define GADGET_BCD_DEVICE_ACM 0x0111
#define GADGET_BCD_USB 0x0200
#define GADGET_CONFIG_NAME "qbnet"
#define GADGET_MAX_POWER_MA 250
#define GADGET_OS_VENDOR_CODE 0xcd
#define GADGET_OS_SIGN "MSFT100"

struct gadget_config {
	const char *name;		/* ConfigFS directory and ffs instance */
	uint16_t vendor;
	uint16_t product;
	const char *manufacturer;
	const char *product_name;
	const char *serial;
	const char *ffs_dir;		/* functionfs mount point */
	const char *udc;		/* NULL: the first in /sys/class/udc */
	const struct usb_desc_function *function;
	bool acm;			/* add an ACM serial function (--usb-acm) */
	bool function_only;		/* only the FunctionFS instance: another gadget links it */
	bool wait_udc;			/* no UDC yet: wait for one (--wait-udc) */
};

/* gadget_create and gadget_bind: the gadget is made but there is no UDC
 * (or not the one named) yet; err says which. */
#define GADGET_NO_UDC 1

struct gadget {
	char dir[PATH_MAX];		/* /sys/kernel/config/usb_gadget/NAME */
	char ffs_dir[PATH_MAX];
	char udc[GADGET_UDC_MAX];
	char acm_tty[32];		/* --usb-acm: /dev/ttyGS<n> */
	bool created;			/* dir exists (ours) */
	bool mounted;
	bool bound;
	int ep0;			/* non-blocking; -1 when closed */
	int eps[GADGET_ENDPOINTS_MAX + 1];	/* eps[N] is file epN, -1 closed */
};

/* Creates everything up to and including the UDC binding, in the order
 * FunctionFS requires. On failure writes one line naming the fix into err,
 * removes what it made, and returns -1. With config->wait_udc and no UDC
 * yet, returns GADGET_NO_UDC and keeps the gadget: gadget_bind later. With
 * config->function_only, only mounts and fills the FunctionFS instance that
 * another gadget holds (dir is then that gadget's, never removed). */
int gadget_create(struct gadget *gadget, const struct gadget_config *config, char *err,
		  size_t err_len);
/* Binds a created gadget to its UDC: 0, GADGET_NO_UDC, or -1 (err set). */
int gadget_bind(struct gadget *gadget, const struct gadget_config *config, char *err,
		size_t err_len);
/* Unbinds from the UDC (every pending transfer then completes). */
void gadget_unbind(struct gadget *gadget);
/* Unbinds, closes the endpoint files and ep0, unmounts functionfs and
 * removes the ConfigFS tree in reverse order. Safe on a partial gadget. */
void gadget_destroy(struct gadget *gadget);
/* Reads /sys/class/udc/UDC/current_speed into a short name ("high-speed"). */
int gadget_udc_speed(const struct gadget *gadget, char *out, size_t out_len);

#endif
