/* Host-side test peer for qbnetd --link usb (libusb-1.0, runs in the USB
 * test VM): descriptors and MS OS 1.0 blocks, vendor requests, HELLO/CONFIG,
 * an ICMP echo through qb0, bulk throughput each way, and unbind/rebind. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libusb-1.0/libusb.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "proto.h"

#define HOST_MAX_BUNDLE 262144u
#define IN_TRANSFERS 8
#define OUT_TRANSFERS 8
#define REQ_GET_INFO 0x01
#define REQ_RESET_LINK 0x02
#define REQ_LINK_TEST 0x03
#define MS_VENDOR_CODE 0xcd
#define GUID "{f0a4d0e2-91f4-4b68-bc02-ad33d5f99eee}"

static struct {
	uint16_t vendor, product;
	const char *serial;
	const char *udc_file;
	const char *udc;
	const char *ifname;
	unsigned test_ms;
	uint16_t bcd_device;
	bool acm;		/* a composite device: ACM beside the qbnet interface */
	bool descriptors_only;	/* check the descriptors and stop */
	bool bench;		/* only the bulk throughput each way, one line */
} opt = { 0x1209, 0x0001, NULL, NULL, NULL, "qb0", 3000, 0x0101, false, false, false };

static unsigned failures, passes;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		passes++;
	else
		failures++;
}

/* ---- the device ---- */

struct dev {
	libusb_context *ctx;
	libusb_device_handle *handle;
	int fd;
	int interface;
	uint8_t ep_in, ep_out;
	uint16_t mps;
	bool gone;			/* LIBUSB_ERROR_NO_DEVICE seen */
	/* what arrived */
	unsigned board_hellos;
	uint32_t board_max_bundle;
	unsigned keepalives;
	unsigned errors_rx;
	unsigned bad_bundles;
	unsigned zero_transfers;
	uint64_t test_bytes;
	double test_first, test_last;
	bool echo_reply;
	uint16_t echo_id;
	struct libusb_transfer *in[IN_TRANSFERS];
	unsigned in_active;
	unsigned out_active;
	uint64_t out_bytes;
	unsigned out_errors;
};

static struct dev dev;

