/* libFuzzer target: the OFFLOAD frame header parser. Whatever it accepts
 * must map to a virtio_net_hdr the TUN can take: offsets inside the packet,
 * GSO type matching the IP version, segments that are IP packets of at
 * least OFFLOAD_GSO_SIZE_MIN payload bytes, an IP header whose length is the
 * frame's, and without GSO a packet within the MTU. */
#include <stdint.h>
#include <stdlib.h>

#include "offload.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const uint8_t *data, size_t size, uint32_t mtu,
			   const struct virtio_net_hdr *vnet, const uint8_t *packet,
			   size_t packet_len)
{
	if (packet != data + OFFLOAD_HDR_LEN || packet_len != size - OFFLOAD_HDR_LEN ||
	    packet_len < PROTO_IP_MIN || packet_len > OFFLOAD_IP_MAX)
		abort();
	unsigned version = packet[0] >> 4;
	if (version != 4 && version != 6)
		abort();
	if (proto_ip_stated_length(packet, packet_len) != packet_len)
		abort();
	if (vnet->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		abort();
	if (vnet->flags && (size_t)vnet->csum_start + vnet->csum_offset + 2 > packet_len)
		abort();
	if (!vnet->flags && (vnet->csum_start || vnet->csum_offset))
		abort();
	if (vnet->hdr_len > packet_len)
		abort();
	switch (vnet->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (vnet->gso_size || packet_len > mtu)
			abort();
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if ((vnet->gso_type == VIRTIO_NET_HDR_GSO_TCPV4) != (version == 4))
			abort();
		if (vnet->gso_size < OFFLOAD_GSO_SIZE_MIN ||
		    (uint32_t)vnet->hdr_len + vnet->gso_size > OFFLOAD_IP_MAX)
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t mtus[] = { 576, 1500, 65535 };

	for (unsigned i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++) {
		struct virtio_net_hdr vnet;
		const uint8_t *packet = NULL;
		size_t packet_len = 0;
		if (offload_parse(data, size, mtus[i], &vnet, &packet, &packet_len) == OFFLOAD_OK)
			check_accepted(data, size, mtus[i], &vnet, packet, packet_len);
	}
	return 0;
}
