/* Unit tests of the OFFLOAD frame header (PROTOCOL.md section 7): the exact
 * virtio_net_hdr bytes each valid header maps to, and every malformed case.
 * Usage: test_offload | test_offload --write-corpus DIR (fuzz_offload seeds) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bytes.h"
#include "check.h"
#include "offload.h"
#include "proto.h"

CHECKS_DEFINE;

#define FRAME_MAX (OFFLOAD_HDR_LEN + OFFLOAD_IP_MAX + 16)

static uint8_t frame[FRAME_MAX];

static void put_be16(uint8_t *p, uint16_t value)
{
	p[0] = (uint8_t)(value >> 8);
	p[1] = (uint8_t)value;
}

/* Writes the offload header and an IP packet of ip_len bytes after it:
 * IPv4 (20-byte header) or IPv6 (40), then a TCP header of tcp_len bytes
 * (protocol 6) or a UDP header (tcp_len 0, protocol 17). Returns the frame
 * payload length. */
static size_t make_frame(const struct offload_hdr *hdr, int version, size_t tcp_len,
			 size_t ip_len)
{
	uint8_t *ip = frame + OFFLOAD_HDR_LEN;
	uint8_t protocol = tcp_len ? 6 : 17;

	memset(frame, 0, OFFLOAD_HDR_LEN + ip_len);
	offload_hdr_encode(hdr, frame);
	if (version == 4) {
		ip[0] = 0x45;
		put_be16(ip + 2, (uint16_t)ip_len);
		ip[8] = 64;
		ip[9] = protocol;
		if (tcp_len)
			ip[20 + 12] = (uint8_t)(tcp_len / 4 << 4);
	} else {
		ip[0] = 0x60;
		put_be16(ip + 4, (uint16_t)(ip_len - 40));
		ip[6] = protocol;
		ip[7] = 64;
		if (tcp_len)
			ip[40 + 12] = (uint8_t)(tcp_len / 4 << 4);
	}
	return OFFLOAD_HDR_LEN + ip_len;
}

static enum offload_status parse(size_t len, uint32_t mtu, struct virtio_net_hdr *vnet)
{
	const uint8_t *packet = NULL;
	size_t packet_len = 0;
	enum offload_status status = offload_parse(frame, len, mtu, vnet, &packet, &packet_len);

	if (status == OFFLOAD_OK)
		CHECK(packet == frame + OFFLOAD_HDR_LEN && packet_len == len - OFFLOAD_HDR_LEN,
		      "packet pointer and length");
	return status;
}

/* The header as the TUN reads it: 10 bytes, u16 fields in host order. */
static void expect_vnet(const struct virtio_net_hdr *vnet, const uint8_t expected_le[10],
			const char *what)
{
	CHECK(sizeof(*vnet) == 10, "struct virtio_net_hdr is %zu bytes", sizeof(*vnet));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint8_t *bytes = (const uint8_t *)vnet;
	CHECK(!memcmp(bytes, expected_le, 10),
	      "%s: got %02x %02x %02x%02x %02x%02x %02x%02x %02x%02x", what, bytes[0], bytes[1],
	      bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9]);
#endif
	CHECK(vnet->flags == expected_le[0] && vnet->gso_type == expected_le[1] &&
	      vnet->hdr_len == get_le16(expected_le + 2) &&
	      vnet->gso_size == get_le16(expected_le + 4) &&
	      vnet->csum_start == get_le16(expected_le + 6) &&
	      vnet->csum_offset == get_le16(expected_le + 8), "%s: fields", what);
}

static void test_header_codec(void)
{
	const struct offload_hdr hdr = { .flags = 1, .gso_type = 2, .gso_size = 0x1234,
					 .csum_start = 0x0028, .csum_offset = 0x0010 };
	const uint8_t wire[8] = { 0x01, 0x02, 0x34, 0x12, 0x28, 0x00, 0x10, 0x00 };
	uint8_t bytes[8];
	struct offload_hdr back;

	offload_hdr_encode(&hdr, bytes);
	CHECK(!memcmp(bytes, wire, 8), "header encodes little-endian");
	offload_hdr_decode(wire, &back);
	CHECK(!memcmp(&back, &hdr, sizeof(hdr)), "header decodes");
}

