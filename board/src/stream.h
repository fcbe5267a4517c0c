/* Reassembles bundles from a byte stream (the socket transport): finds
 * each 8-byte header, validates it, and yields whole bundles. Pure code. */
#ifndef QB_STREAM_H
#define QB_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Extra room beyond one maximal bundle so reads can batch several bundles. */
#define STREAM_SLACK 65536u

struct stream_rx {
	uint8_t *buf;
	size_t cap;
	size_t start;		/* first byte not yet returned */
	size_t end;		/* one past the last byte received */
	uint32_t limit;		/* largest bundle accepted */
};

enum stream_result {
	STREAM_NEED_MORE,
	STREAM_BUNDLE,
	STREAM_BAD_HEADER,
};

/* buf must hold limit + STREAM_SLACK bytes. */
void stream_rx_init(struct stream_rx *rx, uint8_t *buf, uint32_t limit);
void stream_rx_reset(struct stream_rx *rx);
/* Where the next received bytes go (never 0 bytes of room); invalidates
 * bundles returned before. */
uint8_t *stream_rx_tail(struct stream_rx *rx, size_t *room);
void stream_rx_produced(struct stream_rx *rx, size_t len);
/* Next complete bundle, if any. After STREAM_BAD_HEADER (*reason says why)
 * the stream is out of step: the caller must drop the connection. */
enum stream_result stream_rx_next(struct stream_rx *rx, const uint8_t **bundle,
				  size_t *len, enum proto_bundle_status *reason);

#endif