static int sysfs_read(const char *dir, const char *name, char *out, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(out, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

/* Finds VID:PID in sysfs and opens its usbfs node: no udev needed, so it
 * also works after a re-enumeration without a hotplug daemon. */
static int find_device(char *node, size_t len)
{
	FILE *ls = popen("ls /sys/bus/usb/devices", "r");
	char name[256], dir[512], v[16], p[16], bus[16], devnum[16];
	int found = -1;

	if (!ls)
		return -1;
	while (found && fgets(name, sizeof(name), ls)) {
		name[strcspn(name, "\n")] = '\0';
		snprintf(dir, sizeof(dir), "/sys/bus/usb/devices/%s", name);
		char serial[128];
		if (sysfs_read(dir, "idVendor", v, sizeof(v)) || sysfs_read(dir, "idProduct", p, sizeof(p)) ||
		    strtoul(v, NULL, 16) != opt.vendor || strtoul(p, NULL, 16) != opt.product ||
		    sysfs_read(dir, "busnum", bus, sizeof(bus)) || sysfs_read(dir, "devnum", devnum, sizeof(devnum)))
			continue;
		/* Several boards may be plugged in: the one with our serial. */
		if (opt.serial && (sysfs_read(dir, "serial", serial, sizeof(serial)) || strcmp(serial, opt.serial)))
			continue;
		snprintf(node, len, "/dev/bus/usb/%03d/%03d", atoi(bus), atoi(devnum));
		found = 0;
	}
	pclose(ls);
	return found;
}

static bool find_interface(void)
{
	struct libusb_config_descriptor *config;

	if (libusb_get_active_config_descriptor(libusb_get_device(dev.handle), &config))
		return false;
	dev.interface = -1;
	for (int i = 0; i < config->bNumInterfaces; i++) {
		const struct libusb_interface_descriptor *alt = &config->interface[i].altsetting[0];
		if (alt->bInterfaceClass != 0xff || alt->bInterfaceSubClass != 0x71 ||
		    alt->bInterfaceProtocol != 0x01)
			continue;
		dev.interface = alt->bInterfaceNumber;
		for (int e = 0; e < alt->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
			if ((ep->bmAttributes & 3) != LIBUSB_TRANSFER_TYPE_BULK)
				continue;
			if (ep->bEndpointAddress & 0x80)
				dev.ep_in = ep->bEndpointAddress;
			else
				dev.ep_out = ep->bEndpointAddress;
			dev.mps = ep->wMaxPacketSize;
		}
	}
	libusb_free_config_descriptor(config);
	return dev.interface >= 0 && dev.ep_in && dev.ep_out && dev.mps;
}

/* Waits for the board to enumerate, then opens and claims it. */
static bool open_device(double timeout_s)
{
	char node[64];
	double end = now_s() + timeout_s;

	while (now_s() < end) {
		if (!find_device(node, sizeof(node))) {
			dev.fd = open(node, O_RDWR | O_CLOEXEC);
			if (dev.fd >= 0 && !libusb_wrap_sys_device(dev.ctx, dev.fd, &dev.handle)) {
				if (find_interface() && !libusb_claim_interface(dev.handle, dev.interface)) {
					dev.gone = false;
					return true;
				}
				libusb_close(dev.handle);
				dev.handle = NULL;
			}
			if (dev.fd >= 0)
				close(dev.fd);
			dev.fd = -1;
		}
		usleep(20000);
	}
	return false;
}

/* ---- bundles ---- */

static void handle_bundle(const uint8_t *data, size_t len)
{
	struct proto_frame_iter iter;
	struct proto_frame frame;

	if (!len) {
		dev.zero_transfers++;
		return;
	}
	if (proto_bundle_check(data, len, HOST_MAX_BUNDLE) != PROTO_BUNDLE_OK) {
		dev.bad_bundles++;
		return;
	}
	proto_frames_begin(&iter, data, len);
	while (proto_frames_next(&iter, &frame)) {
		if (frame.channel == PROTO_CHANNEL_LINK_TEST) {
			double t = now_s();
			if (!dev.test_bytes)
				dev.test_first = t;
			dev.test_last = t;
			dev.test_bytes += len;	/* the whole transfer counts */
		} else if (frame.channel == PROTO_CHANNEL_CONTROL) {
			struct proto_control msg;
			if (proto_control_decode(frame.payload, frame.len, &msg) != PROTO_CONTROL_OK)
				continue;
			if (msg.type == PROTO_HELLO && msg.hello.role == PROTO_ROLE_BOARD) {
				dev.board_hellos++;
				dev.board_max_bundle = msg.hello.max_bundle;
			} else if (msg.type == PROTO_KEEPALIVE) {
				dev.keepalives++;
			} else if (msg.type == PROTO_ERROR) {
				printf("board ERROR %u: %.*s\n", msg.error.code, msg.error.text_len,
				       msg.error.text);
			}
		} else if (frame.channel == PROTO_CHANNEL_IP && frame.len >= 28 &&
			   frame.payload[0] == 0x45 && frame.payload[9] == 1 && frame.payload[20] == 0 &&
			   get_le16(frame.payload + 24) == dev.echo_id) {
			dev.echo_reply = true;
		}
	}
}

static void LIBUSB_CALL in_done(struct libusb_transfer *t)
{
	if (t->status == LIBUSB_TRANSFER_COMPLETED) {
		handle_bundle(t->buffer, (size_t)t->actual_length);
	} else if (t->status == LIBUSB_TRANSFER_NO_DEVICE) {
		dev.gone = true;
	} else if (t->status != LIBUSB_TRANSFER_CANCELLED) {
		dev.errors_rx++;
	}
	if (t->status == LIBUSB_TRANSFER_COMPLETED || t->status == LIBUSB_TRANSFER_TIMED_OUT) {
		if (!libusb_submit_transfer(t))
			return;
	}
	dev.in_active--;
}

/* Reads larger than MAX_BUNDLE: a missing ZLP would merge two bundles and
 * show up as a bad bundle. */
static void start_reads(void)
{
	for (int i = 0; i < IN_TRANSFERS; i++) {
		struct libusb_transfer *t = dev.in[i];
		if (!t) {
			t = dev.in[i] = libusb_alloc_transfer(0);
			t->buffer = malloc(HOST_MAX_BUNDLE + 1024);
		}
		libusb_fill_bulk_transfer(t, dev.handle, dev.ep_in, t->buffer, HOST_MAX_BUNDLE + 1024,
					  in_done, NULL, 0);
		if (!libusb_submit_transfer(t))
			dev.in_active++;
	}
}

static void pump(double seconds)
{
	double end = now_s() + seconds;

	while (now_s() < end) {
		struct timeval tv = { 0, 20000 };
		libusb_handle_events_timeout(dev.ctx, &tv);
	}
}

static bool pump_until(bool (*done)(void), double seconds)
{
	double end = now_s() + seconds;

	while (now_s() < end && !done()) {
		struct timeval tv = { 0, 20000 };
		libusb_handle_events_timeout(dev.ctx, &tv);
	}
	return done();
}

static void LIBUSB_CALL out_done(struct libusb_transfer *t)
{
	if (t->status == LIBUSB_TRANSFER_COMPLETED)
		dev.out_bytes += (uint64_t)t->actual_length;
	else
		dev.out_errors++;
	if (t->status == LIBUSB_TRANSFER_NO_DEVICE)
		dev.gone = true;
	dev.out_active--;
	if (t->user_data)
		free(t->buffer);
	libusb_free_transfer(t);
}

/* Sends one bundle; a ZLP follows when its length is a multiple of mps. */
static bool send_bundle(uint8_t *data, size_t len, bool owned)
{
	struct libusb_transfer *t = libusb_alloc_transfer(0);

	libusb_fill_bulk_transfer(t, dev.handle, dev.ep_out, data, (int)len, out_done,
				  owned ? data : NULL, 5000);
	if (len % dev.mps == 0)
		t->flags |= LIBUSB_TRANSFER_ADD_ZERO_PACKET;
	if (libusb_submit_transfer(t)) {
		libusb_free_transfer(t);
		return false;
	}
	dev.out_active++;
	return true;
}

static bool out_idle(void)
{
	return !dev.out_active;
}

static bool send_control(const struct proto_control *msg)
{
	uint8_t payload[PROTO_CONTROL_MAX];
	uint8_t *bundle = malloc(PROTO_CONTROL_MAX + 16);
	struct proto_builder b;
	size_t len = proto_control_encode(msg, payload, sizeof(payload));

	proto_builder_init(&b, bundle, PROTO_CONTROL_MAX + 16);
	proto_builder_add(&b, PROTO_CHANNEL_CONTROL, payload, len);
	if (!send_bundle(bundle, proto_builder_finish(&b), true))
		return false;
	return pump_until(out_idle, 5);
}

static void host_hello(void)
{
	struct proto_control msg = { .type = PROTO_HELLO };

	msg.hello.version_min = 1;
	msg.hello.version_max = 1;
	msg.hello.role = PROTO_ROLE_HOST;
	msg.hello.max_bundle = HOST_MAX_BUNDLE;
	msg.hello.software_len = (uint8_t)snprintf(msg.hello.software, sizeof(msg.hello.software),
						   "usb_peer");
	send_control(&msg);
}

static void host_config(void)
{
	struct proto_control msg = { .type = PROTO_CONFIG };
	struct proto_config *c = &msg.config;

	c->mtu = 65520;
	inet_pton(AF_INET, "10.113.98.2", c->ipv4);
	c->ipv4_prefix = 24;
	c->has_gateway4 = true;
	inet_pton(AF_INET, "10.113.98.1", c->gateway4);
	c->dns4_count = 1;
	inet_pton(AF_INET, "10.113.98.3", c->dns4[0]);
	send_control(&msg);
}

static int control(uint8_t type, uint8_t request, uint16_t value, uint16_t index, uint8_t *data,
		   uint16_t len)
{
	return libusb_control_transfer(dev.handle, type, request, value, index, data, len, 2000);
}

static unsigned hellos_wanted;

static bool hello_arrived(void)
{
	return dev.board_hellos >= hellos_wanted;
}

/* RESET_LINK, host HELLO, wait for the board's HELLO. */
static bool link_session(double timeout_s)
{
	if (control(0x41, REQ_RESET_LINK, 0, (uint16_t)dev.interface, NULL, 0) < 0)
		return false;
	hellos_wanted = dev.board_hellos + 1;
	pump(0.05);
	hellos_wanted = dev.board_hellos + 1;
	host_hello();
	return pump_until(hello_arrived, timeout_s);
}

/* ---- checks ---- */

static void check_descriptors(void)
{
	struct libusb_device_descriptor d;
	unsigned char text[256];
	uint8_t buf[256];

	libusb_get_device_descriptor(libusb_get_device(dev.handle), &d);
	check(d.bcdDevice == opt.bcd_device && (d.bcdUSB == 0x0200 || d.bcdUSB >= 0x0300),
	      "device: bcdDevice %04x, bcdUSB %04x, %u configuration(s)", d.bcdDevice, d.bcdUSB,
	      d.bNumConfigurations);
	if (opt.acm)
		check(d.bDeviceClass == 0xef && d.bDeviceSubClass == 0x02 && d.bDeviceProtocol == 0x01,
		      "composite device class ef/02/01 (IAD) for Windows (%02x/%02x/%02x)",
		      d.bDeviceClass, d.bDeviceSubClass, d.bDeviceProtocol);
	libusb_get_string_descriptor_ascii(dev.handle, d.iManufacturer, text, sizeof(text));
	check(opt.acm || !strcmp((char *)text, "qbkit"), "manufacturer '%s'", text);
	libusb_get_string_descriptor_ascii(dev.handle, d.iProduct, text, sizeof(text));
	check(opt.acm || !strcmp((char *)text, "qbkit board"), "product '%s'", text);
	libusb_get_string_descriptor_ascii(dev.handle, d.iSerialNumber, text, sizeof(text));
	check(!opt.serial || !strcmp((char *)text, opt.serial), "serial number '%s'", text);
	check(dev.mps == 64 || dev.mps == 512 || dev.mps == 1024,
	      "interface %d (ff/71/01): bulk OUT %02x, IN %02x, wMaxPacketSize %u", dev.interface,
	      dev.ep_out, dev.ep_in, dev.mps);

	/* MS OS 1.0: string 0xEE, extended compat ID, extended property. */
	int n = libusb_get_string_descriptor(dev.handle, 0xee, 0, buf, sizeof(buf));
	check(n >= 18 && buf[2] == 'M' && buf[4] == 'S' && buf[6] == 'F' && buf[8] == 'T' &&
	      buf[16] == MS_VENDOR_CODE, "MS OS string descriptor (%d bytes, vendor code %02x)", n,
	      n >= 17 ? buf[16] : 0);
	n = control(0xc0, MS_VENDOR_CODE, 0, 4, buf, sizeof(buf));
	check(n >= 40 && get_le16(buf + 6) == 4 && buf[8] == 1 && buf[16] == dev.interface &&
	      !memcmp(buf + 18, "WINUSB\0\0", 8),
	      "extended compat ID: one function, WINUSB for interface %d (%d bytes)", dev.interface, n);
	n = control(0xc1, MS_VENDOR_CODE, (uint16_t)dev.interface, 5, buf, sizeof(buf));
	bool guid = false;
	if (n > 10 + 14) {
		/* dwSize, type, name length, name (UTF-16), data length, data */
		uint16_t name_len = get_le16(buf + 10 + 8);
		uint32_t type = get_le32(buf + 10 + 4);
		const uint8_t *data = buf + 10 + 10 + name_len + 4;
		char ascii[64] = "";
		for (int i = 0; i < 38 && data + 2 * i + 1 < buf + n; i++)
			ascii[i] = (char)data[2 * i];
		guid = type == 1 && !strcmp(ascii, GUID) && buf[10 + 10] == 'D';
	}
	check(guid, "extended property DeviceInterfaceGUID = %s (REG_SZ, %d bytes)", GUID, n);
}

/* --acm: the configuration holds a CDC ACM pair behind an IAD (usbser on
 * Windows 10, cdc_acm on Linux) beside the qbnet interface. */
static void check_acm(void)
{
	uint8_t buf[512];
	int n = libusb_get_descriptor(dev.handle, LIBUSB_DT_CONFIG, 0, buf, sizeof(buf));
	int iads = 0, acm_control = -1;
	unsigned interfaces = n >= 9 ? buf[4] : 0;

	for (int i = 0; n > 0 && i + 1 < n && buf[i] >= 2; i += buf[i]) {
		if (buf[i + 1] == 0x0b && i + 8 <= n && buf[i + 3] == 2 && buf[i + 4] == 0x02 &&
		    buf[i + 5] == 0x02) {
			iads++;
			acm_control = buf[i + 2];
		}
	}
	check(interfaces == 3 && iads == 1 && acm_control >= 0 && acm_control != dev.interface,
	      "configuration: %u interfaces, an IAD over the CDC ACM pair from interface %d, qbnet is interface %d",
	      interfaces, acm_control, dev.interface);
}

static void check_requests(void)
{
	uint8_t buf[1024];
	struct proto_control msg;
	int n = control(0xc1, REQ_GET_INFO, 0, (uint16_t)dev.interface, buf, sizeof(buf));

	bool ok = n > 0 && proto_control_decode(buf, (size_t)n, &msg) == PROTO_CONTROL_OK &&
		  msg.type == PROTO_HELLO && msg.hello.role == PROTO_ROLE_BOARD &&
		  msg.hello.version_min == 1 && msg.hello.max_bundle >= 16384;
	check(ok && (!opt.serial || !strcmp(msg.hello.serial, opt.serial)),
	      "GET_INFO: board HELLO, %d bytes, serial '%s', software '%s', max bundle %u", n,
	      ok ? msg.hello.serial : "?", ok ? msg.hello.software : "?", ok ? msg.hello.max_bundle : 0);
	uint8_t first[4];
	n = control(0xc1, REQ_GET_INFO, 0, (uint16_t)dev.interface, first, sizeof(first));
	check(n == 4 && !memcmp(first, buf, 4), "GET_INFO truncated to wLength 4 (%d bytes)", n);
	n = control(0xc1, 0x04, 0, (uint16_t)dev.interface, buf, 8);
	check(n == LIBUSB_ERROR_PIPE, "unknown vendor request stalled (%s)", libusb_error_name(n));
	n = control(0x41, REQ_GET_INFO, 0, (uint16_t)dev.interface, NULL, 0);
	check(n == LIBUSB_ERROR_PIPE, "GET_INFO in the OUT direction stalled (%s)",
	      libusb_error_name(n));
	n = control(0x41, REQ_RESET_LINK, 0, (uint16_t)dev.interface, buf, 2);
	check(n == LIBUSB_ERROR_PIPE, "RESET_LINK with data stalled (%s)", libusb_error_name(n));
	n = control(0x41, REQ_RESET_LINK, 0, (uint16_t)dev.interface, NULL, 0);
	check(n == 0, "RESET_LINK accepted (%s)", n < 0 ? libusb_error_name(n) : "ok");
}

static bool if_addr(const char *ifname, unsigned long request, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	ifr->ifr_addr.sa_family = AF_INET;
	ok = s >= 0 && !ioctl(s, request, ifr);
	if (s >= 0)
		close(s);
	return ok;
}

static bool qb0_configured(void)
{
	struct ifreq ifr;
	char addr[32] = "";

	if (!if_addr(opt.ifname, SIOCGIFADDR, &ifr))
		return false;
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, addr, sizeof(addr));
	if (strcmp(addr, "10.113.98.2") || !if_addr(opt.ifname, SIOCGIFMTU, &ifr))
		return false;
	return ifr.ifr_mtu == 65520;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool echo_arrived(void)
{
	return dev.echo_reply;
}

/* An ICMP echo request to the board in a bundle of exactly total bytes
 * (padded with a LINK_TEST frame), or a bare one when total is 0; true when
 * the reply came back. */
static bool ping_board_in(size_t total)
{
	uint8_t packet[84] = { 0x45, 0, 0, 84, 0x12, 0x34, 0x40, 0, 64, 1 };
	size_t cap = total > 256 ? total : 256;
	uint8_t *bundle = calloc(1, cap);
	struct proto_builder b;

	inet_pton(AF_INET, "10.113.98.1", packet + 12);
	inet_pton(AF_INET, "10.113.98.2", packet + 16);
	put_le16(packet + 10, 0);
	uint16_t sum = ip_checksum(packet, 20);
	packet[10] = (uint8_t)(sum >> 8);
	packet[11] = (uint8_t)sum;
	dev.echo_id = (uint16_t)((getpid() + total) & 0xffff);
	packet[20] = 8;		/* echo request */
	put_le16(packet + 24, dev.echo_id);	/* id (byte order does not matter here) */
	packet[27] = 1;		/* seq */
	for (int i = 28; i < 84; i++)
		packet[i] = (uint8_t)i;
	sum = ip_checksum(packet + 20, 64);
	packet[22] = (uint8_t)(sum >> 8);
	packet[23] = (uint8_t)sum;
	dev.echo_reply = false;
	proto_builder_init(&b, bundle, cap);
	proto_builder_add(&b, PROTO_CHANNEL_IP, packet, sizeof(packet));
	size_t used = PROTO_BUNDLE_HDR_LEN + PROTO_FRAME_HDR_LEN + sizeof(packet);
	if (total >= used + PROTO_FRAME_HDR_LEN)
		proto_builder_commit(&b, PROTO_CHANNEL_LINK_TEST, total - used - PROTO_FRAME_HDR_LEN);
	send_bundle(bundle, proto_builder_finish(&b), true);
	return pump_until(echo_arrived, 5);
}

static bool ping_board(void)
{
	return ping_board_in(0);
}

/* A bundle far over the board's MAX_BUNDLE: dropped whole by the board. */
static void send_oversized(uint32_t size)
{
	uint8_t *big = calloc(1, size);
	struct proto_builder b;

	proto_builder_init(&b, big, size);
	proto_builder_commit(&b, PROTO_CHANNEL_LINK_TEST, size - PROTO_BUNDLE_HDR_LEN - PROTO_FRAME_HDR_LEN);
	send_bundle(big, proto_builder_finish(&b), true);
	pump_until(out_idle, 5);
}

/* Bundles that end on and around the board's USB request boundaries (reads
 * of 16, 32 or 64 KiB, --usb-request-size) and at its MAX_BUNDLE: each
 * carries a ping that must be answered, so each was reassembled whole. */
static void check_request_boundaries(void)
{
	uint32_t max = dev.board_max_bundle;
	const size_t sizes[] = { 100, 512, 513, 16383, 16384, 16385, 16384 + 512, 32767, 32768, 32769,
				 49152 + 100, 65535, 65536, 65537, max - 1, max };
	unsigned answered = 0;
	char failed[256] = "";

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] > max)
			continue;
		if (ping_board_in(sizes[i])) {
			answered++;
		} else {
			size_t used = strlen(failed);
			snprintf(failed + used, sizeof(failed) - used, " %zu", sizes[i]);
		}
	}
	check(!failed[0], "pings in bundles of 100 to %u bytes around the request boundaries: %u answered%s%s",
	      max, answered, failed[0] ? ", lost:" : "", failed);
	send_oversized(max + 1024);
	send_oversized(max + 16384);
	check(ping_board_in(16384 + 100), "after two bundles over MAX_BUNDLE (dropped), a ping is answered");
}