static void test_valid(void)
{
	struct virtio_net_hdr vnet;

	/* IPv4 TCP super-segment, 20 KB of payload cut into 1400-byte segments. */
	struct offload_hdr tso4 = { .flags = 1, .gso_type = 1, .gso_size = 1400,
				    .csum_start = 20, .csum_offset = 16 };
	size_t len = make_frame(&tso4, 4, 20, 40 + 20000);
	CHECK(parse(len, 1500, &vnet) == OFFLOAD_OK, "TSO4");
	expect_vnet(&vnet, (const uint8_t[]){ 0x01, 0x01, 0x28, 0x00, 0x78, 0x05, 0x14, 0x00,
					      0x10, 0x00 }, "TSO4");

	/* IPv6, TCP header with 12 bytes of options: hdr_len = 40 + 32. */
	struct offload_hdr tso6 = { .flags = 1, .gso_type = 2, .gso_size = 1208,
				    .csum_start = 40, .csum_offset = 16 };
	len = make_frame(&tso6, 6, 32, OFFLOAD_IP_MAX);
	CHECK(parse(len, 1280, &vnet) == OFFLOAD_OK, "TSO6 of 65535 bytes");
	expect_vnet(&vnet, (const uint8_t[]){ 0x01, 0x04, 0x48, 0x00, 0xb8, 0x04, 0x28, 0x00,
					      0x10, 0x00 }, "TSO6");

	/* Partial checksum only: TCP (hdr_len covers the TCP header) and UDP (8). */
	struct offload_hdr csum_tcp = { .flags = 1, .csum_start = 20, .csum_offset = 16 };
	len = make_frame(&csum_tcp, 4, 24, 1500);
	CHECK(parse(len, 1500, &vnet) == OFFLOAD_OK, "TCP partial checksum at the MTU");
	expect_vnet(&vnet, (const uint8_t[]){ 0x01, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x14, 0x00,
					      0x10, 0x00 }, "TCP checksum");
	struct offload_hdr csum_udp = { .flags = 1, .csum_start = 40, .csum_offset = 6 };
	len = make_frame(&csum_udp, 6, 0, 48);
	CHECK(parse(len, 1500, &vnet) == OFFLOAD_OK, "UDP partial checksum, empty datagram");
	expect_vnet(&vnet, (const uint8_t[]){ 0x01, 0x00, 0x30, 0x00, 0x00, 0x00, 0x28, 0x00,
					      0x06, 0x00 }, "UDP checksum");

	/* GSO without CSUM_PARTIAL (the checksum is complete): no NEEDS_CSUM. */
	struct offload_hdr gso_full = { .gso_type = 1, .gso_size = 1460, .csum_start = 20,
					.csum_offset = 16 };
	len = make_frame(&gso_full, 4, 20, 3000);
	CHECK(parse(len, 1500, &vnet) == OFFLOAD_OK, "GSO with a complete checksum");
	expect_vnet(&vnet, (const uint8_t[]){ 0x00, 0x01, 0x28, 0x00, 0xb4, 0x05, 0x00, 0x00,
					      0x00, 0x00 }, "GSO, complete checksum");

	/* A header asking for nothing is a plain packet: all-zero vnet header. */
	struct offload_hdr nothing = { 0 };
	len = make_frame(&nothing, 4, 20, 60);
	memset(&vnet, 0xaa, sizeof(vnet));
	CHECK(parse(len, 1500, &vnet) == OFFLOAD_OK, "empty offload header");
	expect_vnet(&vnet, (const uint8_t[10]){ 0 }, "empty header");

	/* The checksum field may end exactly at the end of the packet. */
	len = make_frame(&csum_udp, 6, 0, 48);
	CHECK(parse(len, 1500, &vnet) == OFFLOAD_OK, "checksum field in the last 2 bytes");
	/* Segments may exceed the MTU (TCP options on top of the MSS): the kernel
	 * does not cut what it delivers locally and checks what it forwards. */
	struct offload_hdr edge = tso4;
	edge.gso_size = 1472;
	len = make_frame(&edge, 4, 32, 5000);
	CHECK(parse(len, 1500, &vnet) == OFFLOAD_OK && vnet.gso_size == 1472 && vnet.hdr_len == 52,
	      "segments above the MTU");
	/* The largest segment is a 65535-byte IP packet. */
	edge.gso_size = 65535 - 52;
	len = make_frame(&edge, 4, 32, 5000);
	CHECK(parse(len, 1500, &vnet) == OFFLOAD_OK, "segments of 65535 bytes");
}

