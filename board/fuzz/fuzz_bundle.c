/* libFuzzer target: the bundle decoder (validation and frame walk) and, for
 * every control frame inside, the control decoder (for IP frames with
 * OFFLOAD, the offload header parser); accepted bundles must rebuild into
 * valid bundles with the same frames. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t rebuilt[PROTO_BUNDLE_ABS_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t limits[] = { PROTO_BUNDLE_ABS_MAX, PROTO_BUNDLE_PRE_HELLO, 64 };
	struct proto_frame_iter iter;
	struct proto_frame frame;
	struct proto_builder builder;
	struct proto_control msg;

	for (unsigned i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		enum proto_bundle_status status = proto_bundle_check(data, size, limits[i]);
		if (status != PROTO_BUNDLE_OK)
			continue;
		if (size > limits[i])
			abort();
		proto_frames_begin(&iter, data, size);
		proto_builder_init(&builder, rebuilt, PROTO_BUNDLE_ABS_MAX);
		size_t walked = PROTO_BUNDLE_HDR_LEN;
		while (proto_frames_next(&iter, &frame)) {
			walked += PROTO_FRAME_HDR_LEN + frame.len;
			if (!proto_builder_add(&builder, frame.channel, frame.payload, frame.len))
				abort();
			if (frame.channel == PROTO_CHANNEL_CONTROL)
				proto_control_decode(frame.payload, frame.len, &msg);
			else if (frame.channel == PROTO_CHANNEL_IP &&
				 (frame.flags & PROTO_FRAME_F_OFFLOAD)) {
				struct virtio_net_hdr vnet;
				const uint8_t *packet;
				size_t packet_len;
				offload_parse(frame.payload, frame.len, 1500, &vnet, &packet,
					      &packet_len);
			} else if (frame.channel == PROTO_CHANNEL_IP)
				proto_ip_frame_valid(frame.payload, frame.len, 65535);
		}
		/* An accepted bundle is walked exactly to its end. */
		if (walked != size || proto_builder_finish(&builder) != size ||
		    proto_bundle_check(rebuilt, size, limits[i]) != PROTO_BUNDLE_OK)
			abort();
	}
	return 0;
}
