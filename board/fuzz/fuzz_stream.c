/* libFuzzer target: the byte-stream reassembler, fed the input in chunks
 * whose sizes come from the input itself. Every bundle it yields must carry
 * a valid header whose length matches; after a bad header the stream is
 * reset, as the transport does when it reconnects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "proto.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT PROTO_MAX_BUNDLE_MIN

static uint8_t buf[LIMIT + STREAM_SLACK];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_rx rx;
	size_t offset = 0, fed = 0, yielded = 0;
	uint8_t chunk_seed = size ? data[0] : 1;

	stream_rx_init(&rx, buf, LIMIT);
	while (offset < size) {
		size_t room;
		uint8_t *tail = stream_rx_tail(&rx, &room);
		size_t chunk = 1 + (size_t)chunk_seed * 7 % 4099;

		if (!room)
			abort();
		chunk_seed = (uint8_t)(chunk_seed * 33 + 17);
		if (chunk > room)
			chunk = room;
		if (chunk > size - offset)
			chunk = size - offset;
		memcpy(tail, data + offset, chunk);
		stream_rx_produced(&rx, chunk);
		offset += chunk;
		fed += chunk;

		const uint8_t *bundle;
		size_t len;
		enum proto_bundle_status reason;
		enum stream_result result;
		while ((result = stream_rx_next(&rx, &bundle, &len, &reason)) == STREAM_BUNDLE) {
			uint32_t header_len;
			if (proto_header_check(bundle, len, LIMIT, &header_len) != PROTO_BUNDLE_OK ||
			    header_len != len || len > LIMIT)
				abort();
			/* What the receiver does next with a delivered bundle. */
			proto_bundle_check(bundle, len, LIMIT);
			yielded += len;
		}
		if (result == STREAM_BAD_HEADER) {
			if (reason == PROTO_BUNDLE_OK)
				abort();
			stream_rx_reset(&rx);
			fed = yielded = 0;
		}
		if (yielded > fed)
			abort();
	}
	return 0;
}