static void expect_status(enum offload_status want, size_t len, uint32_t mtu, const char *what)
{
	struct virtio_net_hdr vnet;
	enum offload_status got = parse(len, mtu, &vnet);

	CHECK(got == want, "%s: expected %s, got %s", what, offload_status_name(want),
	      offload_status_name(got));
	if (got != OFFLOAD_OK) {
		const struct virtio_net_hdr zero = { 0 };
		CHECK(!memcmp(&vnet, &zero, sizeof(vnet)), "%s: vnet zeroed on failure", what);
	}
}

static void test_malformed(void)
{
	const struct offload_hdr tso4 = { .flags = 1, .gso_type = 1, .gso_size = 1400,
					  .csum_start = 20, .csum_offset = 16 };
	const struct offload_hdr tso6 = { .flags = 1, .gso_type = 2, .gso_size = 1400,
					  .csum_start = 40, .csum_offset = 16 };
	struct offload_hdr hdr;
	size_t len;

	len = make_frame(&tso4, 4, 20, 20);
	expect_status(OFFLOAD_TRUNCATED, OFFLOAD_HDR_LEN + 19, 1500, "19-byte packet");
	expect_status(OFFLOAD_TRUNCATED, 3, 1500, "3 bytes");

	len = make_frame(&tso4, 4, 20, 4000);
	frame[OFFLOAD_HDR_LEN] = 0x55;
	expect_status(OFFLOAD_BAD_IP, len, 1500, "IP version 5");
	frame[OFFLOAD_HDR_LEN] = 0x44;
	expect_status(OFFLOAD_BAD_IP, len, 1500, "IPv4 IHL 4");
	len = make_frame(&tso6, 6, 20, 39);
	expect_status(OFFLOAD_BAD_IP, len, 1500, "39-byte IPv6 packet");

	for (unsigned bit = 1; bit < 8; bit++) {
		hdr = tso4;
		hdr.flags |= (uint8_t)(1u << bit);
		len = make_frame(&hdr, 4, 20, 4000);
		expect_status(OFFLOAD_BAD_FLAGS, len, 1500, "unknown flag");
	}

	hdr = tso4;
	hdr.gso_type = 3;
	len = make_frame(&hdr, 4, 20, 4000);
	expect_status(OFFLOAD_BAD_GSO_TYPE, len, 1500, "gso_type 3");
	len = make_frame(&tso4, 6, 20, 4000);
	put_le16(frame + 4, 40);
	expect_status(OFFLOAD_BAD_GSO_TYPE, len, 1500, "TCPV4 on an IPv6 packet");
	len = make_frame(&tso6, 4, 20, 4000);
	put_le16(frame + 4, 20);
	expect_status(OFFLOAD_BAD_GSO_TYPE, len, 1500, "TCPV6 on an IPv4 packet");

	hdr = tso4;
	hdr.gso_size = 0;
	len = make_frame(&hdr, 4, 20, 4000);
	expect_status(OFFLOAD_BAD_GSO_SIZE, len, 1500, "GSO with gso_size 0");
	hdr = (struct offload_hdr){ .flags = 1, .gso_size = 1400, .csum_start = 20,
				    .csum_offset = 16 };
	len = make_frame(&hdr, 4, 20, 1000);
	expect_status(OFFLOAD_BAD_GSO_SIZE, len, 1500, "gso_size without gso_type");
	hdr = tso4;
	hdr.gso_size = 65535 - 40 + 1;
	len = make_frame(&hdr, 4, 20, 4000);
	expect_status(OFFLOAD_BAD_GSO_SIZE, len, 1500, "segments of 65536 bytes");
	hdr.gso_size = 0xffff;
	len = make_frame(&hdr, 4, 20, 4000);
	expect_status(OFFLOAD_BAD_GSO_SIZE, len, 65535, "gso_size 65535");

	hdr = (struct offload_hdr){ .flags = 1, .csum_start = 20, .csum_offset = 16 };
	len = make_frame(&hdr, 4, 20, 1501);
	expect_status(OFFLOAD_BAD_LENGTH, len, 1500, "no GSO: MTU + 1");
	len = make_frame(&tso4, 4, 20, OFFLOAD_IP_MAX + 1);
	expect_status(OFFLOAD_BAD_LENGTH, len, 1500, "GSO: 65536 bytes");

	hdr = (struct offload_hdr){ .flags = 1, .csum_start = 40, .csum_offset = 6 };
	len = make_frame(&hdr, 6, 0, 47);
	expect_status(OFFLOAD_BAD_CSUM, len, 1500, "checksum field 1 byte past the end");
	hdr = (struct offload_hdr){ .csum_start = 0xffff, .csum_offset = 0xffff };
	len = make_frame(&hdr, 4, 20, 100);
	expect_status(OFFLOAD_BAD_CSUM, len, 1500, "offsets far outside, no flags");
	hdr = tso4;
	hdr.csum_start = 24;
	len = make_frame(&hdr, 4, 20, 4000);
	expect_status(OFFLOAD_BAD_CSUM, len, 1500, "IPv4: csum_start is not the IHL");
	hdr = tso6;
	hdr.csum_start = 20;
	len = make_frame(&hdr, 6, 20, 4000);
	expect_status(OFFLOAD_BAD_CSUM, len, 1500, "IPv6: csum_start inside the IP header");
	hdr = tso4;
	hdr.csum_offset = 6;
	len = make_frame(&hdr, 4, 20, 4000);
	expect_status(OFFLOAD_BAD_CSUM, len, 1500, "GSO with UDP's checksum offset");
	hdr = (struct offload_hdr){ .flags = 1, .csum_start = 20, .csum_offset = 2 };
	len = make_frame(&hdr, 4, 20, 100);
	expect_status(OFFLOAD_BAD_CSUM, len, 1500, "checksum offset 2 (not TCP/UDP)");
	hdr = (struct offload_hdr){ .flags = 1, .csum_start = 20, .csum_offset = 6 };
	len = make_frame(&hdr, 4, 20, 100);
	expect_status(OFFLOAD_BAD_CSUM, len, 1500, "UDP checksum offset on a TCP packet");
	hdr = (struct offload_hdr){ .flags = 1, .csum_start = 40, .csum_offset = 16 };
	len = make_frame(&hdr, 6, 0, 100);
	expect_status(OFFLOAD_BAD_CSUM, len, 1500, "TCP checksum offset on a UDP packet");

	len = make_frame(&tso4, 4, 20, 4000);
	frame[OFFLOAD_HDR_LEN + 20 + 12] = 0x40;
	expect_status(OFFLOAD_BAD_TCP, len, 1500, "TCP data offset 4");
	hdr = (struct offload_hdr){ .flags = 1, .csum_start = 20, .csum_offset = 16 };
	len = make_frame(&hdr, 4, 20, 38);
	expect_status(OFFLOAD_BAD_TCP, len, 1500, "TCP header cut short");
	len = make_frame(&hdr, 4, 60, 70);
	expect_status(OFFLOAD_BAD_TCP, len, 1500, "TCP options past the end");
}

