/* Unit tests of the FunctionFS descriptor builder: the qbnet blobs byte for
 * byte (FS, HS, SS, MS OS 1.0, strings), count/length consistency, and a
 * two-interface table to show the builder generalises. */
#include <string.h>

#include "bytes.h"
#include "check.h"
#include "usb_desc.h"

CHECKS_DEFINE;

static const uint8_t expect_header[] = {
	0x03, 0x00, 0x00, 0x00,	/* magic: FUNCTIONFS_DESCRIPTORS_MAGIC_V2 */
	228, 0x00, 0x00, 0x00,	/* length */
	0x0f, 0x00, 0x00, 0x00,	/* flags: FS | HS | SS | MS_OS */
	3, 0, 0, 0,		/* fs_count */
	3, 0, 0, 0,		/* hs_count */
	5, 0, 0, 0,		/* ss_count */
	2, 0, 0, 0,		/* os_count */
};

#define INTERFACE 9, 0x04, 0, 0, 2, 0xff, 0x71, 0x01, 1

static const uint8_t expect_fs[] = {
	INTERFACE,
	7, 0x05, 0x01, 0x02, 0x40, 0x00, 0,	/* bulk OUT 1, 64 */
	7, 0x05, 0x82, 0x02, 0x40, 0x00, 0,	/* bulk IN 2, 64 */
};

static const uint8_t expect_hs[] = {
	INTERFACE,
	7, 0x05, 0x01, 0x02, 0x00, 0x02, 0,	/* bulk OUT 1, 512 */
	7, 0x05, 0x82, 0x02, 0x00, 0x02, 0,	/* bulk IN 2, 512 */
};

static const uint8_t expect_ss[] = {
	INTERFACE,
	7, 0x05, 0x01, 0x02, 0x00, 0x04, 0,	/* bulk OUT 1, 1024 */
	6, 0x30, 15, 0, 0, 0,			/* companion: bMaxBurst 15 */
	7, 0x05, 0x82, 0x02, 0x00, 0x04, 0,	/* bulk IN 2, 1024 */
	6, 0x30, 15, 0, 0, 0,
};

static const uint8_t expect_os_compat[] = {
	0,			/* interface */
	35, 0, 0, 0,		/* dwLength: 11 + 24 */
	0x01, 0x00,		/* bcdVersion 0x0001: all kernels take it */
	0x04, 0x00,		/* wIndex: extended compat ID */
	1, 0,			/* bCount, Reserved */
	0, 0,			/* bFirstInterfaceNumber, Reserved1 */
	'W', 'I', 'N', 'U', 'S', 'B', 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,	/* SubCompatibleID */
	0, 0, 0, 0, 0, 0,	/* Reserved2 */
};

static const uint8_t expect_os_prop_head[] = {
	0,			/* interface */
	84, 0, 0, 0,		/* dwLength: 11 + 73 */
	0x01, 0x00,		/* bcdVersion 0x0001 */
	0x05, 0x00,		/* wIndex: extended properties */
	1, 0,			/* wCount */
	73, 0, 0, 0,		/* dwSize: 14 + 20 + 39 */
	1, 0, 0, 0,		/* REG_SZ */
	20, 0,			/* wPropertyNameLength */
};