static bool test_done(void)
{
	return dev.test_bytes && now_s() - dev.test_last > 0.5;
}

static double measure_in(unsigned ms)
{
	dev.test_bytes = 0;
	if (control(0x41, REQ_LINK_TEST, (uint16_t)ms, (uint16_t)dev.interface, NULL, 0) < 0)
		return -1;
	pump_until(test_done, ms / 1000.0 + 5);
	double secs = dev.test_last - dev.test_first;
	return secs > 0 ? dev.test_bytes / secs / 1e6 : -1;
}

static double measure_out(unsigned ms, uint32_t size)
{
	uint8_t *filler = calloc(1, size);
	struct proto_builder b;
	double start = now_s(), end = start + ms / 1000.0;

	proto_builder_init(&b, filler, size);
	proto_builder_commit(&b, PROTO_CHANNEL_LINK_TEST, size - 16);
	size_t len = proto_builder_finish(&b);
	dev.out_bytes = 0;
	dev.out_errors = 0;
	while (now_s() < end && !dev.gone) {
		while (dev.out_active < OUT_TRANSFERS && send_bundle(filler, len, false))
			;
		struct timeval tv = { 0, 20000 };
		libusb_handle_events_timeout(dev.ctx, &tv);
	}
	pump_until(out_idle, 5);
	double secs = now_s() - start;
	free(filler);
	return dev.out_errors ? -1 : dev.out_bytes / secs / 1e6;
}

