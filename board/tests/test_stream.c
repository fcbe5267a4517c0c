/* Unit tests of the byte-stream reassembler: the vector bundles split at
 * every possible point and in pseudo-random chunks come out whole and in
 * order; bad headers are reported. */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "check.h"
#include "proto.h"
#include "stream.h"

CHECKS_DEFINE;

#define LIMIT 65536u

static uint8_t rx_buf[LIMIT + STREAM_SLACK];
static uint8_t input[8 * LIMIT];

/* Builds a stream of bundles with varied sizes; returns its length. */
static size_t make_stream(size_t *lengths, unsigned *count)
{
	struct proto_builder builder;
	uint8_t payload[LIMIT];
	size_t len = 0;

	memset(payload, 0x45, sizeof(payload));
	*count = 0;
	for (unsigned i = 0; i < 12; i++) {
		size_t payload_len = (i * 7919u) % (LIMIT - 64);
		if (i == 3)
			payload_len = LIMIT - 16; /* exactly the limit */
		if (len + payload_len + 16 > sizeof(input))
			break;
		proto_builder_init(&builder, input + len, LIMIT);
		proto_builder_add(&builder, PROTO_CHANNEL_IP, payload, payload_len);
		lengths[(*count)++] = proto_builder_finish(&builder);
		len += lengths[*count - 1];
	}
	return len;
}

/* Feeds input in chunks from next_chunk(); checks every bundle. */
static void feed(const uint8_t *data, size_t len, const size_t *lengths, unsigned count,
		 unsigned seed, size_t fixed_chunk)
{
	struct stream_rx rx;
	size_t offset = 0, expect_offset = 0;
	unsigned got = 0;

	stream_rx_init(&rx, rx_buf, LIMIT);
	srand(seed);
	while (offset < len) {
		size_t room, chunk = fixed_chunk ? fixed_chunk : 1 + (size_t)rand() % 9000;
		uint8_t *tail = stream_rx_tail(&rx, &room);

		if (!room) {
			CHECK(room > 0, "no room");
			return;
		}
		if (chunk > room)
			chunk = room;
		if (chunk > len - offset)
			chunk = len - offset;
		memcpy(tail, data + offset, chunk);
		stream_rx_produced(&rx, chunk);
		offset += chunk;

		const uint8_t *bundle;
		size_t bundle_len;
		enum proto_bundle_status reason;
		enum stream_result result;
		while ((result = stream_rx_next(&rx, &bundle, &bundle_len, &reason)) == STREAM_BUNDLE) {
			bool ok = got < count && bundle_len == lengths[got] &&
				  !memcmp(bundle, data + expect_offset, bundle_len);
			if (!ok) {
				CHECK(ok, "bundle %u differs (seed %u chunk %zu)", got, seed, fixed_chunk);
				return;
			}
			expect_offset += bundle_len;
			got++;
		}
		if (result == STREAM_BAD_HEADER) {
			CHECK(0, "unexpected bad header %s", proto_bundle_status_name(reason));
			return;
		}
	}
	CHECK(got == count, "got %u of %u bundles (seed %u, chunk %zu)", got, count, seed,
	      fixed_chunk);
}

static void test_bad_headers(void)
{
	struct stream_rx rx;
	const uint8_t *bundle;
	size_t len, room;
	enum proto_bundle_status reason;
	const uint8_t cases[][8] = {
		{ 0x71, 0x63, 1, 0, 8, 0, 0, 0 },
		{ 0x71, 0x62, 2, 0, 8, 0, 0, 0 },
		{ 0x71, 0x62, 1, 0, 7, 0, 0, 0 },
		{ 0x71, 0x62, 1, 0, 0x01, 0x00, 0x01, 0x00 }, /* 65537 > limit */
	};
	const enum proto_bundle_status expect[] = { PROTO_BUNDLE_BAD_MAGIC, PROTO_BUNDLE_BAD_FORMAT,
						    PROTO_BUNDLE_BAD_LENGTH, PROTO_BUNDLE_BAD_LENGTH };

	for (unsigned i = 0; i < 4; i++) {
		stream_rx_init(&rx, rx_buf, LIMIT);
		uint8_t *tail = stream_rx_tail(&rx, &room);
		memcpy(tail, cases[i], 7);
		stream_rx_produced(&rx, 7);
		CHECK(stream_rx_next(&rx, &bundle, &len, &reason) == STREAM_NEED_MORE,
		      "7 bytes need more");
		tail = stream_rx_tail(&rx, &room);
		*tail = cases[i][7];
		stream_rx_produced(&rx, 1);
		CHECK(stream_rx_next(&rx, &bundle, &len, &reason) == STREAM_BAD_HEADER &&
		      reason == expect[i], "case %u: reason %s", i, proto_bundle_status_name(reason));
	}

	/* An empty bundle (length 8) is a complete bundle. */
	stream_rx_init(&rx, rx_buf, LIMIT);
	uint8_t *tail = stream_rx_tail(&rx, &room);
	memcpy(tail, (uint8_t[]){ 0x71, 0x62, 1, 0, 8, 0, 0, 0 }, 8);
	stream_rx_produced(&rx, 8);
	CHECK(stream_rx_next(&rx, &bundle, &len, &reason) == STREAM_BUNDLE && len == 8,
	      "empty bundle");
	CHECK(stream_rx_next(&rx, &bundle, &len, &reason) == STREAM_NEED_MORE, "then nothing");
}

int main(void)
{
	size_t lengths[16];
	unsigned count;
	size_t len = make_stream(lengths, &count);

	CHECK(count >= 8, "stream has %u bundles", count);
	const size_t fixed[] = { 1, 7, 8, 9, 4096, 65536, 65544, sizeof(input) };
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		feed(input, len, lengths, count, 0, fixed[i]);
	for (unsigned seed = 1; seed <= 50; seed++)
		feed(input, len, lengths, count, seed, 0);
	test_bad_headers();
	return checks_report("test_stream");
}
