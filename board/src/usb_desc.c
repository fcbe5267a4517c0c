/* Serialises the FunctionFS descriptor and string blobs from the interface
 * and endpoint table: one generic pass per speed, then the MS OS 1.0 blocks.
 * Layouts: <linux/usb/functionfs.h>; every integer little-endian. */
#include <string.h>

#include "bytes.h"
#include "usb_desc.h"

/* FunctionFS (<linux/usb/functionfs.h>) and USB 3.2 chapter 9 constants,
 * spelled out so the builder does not depend on host structure layouts. */
#define FFS_DESCRIPTORS_MAGIC_V2 3u
#define FFS_STRINGS_MAGIC 2u
#define FFS_HAS_FS_DESC 1u
#define FFS_HAS_HS_DESC 2u
#define FFS_HAS_SS_DESC 4u
#define FFS_HAS_MS_OS_DESC 8u
#define DT_INTERFACE 0x04
#define DT_ENDPOINT 0x05
#define DT_SS_ENDPOINT_COMP 0x30
#define INTERFACE_LEN 9u
#define ENDPOINT_LEN 7u
#define SS_COMP_LEN 6u
#define EP_DIR_IN 0x80
#define EP_XFER_BULK 0x02
/* MS OS descriptor header in FunctionFS: interface, dwLength, bcdVersion,
 * wIndex, bCount+Reserved or wCount. */
#define OS_HEADER_LEN 11u
/* bcdVersion of the FunctionFS OS descriptor header: kernels up to at least
 * 6.1 accept only 0x0001; later ones want 0x0100 but still take 0x0001 (with
 * a warning). The host sees the composite driver's own 0x0100 either way. */
#define OS_BCD_VERSION 0x0001
#define OS_INDEX_EXT_COMPAT 4
#define OS_INDEX_EXT_PROP 5
#define OS_EXT_COMPAT_LEN 24u
#define OS_EXT_PROP_FIXED 14u	/* dwSize, type, name length, data length */
/* The kernel keeps an extended property's size in a u8. */
#define OS_EXT_PROP_MAX 255u

static const struct usb_desc_endpoint qbnet_endpoints[] = {
	{ .number = 1, .in = false },	/* bulk OUT: host -> board, ep1 */
	{ .number = 2, .in = true },	/* bulk IN: board -> host, ep2 */
};

static const struct usb_desc_property qbnet_properties[] = {
	{ .name = "DeviceInterfaceGUID", .value = USB_QBNET_GUID },
};

static const struct usb_desc_interface qbnet_interfaces[] = {
	{
		.class = USB_QBNET_CLASS,
		.subclass = USB_QBNET_SUBCLASS,
		.protocol = USB_QBNET_PROTOCOL,
		.name = USB_QBNET_INTERFACE_NAME,
		.endpoints = qbnet_endpoints,
		.endpoint_count = sizeof(qbnet_endpoints) / sizeof(qbnet_endpoints[0]),
		.compat_id = "WINUSB",
		.properties = qbnet_properties,
		.property_count = sizeof(qbnet_properties) / sizeof(qbnet_properties[0]),
	},
};

const struct usb_desc_function usb_desc_qbnet = {
	.interfaces = qbnet_interfaces,
	.interface_count = sizeof(qbnet_interfaces) / sizeof(qbnet_interfaces[0]),
};

enum speed { SPEED_FULL, SPEED_HIGH, SPEED_SUPER, SPEED_COUNT };

static const uint16_t bulk_mps[SPEED_COUNT] = {
	USB_DESC_FS_BULK_MPS, USB_DESC_HS_BULK_MPS, USB_DESC_SS_BULK_MPS,
};

/* A bounded writer: once something does not fit, everything after is
 * dropped and the build fails. */