/* Writes the UDC file in a child, so a kernel hang shows as a failure
 * instead of hanging the test. */
static bool write_udc(const char *value)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		int fd = open(opt.udc_file, O_WRONLY);
		_exit(fd < 0 || write(fd, value, strlen(value)) < 0 ? 1 : 0);
	}
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && !WEXITSTATUS(status);
		usleep(50000);
	}
	kill(pid, SIGKILL);
	return false;
}

static void close_device(void)
{
	for (int i = 0; i < IN_TRANSFERS; i++)
		if (dev.in[i])
			libusb_cancel_transfer(dev.in[i]);
	double end = now_s() + 3;
	while ((dev.in_active || dev.out_active) && now_s() < end) {
		struct timeval tv = { 0, 20000 };
		libusb_handle_events_timeout(dev.ctx, &tv);
	}
	libusb_release_interface(dev.handle, dev.interface);
	libusb_close(dev.handle);
	dev.handle = NULL;
	close(dev.fd);
	dev.fd = -1;
}

static void test_rebind(void)
{
	/* Unbind while a LINK_TEST keeps the IN pipe busy and reads are posted. */
	dev.test_bytes = 0;
	control(0x41, REQ_LINK_TEST, 5000, (uint16_t)dev.interface, NULL, 0);
	pump(0.5);
	double t0 = now_s();
	bool unbound = write_udc("\n");
	double t1 = now_s();
	check(unbound, "unbind during I/O returned in %.0f ms", (t1 - t0) * 1000);
	if (!unbound)
		return;
	pump(0.3);
	close_device();
	sleep(1);
	double t2 = now_s();
	bool bound = write_udc(opt.udc);
	check(bound, "rebind to %s", opt.udc);
	if (!bound)
		return;
	bool opened = open_device(15);
	check(opened, "board enumerated again %.0f ms after rebind", (now_s() - t2) * 1000);
	if (!opened)
		return;
	start_reads();
	bool linked = link_session(10);
	double t3 = now_s();
	check(linked, "re-linked (board HELLO) %.0f ms after rebind", (t3 - t2) * 1000);
	printf("recovery: %.0f ms from rebind to the board's HELLO\n", (t3 - t2) * 1000);
	host_config();
	check(ping_board(), "ICMP echo through qb0 after rebind");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: usb_peer [--id VID:PID] [--serial S] [--ifname qb0] [--test-ms MS]\n"
		"                [--udc-file PATH --udc NAME]   (unbind/rebind test)\n"
		"                [--bcd-device HEX] [--acm] [--descriptors-only] [--bench]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "id", required_argument, NULL, 'i' }, { "serial", required_argument, NULL, 's' },
		{ "udc-file", required_argument, NULL, 'f' }, { "udc", required_argument, NULL, 'u' },
		{ "ifname", required_argument, NULL, 'n' }, { "test-ms", required_argument, NULL, 't' },
		{ "bcd-device", required_argument, NULL, 'b' }, { "acm", no_argument, NULL, 'a' },
		{ "descriptors-only", no_argument, NULL, 'd' }, { "bench", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (sscanf(optarg, "%hx:%hx", &opt.vendor, &opt.product) != 2)
				usage();
			break;
		case 's':
			opt.serial = optarg;
			break;
		case 'f':
			opt.udc_file = optarg;
			break;
		case 'u':
			opt.udc = optarg;
			break;
		case 'n':
			opt.ifname = optarg;
			break;
		case 't':
			opt.test_ms = (unsigned)atoi(optarg);
			break;
		case 'b':
			opt.bcd_device = (uint16_t)strtoul(optarg, NULL, 16);
			break;
		case 'a':
			opt.acm = true;
			break;
		case 'd':
			opt.descriptors_only = true;
			break;
		case 'B':
			opt.bench = true;
			break;
		default:
			usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	libusb_set_option(NULL, LIBUSB_OPTION_NO_DEVICE_DISCOVERY);
	if (libusb_init(&dev.ctx)) {
		fprintf(stderr, "usb_peer: libusb_init failed\n");
		return 1;
	}
	double t0 = now_s();
	bool opened = open_device(20);
	check(opened, "found %04x:%04x with interface ff/71/01 in %.0f ms", opt.vendor, opt.product,
	      (now_s() - t0) * 1000);
	if (!opened)
		goto out;
	if (opt.bench) {
		/* For bench/usb-vm-compare.sh: no checks, a C host that starts at once. */
		start_reads();
		bool up = link_session(10);
		double in = up ? measure_in(opt.test_ms) : -1;
		double out = up ? measure_out(opt.test_ms, dev.board_max_bundle) : -1;
		check(up && in > 0 && out > 0 && !dev.bad_bundles,
		      "bench: IN %.1f MB/s OUT %.1f MB/s (%u bad bundles)", in, out, dev.bad_bundles);
		close_device();
		goto out;
	}
	check_descriptors();
	if (opt.acm)
		check_acm();
	if (opt.descriptors_only) {
		libusb_release_interface(dev.handle, dev.interface);
		libusb_close(dev.handle);
		close(dev.fd);
		goto out;
	}
	check_requests();
	start_reads();
	bool linked = link_session(5);
	check(linked, "host HELLO answered by the board's HELLO (max bundle %u)",
	      dev.board_max_bundle);
	host_config();
	check(pump_until(qb0_configured, 5), "%s has 10.113.98.2 and MTU 65520 from CONFIG",
	      opt.ifname);
	check(ping_board(), "ICMP echo request to 10.113.98.2 answered through %s", opt.ifname);

	/* A bundle of exactly N max packets goes with a ZLP; a bad bundle is
	 * dropped by the board and the link carries on. */
	uint8_t *odd = calloc(1, 4096);
	struct proto_builder b;
	proto_builder_init(&b, odd, 4096);
	proto_builder_commit(&b, PROTO_CHANNEL_LINK_TEST, 4096 - 16);
	send_bundle(odd, proto_builder_finish(&b), true);
	uint8_t *bad = calloc(1, 64);
	memcpy(bad, "xx", 2);
	send_bundle(bad, 64, true);
	uint8_t *lying = calloc(1, 100);
	proto_builder_init(&b, lying, 100);
	proto_builder_commit(&b, PROTO_CHANNEL_LINK_TEST, 100 - 16);
	proto_builder_finish(&b);
	put_le32(lying + 4, 90);	/* header length != transfer length */
	send_bundle(lying, 100, true);
	pump_until(out_idle, 5);
	check(ping_board(), "link still works after a 4096-byte bundle + ZLP and two bad bundles");
	check_request_boundaries();

	double in = measure_in(opt.test_ms);
	check(in > 0 && !dev.bad_bundles, "LINK_TEST (IN): %.1f MB/s, %" PRIu64 " bytes, mps %u",
	      in, dev.test_bytes, dev.mps);
	double out = measure_out(opt.test_ms, dev.board_max_bundle);
	check(out > 0, "channel-65535 bundles (OUT): %.1f MB/s of %u-byte bundles", out,
	      dev.board_max_bundle);
	printf("throughput: IN %.1f MB/s, OUT %.1f MB/s at wMaxPacketSize %u\n", in, out, dev.mps);
	check(!dev.bad_bundles && !dev.errors_rx,
	      "IN transfers: %u bad bundles, %u errors, %u zero-length, %u keepalives",
	      dev.bad_bundles, dev.errors_rx, dev.zero_transfers, dev.keepalives);

	if (opt.udc_file && opt.udc)
		test_rebind();
	close_device();
out:
	libusb_exit(dev.ctx);
	printf("usb_peer: %u passed, %u failed\n", passes, failures);
	return failures || !passes ? 1 : 0;
}