/* The IP header's own length must be the frame's (the kernel would trim a
 * longer frame or drop a shorter one, after GSO has been set up from it),
 * and a super-segment's gso_size has a floor: one 64 KiB frame must not
 * become thousands of segments. */
static void test_lengths(void)
{
	const struct offload_hdr tso4 = { .flags = 1, .gso_type = 1, .gso_size = 1400,
					  .csum_start = 20, .csum_offset = 16 };
	const struct offload_hdr tso6 = { .flags = 1, .gso_type = 2, .gso_size = 1400,
					  .csum_start = 40, .csum_offset = 16 };
	const struct offload_hdr csum = { .flags = 1, .csum_start = 20, .csum_offset = 16 };
	struct offload_hdr hdr;
	size_t len;

	len = make_frame(&tso4, 4, 20, 4000);
	put_be16(frame + OFFLOAD_HDR_LEN + 2, 3999);
	expect_status(OFFLOAD_BAD_IP_LENGTH, len, 1500, "IPv4 total length 1 below the frame");
	put_be16(frame + OFFLOAD_HDR_LEN + 2, 4001);
	expect_status(OFFLOAD_BAD_IP_LENGTH, len, 1500, "IPv4 total length 1 above the frame");
	put_be16(frame + OFFLOAD_HDR_LEN + 2, 0);
	expect_status(OFFLOAD_BAD_IP_LENGTH, len, 1500, "IPv4 total length 0");
	len = make_frame(&csum, 4, 20, 1000);
	put_be16(frame + OFFLOAD_HDR_LEN + 2, 60);
	expect_status(OFFLOAD_BAD_IP_LENGTH, len, 1500, "no GSO: IPv4 total length below the frame");
	len = make_frame(&tso6, 6, 20, 4000);
	put_be16(frame + OFFLOAD_HDR_LEN + 4, 4000 - 40 - 1);
	expect_status(OFFLOAD_BAD_IP_LENGTH, len, 1500, "IPv6 payload length 1 below the frame");
	put_be16(frame + OFFLOAD_HDR_LEN + 4, 4000 - 40 + 1);
	expect_status(OFFLOAD_BAD_IP_LENGTH, len, 1500, "IPv6 payload length 1 above the frame");
	put_be16(frame + OFFLOAD_HDR_LEN + 4, 0);
	expect_status(OFFLOAD_BAD_IP_LENGTH, len, 1500, "IPv6 payload length 0 (jumbogram)");

	hdr = tso4;
	hdr.gso_size = OFFLOAD_GSO_SIZE_MIN - 1;
	len = make_frame(&hdr, 4, 20, 4000);
	expect_status(OFFLOAD_BAD_GSO_SIZE, len, 1500, "gso_size below the floor");
	hdr.gso_size = 1;
	len = make_frame(&hdr, 4, 20, OFFLOAD_IP_MAX);
	expect_status(OFFLOAD_BAD_GSO_SIZE, len, 1500, "gso_size 1: 65495 segments");
	hdr.gso_size = OFFLOAD_GSO_SIZE_MIN;
	len = make_frame(&hdr, 4, 20, 4000);
	expect_status(OFFLOAD_OK, len, 1500, "gso_size at the floor");
}

