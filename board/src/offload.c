/* The OFFLOAD frame header (PROTOCOL.md section 7): strict validation against
 * the IP packet it precedes, and the mapping to struct virtio_net_hdr that
 * the TUN (IFF_VNET_HDR) takes on write. Pure: no I/O, no allocation. */
#include <stdbool.h>
#include <string.h>

#include "bytes.h"
#include "offload.h"
#include "proto.h"

#define IPV4_HDR_MIN 20u
#define IPV6_HDR_LEN 40u
#define TCP_HDR_MIN 20u
#define UDP_HDR_LEN 8u
#define IP_PROTO_TCP 6u
#define IP_PROTO_UDP 17u

const char *offload_status_name(enum offload_status status)
{
	switch (status) {
	case OFFLOAD_OK:
		return "ok";
	case OFFLOAD_TRUNCATED:
		return "truncated";
	case OFFLOAD_BAD_IP:
		return "bad-ip";
	case OFFLOAD_BAD_FLAGS:
		return "bad-flags";
	case OFFLOAD_BAD_GSO_TYPE:
		return "bad-gso-type";
	case OFFLOAD_BAD_GSO_SIZE:
		return "bad-gso-size";
	case OFFLOAD_BAD_LENGTH:
		return "bad-length";
	case OFFLOAD_BAD_CSUM:
		return "bad-csum-offsets";
	case OFFLOAD_BAD_TCP:
		return "bad-tcp-header";
	case OFFLOAD_BAD_IP_LENGTH:
		return "bad-ip-length";
	}
	return "unknown";
}

void offload_hdr_decode(const uint8_t *bytes, struct offload_hdr *hdr)
{
	hdr->flags = bytes[0];
	hdr->gso_type = bytes[1];
	hdr->gso_size = get_le16(bytes + 2);
	hdr->csum_start = get_le16(bytes + 4);
	hdr->csum_offset = get_le16(bytes + 6);
}

void offload_hdr_encode(const struct offload_hdr *hdr, uint8_t *bytes)
{
	bytes[0] = hdr->flags;
	bytes[1] = hdr->gso_type;
	put_le16(bytes + 2, hdr->gso_size);
	put_le16(bytes + 4, hdr->csum_start);
	put_le16(bytes + 6, hdr->csum_offset);
}

/* Length of the IP header (IPv4 with options, IPv6 without extension
 * headers), 0 when the packet is not IPv4/IPv6 or its header does not fit. */
static size_t ip_header_len(const uint8_t *packet, size_t len)
{
	unsigned version = packet[0] >> 4;

	if (version == 4) {
		size_t ihl = (size_t)(packet[0] & 0x0f) * 4;
		return ihl >= IPV4_HDR_MIN && ihl <= len ? ihl : 0;
	}
	if (version == 6)
		return len >= IPV6_HDR_LEN ? IPV6_HDR_LEN : 0;
	return 0;
}

/* The transport protocol when the IP header names it for csum_start: IPv4
 * always; IPv6 when csum_start follows the fixed header (no extension
 * headers); 0 when unknown. */
static unsigned transport_protocol(const uint8_t *packet, size_t csum_start)
{
	if (packet[0] >> 4 == 4)
		return packet[9];
	return csum_start == IPV6_HDR_LEN ? packet[6] : 0;
}

