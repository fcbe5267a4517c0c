/* Offload (doc/PROTOCOL.md section 7): the 8-byte header that starts a
 * host-to-board IP frame with the OFFLOAD flag, validated and mapped onto the
 * TUN's struct virtio_net_hdr. Pure functions, no I/O. */
#ifndef QB_OFFLOAD_H
#define QB_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#define OFFLOAD_HDR_LEN 8
#define OFFLOAD_F_CSUM_PARTIAL 0x01u
#define OFFLOAD_GSO_NONE 0u
#define OFFLOAD_GSO_TCPV4 1u
#define OFFLOAD_GSO_TCPV6 2u
/* An IP packet carried with OFFLOAD (a super-segment) is at most this long. */
#define OFFLOAD_IP_MAX 65535u
#define OFFLOAD_TCP_CSUM_OFFSET 16u
#define OFFLOAD_UDP_CSUM_OFFSET 6u
/* The smallest gso_size accepted: Linux's own floor for a TCP sender's MSS
 * (net.ipv4.tcp_min_snd_mss, 48). Smaller ones would let one 64 KiB frame
 * become thousands of segments. */
#define OFFLOAD_GSO_SIZE_MIN 48u

/* The wire header, decoded (host byte order). */
struct offload_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

enum offload_status {
	OFFLOAD_OK,
	OFFLOAD_TRUNCATED,	/* shorter than the header and a 20-byte packet */
	OFFLOAD_BAD_IP,		/* not IPv4/IPv6, or its IP header does not fit */
	OFFLOAD_BAD_FLAGS,	/* a flag other than CSUM_PARTIAL */
	OFFLOAD_BAD_GSO_TYPE,	/* unknown, or not the packet's IP version */
	OFFLOAD_BAD_GSO_SIZE,	/* 0 with GSO, non-0 without, below OFFLOAD_GSO_SIZE_MIN,
				 * or segments above 65535 bytes */
	OFFLOAD_BAD_LENGTH,	/* above the MTU without GSO, above 65535 with it */
	OFFLOAD_BAD_CSUM,	/* csum_start/csum_offset outside the packet or not TCP/UDP */
	OFFLOAD_BAD_TCP,	/* the TCP header does not fit the packet */
	OFFLOAD_BAD_IP_LENGTH,	/* the IPv4 total / IPv6 payload length is not the frame's */
};

const char *offload_status_name(enum offload_status status);

void offload_hdr_decode(const uint8_t *bytes, struct offload_hdr *hdr);
void offload_hdr_encode(const struct offload_hdr *hdr, uint8_t *bytes);

/* Validates the payload of an IP frame that carries the OFFLOAD flag (the
 * 8-byte header, then the IP packet) for a session whose CONFIG MTU is mtu.
 * On OFFLOAD_OK, *vnet is the header to write to the TUN before the packet
 * (native byte order, as a TUN without TUNSETVNETLE/BE expects), and
 * *packet, *packet_len the IP packet inside payload. */
enum offload_status offload_parse(const uint8_t *payload, size_t len, uint32_t mtu,
				  struct virtio_net_hdr *vnet, const uint8_t **packet,
				  size_t *packet_len);

#endif