static void test_names(void)
{
	for (int status = OFFLOAD_OK; status <= OFFLOAD_BAD_IP_LENGTH; status++)
		CHECK(strcmp(offload_status_name((enum offload_status)status), "unknown"),
		      "status %d has a name", status);
	CHECK(!strcmp(offload_status_name(OFFLOAD_BAD_GSO_TYPE), "bad-gso-type"), "name");
}

/* Seeds for fuzz_offload: valid frames of each kind. */
static int write_corpus(const char *dir)
{
	static const struct {
		const char *name;
		struct offload_hdr hdr;
		int version;
		size_t tcp_len, ip_len;
	} seeds[] = {
		{ "tso4", { 1, 1, 1400, 20, 16 }, 4, 20, 3000 },
		{ "tso6", { 1, 2, 1400, 40, 16 }, 6, 32, 3000 },
		{ "csum-tcp4", { 1, 0, 0, 20, 16 }, 4, 20, 200 },
		{ "csum-udp6", { 1, 0, 0, 40, 6 }, 6, 0, 200 },
		{ "plain", { 0, 0, 0, 0, 0 }, 4, 20, 60 },
	};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		size_t len = make_frame(&seeds[i].hdr, seeds[i].version, seeds[i].tcp_len,
					seeds[i].ip_len);
		if (checks_write_seed(dir, seeds[i].name, frame, len))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	test_header_codec();
	test_valid();
	test_malformed();
	test_lengths();
	test_names();
	return checks_report("test_offload");
}