enum offload_status offload_parse(const uint8_t *payload, size_t len, uint32_t mtu,
				  struct virtio_net_hdr *vnet, const uint8_t **packet,
				  size_t *packet_len)
{
	struct offload_hdr hdr;

	memset(vnet, 0, sizeof(*vnet));
	if (len < OFFLOAD_HDR_LEN + PROTO_IP_MIN)
		return OFFLOAD_TRUNCATED;
	offload_hdr_decode(payload, &hdr);
	const uint8_t *ip = payload + OFFLOAD_HDR_LEN;
	size_t ip_len = len - OFFLOAD_HDR_LEN;
	size_t ip_hdr_len = ip_header_len(ip, ip_len);
	if (!ip_hdr_len)
		return OFFLOAD_BAD_IP;
	bool ipv4 = ip[0] >> 4 == 4;

	if (hdr.flags & ~OFFLOAD_F_CSUM_PARTIAL)
		return OFFLOAD_BAD_FLAGS;
	bool partial = hdr.flags & OFFLOAD_F_CSUM_PARTIAL;
	if (hdr.gso_type > OFFLOAD_GSO_TCPV6 ||
	    (hdr.gso_type == OFFLOAD_GSO_TCPV4 && !ipv4) ||
	    (hdr.gso_type == OFFLOAD_GSO_TCPV6 && ipv4))
		return OFFLOAD_BAD_GSO_TYPE;
	bool gso = hdr.gso_type != OFFLOAD_GSO_NONE;
	if (gso != (hdr.gso_size != 0) || (gso && hdr.gso_size < OFFLOAD_GSO_SIZE_MIN))
		return OFFLOAD_BAD_GSO_SIZE;
	if (ip_len > (gso ? OFFLOAD_IP_MAX : mtu))
		return OFFLOAD_BAD_LENGTH;
	/* The packet's own length is the frame's: GSO is set up from the frame,
	 * and the kernel would trim or drop a packet whose header disagrees. */
	if (proto_ip_stated_length(ip, ip_len) != ip_len)
		return OFFLOAD_BAD_IP_LENGTH;
	if ((size_t)hdr.csum_start + hdr.csum_offset + 2 > ip_len)
		return OFFLOAD_BAD_CSUM;

	*packet = ip;
	*packet_len = ip_len;
	if (!partial && !gso)
		return OFFLOAD_OK; /* nothing to do: a zeroed vnet header */

	/* csum_start must be where the transport header is, and the checksum
	 * one of TCP's or UDP's (GSO: TCP's). */
	if (hdr.csum_start < ip_hdr_len || (ipv4 && hdr.csum_start != ip_hdr_len))
		return OFFLOAD_BAD_CSUM;
	bool tcp = hdr.csum_offset == OFFLOAD_TCP_CSUM_OFFSET;
	if (!tcp && (gso || hdr.csum_offset != OFFLOAD_UDP_CSUM_OFFSET))
		return OFFLOAD_BAD_CSUM;
	unsigned protocol = transport_protocol(ip, hdr.csum_start);
	if (protocol && protocol != (tcp ? IP_PROTO_TCP : IP_PROTO_UDP))
		return OFFLOAD_BAD_CSUM;

	size_t transport_len = UDP_HDR_LEN; /* fits: csum_start + 6 + 2 <= ip_len */
	if (tcp) {
		if (hdr.csum_start + TCP_HDR_MIN > ip_len)
			return OFFLOAD_BAD_TCP;
		transport_len = (size_t)(ip[hdr.csum_start + 12] >> 4) * 4;
		if (transport_len < TCP_HDR_MIN || hdr.csum_start + transport_len > ip_len)
			return OFFLOAD_BAD_TCP;
	}
	size_t headers_len = hdr.csum_start + transport_len;
	/* Each segment the kernel may cut must be an IP packet. Not checked
	 * against the MTU: delivered locally a super-segment is never cut, and
	 * the kernel checks what it forwards against the route's MTU itself. */
	if (gso && headers_len + hdr.gso_size > OFFLOAD_IP_MAX)
		return OFFLOAD_BAD_GSO_SIZE;

	/* Host byte order: the TUN's header is native-endian (no TUNSETVNETLE/BE). */
	vnet->flags = partial ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0;
	vnet->gso_type = !gso ? VIRTIO_NET_HDR_GSO_NONE :
			 ipv4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	vnet->hdr_len = (uint16_t)headers_len;
	vnet->gso_size = hdr.gso_size;
	vnet->csum_start = partial ? hdr.csum_start : 0;
	vnet->csum_offset = partial ? hdr.csum_offset : 0;
	return OFFLOAD_OK;
}
