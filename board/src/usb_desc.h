/* FunctionFS descriptor and string blobs (doc/PROTOCOL.md section 6), built
 * from a declarative table of interfaces and endpoints: FS/HS/SS blocks and
 * MS OS 1.0 descriptors, serialised little-endian byte by byte. Pure. */
#ifndef QB_USB_DESC_H
#define QB_USB_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USB_DESC_LANG_EN_US 0x0409
/* MS OS 1.0 extended property data type REG_SZ. */
#define USB_DESC_REG_SZ 1u
/* wMaxPacketSize of a bulk endpoint at each speed, and the SuperSpeed burst. */
#define USB_DESC_FS_BULK_MPS 64u
#define USB_DESC_HS_BULK_MPS 512u
#define USB_DESC_SS_BULK_MPS 1024u
#define USB_DESC_SS_MAX_BURST 15u
/* Limits of the builder, not of USB. */
#define USB_DESC_BLOB_MAX 2048u

struct usb_desc_endpoint {
	uint8_t number;		/* 1..15, unique within the function */
	bool in;		/* IN: device to host */
	/* Bulk only for now; a type field goes here when another is needed. */
};

/* An MS OS 1.0 extended property of type REG_SZ. */
struct usb_desc_property {
	const char *name;
	const char *value;
};

struct usb_desc_interface {
	uint8_t class;
	uint8_t subclass;
	uint8_t protocol;
	const char *name;	/* iInterface string */
	const struct usb_desc_endpoint *endpoints;
	unsigned endpoint_count;
	const char *compat_id;	/* MS OS 1.0 extended compat ID, or NULL */
	const struct usb_desc_property *properties;
	unsigned property_count;
};

struct usb_desc_function {
	const struct usb_desc_interface *interfaces;
	unsigned interface_count;
};

/* The qbnet function: one vendor interface 0xFF/0x71/0x01 with a bulk OUT
 * and a bulk IN endpoint, WinUSB compat ID and DeviceInterfaceGUID. */
extern const struct usb_desc_function usb_desc_qbnet;
#define USB_QBNET_CLASS 0xff
#define USB_QBNET_SUBCLASS 0x71
#define USB_QBNET_PROTOCOL 0x01
#define USB_QBNET_INTERFACE_NAME "qbnet link"
#define USB_QBNET_GUID "{f0a4d0e2-91f4-4b68-bc02-ad33d5f99eee}"
/* FunctionFS endpoint files of the qbnet interface (ep<N>). */
#define USB_QBNET_EP_OUT_FILE 1u
#define USB_QBNET_EP_IN_FILE 2u

/* Writes the FunctionFS descriptors (magic V2, FS+HS+SS+MS OS) into buf;
 * returns the length, or 0 when cap is too small or the table is invalid. */
size_t usb_desc_build(const struct usb_desc_function *function, uint8_t *buf, size_t cap);
/* Writes the FunctionFS strings blob (one language, 0x0409); 0 on error. */
size_t usb_desc_strings(const struct usb_desc_function *function, uint8_t *buf, size_t cap);
/* Descriptor counts per speed (0 FS, 1 HS, 2 SS) and MS OS descriptor count. */
unsigned usb_desc_count(const struct usb_desc_function *function, unsigned speed);
unsigned usb_desc_os_count(const struct usb_desc_function *function);
/* N of the FunctionFS file "epN" of an endpoint: endpoints are numbered 1..
 * in table order; 0 when out of range. */
unsigned usb_desc_endpoint_file(const struct usb_desc_function *function,
				unsigned interface, unsigned endpoint);

#endif