static void test_qbnet_descriptors(void)
{
	uint8_t buf[USB_DESC_BLOB_MAX];
	size_t len = usb_desc_build(&usb_desc_qbnet, buf, sizeof(buf));
	size_t at = 0;

	CHECK(len == 228, "length %zu", len);
	CHECK(get_le32(buf + 4) == len, "length field %u", get_le32(buf + 4));
#define EXPECT(block)                                                              \
	do {                                                                       \
		CHECK(at + sizeof(block) <= len && !memcmp(buf + at, block, sizeof(block)), \
		      "%s at offset %zu", #block, at);                             \
		at += sizeof(block);                                               \
	} while (0)
	EXPECT(expect_header);
	EXPECT(expect_fs);
	EXPECT(expect_hs);
	EXPECT(expect_ss);
	EXPECT(expect_os_compat);
	EXPECT(expect_os_prop_head);
	CHECK(!memcmp(buf + at, "DeviceInterfaceGUID", 20), "property name");
	at += 20;
	CHECK(get_le32(buf + at) == 39, "dwPropertyDataLength %u", get_le32(buf + at));
	at += 4;
	CHECK(!memcmp(buf + at, "{f0a4d0e2-91f4-4b68-bc02-ad33d5f99eee}", 39), "GUID");
	at += 39;
	CHECK(at == len, "walked %zu of %zu", at, len);

	CHECK(usb_desc_count(&usb_desc_qbnet, 0) == 3 && usb_desc_count(&usb_desc_qbnet, 1) == 3 &&
	      usb_desc_count(&usb_desc_qbnet, 2) == 5 && usb_desc_os_count(&usb_desc_qbnet) == 2,
	      "counts");
	CHECK(usb_desc_endpoint_file(&usb_desc_qbnet, 0, 0) == USB_QBNET_EP_OUT_FILE &&
	      usb_desc_endpoint_file(&usb_desc_qbnet, 0, 1) == USB_QBNET_EP_IN_FILE &&
	      usb_desc_endpoint_file(&usb_desc_qbnet, 0, 2) == 0 &&
	      usb_desc_endpoint_file(&usb_desc_qbnet, 1, 0) == 0, "endpoint files");

	for (size_t cap = 0; cap < len; cap++)
		if (usb_desc_build(&usb_desc_qbnet, buf, cap))
			CHECK(0, "built into %zu bytes", cap);
	CHECK(1, "every short buffer refused");
}

static void test_qbnet_strings(void)
{
	static const uint8_t expect[] = {
		0x02, 0, 0, 0,		/* FUNCTIONFS_STRINGS_MAGIC */
		29, 0, 0, 0,		/* length */
		1, 0, 0, 0,		/* str_count */
		1, 0, 0, 0,		/* lang_count */
		0x09, 0x04,		/* en-US */
		'q', 'b', 'n', 'e', 't', ' ', 'l', 'i', 'n', 'k', 0,
	};
	uint8_t buf[256];
	size_t len = usb_desc_strings(&usb_desc_qbnet, buf, sizeof(buf));

	CHECK(len == sizeof(expect) && !memcmp(buf, expect, sizeof(expect)), "strings (%zu)", len);
	CHECK(!usb_desc_strings(&usb_desc_qbnet, buf, sizeof(expect) - 1), "short buffer");
}

/* Walks a descriptor block: every descriptor's bLength adds up, the count
 * matches, and endpoints carry the speed's wMaxPacketSize. */
static size_t walk_block(const uint8_t *p, size_t avail, unsigned count, uint16_t mps,
			 unsigned *interfaces, unsigned *endpoints)
{
	size_t at = 0;

	for (unsigned i = 0; i < count; i++) {
		if (at + 2 > avail || p[at] < 2 || at + p[at] > avail)
			return 0;
		if (p[at + 1] == 0x04)
			(*interfaces)++;
		if (p[at + 1] == 0x05) {
			(*endpoints)++;
			if (get_le16(p + at + 4) != mps)
				return 0;
		}
		at += p[at];
	}
	return at;
}

/* A second function shape: adding an interface and an endpoint is a table
 * change only; the blob stays self-consistent. */
static void test_two_interfaces(void)
{
	static const struct usb_desc_endpoint eps_a[] = {
		{ .number = 1, .in = false }, { .number = 2, .in = true }, { .number = 3, .in = true },
	};
	static const struct usb_desc_endpoint eps_b[] = { { .number = 4, .in = false } };
	static const struct usb_desc_interface intfs[] = {
		{ .class = 0xff, .subclass = 0x71, .protocol = 1, .name = "a", .endpoints = eps_a,
		  .endpoint_count = 3, .compat_id = "WINUSB" },
		{ .class = 0xff, .subclass = 0x71, .protocol = 2, .name = "bee", .endpoints = eps_b,
		  .endpoint_count = 1 },
	};
	static const struct usb_desc_function f = { .interfaces = intfs, .interface_count = 2 };
	static const uint16_t mps[3] = { 64, 512, 1024 };
	uint8_t buf[USB_DESC_BLOB_MAX];
	size_t len = usb_desc_build(&f, buf, sizeof(buf));
	size_t at = 7 * 4;	/* header: magic, length, flags, 4 counts */

	CHECK(len > 0 && get_le32(buf + 4) == len, "built %zu", len);
	CHECK(get_le32(buf + 8) == 0x0f && get_le32(buf + 24) == 1, "flags, one OS block");
	for (unsigned speed = 0; speed < 3; speed++) {
		unsigned interfaces = 0, endpoints = 0;
		unsigned count = get_le32(buf + 12 + 4 * speed);
		size_t n = walk_block(buf + at, len - at, count, mps[speed], &interfaces, &endpoints);
		CHECK(n && count == usb_desc_count(&f, speed) && interfaces == 2 && endpoints == 4,
		      "speed %u: count %u, %u interfaces, %u endpoints", speed, count, interfaces,
		      endpoints);
		at += n;
	}
	CHECK(buf[at] == 0 && get_le32(buf + at + 1) == 35 && at + 35 == len, "one compat block");
	CHECK(usb_desc_endpoint_file(&f, 1, 0) == 4, "files continue across interfaces");
	CHECK(buf[28 + 9 + 7 + 7 + 7 + 8] == 2, "second interface's iInterface is 2");

	uint8_t strings[64];
	len = usb_desc_strings(&f, strings, sizeof(strings));
	CHECK(len == 16 + 2 + 2 + 4 && get_le32(strings + 8) == 2 && !memcmp(strings + 18, "a\0bee", 6),
	      "two strings");

	/* Invalid tables are refused. */
	static const struct usb_desc_endpoint dup[] = { { .number = 1 }, { .number = 1, .in = true } };
	struct usb_desc_interface bad = intfs[1];
	struct usb_desc_function bad_f = { .interfaces = &bad, .interface_count = 1 };
	bad.endpoints = dup;
	bad.endpoint_count = 2;
	CHECK(!usb_desc_build(&bad_f, buf, sizeof(buf)), "duplicate endpoint number");
	bad.endpoint_count = 0;
	bad.compat_id = "TOOLONGID";
	CHECK(!usb_desc_build(&bad_f, buf, sizeof(buf)), "compat ID over 8 bytes");
}

int main(void)
{
	test_qbnet_descriptors();
	test_qbnet_strings();
	test_two_interfaces();
	return checks_report("test_usb_desc");
}