struct writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static uint8_t *reserve(struct writer *w, size_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

static void put_u8(struct writer *w, uint8_t value)
{
	uint8_t *p = reserve(w, 1);

	if (p)
		*p = value;
}

static void put_u16(struct writer *w, uint16_t value)
{
	uint8_t *p = reserve(w, 2);

	if (p)
		put_le16(p, value);
}

static void put_u32(struct writer *w, uint32_t value)
{
	uint8_t *p = reserve(w, 4);

	if (p)
		put_le32(p, value);
}

static void put_bytes(struct writer *w, const void *data, size_t n)
{
	uint8_t *p = reserve(w, n);

	if (p && n)
		memcpy(p, data, n);
}

static bool table_valid(const struct usb_desc_function *f)
{
	uint16_t numbers_used = 0;

	if (!f->interface_count || f->interface_count > 32)
		return false;
	for (unsigned i = 0; i < f->interface_count; i++) {
		const struct usb_desc_interface *intf = &f->interfaces[i];
		if (!intf->name || intf->endpoint_count > 15)
			return false;
		if (intf->compat_id && strlen(intf->compat_id) > 8)
			return false;
		for (unsigned e = 0; e < intf->endpoint_count; e++) {
			uint8_t number = intf->endpoints[e].number;
			if (number < 1 || number > 15 || numbers_used & (1u << number))
				return false;
			numbers_used |= (uint16_t)(1u << number);
		}
		for (unsigned p = 0; p < intf->property_count; p++) {
			const struct usb_desc_property *prop = &intf->properties[p];
			if (OS_EXT_PROP_FIXED + strlen(prop->name) + 1 + strlen(prop->value) + 1 >
			    OS_EXT_PROP_MAX)
				return false;
		}
	}
	return true;
}

unsigned usb_desc_count(const struct usb_desc_function *f, unsigned speed)
{
	unsigned count = 0;

	for (unsigned i = 0; i < f->interface_count; i++)
		count += 1 + f->interfaces[i].endpoint_count * (speed == SPEED_SUPER ? 2 : 1);
	return count;
}

unsigned usb_desc_os_count(const struct usb_desc_function *f)
{
	unsigned count = 0;

	for (unsigned i = 0; i < f->interface_count; i++)
		count += (f->interfaces[i].compat_id != NULL) + (f->interfaces[i].property_count > 0);
	return count;
}

unsigned usb_desc_endpoint_file(const struct usb_desc_function *f, unsigned interface,
				unsigned endpoint)
{
	unsigned file = 1;

	if (interface >= f->interface_count ||
	    endpoint >= f->interfaces[interface].endpoint_count)
		return 0;
	for (unsigned i = 0; i < interface; i++)
		file += f->interfaces[i].endpoint_count;
	return file + endpoint;
}

static void put_speed_block(struct writer *w, const struct usb_desc_function *f,
			    enum speed speed)
{
	for (unsigned i = 0; i < f->interface_count; i++) {
		const struct usb_desc_interface *intf = &f->interfaces[i];

		put_u8(w, INTERFACE_LEN);
		put_u8(w, DT_INTERFACE);
		put_u8(w, (uint8_t)i);			/* bInterfaceNumber */
		put_u8(w, 0);				/* bAlternateSetting */
		put_u8(w, (uint8_t)intf->endpoint_count);
		put_u8(w, intf->class);
		put_u8(w, intf->subclass);
		put_u8(w, intf->protocol);
		put_u8(w, (uint8_t)(i + 1));		/* iInterface: string i+1 */
		for (unsigned e = 0; e < intf->endpoint_count; e++) {
			const struct usb_desc_endpoint *ep = &intf->endpoints[e];

			put_u8(w, ENDPOINT_LEN);
			put_u8(w, DT_ENDPOINT);
			put_u8(w, (uint8_t)(ep->number | (ep->in ? EP_DIR_IN : 0)));
			put_u8(w, EP_XFER_BULK);
			put_u16(w, bulk_mps[speed]);
			put_u8(w, 0);			/* bInterval: unused for bulk */
			if (speed != SPEED_SUPER)
				continue;
			put_u8(w, SS_COMP_LEN);
			put_u8(w, DT_SS_ENDPOINT_COMP);
			put_u8(w, USB_DESC_SS_MAX_BURST);
			put_u8(w, 0);			/* bmAttributes: no streams */
			put_u16(w, 0);			/* wBytesPerInterval: periodic only */
		}
	}
}

/* MS OS 1.0 descriptors in FunctionFS form: one extended compat ID block and
 * one extended properties block per interface that has them. dwLength is
 * the length of the block as written here (header included); the composite
 * driver computes what the host sees. */
static void put_os_blocks(struct writer *w, const struct usb_desc_function *f)
{
	for (unsigned i = 0; i < f->interface_count; i++) {
		const struct usb_desc_interface *intf = &f->interfaces[i];
		uint8_t id[8] = { 0 };

		if (!intf->compat_id)
			continue;
		memcpy(id, intf->compat_id, strlen(intf->compat_id));
		put_u8(w, (uint8_t)i);
		put_u32(w, OS_HEADER_LEN + OS_EXT_COMPAT_LEN);
		put_u16(w, OS_BCD_VERSION);
		put_u16(w, OS_INDEX_EXT_COMPAT);
		put_u8(w, 1);			/* bCount */
		put_u8(w, 0);			/* Reserved */
		put_u8(w, (uint8_t)i);		/* bFirstInterfaceNumber */
		/* Reserved1: MS says 1, but older kernels reject non-zero and
		 * newer ones force 1; the composite driver always sends 1. */
		put_u8(w, 0);
		put_bytes(w, id, sizeof(id));	/* CompatibleID */
		put_bytes(w, (const uint8_t[8]){ 0 }, 8);	/* SubCompatibleID */
		put_bytes(w, (const uint8_t[6]){ 0 }, 6);	/* Reserved2 */
	}
	for (unsigned i = 0; i < f->interface_count; i++) {
		const struct usb_desc_interface *intf = &f->interfaces[i];
		uint32_t total = OS_HEADER_LEN;

		if (!intf->property_count)
			continue;
		for (unsigned p = 0; p < intf->property_count; p++)
			total += (uint32_t)(OS_EXT_PROP_FIXED + strlen(intf->properties[p].name) + 1 +
					    strlen(intf->properties[p].value) + 1);
		put_u8(w, (uint8_t)i);
		put_u32(w, total);
		put_u16(w, OS_BCD_VERSION);
		put_u16(w, OS_INDEX_EXT_PROP);
		put_u16(w, (uint16_t)intf->property_count);	/* wCount */
		for (unsigned p = 0; p < intf->property_count; p++) {
			const struct usb_desc_property *prop = &intf->properties[p];
			/* Name and value go as NUL-terminated 8-bit strings; the
			 * kernel sends them to the host as UTF-16LE. */
			size_t name_len = strlen(prop->name) + 1;
			size_t value_len = strlen(prop->value) + 1;

			put_u32(w, (uint32_t)(OS_EXT_PROP_FIXED + name_len + value_len));
			put_u32(w, USB_DESC_REG_SZ);
			put_u16(w, (uint16_t)name_len);
			put_bytes(w, prop->name, name_len);
			put_u32(w, (uint32_t)value_len);
			put_bytes(w, prop->value, value_len);
		}
	}
}

size_t usb_desc_build(const struct usb_desc_function *f, uint8_t *buf, size_t cap)
{
	struct writer w = { .buf = buf, .cap = cap };
	unsigned os_count = usb_desc_os_count(f);
	uint32_t flags = FFS_HAS_FS_DESC | FFS_HAS_HS_DESC | FFS_HAS_SS_DESC;

	if (!table_valid(f))
		return 0;
	if (os_count)
		flags |= FFS_HAS_MS_OS_DESC;
	put_u32(&w, FFS_DESCRIPTORS_MAGIC_V2);
	put_u32(&w, 0);				/* length, patched below */
	put_u32(&w, flags);
	for (unsigned speed = 0; speed < SPEED_COUNT; speed++)
		put_u32(&w, usb_desc_count(f, speed));
	if (os_count)
		put_u32(&w, os_count);
	for (unsigned speed = 0; speed < SPEED_COUNT; speed++)
		put_speed_block(&w, f, (enum speed)speed);
	put_os_blocks(&w, f);
	if (w.overflow)
		return 0;
	put_le32(buf + 4, (uint32_t)w.len);
	return w.len;
}

size_t usb_desc_strings(const struct usb_desc_function *f, uint8_t *buf, size_t cap)
{
	struct writer w = { .buf = buf, .cap = cap };

	if (!table_valid(f))
		return 0;
	put_u32(&w, FFS_STRINGS_MAGIC);
	put_u32(&w, 0);				/* length, patched below */
	put_u32(&w, f->interface_count);	/* str_count: one name per interface */
	put_u32(&w, 1);				/* lang_count */
	put_u16(&w, USB_DESC_LANG_EN_US);
	for (unsigned i = 0; i < f->interface_count; i++)
		put_bytes(&w, f->interfaces[i].name, strlen(f->interfaces[i].name) + 1);
	if (w.overflow)
		return 0;
	put_le32(buf + 4, (uint32_t)w.len);
	return w.len;
}
